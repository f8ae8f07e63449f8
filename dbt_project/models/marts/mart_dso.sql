{#
  Monthly DSO per entity (functional currency) and for the group (entity_code
  GROUP, in EUR), every month end from the first month with sales up to the
  as-of date, recomputed by every build (SPEC section 7).
#}
with

inputs as (

    select * from {{ ref('int_dso_inputs') }}

),

countback as (

    select * from {{ ref('int_dso_countback') }}

),

month_figures as (

    select
        entity_code,
        month_end,
        any_value(currency) as currency,
        sum(case when months_back = 0 then net_encours else 0 end) as net_encours,
        sum(case when months_back = 0 then not_due_encours else 0 end) as not_due_encours,
        sum(case when months_back = 0 then sales else 0 end) as sales,
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
        cast(month_figures.net_encours as decimal(18, 2)) as net_encours,
        cast(month_figures.not_due_encours as decimal(18, 2)) as not_due_encours,
        cast(month_figures.sales as decimal(18, 2)) as sales,
        dso_countback.countback_days as dso_countback,
        round(
            case
                when month_figures.sales_ratio_window > 0
                    then month_figures.net_encours / month_figures.sales_ratio_window * month_figures.days_ratio_window
            end,
            2
        ) as dso_ratio,
        bpdso_countback.countback_days as bpdso,
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
    month_end,
    entity_code,
    currency,
    net_encours,
    not_due_encours,
    sales,
    dso_countback,
    dso_ratio,
    bpdso,
    add_days,
from dso
