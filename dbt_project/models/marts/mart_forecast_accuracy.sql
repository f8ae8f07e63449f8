{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['as_of_date', 'entity_code', 'period_start'],
    )
}}
{#
  How good each past cash-in forecast was (SPEC section 14), each week
  measured once it is over: int_forecast_accuracy measures the weeks this
  run closes.
#}
select accuracy.*
from {{ ref('int_forecast_accuracy') }} as accuracy
{% if is_incremental() %}
    where not exists (
        select 1
        from {{ this }} as published
        where published.as_of_date = accuracy.as_of_date
            and published.entity_code = accuracy.entity_code
            and published.period_start = accuracy.period_start
    )
{% endif %}
