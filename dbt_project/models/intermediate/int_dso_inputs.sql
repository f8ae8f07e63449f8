{#
  Countback inputs per scope (each entity in its functional currency, GROUP
  in EUR) and month end: the encours at that month end and the sales of each
  of the dso_max_months months back, all converted at the closing rate of
  that month end (SPEC section 7). missing_rate_currencies names the
  currencies without a usable rate at that month end (the month end's
  figures are then unknown, SPEC section 12); is_before_first_sales_month
  marks the months before the scope's first month with sales.
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
    cross join range(0, {{ var('dso_max_months') }}) as months (months_back)

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
        case when months_back.months_back = 0 then balances.terms_weight else 0 end as terms_weight,
        case when months_back.months_back = 0 then balances.terms_sales else 0 end as terms_sales,
        document_rates.units_per_eur as document_units_per_eur,
        entity_rates.units_per_eur as entity_units_per_eur,
        -- what each scope lacks to convert this row (SPEC section 12): the group converts every
        -- currency to EUR; an entity converts only what is not in its own currency
        case
            when document_rates.units_per_eur is null then balances.currency
        end as group_missing_rate,
        case
            when balances.currency <> entities.functional_currency then
                {{ missing_rate_reason(
                    'document_rates.units_per_eur', 'balances.currency',
                    'entity_rates.units_per_eur', 'entities.functional_currency', 'months_back.month_end'
                ) }}
        end as entity_missing_rate,
    from months_back
    inner join balances
        on balances.month_end = months_back.sales_month_end
    inner join entities
        on entities.entity_code = balances.entity_code
        and {{ entity_in_group('entities', 'months_back.month_end') }}
    {{ join_conversion_rates('months_back.month_end', 'balances.currency', 'entities.functional_currency') }}

),

converted_to_eur as (

    select
        *,
        {{ divide_to_cents('net_encours', 'document_units_per_eur') }} as net_encours_eur,
        {{ divide_to_cents('not_due_encours', 'document_units_per_eur') }} as not_due_encours_eur,
        {{ divide_to_cents('sales', 'document_units_per_eur') }} as sales_eur,
        {{ divide_to_cents('terms_weight', 'document_units_per_eur') }} as terms_weight_eur,
        {{ divide_to_cents('terms_sales', 'document_units_per_eur') }} as terms_sales_eur,
    from balances_at_month_end_rates

),

converted as (

    select
        *,
        {{ to_entity_currency('net_encours', 'net_encours_eur', 'currency', 'functional_currency', 'entity_units_per_eur') }}
            as net_encours_entity,
        {{ to_entity_currency(
            'not_due_encours', 'not_due_encours_eur', 'currency', 'functional_currency', 'entity_units_per_eur'
        ) }}
            as not_due_encours_entity,
        {{ to_entity_currency('sales', 'sales_eur', 'currency', 'functional_currency', 'entity_units_per_eur') }}
            as sales_entity,
        {{ to_entity_currency(
            'terms_weight', 'terms_weight_eur', 'currency', 'functional_currency', 'entity_units_per_eur'
        ) }}
            as terms_weight_entity,
        {{ to_entity_currency(
            'terms_sales', 'terms_sales_eur', 'currency', 'functional_currency', 'entity_units_per_eur'
        ) }}
            as terms_sales_entity,
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
        sum(terms_weight_entity) as terms_weight,
        sum(terms_sales_entity) as terms_sales,
        string_agg(distinct entity_missing_rate, ', ' order by entity_missing_rate) as missing_rate_currencies,
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
        sum(terms_weight_eur) as terms_weight,
        sum(terms_sales_eur) as terms_sales,
        string_agg(distinct group_missing_rate, ', ' order by group_missing_rate) as missing_rate_currencies,
    from converted
    group by month_end, months_back

),

scopes as (

    select * from per_entity
    union all by name
    select * from group_in_eur

),

-- a figure of a month end is converted at that month end's rates: one missing rate makes it unknown
missing_rates_per_month_end as (

    select
        entity_code,
        month_end,
        string_agg(distinct missing_rate_currencies, ', ' order by missing_rate_currencies) as missing_rate_currencies,
    from scopes
    group by entity_code, month_end

),

-- the first month with sales of each scope: a countback that walks past it has no history to use
first_sales_months as (

    select entity_code, min(month_end) as first_sales_month_end
    from balances
    where sales <> 0
    group by entity_code

    union all

    select 'GROUP' as entity_code, min(month_end) as first_sales_month_end
    from balances
    where sales <> 0

),

every_month_back as (

    select
        scope_currencies.entity_code,
        scope_currencies.currency,
        months_back.month_end,
        months_back.months_back,
        missing_rates_per_month_end.missing_rate_currencies,
        coalesce(scopes.sales, 0) as sales,
        coalesce(scopes.terms_weight, 0) as terms_weight,
        coalesce(scopes.terms_sales, 0) as terms_sales,
        coalesce(scopes.net_encours, 0) as net_encours,
        coalesce(scopes.not_due_encours, 0) as not_due_encours,
        coalesce(
            months_back.sales_month_end < first_sales_months.first_sales_month_end, true
        ) as is_before_first_sales_month,
    from (select distinct scoped.entity_code, scoped.currency from scopes as scoped) as scope_currencies
    cross join months_back
    left join scopes
        on scopes.entity_code = scope_currencies.entity_code
        and scopes.month_end = months_back.month_end
        and scopes.months_back = months_back.months_back
    left join missing_rates_per_month_end
        on missing_rates_per_month_end.entity_code = scope_currencies.entity_code
        and missing_rates_per_month_end.month_end = months_back.month_end
    left join first_sales_months
        on first_sales_months.entity_code = scope_currencies.entity_code

),

with_month_days as (

    select
        every_month_back.*,
        dayofmonth(last_day(every_month_back.month_end - to_months(every_month_back.months_back))) as month_days,
    from every_month_back

)

select * from with_month_days
