{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
        post_hook=[
            "delete from {{ this }} where as_of_date <> last_day(as_of_date)
             and as_of_date < (select max(as_of_date) from {{ this }})"
        ],
    )
}}
{#
  Keeps the latest as-of date and every month end (SPEC section 11); any
  other date can be rebuilt from documents and settlement lines.
#}
with

open_items as (

    select * from {{ ref('int_open_items_claims') }}

),

as_of_open_items as (

    select
        as_of_date,
        entity_code,
        debtor_id,
        consolidated_debtor_id,
        debtor_group_id,
        document_id,
        document_type,
        currency,
        functional_currency,
        aging_bucket,
        dunning_stage,
        customer_type,
        intercompany_entity,
        missing_rate_currencies,
        document_amount,
        settled_amount,
        open_amount,
        open_amount_entity_currency,
        open_amount_eur,
        overdue_amount_eur,
        document_units_per_eur,
        days_past_due,
        bucket_order,
        late_interest_rate,
        late_interest_eur,
        recovery_indemnity_eur,
        is_overdue,
        is_disputed,
        is_intercompany,
        is_over_settled,
        is_over_legal_terms,
        is_near_limitation,
        is_time_barred,
        issue_date,
        due_date,
        due_date_source,
        einvoice_status,
        einvoice_status_name,
        einvoice_status_at,
        is_factored,
        last_settlement_date,
        limitation_date,
    from open_items

)

select * from as_of_open_items
