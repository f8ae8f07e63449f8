-- read by the incremental branch only, which dbt cannot see when it parses:
-- depends_on: {{ ref('stg_raw__landing_log') }}
-- depends_on: {{ ref('stg_raw__settlement_line_moves') }}
-- depends_on: {{ ref('stg_raw__debtor_intercompany_changes') }}
-- depends_on: {{ ref('stg_raw__document_removals') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['entity_code', 'document_id'],
        on_schema_change='sync_all_columns',
        pre_hook="{{ remove_documents_gone() }}",
    )
}}
{#- rows written before the not-due encours was kept as changes (not_due_change), or before the
    contractual terms (terms_weight), are all recomputed once, by the first build that finds them -#}
{%- set built_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list
    if execute and is_incremental() else [] -%}
{%- set recompute_every_document = execute and is_incremental()
    and ('not_due_change' not in built_columns or 'terms_weight' not in built_columns) -%}
{#
  What each document adds to the DSO figures of each month end (SPEC section
  7), in the currency of each amount: its sales and encours in its issue
  month, each settlement line taking the encours down from the later of the
  line's value date and the document's issue date. Its not-due encours
  (amount less the lines dated by each month end, at every month end from
  its issue to its due date) is kept as changes, not as a row per month end:
  the amount where it starts, each line where it falls before the due date,
  and the rest where the due date has passed. A document thus has a row per
  month something happens to it, however far its due date (an ERP's
  9999-12-31, docs/decisions.md "The boundary"); int_dso_balances adds the
  changes up. A document's rows depend on nothing but the document, its
  debtor's intercompany flag and its lines, so a night recomputes only the
  documents it touched, as int_document_balances does, and those whose
  debtor was re-sent with another intercompany entity
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

    select * from {{ ref('int_debtors_resolved') }}

),

{% if is_incremental() %}
{{ touched_documents_ctes() }},

reclassed_documents as (

    -- documents of the debtors re-sent as a group company, or no longer one
    select invoices.entity_code, invoices.document_id
    from invoices
    semi join (
        select entity_code, debtor_id
        from {{ ref('stg_raw__debtor_intercompany_changes') }}
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
    {% if is_incremental() and not recompute_every_document %}
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

-- not due at a month end from the end of its issue month to its due date (none when it falls
-- due before its issue month ends); the last month end, 9999-12-31, has no month end after it
not_due_spans as (

    select
        *,
        case when due_date < date '9999-12-31' then cast(last_day(due_date + 1) as date) end as due_month_end,
    from documents
    where last_day(issue_date) <= due_date

),

issued as (

    select
        documents.entity_code,
        documents.document_id,
        documents.currency,
        cast(last_day(documents.issue_date) as date) as month_end,
        documents.document_sign * documents.amount as encours_change,
        documents.document_sign * documents.amount as sales,
        case
            when not_due_spans.document_id is not null then documents.document_sign * documents.amount else 0
        end as not_due_change,
        -- its contractual terms (due date - issue date), weighted by its sales; a due date past the
        -- horizon (an ERP's placeholder) gives no terms (docs/decisions.md, "Reading the figures")
        case
            when documents.due_date < documents.issue_date + to_years({{ var('date_horizon_years') }})
                then documents.document_sign * documents.amount * date_diff('day', documents.issue_date, documents.due_date)
            else 0
        end as terms_weight,
        case
            when documents.due_date < documents.issue_date + to_years({{ var('date_horizon_years') }})
                then documents.document_sign * documents.amount
            else 0
        end as terms_sales,
    from documents
    left join not_due_spans using (entity_code, document_id)

),

settled_lines as (

    select
        lines.entity_code,
        lines.document_id,
        lines.currency,
        cast(last_day(greatest(lines.settlement_date, documents.issue_date)) as date) as month_end,
        documents.document_sign * lines.amount as signed_amount,
        -- a line dated by a month end on which the document is not yet due takes its not-due encours down
        not_due_spans.document_id is not null
        and last_day(greatest(lines.settlement_date, documents.issue_date)) <= documents.due_date
            as settles_before_due,
    from lines
    inner join documents using (entity_code, document_id)
    left join not_due_spans using (entity_code, document_id)

),

settled as (

    select
        entity_code,
        document_id,
        currency,
        month_end,
        -signed_amount as encours_change,
        0 as sales,
        case when settles_before_due then -signed_amount else 0 end as not_due_change,
        0 as terms_weight,
        0 as terms_sales,
    from settled_lines

),

settled_before_due as (

    select entity_code, document_id, sum(signed_amount) as settled_amount,
    from settled_lines
    where settles_before_due
    group by all

),

falling_due as (

    -- what is still not due at the last month end before the due date stops being not due after it
    select
        not_due_spans.entity_code,
        not_due_spans.document_id,
        not_due_spans.currency,
        not_due_spans.due_month_end as month_end,
        0 as encours_change,
        0 as sales,
        -(
            not_due_spans.document_sign * not_due_spans.amount - coalesce(settled_before_due.settled_amount, 0)
        ) as not_due_change,
        0 as terms_weight,
        0 as terms_sales,
    from not_due_spans
    left join settled_before_due using (entity_code, document_id)
    where not_due_spans.due_month_end is not null

),

movements as (

    select * from issued
    union all
    select * from settled
    union all
    select * from falling_due

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
        sum(movements.not_due_change) as not_due_change,
        sum(movements.terms_weight) as terms_weight,
        sum(movements.terms_sales) as terms_sales,
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
