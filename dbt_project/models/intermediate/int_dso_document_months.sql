{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['entity_code', 'document_id'],
        on_schema_change='append_new_columns',
    )
}}
{#
  What each document adds to the DSO figures of each month end (SPEC section
  7), in the currency of each amount: its sales and encours in its issue
  month, each settlement line taking the encours down from the later of the
  line's value date and the document's issue date, and its not-due encours
  at every month end from its issue to its due date (amount less the lines
  dated by that month end). A document's rows depend on nothing but the
  document, its debtor's intercompany flag and its lines, so a night
  recomputes only the documents it touched, as int_document_balances does,
  and those whose debtor was re-sent with another intercompany entity
  (raw.debtor_intercompany_changes, written by the load step).
  Cancelled documents and documents on intercompany or unknown debtors keep
  their rows, flagged, so that a later change finds them; int_dso_balances
  leaves them out.
#}
-- import CTEs not materialized: DuckDB would copy a whole staging view used twice (docs/decisions.md, "Scale")
with

invoices as not materialized (

    select * from {{ ref('stg_raw__invoices') }}

),

payments as not materialized (

    select * from {{ ref('stg_raw__payments') }}
    where not is_unapplied

),

debtors as not materialized (

    select * from {{ ref('stg_raw__debtors') }}

),

{% if is_incremental() %}
{{ touched_documents_ctes() }},

reclassed_documents as (

    -- documents of the debtors re-sent as a group company, or no longer one
    select invoices.entity_code, invoices.document_id
    from invoices
    semi join (
        select entity_code, debtor_id
        from {{ source('raw', 'debtor_intercompany_changes') }}
        semi join landed_since_last_build using (entity_code, extract_date)
    ) as reclassed_debtors using (entity_code, debtor_id)

),
{% endif %}

documents as (

    select
        invoices.entity_code,
        invoices.document_id,
        invoices.debtor_id,
        invoices.currency,
        invoices.document_sign,
        invoices.amount,
        invoices.issue_date,
        invoices.due_date,
        invoices.is_cancelled,
        debtors.is_intercompany,
        invoices.extract_date,
    from invoices
    {% if is_incremental() %}
    semi join (select * from touched_documents union select * from reclassed_documents) using (entity_code, document_id)
    {% endif %}
    left join debtors
        on debtors.entity_code = invoices.entity_code
        and debtors.debtor_id = invoices.debtor_id

),

lines as (

    select payments.*
    from payments
    semi join documents using (entity_code, document_id)

),

issued as (

    select
        entity_code,
        document_id,
        currency,
        cast(last_day(issue_date) as date) as month_end,
        document_sign * amount as encours_change,
        document_sign * amount as sales,
        0 as not_due_encours,
    from documents

),

settled as (

    select
        lines.entity_code,
        lines.document_id,
        lines.currency,
        cast(last_day(greatest(lines.settlement_date, documents.issue_date)) as date) as month_end,
        -documents.document_sign * lines.amount as encours_change,
        0 as sales,
        0 as not_due_encours,
    from lines
    inner join documents using (entity_code, document_id)

),

not_due_month_ends as (

    select
        documents.entity_code,
        documents.document_id,
        cast(last_day(months.month_start) as date) as month_end,
    from documents,
        unnest(generate_series(
            date_trunc('month', documents.issue_date),
            date_trunc('month', documents.due_date),
            interval 1 month
        )) as months(month_start)
    where last_day(months.month_start) <= documents.due_date

),

settled_by_month_end as (

    select
        not_due_month_ends.entity_code,
        not_due_month_ends.document_id,
        not_due_month_ends.month_end,
        sum(lines.amount) as settled_amount,
    from not_due_month_ends
    inner join lines
        on lines.entity_code = not_due_month_ends.entity_code
        and lines.document_id = not_due_month_ends.document_id
        and lines.settlement_date <= not_due_month_ends.month_end
    group by all

),

not_due as (

    select
        documents.entity_code,
        documents.document_id,
        documents.currency,
        not_due_month_ends.month_end,
        0 as encours_change,
        0 as sales,
        documents.document_sign
            * (documents.amount - coalesce(settled_by_month_end.settled_amount, 0)) as not_due_encours,
    from not_due_month_ends
    inner join documents using (entity_code, document_id)
    left join settled_by_month_end using (entity_code, document_id, month_end)

),

movements as (

    select * from issued
    union all
    select * from settled
    union all
    select * from not_due

),

changed_through as (

    select
        documents.entity_code,
        documents.document_id,
        greatest(any_value(documents.extract_date), max(lines.extract_date)) as changed_through,
    from documents
    left join lines using (entity_code, document_id)
    group by documents.entity_code, documents.document_id

),

document_months as (

    select
        movements.entity_code,
        movements.document_id,
        documents.debtor_id,
        movements.currency,
        movements.month_end,
        sum(movements.encours_change) as encours_change,
        sum(movements.sales) as sales,
        sum(movements.not_due_encours) as not_due_encours,
        documents.is_cancelled,
        documents.is_intercompany,
        not documents.is_cancelled and documents.is_intercompany is false as counts_in_dso,
        changed_through.changed_through,
        {{ loaded_through() }} as loaded_through,
    from movements
    inner join documents using (entity_code, document_id)
    inner join changed_through using (entity_code, document_id)
    group by all

)

select * from document_months
