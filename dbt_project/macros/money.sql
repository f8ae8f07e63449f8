{#
  Exact money conversion. DuckDB divides decimals in floating point, so a
  division by an FX rate is done on integers: amount (4 decimals) over rate
  (6 decimals), rounded half away from zero to the cent, as decimal(18, 2).
#}
{% macro divide_to_cents(amount, rate) -%}
    (
        sign(cast(round(({{ amount }}) * 10000) as hugeint))
        * (
            (abs(cast(round(({{ amount }}) * 10000) as hugeint)) * 20000 + cast(round(({{ rate }}) * 1000000) as hugeint))
            // (2 * cast(round(({{ rate }}) * 1000000) as hugeint))
        )
        * cast(0.01 as decimal(18, 2))
    )
{%- endmacro %}

{# amount times a rate, rounded half away from zero to the cent (decimal multiplication is exact) #}
{% macro multiply_to_cents(amount, rate) -%}
    cast(round(cast({{ amount }} as decimal(38, 4)) * cast({{ rate }} as decimal(18, 6)), 2) as decimal(18, 2))
{%- endmacro %}

{#
  Document-currency amount in the entity's functional currency, through EUR
  (SPEC section 4): the document amount itself when the currencies match,
  else the cent-rounded EUR amount times the entity's rate.
#}
{% macro to_entity_currency(amount, amount_eur, document_currency, entity_currency, entity_rate) -%}
    case
        when {{ document_currency }} = {{ entity_currency }} then cast(round({{ amount }}, 2) as decimal(18, 2))
        else {{ multiply_to_cents(amount_eur, entity_rate) }}
    end
{%- endmacro %}

{# A rate that must exist: a missing or stale FX rate stops the build with its currency and date. #}
{% macro required_rate(rate, currency, rate_day) -%}
    coalesce(
        {{ rate }},
        error(
            'no FX rate for ' || {{ currency }} || ' at ' || cast({{ rate_day }} as varchar)
            || ' nor in the {{ var("fx_max_age_days") }} days before (SPEC section 3): land the group fx_rates drop'
        )
    )
{%- endmacro %}
