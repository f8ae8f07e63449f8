{#
  Open disputes at each of this run's as-of dates (SPEC section 13), the credit managers'
  disputes worklist: a dispute opened by a collection event, not resolved,
  on a document still open (a debtor-level dispute: while the debtor has
  open invoices), with its reason, its age and the amount at stake: the
  disputed amount when the event gives one, else the open amount.
#}
with

disputes as (

    select * from {{ ref('int_collection_disputes') }}
    where is_open

),

debtors as (

    select * from {{ ref('int_debtors_resolved') }}

),

reasons as (

    select * from {{ ref('dispute_reasons') }}

),

covered_items as (

    select * from {{ ref('int_collection_disputed_items') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_resolved') }}

),

disputed_items as (

    select
        as_of_date,
        entity_code,
        event_id,
        count(*) as open_documents,
        sum(open_amount_eur) as open_amount_eur,
        max(days_past_due) as max_days_past_due,
    from covered_items
    group by all

),

listed as (

    select
        disputes.as_of_date,
        disputes.entity_code,
        disputes.event_id,
        disputes.debtor_id,
        debtors.debtor_name,
        debtors.consolidated_debtor_name,
        debtors.consolidated_debtor_id,
        debtors.debtor_group_id,
        disputes.document_id,
        disputes.opened_on,
        disputes.age_days,
        disputes.dispute_reason,
        coalesce(reasons.label_fr, 'Non précisé') as dispute_reason_label,
        disputes.currency,
        cast(disputes.amount as decimal(18, 2)) as disputed_amount,
        coalesce(
            {{ divide_to_cents('disputes.amount', 'fx_rates.units_per_eur') }}, disputed_items.open_amount_eur
        ) as disputed_amount_eur,
        disputed_items.open_amount_eur,
        disputed_items.open_documents,
        disputed_items.max_days_past_due,
    from disputes
    inner join disputed_items
        on disputed_items.as_of_date = disputes.as_of_date
        and disputed_items.entity_code = disputes.entity_code
        and disputed_items.event_id = disputes.event_id
    inner join debtors
        on debtors.entity_code = disputes.entity_code
        and debtors.debtor_id = disputes.debtor_id
    left join reasons
        on reasons.dispute_reason = disputes.dispute_reason
    left join fx_rates
        on fx_rates.rate_day = disputes.as_of_date
        and fx_rates.currency = disputes.currency

)

select * from listed
