{#
  The closing rate of each needed day and currency (SPEC section 3): the
  rate of that day or the latest earlier one at most fx_max_age_days old;
  EUR is 1. A rate that is missing or too old stays null here: the amounts
  that need it are null, and marts.mart_data_issues names the currency and
  the day (SPEC section 12, macro missing_rate_reason). A rate held back as
  implausible (int_fx_rates_checked) is not used: the latest earlier one
  serves, within the same age.
#}
with

fx_rates as (

    select * from {{ ref('int_fx_rates_checked') }}
    where not is_held_back

),

evaluation_dates as (

    select * from {{ ref('int_evaluation_dates') }}

),

month_ends as (

    select * from {{ ref('int_month_ends') }}

),

rate_days as (

    select evaluation_date as rate_day from evaluation_dates
    union
    select month_end as rate_day from month_ends

),

currencies as (

    select distinct currency from fx_rates

),

latest_rate_on_or_before as (

    select
        rate_days.rate_day,
        currencies.currency,
        fx_rates.units_per_eur,
        fx_rates.rate_date,
    from rate_days
    cross join currencies
    asof left join fx_rates
        on fx_rates.currency = currencies.currency
        and fx_rates.rate_date <= rate_days.rate_day

),

rates_within_max_age as (

    select
        rate_day,
        currency,
        case
            when rate_date >= rate_day - to_days({{ var('fx_max_age_days') }}) then units_per_eur
        end as units_per_eur,
        rate_date,
    from latest_rate_on_or_before

    union all

    select
        rate_day,
        'EUR' as currency,
        cast(1 as decimal(18, 6)) as units_per_eur,
        rate_day as rate_date,
    from rate_days

)

select * from rates_within_max_age
