{#
  Countback inputs per scope (each entity in its functional currency, GROUP
  in EUR) and month end: the encours at that month end and the sales of each
  of the dso_max_months months back, all converted at the closing rate of
  that month end (SPEC section 7).
#}
with

balances as (

    select * from {{ ref('int_dso_balances') }}

),

month_ends as (

    select * from {{ ref('int_month_ends') }}

),

entities as (

    select * from {{ ref('stg_raw__entities') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_resolved') }}

),

months_back as (

    select
        month_ends.month_end,
        months.months_back,
        cast(last_day(month_ends.month_end - to_months(months.months_back)) as date) as sales_month_end,
    from month_ends
    cross join range(0, {{ var('dso_max_months') }}) as months(months_back)

),

balances_at_month_end_rates as (

    select
        months_back.month_end,
        months_back.months_back,
        balances.entity_code,
        balances.currency,
        entities.functional_currency,
        case when months_back.months_back = 0 then balances.net_encours else 0 end as net_encours,
        case when months_back.months_back = 0 then balances.not_due_encours else 0 end as not_due_encours,
        balances.sales,
        {{ required_rate('document_rates.units_per_eur', 'balances.currency', 'months_back.month_end') }}
            as document_units_per_eur,
        {{ required_rate('entity_rates.units_per_eur', 'entities.functional_currency', 'months_back.month_end') }}
            as entity_units_per_eur,
    from months_back
    inner join balances
        on balances.month_end = months_back.sales_month_end
    inner join entities
        on entities.entity_code = balances.entity_code
    left join fx_rates as document_rates
        on document_rates.rate_day = months_back.month_end
        and document_rates.currency = balances.currency
    left join fx_rates as entity_rates
        on entity_rates.rate_day = months_back.month_end
        and entity_rates.currency = entities.functional_currency

),

converted_to_eur as (

    select
        *,
        {{ divide_to_cents('net_encours', 'document_units_per_eur') }} as net_encours_eur,
        {{ divide_to_cents('not_due_encours', 'document_units_per_eur') }} as not_due_encours_eur,
        {{ divide_to_cents('sales', 'document_units_per_eur') }} as sales_eur,
    from balances_at_month_end_rates

),

converted as (

    select
        *,
        {{ to_entity_currency('net_encours', 'net_encours_eur', 'currency', 'functional_currency', 'entity_units_per_eur') }}
            as net_encours_entity,
        {{ to_entity_currency('not_due_encours', 'not_due_encours_eur', 'currency', 'functional_currency', 'entity_units_per_eur') }}
            as not_due_encours_entity,
        {{ to_entity_currency('sales', 'sales_eur', 'currency', 'functional_currency', 'entity_units_per_eur') }}
            as sales_entity,
    from converted_to_eur

),

per_entity as (

    select
        entity_code,
        any_value(functional_currency) as currency,
        month_end,
        months_back,
        sum(net_encours_entity) as net_encours,
        sum(not_due_encours_entity) as not_due_encours,
        sum(sales_entity) as sales,
    from converted
    group by entity_code, month_end, months_back

),

group_in_eur as (

    select
        'GROUP' as entity_code,
        'EUR' as currency,
        month_end,
        months_back,
        sum(net_encours_eur) as net_encours,
        sum(not_due_encours_eur) as not_due_encours,
        sum(sales_eur) as sales,
    from converted
    group by month_end, months_back

),

scopes as (

    select * from per_entity
    union all by name
    select * from group_in_eur

),

every_month_back as (

    select
        scope_currencies.entity_code,
        scope_currencies.currency,
        months_back.month_end,
        months_back.months_back,
        coalesce(scopes.sales, 0) as sales,
        coalesce(scopes.net_encours, 0) as net_encours,
        coalesce(scopes.not_due_encours, 0) as not_due_encours,
    from (select distinct entity_code, currency from scopes) as scope_currencies
    cross join months_back
    left join scopes
        on scopes.entity_code = scope_currencies.entity_code
        and scopes.month_end = months_back.month_end
        and scopes.months_back = months_back.months_back

),

with_month_days as (

    select
        every_month_back.*,
        dayofmonth(last_day(every_month_back.month_end - to_months(every_month_back.months_back))) as month_days,
    from every_month_back

)

select * from with_month_days
