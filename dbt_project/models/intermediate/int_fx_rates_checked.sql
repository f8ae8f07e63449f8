{#
  Every landed rate, checked against its currency's previous rates (issue 33):
  a rate further than fx_max_move_ratio from the median of the currency's
  fx_move_reference_rates previous landed rates, either way, is held back.
  A rate keyed without its decimal point (PLN 4315048 for 4.315048) or with
  too many zeros (GBP 0.000001) would otherwise turn every amount in that
  currency into nonsense; held back, it is not used, the previous rate
  serves within fx_max_age_days (int_fx_rates_resolved), and
  marts.mart_data_issues names the currency, the date and both rates. The
  median of several previous rates, not the previous one alone, so that the
  day after a wrong rate is compared with the right ones.
#}
with

fx_rates as (

    select * from {{ ref('stg_raw__fx_rates') }}

),

rates_with_reference as (

    select
        currency,
        units_per_eur,
        median(units_per_eur) over (
            partition by currency
            order by rate_date
            rows between {{ var('fx_move_reference_rates') }} preceding and 1 preceding
        ) as reference_units_per_eur,
        rate_date,
    from fx_rates

),

rates_checked as (

    select
        currency,
        units_per_eur,
        reference_units_per_eur,
        coalesce(
            greatest(units_per_eur / reference_units_per_eur, reference_units_per_eur / units_per_eur)
            > {{ var('fx_max_move_ratio') }},
            false
        ) as is_held_back,
        rate_date,
    from rates_with_reference

)

select * from rates_checked
