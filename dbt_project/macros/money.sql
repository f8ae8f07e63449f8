{#
  Exact money conversion. DuckDB divides decimals in floating point, so a
  division by an FX rate is done on integers: amount (4 decimals) over rate
  (6 decimals), rounded half away from zero to the cent, as decimal(18, 2).
  Both are widened to decimal(38) before they are scaled: on decimal(18) an
  amount of 10^10 or more, or a rate of 10^6 or more, overflowed the
  multiplication and stopped every build (issue 33).
#}
{% macro divide_to_cents(amount, rate) -%}
    (
        sign(cast(round(cast({{ amount }} as decimal(38, 4)) * 10000) as hugeint))
        * (
            (
                abs(cast(round(cast({{ amount }} as decimal(38, 4)) * 10000) as hugeint)) * 20000
                + cast(round(cast({{ rate }} as decimal(38, 6)) * 1000000) as hugeint)
            )
            // (2 * cast(round(cast({{ rate }} as decimal(38, 6)) * 1000000) as hugeint))
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

{#
  Why an amount cannot be converted at a day (SPEC section 12): null when
  every rate it needs is there, else the missing currencies and the day. A
  missing rate never stops the night and is never taken as 1.0: the amount
  converted is null, left out of the totals, and counted in
  marts.mart_data_issues. The entity's rate is needed only when the
  document is in another currency than the entity's.
#}
{% macro missing_rate_reason(document_rate, document_currency, entity_rate, entity_currency, rate_day) -%}
    nullif(concat_ws(', ',
        case when {{ document_rate }} is null then {{ document_currency }} end,
        case
            when {{ entity_rate }} is null and {{ entity_currency }} <> {{ document_currency }}
                then {{ entity_currency }}
        end
    ), '')
{%- endmacro %}

{#
  The rates of a day that convert an amount (SPEC section 4): its own
  currency's (document_rates) and its entity's functional currency's
  (entity_rates), from the model's `fx_rates` CTE (int_fx_rates_resolved),
  as left joins: a missing rate leaves a null, never a lost row.
#}
{% macro join_conversion_rates(rate_day, document_currency, entity_currency) -%}
    left join fx_rates as document_rates
        on document_rates.rate_day = {{ rate_day }}
        and document_rates.currency = {{ document_currency }}
    left join fx_rates as entity_rates
        on entity_rates.rate_day = {{ rate_day }}
        and entity_rates.currency = {{ entity_currency }}
{%- endmacro %}

{#
  Amounts, figures and dates inside the French texts users read (weak signals' and data issues'
  details): "1 234 567,50", "12,5", "31/12/2025".
#}
{% macro fr_amount(amount) -%}
    replace(replace(format('{:,.2f}', cast({{ amount }} as double)), ',', ' '), '.', ',')
{%- endmacro %}

{% macro fr_number(value) -%}
    replace(cast(round(cast({{ value }} as double), 1) as varchar), '.', ',')
{%- endmacro %}

{% macro fr_date(day) -%}
    strftime({{ day }}, '%d/%m/%Y')
{%- endmacro %}
