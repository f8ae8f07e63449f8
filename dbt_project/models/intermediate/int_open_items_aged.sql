{#
  Aging bucket and recommended dunning stage of each open item (SPEC sections
  5 and 9), from the seeds aging_buckets and dunning_stages: no bound in SQL.
  At the as-of dates only: the earlier evaluation date of the weak signals
  needs no bucket, and they read int_open_items_converted.
#}
with

open_items as (

    select * from {{ ref('int_open_items_converted') }}
    where evaluation_date in (select as_of_dates.as_of_date from {{ ref('int_as_of_dates') }} as as_of_dates)

),

aging_buckets as (

    select * from {{ ref('aging_buckets') }}

),

dunning_stages as (

    select * from {{ ref('dunning_stages') }}

),

open_items_bucketed as (

    select
        open_items.*,
        aging_buckets.aging_bucket,
        aging_buckets.bucket_order,
    from open_items
    inner join aging_buckets
        on open_items.days_past_due >= coalesce(aging_buckets.min_days_past_due, open_items.days_past_due)
        and open_items.days_past_due <= coalesce(aging_buckets.max_days_past_due, open_items.days_past_due)

),

open_items_with_dunning as (

    select
        open_items_bucketed.*,
        dunning_stages.dunning_stage,
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
