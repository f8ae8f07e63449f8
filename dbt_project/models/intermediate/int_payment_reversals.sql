{#
  Payment reversals (settlement lines of kind `reversal`) of external debtors
  per debtor group, in the weak_signal_reversal_window_days before each
  as-of date: how many, how much, in which currencies and the last one's
  date (SPEC section 8, read by mart_weak_signals).
#}
with

evaluation_dates as (

    select * from {{ ref('int_evaluation_dates') }}

),

payments as (

    select * from {{ ref('stg_raw__payments') }}

),

debtors as (

    select * from {{ ref('int_debtors_resolved') }}

),

reversals as (

    select
        evaluation_dates.as_of_date,
        debtors.debtor_group_id,
        max(payments.settlement_date) as last_reversal_date,
        sum(abs(payments.amount)) as reversed_amount,
        count(*) as reversal_count,
        string_agg(distinct payments.currency, ', ' order by payments.currency) as currencies,
    from evaluation_dates
    inner join payments
        on payments.settlement_date <= evaluation_dates.as_of_date
        and payments.settlement_date > evaluation_dates.as_of_date - to_days({{ var('weak_signal_reversal_window_days') }})
    inner join debtors
        on debtors.entity_code = payments.entity_code
        and debtors.debtor_id = payments.debtor_id
    where evaluation_dates.is_as_of_date
        and payments.settlement_kind = 'reversal'
        and not debtors.is_intercompany
    group by all

)

select * from reversals
