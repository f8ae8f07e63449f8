{#
  Each e-invoicing lifecycle status landed (SPEC section 17), with the
  invoice it is about: the entity's document of that number (document_id)
  and, when the status gives one, that issue date; its French name and its
  effect (seed einvoice_statuses; a code absent from it is kept, named by
  its code, with no effect); its MDT-113 reason as a dispute reason of
  section 13 (seed einvoice_reasons; an unknown code maps to other).
  A status whose invoice the ledger does not hold stays here, unmatched:
  mart_data_issues lists it as a warning. status_order ranks the statuses
  of one document as SPEC 17 orders them: by status_at, then the one
  landed later, then the higher code.
#}
with

statuses as (

    select * from {{ ref('stg_raw__einvoice_status') }}

),

invoices as not materialized (

    select * from {{ ref('stg_raw__invoices') }}

),

names as (

    select * from {{ ref('einvoice_statuses') }}

),

reasons as (

    select * from {{ ref('einvoice_reasons') }}

),

matched as (

    select
        statuses.*,
        invoices.document_id is not null as is_matched,
        invoices.debtor_id,
        invoices.document_type,
        invoices.currency as document_currency,
        invoices.issue_date as document_issue_date,
        coalesce(names.status_name, 'Statut ' || statuses.status_code) as status_name,
        names.effect,
        coalesce(reasons.dispute_reason, 'other') as dispute_reason,
        reasons.label_fr as reason_label,
    from statuses
    left join invoices
        on invoices.entity_code = statuses.entity_code
        and invoices.document_id = statuses.document_id
        and (statuses.issue_date is null or invoices.issue_date = statuses.issue_date)
    left join names
        on names.status_code = statuses.status_code
    left join reasons
        on reasons.reason_code = statuses.reason_code

),

ordered as (

    select
        *,
        row_number() over (
            partition by entity_code, document_id
            order by status_at, extract_date, status_code
        ) as status_order,
    from matched

)

select * from ordered
