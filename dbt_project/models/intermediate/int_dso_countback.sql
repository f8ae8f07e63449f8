{#
  Countback DSO (DSO par épuisement du chiffre d'affaires, SPEC section 7),
  for the net encours (DSO) and the not-due encours (best possible DSO):
  walk back month by month from the month end, subtracting each month's
  sales and adding its days while the remainder exceeds that month's sales;
  for the last month add remainder / sales * days. At most dso_max_months
  months: an encours that more months of sales would not exhaust gets the
  days of all those months (the cap). No encours, no days.

  A countback that cannot be computed is null with its status (SPEC
  sections 7 and 12, amended): `missing_fx_rate` when a rate of the month
  end is missing, `history_too_short` when the walk passes the scope's
  first month with sales with encours left (the sales that would explain
  it are not in the warehouse); `ok` otherwise.
#}
with

inputs as (

    select * from {{ ref('int_dso_inputs') }}

),

encours_at_month_end as (

    select
        entity_code,
        month_end,
        'dso' as measure,
        sum(net_encours) as encours,
        any_value(missing_rate_currencies) as missing_rate_currencies,
    from inputs
    group by entity_code, month_end

    union all

    select
        entity_code,
        month_end,
        'bpdso' as measure,
        sum(not_due_encours) as encours,
        any_value(missing_rate_currencies) as missing_rate_currencies,
    from inputs
    group by entity_code, month_end

),

months_walked as (

    select
        encours_at_month_end.entity_code,
        encours_at_month_end.month_end,
        encours_at_month_end.measure,
        encours_at_month_end.encours,
        encours_at_month_end.missing_rate_currencies,
        coalesce(inputs.is_before_first_sales_month, false) as is_before_first_sales_month,
        inputs.months_back,
        inputs.sales,
        inputs.month_days,
        coalesce(sum(inputs.sales) over walk_before, 0) as sales_before,
        coalesce(sum(inputs.month_days) over walk_before, 0) as days_before,
        sum(inputs.month_days) over (
            partition by encours_at_month_end.entity_code, encours_at_month_end.month_end, encours_at_month_end.measure
        ) as days_of_all_months,
    from encours_at_month_end
    inner join inputs
        on inputs.entity_code = encours_at_month_end.entity_code
        and inputs.month_end = encours_at_month_end.month_end
    window walk_before as (
        partition by encours_at_month_end.entity_code, encours_at_month_end.month_end, encours_at_month_end.measure
        order by inputs.months_back
        rows between unbounded preceding and 1 preceding
    )

),

last_month_of_walk as (

    select
        entity_code,
        month_end,
        measure,
        days_before + (encours - sales_before) / sales * month_days as countback_days,
    from months_walked
    where encours > 0
        and encours - sales_before <= sales
    qualify row_number() over (partition by entity_code, month_end, measure order by months_back) = 1

),

walks as (

    select
        months_walked.entity_code,
        months_walked.month_end,
        months_walked.measure,
        any_value(months_walked.encours) as encours,
        any_value(months_walked.missing_rate_currencies) as missing_rate_currencies,
        any_value(months_walked.days_of_all_months) as days_of_all_months,
        bool_or(months_walked.is_before_first_sales_month) as window_passes_first_sales_month,
        any_value(last_month_of_walk.countback_days) as countback_days,
    from months_walked
    left join last_month_of_walk
        on last_month_of_walk.entity_code = months_walked.entity_code
        and last_month_of_walk.month_end = months_walked.month_end
        and last_month_of_walk.measure = months_walked.measure
    group by months_walked.entity_code, months_walked.month_end, months_walked.measure

),

countback as (

    select
        entity_code,
        month_end,
        measure,
        case
            when missing_rate_currencies is not null then 'missing_fx_rate'
            when encours > 0 and countback_days is null and window_passes_first_sales_month
                then 'history_too_short'
            else 'ok'
        end as status,
        missing_rate_currencies,
        round(
            case
                when missing_rate_currencies is not null then null
                when encours <= 0 then 0
                when countback_days is not null then countback_days
                -- the walk ran out of months: past the first month with sales, or at the cap
                when window_passes_first_sales_month then null
                else days_of_all_months
            end,
            2
        ) as countback_days,
    from walks

)

select * from countback
