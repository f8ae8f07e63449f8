{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['as_of_date', 'entity_code', 'period_start'],
    )
}}
{#
  How good each past cash-in forecast was (SPEC section 14): one row per
  forecast date (as_of_date), entity (and GROUP) and week of the forecast,
  once the week is over by this run's last as-of date, measured once. actual_eur
  is what the settlement lines (payments, less reversals) dated in the week
  collected on the invoices open at the forecast date, in EUR at the
  forecast date's rates like the forecast; forecast_eur and naive_eur come
  from the forecast (int_cash_forecast). The weighted absolute error of a forecast is
  sum |forecast - actual| / sum actual over its weeks.

  Only the invoices that a line dated in a measured week settles can have
  collected anything, so the open invoices and what was settled on them are
  looked for among those only: a range build measures the forecasts of many
  dates, and every invoice of the ledger at each of them would be hundreds
  of millions of rows at 10 M invoices.
#}
with

run_dates as (

    select max(as_of_date) as last_as_of_date from {{ ref('int_as_of_dates') }}

),

forecasts as (

    select forecast.*
    from {{ ref('int_cash_forecast') }} as forecast
    cross join run_dates
    where forecast.period_kind = 'week'
        and forecast.period_end <= run_dates.last_as_of_date
    {% if is_incremental() %}
        and not exists (
            select 1
            from {{ this }} as measured
            where measured.as_of_date = forecast.as_of_date
                and measured.entity_code = forecast.entity_code
                and measured.period_start = forecast.period_start
        )
    {% endif %}

),

forecast_dates as (

    select distinct as_of_date from forecasts

),

invoices as (

    select * from {{ ref('stg_raw__invoices') }}

),

payments as not materialized (  -- each use reads the ledger with its own filters (int_collection_promises)

    select * from {{ ref('stg_raw__payments') }}

),

debtors as (

    select * from {{ ref('int_debtors_resolved') }}

),

fx_rates as (

    select * from {{ ref('stg_raw__fx_rates') }}

),

collectable_lines as (

    -- the lines a measured week can collect: dated after the first forecast date, by the run's last
    -- as-of date (every measured week ends by then)
    select payments.*
    from payments
    cross join run_dates
    where payments.document_id is not null
        and payments.settlement_kind in ('payment', 'reversal')
        and payments.settlement_date > (select min(forecast_dates.as_of_date) from forecast_dates)
        and payments.settlement_date <= run_dates.last_as_of_date

),

collectable_documents as (

    -- only the invoices such a line settles can count: the others collected nothing in the weeks
    select distinct entity_code, document_id from collectable_lines

),

settled_by_forecast_date as (

    select
        forecast_dates.as_of_date,
        payments.entity_code,
        payments.document_id,
        sum(payments.amount) as settled,
    from forecast_dates
    inner join (
        select payments.*
        from payments
        semi join collectable_documents as documents
            on documents.entity_code = payments.entity_code
            and documents.document_id = payments.document_id
    ) as payments
        on payments.settlement_date <= forecast_dates.as_of_date
    group by all

),

open_at_forecast_date as (

    -- the external invoices open at the forecast date, as the forecast saw them (of those a line
    -- of the weeks settles)
    select
        forecast_dates.as_of_date,
        invoices.entity_code,
        invoices.document_id,
        invoices.currency,
    from forecast_dates
    inner join (
        select invoices.*
        from invoices
        semi join collectable_documents as documents
            on documents.entity_code = invoices.entity_code
            and documents.document_id = invoices.document_id
    ) as invoices
        on invoices.issue_date <= forecast_dates.as_of_date
    inner join debtors
        on debtors.entity_code = invoices.entity_code
        and debtors.debtor_id = invoices.debtor_id
    left join settled_by_forecast_date as settled
        on settled.as_of_date = forecast_dates.as_of_date
        and settled.entity_code = invoices.entity_code
        and settled.document_id = invoices.document_id
    where invoices.document_type = 'invoice'
        and not invoices.is_cancelled
        and not debtors.is_intercompany
        and invoices.amount - coalesce(settled.settled, 0) > 0

),

rates_at_forecast_date as (

    -- the closing rate of the forecast date, or the latest earlier one within fx_max_age_days
    select
        forecast_dates.as_of_date,
        fx_rates.currency,
        arg_max(fx_rates.units_per_eur, fx_rates.rate_date) as units_per_eur,
    from forecast_dates
    inner join fx_rates
        on fx_rates.rate_date <= forecast_dates.as_of_date
        and fx_rates.rate_date >= forecast_dates.as_of_date - to_days({{ var('fx_max_age_days') }})
    group by all

),

collected as (

    select
        open_invoices.as_of_date,
        open_invoices.entity_code,
        payments.settlement_date,
        sum(
            case
                when open_invoices.currency = 'EUR' then payments.amount
                else {{ divide_to_cents('payments.amount', 'rates.units_per_eur') }}
            end
        ) as amount_eur,
    from open_at_forecast_date as open_invoices
    inner join collectable_lines as payments
        on payments.entity_code = open_invoices.entity_code
        and payments.document_id = open_invoices.document_id
        and payments.settlement_date > open_invoices.as_of_date
    left join rates_at_forecast_date as rates
        on rates.as_of_date = open_invoices.as_of_date
        and rates.currency = open_invoices.currency
    group by all

),

collected_in_scopes as (

    select as_of_date, entity_code, settlement_date, amount_eur, from collected
    union all
    select as_of_date, 'GROUP' as entity_code, settlement_date, amount_eur, from collected

),

measured as (

    select
        forecasts.as_of_date,
        forecasts.entity_code,
        forecasts.period_start,
        forecasts.period_end,
        forecasts.expected_eur as forecast_eur,
        forecasts.naive_eur,
        cast(coalesce(sum(collected.amount_eur), 0) as decimal(18, 2)) as actual_eur,
    from forecasts
    left join collected_in_scopes as collected
        on collected.as_of_date = forecasts.as_of_date
        and collected.entity_code = forecasts.entity_code
        and collected.settlement_date between forecasts.period_start and forecasts.period_end
    group by all

)

select
    *,
    abs(forecast_eur - actual_eur) as forecast_abs_error_eur,
    abs(naive_eur - actual_eur) as naive_abs_error_eur,
from measured
