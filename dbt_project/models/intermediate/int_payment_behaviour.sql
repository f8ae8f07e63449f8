{#
  Payment behaviour per debtor group at each as-of date (SPEC section 7):
  days to pay (last settlement - issue) and days late (last settlement - due)
  of invoices settled in full (their lines reach their amount, the last one
  settling them), averaged weighted by amount, over the last
  payment_delay_window_days and the window before, and the lengthening
  between the two. External debtors only.
#}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

documents as (

    select * from {{ ref('int_document_balances') }}

),

debtors as (

    select * from {{ ref('int_debtors_resolved') }}

),

external_invoices as (

    select
        documents.*,
        debtors.debtor_group_id,
    from documents
    inner join debtors
        on debtors.entity_code = documents.entity_code
        and debtors.debtor_id = documents.debtor_id
    where documents.document_type = 'invoice'
        and not documents.is_cancelled
        and not debtors.is_intercompany
        and documents.fully_settled_on is not null

),

settled_invoices as (

    select
        as_of_dates.as_of_date,
        external_invoices.debtor_group_id,
        external_invoices.amount,
        date_diff('day', external_invoices.issue_date, external_invoices.fully_settled_on) as days_to_pay,
        date_diff('day', external_invoices.due_date, external_invoices.fully_settled_on) as days_late,
        external_invoices.fully_settled_on
        > as_of_dates.as_of_date - to_days({{ var('payment_delay_window_days') }}) as is_last_window,
    from as_of_dates
    inner join external_invoices
        on external_invoices.fully_settled_on <= as_of_dates.as_of_date
        and external_invoices.fully_settled_on
        > as_of_dates.as_of_date - to_days(2 * {{ var('payment_delay_window_days') }})

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
