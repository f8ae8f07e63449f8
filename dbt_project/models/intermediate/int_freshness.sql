{#
  Per entity (and GROUP for the group's FX rates) and as-of date (SPEC
  section 10): the status of that night's drop, or stale when it never
  landed (retired from the entity's registry retired_on date), and the last extract date that landed well; at this run's as-of
  dates, kept date by date by mart_freshness.
#}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

entities as (

    select entity_code, retired_on from {{ ref('int_entity_scopes') }}

),

landing_log as (

    select * from {{ ref('stg_raw__landing_log') }}

),

entity_dates as (

    select
        as_of_dates.as_of_date,
        entities.entity_code,
        entities.retired_on,
    from as_of_dates
    cross join entities

),

freshness as (

    select
        entity_dates.as_of_date,
        entity_dates.entity_code,
        -- a retired entity sends nothing and is not late; a drop it sends anyway is quarantined, and says so
        coalesce(
            tonight.landing_status,
            case when not {{ entity_in_group('entity_dates', 'entity_dates.as_of_date') }} then 'retired' else 'stale' end
        ) as status,
        case
            when tonight.entity_code is not null then tonight.reason
            when not {{ entity_in_group('entity_dates', 'entity_dates.as_of_date') }}
                then 'left the group on ' || strftime(entity_dates.retired_on, '%Y-%m-%d') || ' (registry retired_on)'
            else 'no landing recorded for this date'
        end as reason,
        coalesce(tonight.rows_landed, 0) as rows_landed,
        -- whether the night's drop carried its control totals (_manifest.json); null without a drop
        tonight.with_manifest as sent_manifest,
        (
            select max(good.extract_date)
            from landing_log as good
            where good.entity_code = entity_dates.entity_code
                and good.landing_status = 'ok'
                and good.extract_date <= entity_dates.as_of_date
        ) as last_good_extract_date,
    from entity_dates
    left join landing_log as tonight
        on tonight.entity_code = entity_dates.entity_code
        and tonight.extract_date = entity_dates.as_of_date

)

select
    as_of_date,
    entity_code,
    status,
    reason,
    rows_landed,
    last_good_extract_date,
    sent_manifest,
from freshness
