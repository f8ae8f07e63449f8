{#
  Per entity, document currency and month end: sales of that month and the
  net and not-due encours at that month end, external debtors only (SPEC
  section 7; intercompany is left out of DSO). Open amounts follow SPEC
  section 4: a settlement line counts from the later of its value date and
  its document's issue date; cancelled documents count nowhere.
#}
with

month_ends as (

    select * from {{ ref('int_month_ends') }}

),

invoices as (

    select * from {{ ref('stg_raw__invoices') }}

),

payments as (

    select * from {{ ref('stg_raw__payments') }}

),

debtors as (

    select * from {{ ref('stg_raw__debtors') }}

),

external_documents as (

    select invoices.*
    from invoices
    inner join debtors
        on debtors.entity_code = invoices.entity_code
        and debtors.debtor_id = invoices.debtor_id
    where not invoices.is_cancelled
        and not debtors.is_intercompany

),

encours_movements as (

    select
        entity_code,
        currency,
        issue_date as movement_date,
        document_sign * amount as encours_change,
        document_sign * amount as sales_change,
    from external_documents

    union all

    select
        payments.entity_code,
        payments.currency,
        greatest(payments.settlement_date, external_documents.issue_date) as movement_date,
        -external_documents.document_sign * payments.amount as encours_change,
        0 as sales_change,
    from payments
    inner join external_documents
        on external_documents.entity_code = payments.entity_code
        and external_documents.document_id = payments.document_id

    union all

    select
        payments.entity_code,
        payments.currency,
        payments.settlement_date as movement_date,
        -payments.amount as encours_change,
        0 as sales_change,
    from payments
    inner join debtors
        on debtors.entity_code = payments.entity_code
        and debtors.debtor_id = payments.debtor_id
    where payments.is_unapplied
        and not debtors.is_intercompany

),

monthly_movements as (

    select
        entity_code,
        currency,
        cast(last_day(movement_date) as date) as month_end,
        sum(encours_change) as encours_change,
        sum(sales_change) as sales,
    from encours_movements
    group by all

),

entity_currencies as (

    select distinct entity_code, currency from monthly_movements

),

every_month as (

    select
        entity_currencies.entity_code,
        entity_currencies.currency,
        month_ends.month_end,
        coalesce(monthly_movements.sales, 0) as sales,
        sum(coalesce(monthly_movements.encours_change, 0)) over (
            partition by entity_currencies.entity_code, entity_currencies.currency
            order by month_ends.month_end
        ) as net_encours,
    from entity_currencies
    cross join month_ends
    left join monthly_movements
        on monthly_movements.entity_code = entity_currencies.entity_code
        and monthly_movements.currency = entity_currencies.currency
        and monthly_movements.month_end = month_ends.month_end

),

not_due_documents as (

    select
        month_ends.month_end,
        external_documents.entity_code,
        external_documents.currency,
        external_documents.document_id,
        external_documents.document_sign,
        external_documents.amount,
    from month_ends
    inner join external_documents
        on external_documents.issue_date <= month_ends.month_end
        and external_documents.due_date >= month_ends.month_end

),

not_due_settled as (

    select
        not_due_documents.month_end,
        not_due_documents.entity_code,
        not_due_documents.document_id,
        sum(payments.amount) as settled_amount,
    from not_due_documents
    inner join payments
        on payments.entity_code = not_due_documents.entity_code
        and payments.document_id = not_due_documents.document_id
        and payments.settlement_date <= not_due_documents.month_end
    group by all

),

not_due_unapplied as (

    select
        month_ends.month_end,
        payments.entity_code,
        payments.currency,
        -sum(payments.amount) as not_due_encours,
    from month_ends
    inner join payments
        on payments.settlement_date = month_ends.month_end
    inner join debtors
        on debtors.entity_code = payments.entity_code
        and debtors.debtor_id = payments.debtor_id
    where payments.is_unapplied
        and not debtors.is_intercompany
    group by all

),

not_due_encours as (

    select
        not_due_documents.month_end,
        not_due_documents.entity_code,
        not_due_documents.currency,
        sum(
            not_due_documents.document_sign
            * (not_due_documents.amount - coalesce(not_due_settled.settled_amount, 0))
        ) as not_due_encours,
    from not_due_documents
    left join not_due_settled
        on not_due_settled.month_end = not_due_documents.month_end
        and not_due_settled.entity_code = not_due_documents.entity_code
        and not_due_settled.document_id = not_due_documents.document_id
    group by all

    union all

    select * from not_due_unapplied

),

not_due_by_month as (

    select month_end, entity_code, currency, sum(not_due_encours) as not_due_encours
    from not_due_encours
    group by all

),

balances as (

    select
        every_month.entity_code,
        every_month.currency,
        every_month.month_end,
        every_month.sales,
        every_month.net_encours,
        coalesce(not_due_by_month.not_due_encours, 0) as not_due_encours,
    from every_month
    left join not_due_by_month
        on not_due_by_month.month_end = every_month.month_end
        and not_due_by_month.entity_code = every_month.entity_code
        and not_due_by_month.currency = every_month.currency

)

select * from balances
