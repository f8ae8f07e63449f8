{#
  Open items with their amounts in EUR and in the entity's functional
  currency, at the closing rate of the evaluation date (SPEC section 4):
  exact to the cent, rounded half away from zero, through EUR. Without a
  usable rate (SPEC section 12) the converted amount is null, and
  missing_rate_currencies names the currencies lacking one.
#}
with

open_items as (

    select * from {{ ref('int_open_items_computed') }}

),

entities as (

    select * from {{ ref('stg_raw__entities') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_resolved') }}

),

open_items_joined_to_fx_rates as (

    select
        open_items.*,
        entities.functional_currency,
        document_rates.units_per_eur as document_units_per_eur,
        entity_rates.units_per_eur as entity_units_per_eur,
        {{ missing_rate_reason(
            'document_rates.units_per_eur', 'open_items.currency',
            'entity_rates.units_per_eur', 'entities.functional_currency', 'open_items.evaluation_date'
        ) }} as missing_rate_currencies,
    from open_items
    inner join entities
        on entities.entity_code = open_items.entity_code
        and {{ entity_in_group('entities', 'open_items.evaluation_date') }}
    {{ join_conversion_rates('open_items.evaluation_date', 'open_items.currency', 'entities.functional_currency') }}

),

amounts_converted as (

    select
        *,
        {{ divide_to_cents('open_amount', 'document_units_per_eur') }} as open_amount_eur,
    from open_items_joined_to_fx_rates

),

entity_amounts_converted as (

    select
        *,
        {{ to_entity_currency('open_amount', 'open_amount_eur', 'currency', 'functional_currency', 'entity_units_per_eur') }}
            as open_amount_entity_currency,
        case when is_overdue then open_amount_eur else 0 end as overdue_amount_eur,
    from amounts_converted

)

select * from entity_amounts_converted
