{#
  Per entity, document currency and month end: sales of that month and the
  net and not-due encours at that month end, external debtors only (SPEC
  section 7; intercompany is left out of DSO). Open amounts follow SPEC
  section 4: a settlement line counts from the later of its value date and
  its document's issue date; cancelled documents count nowhere. Each build
  recomputes every month end, from what each document adds to each month
  (int_dso_document_months, kept up to date night by night) and from the
  unapplied cash, which counts on the day it is dated (as not due on the
  month end it is dated, if it is). Encours and not-due encours are running
  sums of their changes; a change dated before the first month end (a
  document issued before the plausible horizon, int_month_ends) counts from
  the first month end on, and its sales in no month.
#}
with

month_ends as (

    select * from {{ ref('int_month_ends') }}

),

first_month_end as (

    select min(month_end) as first_month_end from month_ends

),

document_months as (

    select * from {{ ref('int_dso_document_months') }}
    where counts_in_dso

),

payments as (

    select * from {{ ref('stg_raw__payments') }}
    where is_unapplied

),

debtors as (

    select * from {{ ref('int_debtors_resolved') }}

),

unapplied_cash as (

    select
        payments.entity_code,
        payments.currency,
        payments.settlement_date,
        cast(last_day(payments.settlement_date) as date) as month_end,
        payments.amount,
    from payments
    inner join debtors
        on debtors.entity_code = payments.entity_code
        and debtors.debtor_id = payments.debtor_id
    where not debtors.is_intercompany

),

unapplied_cash_movements as (

    select
        entity_code,
        currency,
        month_end,
        -amount as encours_change,
        0 as sales,
        case when settlement_date = month_end then -amount else 0 end as not_due_change,
        0 as terms_weight,
        0 as terms_sales,
    from unapplied_cash

    union all

    -- cash dated on a month end is not due there only: it stops at the next month end
    select
        entity_code,
        currency,
        cast(last_day(month_end + 1) as date) as month_end,
        0 as encours_change,
        0 as sales,
        amount as not_due_change,
        0 as terms_weight,
        0 as terms_sales,
    from unapplied_cash
    where settlement_date = month_end and month_end < date '9999-12-31'

),

monthly_movements as (

    select
        movements.entity_code,
        movements.currency,
        greatest(movements.month_end, first_month_end.first_month_end) as month_end,
        sum(movements.encours_change) as encours_change,
        sum(movements.sales) filter (where movements.month_end >= first_month_end.first_month_end) as sales,
        sum(movements.not_due_change) as not_due_change,
        sum(movements.terms_weight) filter (where movements.month_end >= first_month_end.first_month_end)
            as terms_weight,
        sum(movements.terms_sales) filter (where movements.month_end >= first_month_end.first_month_end)
            as terms_sales,
    from (
        select entity_code, currency, month_end, encours_change, sales, not_due_change, terms_weight, terms_sales
        from document_months
        union all
        select entity_code, currency, month_end, encours_change, sales, not_due_change, terms_weight, terms_sales
        from unapplied_cash_movements
    ) as movements
    cross join first_month_end
    group by all

),

entity_currencies as (

    select distinct entity_code, currency from monthly_movements

),

balances as (

    select
        entity_currencies.entity_code,
        entity_currencies.currency,
        month_ends.month_end,
        coalesce(monthly_movements.sales, 0) as sales,
        coalesce(monthly_movements.terms_weight, 0) as terms_weight,
        coalesce(monthly_movements.terms_sales, 0) as terms_sales,
        sum(coalesce(monthly_movements.encours_change, 0)) over (
            partition by entity_currencies.entity_code, entity_currencies.currency
            order by month_ends.month_end
        ) as net_encours,
        sum(coalesce(monthly_movements.not_due_change, 0)) over (
            partition by entity_currencies.entity_code, entity_currencies.currency
            order by month_ends.month_end
        ) as not_due_encours,
    from entity_currencies
    cross join month_ends
    left join monthly_movements
        on monthly_movements.entity_code = entity_currencies.entity_code
        and monthly_movements.currency = entity_currencies.currency
        and monthly_movements.month_end = month_ends.month_end

)

select * from balances
