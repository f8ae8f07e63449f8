{#
  The figures of a published as-of date that this run's build changed (SPEC
  section 18, "as reported"): for each publish of a date the run rebuilds,
  each headline figure it recorded (int_reported_figures then) that differs
  from the figure now, with the difference and its cause: the drops landed
  after that publish (load_id above the highest it included) that hold a
  document or settlement line dated up to the as-of date (a payment of the
  month sent in the next), the entity's own (every entity's for the
  group). A figure that changed with no such drop changed by a rule or a
  parameter (a seed, a rate): the cause says so. A date published twice
  lists each publish whose figures differ from now: replaying the same
  drops changes nothing.
#}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

publishes as (

    select * from {{ ref('stg_raw__publish_log') }}
    where as_of_date in (select as_of_dates.as_of_date from as_of_dates)

),

reported as (

    select
        reported_figures.*,
        publishes.loaded_through,
    from {{ ref('stg_raw__reported_figures') }} as reported_figures
    inner join publishes
        on publishes.as_of_date = reported_figures.as_of_date
        and publishes.published_at = reported_figures.published_at

),

now as (

    select * from {{ ref('int_reported_figures') }}

),

landed as (

    select * from {{ ref('stg_raw__landing_log') }}
    where landing_status = 'ok'

),

changed as (

    select
        reported.as_of_date,
        reported.entity_code,
        reported.figure,
        reported.as_reported,
        coalesce(now.figure_value, 0) as now,
        coalesce(now.figure_value, 0) - reported.as_reported as difference,
        reported.published_at,
        reported.loaded_through,
    from reported
    left join now
        on now.as_of_date = reported.as_of_date
        and now.entity_code = reported.entity_code
        and now.figure = reported.figure
    where reported.as_reported <> coalesce(now.figure_value, 0)

),

-- the rows each drop landed since a publish holds, dated up to the publish's as-of date: what restated it
dated_rows as (

    select entity_code, extract_date, issue_date as row_date from {{ ref('stg_raw__invoices') }}
    union all
    select entity_code, extract_date, settlement_date as row_date from {{ ref('stg_raw__payments') }}

),

restating_drops as (

    select distinct
        changed.as_of_date,
        changed.entity_code,
        changed.figure,
        changed.published_at,
        landed.entity_code as drop_entity_code,
        landed.extract_date,
    from changed
    inner join landed
        on landed.load_id > changed.loaded_through
        and (changed.entity_code = 'GROUP' or landed.entity_code = changed.entity_code)
    inner join dated_rows
        on dated_rows.entity_code = landed.entity_code
        and dated_rows.extract_date = landed.extract_date
        and dated_rows.row_date <= changed.as_of_date

),

causes as (

    select
        as_of_date,
        entity_code,
        figure,
        published_at,
        string_agg(
            drop_entity_code || ' du ' || {{ fr_date('extract_date') }}, ', ' order by drop_entity_code, extract_date
        ) as drops,
    from restating_drops
    group by all

)

select
    changed.as_of_date,
    changed.entity_code,
    changed.figure,
    changed.as_reported,
    changed.now,
    changed.difference,
    changed.published_at,
    coalesce(
        'Dépôts chargés depuis la publication : ' || causes.drops,
        'Aucun dépôt chargé depuis la publication : une règle ou un paramètre a changé'
    ) as cause,
from changed
left join causes
    on causes.as_of_date = changed.as_of_date
    and causes.entity_code = changed.entity_code
    and causes.figure = changed.figure
    and causes.published_at = changed.published_at
