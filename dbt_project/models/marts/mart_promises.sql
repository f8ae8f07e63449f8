{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
    )
}}
{#
  The credit managers' promises worklist (SPEC section 13): every promise to
  pay and payment plan instalment made in the last collection_history_days,
  kept, broken or pending at each as-of date, with the settlements that kept
  it, the debtor's company and group, and the document's open amount today.
#}
with

promises as (

    select * from {{ ref('int_collection_promises') }}

),

debtors as (

    select * from {{ ref('int_debtors_resolved') }}

),

open_items as (

    select * from {{ ref('int_open_items_aged') }}

),

listed as (

    select
        promises.as_of_date,
        promises.entity_code,
        promises.event_id,
        promises.event_type,
        promises.debtor_id,
        debtors.debtor_name,
        debtors.consolidated_debtor_name,
        debtors.consolidated_debtor_id,
        debtors.debtor_group_id,
        promises.document_id,
        promises.event_date,
        promises.promised_date,
        promises.due_by,
        promises.promise_status,
        promises.currency,
        cast(promises.promised_amount as decimal(18, 2)) as promised_amount,
        cast(promises.covered_amount as decimal(18, 2)) as covered_amount,
        cast(promises.promised_to_date as decimal(18, 2)) as promised_to_date,
        promises.promised_amount_eur,
        promises.kept_on,
        promises.kept_by_settlements,
        case
            when promises.promise_status = 'broken' then datediff('day', promises.due_by, promises.as_of_date)
        end as days_since_broken,
        open_items.open_amount_eur as document_open_amount_eur,
    from promises
    inner join debtors
        on debtors.entity_code = promises.entity_code
        and debtors.debtor_id = promises.debtor_id
    left join open_items
        on open_items.as_of_date = promises.as_of_date
        and open_items.entity_code = promises.entity_code
        and open_items.document_id = promises.document_id

)

select * from listed
