{# read once, by int_open_items_converted: a table would be written and read back for nothing #}
{{ config(materialized='view') }}
{#
  Open items at each evaluation date, in document currency (SPEC section 4).
  A document counts when issued on or before the date and not cancelled; a
  settlement line counts when its value date is on or before the date. Unapplied
  cash is an open item of its own, negative, due on its settlement date.
  Documents closed on or before the date (int_document_balances) are left
  out first. A FEC's lettered line settles its document from the
  lettering's date (settles_document_from, SPEC section 16): before it, it
  is unapplied cash of its own date (a credit note's pair of lines is
  nothing yet: the credit note and the invoice are both open). For the others, the lines up to the date are all their lines
  (settled_total) unless one is dated later: only those documents have
  their lines summed up to the date.
#}
-- import CTEs not materialized: DuckDB would copy a whole staging view used twice (docs/decisions.md, "Scale")
with

evaluation_dates as (

    select distinct evaluation_date from {{ ref('int_evaluation_dates') }}

),

documents as not materialized (

    select * from {{ ref('int_document_balances') }}

),

payments as not materialized (

    select * from {{ ref('stg_raw__payments') }}

),

debtors as not materialized (

    select * from {{ ref('int_debtors_resolved') }}

),

documents_known as (

    select
        evaluation_dates.evaluation_date,
        documents.*,
        coalesce(
            coalesce(documents.last_settles_document_from, documents.last_settlement_date)
            > evaluation_dates.evaluation_date,
            false
        ) as has_lines_after_date,
    from evaluation_dates
    inner join documents
        on documents.issue_date <= evaluation_dates.evaluation_date
    where not documents.is_cancelled
        and (documents.closed_on is null or documents.closed_on > evaluation_dates.evaluation_date)
        -- the same, against the run's first and last dates (macros/parameters.sql): read while scanning
        and (
            documents.closed_on is null
            or documents.closed_on > {{ window_before(as_of_date('from'), 'weak_signal_overdue_window_days') }}
        )
        and documents.issue_date <= {{ as_of_date('to') }}

),

settlements_on_documents as (

    -- only the documents with a line dated after the evaluation date
    select
        documents_known.evaluation_date,
        documents_known.entity_code,
        documents_known.document_id,
        sum(payments.amount) as settled_amount,
        max(payments.settlement_date) as last_settlement_date,
    from documents_known
    inner join payments
        on payments.entity_code = documents_known.entity_code
        and payments.document_id = documents_known.document_id
        and payments.settles_document_from <= documents_known.evaluation_date
    where documents_known.has_lines_after_date
    group by all

),

documents_settled as (

    select
        documents_known.*,
        case
            when documents_known.has_lines_after_date then coalesce(settlements_on_documents.settled_amount, 0)
            else documents_known.settled_total
        end as settled_by_date,
        case
            when documents_known.has_lines_after_date then settlements_on_documents.last_settlement_date
            else documents_known.last_settlement_date
        end as last_settlement_by_date,
    from documents_known
    left join settlements_on_documents
        on settlements_on_documents.evaluation_date = documents_known.evaluation_date
        and settlements_on_documents.entity_code = documents_known.entity_code
        and settlements_on_documents.document_id = documents_known.document_id

),

document_open_amounts as (

    select
        documents_settled.evaluation_date,
        documents_settled.entity_code,
        documents_settled.debtor_id,
        documents_settled.document_id,
        documents_settled.document_type,
        documents_settled.currency,
        documents_settled.document_sign,
        documents_settled.amount as document_amount,
        documents_settled.settled_by_date as settled_amount,
        documents_settled.document_sign * (documents_settled.amount - documents_settled.settled_by_date) as open_amount,
        documents_settled.is_disputed,
        documents_settled.issue_date,
        documents_settled.due_date,
        documents_settled.due_date_source,
        documents_settled.last_settlement_by_date as last_settlement_date,
    from documents_settled

),

unapplied_cash as (

    select
        evaluation_dates.evaluation_date,
        payments.entity_code,
        payments.debtor_id,
        payments.settlement_id || '#' || cast(payments.line_no as varchar) as document_id,
        'unapplied_cash' as document_type,
        payments.currency,
        -1 as document_sign,
        payments.amount as document_amount,
        cast(0 as decimal(38, 4)) as settled_amount,
        -payments.amount as open_amount,
        false as is_disputed,
        payments.settlement_date as issue_date,
        payments.settlement_date as due_date,
        cast(null as varchar) as due_date_source,
        payments.settlement_date as last_settlement_date,
    from evaluation_dates
    inner join payments
        on payments.settlement_date <= evaluation_dates.evaluation_date
    where payments.is_unapplied
        -- a FEC's line before its lettering's date (never a credit note's pair: see above)
        or (
            payments.settles_document_from > evaluation_dates.evaluation_date
            and payments.settlement_kind <> 'credit_note'
        )

),

open_items_unioned as (

    select * from document_open_amounts
    where open_amount <> 0
    union all by name
    select * from unapplied_cash
    where open_amount <> 0

),

open_items_with_debtors as (

    select
        open_items_unioned.evaluation_date,
        open_items_unioned.entity_code,
        open_items_unioned.debtor_id,
        debtors.consolidated_debtor_id,
        debtors.debtor_group_id,
        open_items_unioned.document_id,
        open_items_unioned.document_type,
        open_items_unioned.currency,
        debtors.customer_type,
        debtors.intercompany_entity,
        open_items_unioned.document_sign,
        open_items_unioned.document_amount,
        open_items_unioned.settled_amount,
        open_items_unioned.open_amount,
        date_diff('day', open_items_unioned.due_date, open_items_unioned.evaluation_date) as days_past_due,
        -- overdue (SPEC section 5): past its due date at the evaluation date; defined here only
        open_items_unioned.due_date < open_items_unioned.evaluation_date as is_overdue,
        open_items_unioned.is_disputed,
        coalesce(debtors.is_intercompany, false) as is_intercompany,
        sign(open_items_unioned.open_amount) = -open_items_unioned.document_sign as is_over_settled,
        open_items_unioned.issue_date,
        open_items_unioned.due_date,
        open_items_unioned.due_date_source,
        open_items_unioned.last_settlement_date,
    from open_items_unioned
    left join debtors
        on debtors.entity_code = open_items_unioned.entity_code
        and debtors.debtor_id = open_items_unioned.debtor_id

)

select * from open_items_with_debtors
