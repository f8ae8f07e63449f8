{#
  Monthly DSO per entity (functional currency) and for the group (entity_code
  GROUP, in EUR), every month end from the first month with sales up to the
  as-of date, recomputed by every build (SPEC section 7). A countback that
  cannot be computed is null, and status says why: `missing_fx_rate`
  (status_reason names the currencies and the month end) or
  `history_too_short` (SPEC section 12).
#}
with

inputs as (

    select * from {{ ref('int_dso_inputs') }}

),

countback as (

    select * from {{ ref('int_dso_countback') }}

),

scopes as (

    select * from {{ ref('int_entity_scopes') }}

),

month_figures as (

    select
        entity_code,
        month_end,
        any_value(currency) as currency,
        any_value(missing_rate_currencies) as missing_rate_currencies,
        sum(case when months_back = 0 then net_encours else 0 end) as net_encours,
        sum(case when months_back = 0 then not_due_encours else 0 end) as not_due_encours,
        sum(case when months_back = 0 then sales else 0 end) as sales,
        sum(case when months_back = 0 then terms_weight else 0 end) as terms_weight,
        sum(case when months_back = 0 then terms_sales else 0 end) as terms_sales,
        sum(case when months_back < {{ var('dso_ratio_months') }} then sales else 0 end) as sales_ratio_window,
        sum(case when months_back < {{ var('dso_ratio_months') }} then month_days else 0 end) as days_ratio_window,
    from inputs
    group by entity_code, month_end

),

dso as (

    select
        month_figures.month_end,
        month_figures.entity_code,
        month_figures.currency,
        dso_countback.status,
        case dso_countback.status
            when 'missing_fx_rate'
                then
                    'no FX rate for ' || month_figures.missing_rate_currencies || ' at '
                    || strftime(month_figures.month_end, '%Y-%m-%d')
                    || ' nor in the {{ var("fx_max_age_days") }} days before: land the group fx_rates drop'
            when 'history_too_short' then
                'the countback walks past the first month with sales: the sales behind this encours are not in the warehouse'
        end as status_reason,
        -- figures that need a missing rate are unknown, never a partial sum (SPEC section 12)
        case when month_figures.missing_rate_currencies is null then cast(month_figures.net_encours as decimal(18, 2)) end
            as net_encours,
        case when month_figures.missing_rate_currencies is null then cast(month_figures.not_due_encours as decimal(18, 2)) end
            as not_due_encours,
        case when month_figures.missing_rate_currencies is null then cast(month_figures.sales as decimal(18, 2)) end
            as sales,
        dso_countback.countback_days as dso_countback,
        round(
            case
                when month_figures.missing_rate_currencies is null and month_figures.sales_ratio_window > 0
                    then month_figures.net_encours / month_figures.sales_ratio_window * month_figures.days_ratio_window
            end,
            2
        ) as dso_ratio,
        bpdso_countback.countback_days as bpdso,
        round(
            case
                when month_figures.missing_rate_currencies is null and month_figures.terms_sales > 0
                    then month_figures.terms_weight / month_figures.terms_sales
            end,
            1
        ) as contractual_terms_days,
        round(dso_countback.countback_days - bpdso_countback.countback_days, 2) as add_days,
    from month_figures
    inner join countback as dso_countback
        on dso_countback.entity_code = month_figures.entity_code
        and dso_countback.month_end = month_figures.month_end
        and dso_countback.measure = 'dso'
    inner join countback as bpdso_countback
        on bpdso_countback.entity_code = month_figures.entity_code
        and bpdso_countback.month_end = month_figures.month_end
        and bpdso_countback.measure = 'bpdso'

)

select
    dso.month_end,
    dso.entity_code,
    dso.currency,
    dso.net_encours,
    dso.not_due_encours,
    dso.sales,
    dso.dso_countback,
    dso.dso_ratio,
    dso.bpdso,
    dso.add_days,
    dso.status,
    dso.status_reason,
    -- the scope as the users read it: the registry's name, the group's own
    scopes.entity_name,
    dso.contractual_terms_days,
from dso
left join scopes on scopes.entity_code = dso.entity_code
