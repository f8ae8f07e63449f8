{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
    )
}}
{#
  The cash-in forecast (SPEC section 14), published for this run's as-of
  dates and kept date by date: int_cash_forecast computes it and keeps
  every forecast, which mart_forecast_accuracy measures once its weeks are
  over.
#}
select *
from {{ ref('int_cash_forecast') }}
where as_of_date in (select as_of_dates.as_of_date from {{ ref('int_as_of_dates') }} as as_of_dates)
