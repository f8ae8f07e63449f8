{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
    )
}}
{#
  The cash-in forecast at each as-of date t (SPEC section 14), per entity and
  for the group (GROUP, in EUR): 13 weeks of 7 days from t + 1, the 3 calendar
  months containing t + 1, t + 1 month and t + 2 months (the first from t + 1),
  and one 'doubtful' row (period_start t + 1, no end) for what is not
  forecast. Split by source in EUR; naive_eur is the same items on their due
  dates (t + 1 when past due), the baseline mart_forecast_accuracy compares.
  Kept per as-of date, so each forecast can be compared with what came in
  (int_forecast_accuracy); mart_cash_forecast publishes it.

  Created in a warehouse whose forecasts were kept in mart_cash_forecast
  only (before issue 34), it starts with them, so that their weeks are
  still measured.
#}
{%- set earlier = none -%}
{%- if execute and load_relation(this) is none -%}
    {%- set earlier = adapter.get_relation(database=this.database, schema='marts', identifier='mart_cash_forecast') -%}
{%- endif %}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

items as (

    select * from {{ ref('int_cash_forecast_items') }}

),

entities as (

    select * from {{ ref('int_entity_scopes') }}

),

parameters as (

    {{ collection_parameters({'forecast_weeks': 'weeks', 'forecast_months': 'months'}) }}

),

periods as (

    select
        as_of_dates.as_of_date,
        'week' as period_kind,
        cast(as_of_dates.as_of_date + 1 + to_days(7 * weeks.week_number) as date) as period_start,
        cast(as_of_dates.as_of_date + 7 + to_days(7 * weeks.week_number) as date) as period_end,
    from as_of_dates
    cross join parameters
    cross join range(0, parameters.weeks) as weeks (week_number)

    union all

    select
        as_of_dates.as_of_date,
        'month' as period_kind,
        case
            when months.month_number = 0 then cast(as_of_dates.as_of_date + 1 as date)
            else cast(date_trunc('month', as_of_dates.as_of_date + 1) + to_months(months.month_number) as date)
        end as period_start,
        last_day(cast(date_trunc('month', as_of_dates.as_of_date + 1) + to_months(months.month_number) as date))
            as period_end,
    from as_of_dates
    cross join parameters
    cross join range(0, parameters.months) as months (month_number)

    union all

    select
        as_of_date,
        'doubtful' as period_kind,
        cast(as_of_date + 1 as date) as period_start,
        cast(null as date) as period_end,
    from as_of_dates

),

items_in_scopes as (

    -- each item counts for its entity and for the group (in EUR)
    select
        items.*,
        items.entity_code as scope,
        items.amount_entity_currency as scope_amount,
    from items

    union all

    select
        items.*,
        'GROUP' as scope,
        items.amount_eur as scope_amount,
    from items

),

summed as (

    select
        periods.as_of_date,
        entities.entity_code,
        periods.period_kind,
        periods.period_start,
        periods.period_end,
        coalesce(sum(items.amount_eur) filter (where items.forecast_source <> 'doubtful'), 0) as forecast_eur,
        coalesce(sum(items.scope_amount) filter (where items.forecast_source <> 'doubtful'), 0) as forecast_entity_currency,
        coalesce(sum(items.amount_eur) filter (where items.forecast_source = 'doubtful'), 0) as doubtful_eur,
        coalesce(sum(items.scope_amount) filter (where items.forecast_source = 'doubtful'), 0) as doubtful_entity_currency,
        coalesce(sum(items.amount_eur) filter (where items.forecast_source = 'promise'), 0) as from_promises,
        coalesce(sum(items.amount_eur) filter (where items.forecast_source = 'behaviour'), 0) as from_behaviour,
        coalesce(sum(items.amount_eur) filter (where items.forecast_source = 'dispute'), 0) as from_disputes,
    from periods
    inner join entities on {{ entity_in_group('entities', 'periods.as_of_date') }}
    left join items_in_scopes as items
        on items.as_of_date = periods.as_of_date
        and items.scope = entities.entity_code
        and (
            (periods.period_kind = 'doubtful' and items.forecast_source = 'doubtful')
            or (
                periods.period_kind <> 'doubtful'
                and items.forecast_source <> 'doubtful'
                and items.expected_on between periods.period_start and periods.period_end
            )
        )
    group by all

),

naive as (

    select
        periods.as_of_date,
        entities.entity_code,
        periods.period_kind,
        periods.period_start,
        coalesce(sum(items.amount_eur), 0) as naive_eur,
    from periods
    inner join entities on {{ entity_in_group('entities', 'periods.as_of_date') }}
    left join items_in_scopes as items
        on items.as_of_date = periods.as_of_date
        and items.scope = entities.entity_code
        and items.forecast_source <> 'doubtful'
        and items.naive_on between periods.period_start and periods.period_end
    where periods.period_kind <> 'doubtful'
    group by all

)

select
    summed.as_of_date,
    summed.entity_code,
    summed.period_kind,
    summed.period_start,
    summed.period_end,
    cast(case when summed.period_kind = 'doubtful' then summed.doubtful_eur else summed.forecast_eur end as decimal(18, 2))
        as expected_eur,
    cast(case
        when summed.period_kind = 'doubtful' then summed.doubtful_entity_currency else summed.forecast_entity_currency
    end as decimal(18, 2)) as expected_entity_currency,
    cast(case when summed.period_kind <> 'doubtful' then summed.from_promises end as decimal(18, 2)) as from_promises,
    cast(case when summed.period_kind <> 'doubtful' then summed.from_behaviour end as decimal(18, 2)) as from_behaviour,
    cast(case when summed.period_kind <> 'doubtful' then summed.from_disputes end as decimal(18, 2)) as from_disputes,
    cast(naive.naive_eur as decimal(18, 2)) as naive_eur,
from summed
left join naive
    on naive.as_of_date = summed.as_of_date
    and naive.entity_code = summed.entity_code
    and naive.period_kind = summed.period_kind
    and naive.period_start = summed.period_start
{% if earlier is not none %}
    union all by name
    select earlier.*
    from {{ earlier }} as earlier
    where earlier.as_of_date not in (select as_of_dates.as_of_date from as_of_dates)
{% endif %}
