-- read by the incremental branch only, which dbt cannot see when it parses:
-- depends_on: {{ ref('stg_raw__landing_log') }}
-- depends_on: {{ ref('stg_raw__settlement_line_moves') }}
-- depends_on: {{ ref('stg_raw__document_removals') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['entity_code', 'document_id'],
        on_schema_change='append_new_columns',
        pre_hook="{{ remove_documents_gone() }}",
    )
}}
{#
  Every document with the total of all its settlement lines, whatever their
  date: the state from which open items at any date are found without
  summing the whole ledger. A document whose lines add up to its amount, the
  last of them on closed_on, is open at no date from closed_on on; at any
  other date it is a candidate, and int_open_items_computed sums its lines up
  to that date. A night recomputes only the documents its extracts touched:
  documents and lines landed since the last build, and documents a re-sent
  line left (raw.settlement_line_moves); a document an entity's FEC no
  longer holds leaves (macro remove_documents_gone). A FEC's lettered line
  settles its document from the lettering's date (settles_document_from):
  the document closes then, though its payment date, which payment
  behaviour reads (fully_settled_on), is the line's.
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

{% if is_incremental() %}
{{ touched_documents_ctes() }},
{% endif %}

settlement_totals as (

    select
        payments.entity_code,
        payments.document_id,
        sum(payments.amount) as settled_total,
        max(payments.settlement_date) as last_settlement_date,
        max(payments.settles_document_from) as last_settles_document_from,
        max(payments.extract_date) as last_line_extract_date,
    from payments
    {% if is_incremental() %}
    semi join touched_documents using (entity_code, document_id)
    {% endif %}
    group by all

),

balances as (

    select
        invoices.entity_code,
        invoices.document_id,
        invoices.debtor_id,
        invoices.document_type,
        invoices.currency,
        invoices.document_sign,
        invoices.amount,
        coalesce(settlement_totals.settled_total, 0) as settled_total,
        invoices.is_disputed,
        invoices.is_cancelled,
        invoices.issue_date,
        invoices.due_date,
        invoices.due_date_source,
        settlement_totals.last_settlement_date,
        settlement_totals.last_settles_document_from,
        case
            when settlement_totals.settled_total = invoices.amount
                then settlement_totals.last_settles_document_from
        end as closed_on,
        case
            when settlement_totals.settled_total >= invoices.amount then settlement_totals.last_settlement_date
        end as fully_settled_on,
        greatest(invoices.extract_date, settlement_totals.last_line_extract_date) as changed_through,
        {{ loaded_through() }} as loaded_through,
    from invoices
    {% if is_incremental() %}
    semi join touched_documents using (entity_code, document_id)
    {% endif %}
    left join settlement_totals
        on settlement_totals.entity_code = invoices.entity_code
        and settlement_totals.document_id = invoices.document_id

)

select * from balances
