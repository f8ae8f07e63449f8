{#
  What is left of each pending promise or plan instalment on an open
  invoice at each as-of date (SPEC sections 13 and 14), by promised date,
  within what is left of the invoice: a promise's amount less what covered
  it, capped by the invoice's open amount in the order of the promised
  dates and ids. int_cash_forecast_items dates them.
#}
with

open_invoices as (

    {{ forecastable_invoices() }}

),

pending_promises as (

    select * from {{ ref('int_collection_promises') }}
    where promise_status = 'pending'
        and document_id is not null
        and currency is not null

),

promise_parts as (

    -- what is left of each pending promise, within what is left of the invoice, by promised date
    select
        pending_promises.as_of_date,
        pending_promises.entity_code,
        pending_promises.document_id,
        pending_promises.promised_date,
        pending_promises.event_id,
        greatest(
            pending_promises.promised_to_date - greatest(
                coalesce(pending_promises.covered_amount, 0),
                coalesce(lag(pending_promises.promised_to_date) over (
                    partition by
                        pending_promises.as_of_date, pending_promises.entity_code, pending_promises.document_id,
                        pending_promises.event_date, pending_promises.event_type,
                        case when pending_promises.event_type = 'payment_plan' then '' else pending_promises.event_id end
                    order by pending_promises.promised_date, pending_promises.event_id
                ), 0)
            ),
            0
        ) as outstanding,
    from pending_promises

),

promise_parts_capped as (

    select
        promise_parts.as_of_date,
        promise_parts.entity_code,
        promise_parts.document_id,
        promise_parts.promised_date,
        promise_parts.event_id,
        greatest(
            least(
                promise_parts.outstanding,
                open_invoices.open_amount - coalesce(sum(promise_parts.outstanding) over (
                    partition by promise_parts.as_of_date, promise_parts.entity_code, promise_parts.document_id
                    -- two promises of one date on one invoice: capped in the order of their ids, the same
                    -- every run (without it, the cents of their shares could change from one build to the next)
                    order by promise_parts.promised_date, promise_parts.event_id
                    rows between unbounded preceding and 1 preceding
                ), 0)
            ),
            0
        ) as amount,
    from promise_parts
    inner join open_invoices
        on open_invoices.as_of_date = promise_parts.as_of_date
        and open_invoices.entity_code = promise_parts.entity_code
        and open_invoices.document_id = promise_parts.document_id

)

select * from promise_parts_capped
