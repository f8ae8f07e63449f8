{#
  Payment behaviour per debtor group at each as-of date (SPEC section 7):
  days to pay (last settlement - issue) and days late (last settlement - due)
  of invoices settled in full, averaged weighted by amount, over the last
  payment_delay_window_days and the window before, and the lengthening
  between the two. External debtors only.
#}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

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

consolidated_debtors as (

    select * from {{ ref('int_consolidated_debtors') }}

),

external_invoices as (

    select
        invoices.*,
        consolidated_debtors.debtor_group_id,
    from invoices
    inner join debtors
        on debtors.entity_code = invoices.entity_code
        and debtors.debtor_id = invoices.debtor_id
    inner join consolidated_debtors
        on consolidated_debtors.consolidated_debtor_id = debtors.consolidated_debtor_id
    where invoices.document_type = 'invoice'
        and not invoices.is_cancelled
        and not debtors.is_intercompany

),

settlements_up_to_as_of as (

    select
        as_of_dates.as_of_date,
        payments.entity_code,
        payments.document_id,
        sum(payments.amount) as settled_amount,
        max(payments.settlement_date) as last_settlement_date,
    from as_of_dates
    inner join payments
        on payments.settlement_date <= as_of_dates.as_of_date
        and payments.settlement_date > as_of_dates.as_of_date - to_days(2 * {{ var('payment_delay_window_days') }})
    where not payments.is_unapplied
    group by all

),

settled_invoices as (

    select
        settlements_up_to_as_of.as_of_date,
        external_invoices.debtor_group_id,
        external_invoices.amount,
        date_diff('day', external_invoices.issue_date, settlements_up_to_as_of.last_settlement_date) as days_to_pay,
        date_diff('day', external_invoices.due_date, settlements_up_to_as_of.last_settlement_date) as days_late,
        settlements_up_to_as_of.last_settlement_date
            > settlements_up_to_as_of.as_of_date - to_days({{ var('payment_delay_window_days') }}) as is_last_window,
    from settlements_up_to_as_of
    inner join external_invoices
        on external_invoices.entity_code = settlements_up_to_as_of.entity_code
        and external_invoices.document_id = settlements_up_to_as_of.document_id
        and external_invoices.issue_date <= settlements_up_to_as_of.as_of_date
    where settlements_up_to_as_of.settled_amount >= external_invoices.amount

),

behaviour as (

    select
        as_of_date,
        debtor_group_id,
        sum(case when is_last_window then amount * days_to_pay end)
            / sum(case when is_last_window then amount end) as avg_days_to_pay_90d,
        sum(case when is_last_window then amount * days_late end)
            / sum(case when is_last_window then amount end) as avg_days_late_90d,
        sum(case when not is_last_window then amount * days_late end)
            / sum(case when not is_last_window then amount end) as avg_days_late_prior_90d,
        count(case when is_last_window then 1 end) as invoices_settled_90d,
    from settled_invoices
    group by all

)

select
    as_of_date,
    debtor_group_id,
    round(avg_days_to_pay_90d, 2) as avg_days_to_pay_90d,
    round(avg_days_late_90d, 2) as avg_days_late_90d,
    round(avg_days_late_prior_90d, 2) as avg_days_late_prior_90d,
    round(avg_days_late_90d - avg_days_late_prior_90d, 2) as days_late_lengthening,
    invoices_settled_90d,
from behaviour
