{#
  Aging bucket and recommended dunning stage of each open item (SPEC sections
  5 and 9), from the seeds aging_buckets and dunning_stages: no bound in SQL.
  An open dispute of the collection events (SPEC section 13) marks the item
  disputed whatever the invoice's flag says (a debtor-level one, every open
  invoice of the debtor); an overdue item under dispute reads the seed's
  disputed stage, one with a pending promise (and no dispute) reads
  'promised': neither is escalated. The buyer's e-invoicing lifecycle status
  at the date (SPEC section 17) is carried: a refused invoice (210) reads
  the stage 'refused' and a factored one (224-228) 'factored', whatever its
  days past due: neither is dunned (a dispute or payment-sent status acts
  through the disputes and promises it implies, int_collection_events).
  At the as-of dates only: the earlier evaluation date of the weak signals
  needs no bucket, and they read int_open_items_converted.
#}
with

open_items as (

    -- from here on the date is an as-of date, and named so
    select * rename (evaluation_date as as_of_date) from {{ ref('int_open_items_converted') }}
    where evaluation_date in (select as_of_dates.as_of_date from {{ ref('int_as_of_dates') }} as as_of_dates)

),

aging_buckets as (

    select * from {{ ref('aging_buckets') }}

),

dunning_stages as (

    select * from {{ ref('dunning_stages') }}

),

disputed_items as (

    select * from {{ ref('int_collection_disputed_items') }}

),

einvoice_statuses as (

    select * from {{ ref('int_einvoice_status_at_dates') }}

),

pending_promises as (

    select * from {{ ref('int_collection_promises') }}
    where promise_status = 'pending'

),

item_disputes as (

    select distinct
        as_of_date,
        entity_code,
        document_id,
    from disputed_items

),

item_promises as (

    -- the open items a pending promise covers: its document, or its debtor's items
    select
        open_items.as_of_date,
        open_items.entity_code,
        open_items.document_id,
    from open_items
    inner join pending_promises
        on pending_promises.as_of_date = open_items.as_of_date
        and pending_promises.entity_code = open_items.entity_code
        and pending_promises.debtor_id = open_items.debtor_id
        and (pending_promises.document_id = open_items.document_id or pending_promises.document_id is null)
    group by all

),

open_items_followed_up as (

    select
        open_items.* exclude (is_disputed),
        open_items.is_disputed or item_disputes.document_id is not null as is_disputed,
        item_promises.document_id is not null as has_pending_promise,
        einvoice_statuses.status_code as einvoice_status,
        einvoice_statuses.status_name as einvoice_status_name,
        einvoice_statuses.status_at as einvoice_status_at,
        einvoice_statuses.effect as einvoice_effect,
        einvoice_statuses.factored_since is not null as is_factored,
    from open_items
    left join item_disputes
        on item_disputes.as_of_date = open_items.as_of_date
        and item_disputes.entity_code = open_items.entity_code
        and item_disputes.document_id = open_items.document_id
    left join item_promises
        on item_promises.as_of_date = open_items.as_of_date
        and item_promises.entity_code = open_items.entity_code
        and item_promises.document_id = open_items.document_id
    left join einvoice_statuses
        on einvoice_statuses.as_of_date = open_items.as_of_date
        and einvoice_statuses.entity_code = open_items.entity_code
        and einvoice_statuses.document_id = open_items.document_id

),

open_items_bucketed as (

    select
        open_items.*,
        aging_buckets.aging_bucket,
        aging_buckets.bucket_order,
    from open_items_followed_up as open_items
    inner join aging_buckets
        on open_items.days_past_due >= coalesce(aging_buckets.min_days_past_due, open_items.days_past_due)
        and open_items.days_past_due <= coalesce(aging_buckets.max_days_past_due, open_items.days_past_due)

),

open_items_with_dunning as (

    select
        open_items_bucketed.* exclude (open_items_bucketed.has_pending_promise),
        case
            -- out of dunning whatever its age: refused by the buyer, or factored (SPEC section 17)
            when open_items_bucketed.document_type = 'invoice'
                and open_items_bucketed.open_amount > 0
                and not open_items_bucketed.is_intercompany
                and open_items_bucketed.einvoice_effect = 'refused'
                then 'refused'
            when open_items_bucketed.document_type = 'invoice'
                and open_items_bucketed.open_amount > 0
                and not open_items_bucketed.is_intercompany
                and open_items_bucketed.is_factored
                then 'factored'
            when dunning_stages.dunning_stage is not null
                and open_items_bucketed.has_pending_promise
                and not open_items_bucketed.is_disputed
                then 'promised'
            else dunning_stages.dunning_stage
        end as dunning_stage,
    from open_items_bucketed
    left join dunning_stages
        on open_items_bucketed.document_type = 'invoice'
        and open_items_bucketed.open_amount > 0
        and not open_items_bucketed.is_intercompany  -- a group company is not sent reminders
        and dunning_stages.is_disputed = open_items_bucketed.is_disputed
        and open_items_bucketed.days_past_due >= dunning_stages.min_days_past_due
        and open_items_bucketed.days_past_due
        <= coalesce(dunning_stages.max_days_past_due, open_items_bucketed.days_past_due)

)

select * from open_items_with_dunning
