{#
  The open items each open dispute covers at each as-of date (SPEC section
  13): its document, or for a debtor-level dispute every open invoice of its
  debtor. One place for the rule: the open items read it to mark an item
  disputed, mart_disputes to total what each dispute holds up.
#}
with

open_disputes as (

    select * from {{ ref('int_collection_disputes') }}
    where is_open

),

open_items as (

    select * from {{ ref('int_open_items_converted') }}
    where evaluation_date in (select as_of_dates.as_of_date from {{ ref('int_as_of_dates') }} as as_of_dates)

),

covered as (

    select
        open_disputes.as_of_date,
        open_disputes.entity_code,
        open_disputes.event_id,
        open_items.document_id,
        open_items.open_amount_eur,
        open_items.days_past_due,
    from open_disputes
    inner join open_items
        on open_items.evaluation_date = open_disputes.as_of_date
        and open_items.entity_code = open_disputes.entity_code
        and open_items.debtor_id = open_disputes.debtor_id
        and (
            open_items.document_id = open_disputes.document_id
            or (open_disputes.document_id is null and open_items.document_type = 'invoice')
        )

)

select * from covered
