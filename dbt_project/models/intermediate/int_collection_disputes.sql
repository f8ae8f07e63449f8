{#
  Each dispute opened by t, at each as-of date t (SPEC section 13): open until
  a dispute_resolved on the same document (or, for a debtor-level dispute, at
  the debtor level) dated on or after its opening and at most t. Whether its
  document is still open is the open items' business (int_open_items_aged):
  a dispute on a settled document is over.
#}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

events as (

    select * from {{ ref('int_collection_events') }}

),

opened as (

    select
        as_of_dates.as_of_date,
        events.entity_code,
        events.event_id,
        events.debtor_id,
        events.document_id,
        events.event_date as opened_on,
        events.dispute_reason,
        events.amount,
        events.currency,
    from as_of_dates
    inner join events
        on events.event_date <= as_of_dates.as_of_date
    where events.event_type = 'dispute_opened'

),

resolutions as (

    select
        opened.as_of_date,
        opened.entity_code,
        opened.event_id,
        min(events.event_date) as resolved_on,
    from opened
    inner join events
        on events.entity_code = opened.entity_code
        and events.debtor_id = opened.debtor_id
        and events.document_id is not distinct from opened.document_id
        and events.event_type = 'dispute_resolved'
        and events.event_date >= opened.opened_on
        and events.event_date <= opened.as_of_date
    group by all

),

disputes as (

    select
        opened.*,
        resolutions.resolved_on,
        resolutions.resolved_on is null as is_open,
        datediff('day', opened.opened_on, coalesce(resolutions.resolved_on, opened.as_of_date)) as age_days,
    from opened
    left join resolutions
        on resolutions.as_of_date = opened.as_of_date
        and resolutions.entity_code = opened.entity_code
        and resolutions.event_id = opened.event_id
    where resolutions.resolved_on is null
        or resolutions.resolved_on > {{ window_before('opened.as_of_date', 'collection_history_days') }}

)

select * from disputes
