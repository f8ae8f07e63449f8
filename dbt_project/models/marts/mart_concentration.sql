{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
    )
}}
{#
  Concentration of the group's external exposure per as-of date (SPEC
  section 8): top-N share, Herfindahl-Hirschman index (sum of shares in %
  squared) and the number of debtor groups making the cumulative share.
#}
with

exposure as (

    select * from {{ ref('int_debtor_group_exposure') }}

),

concentration as (

    select
        as_of_date,
        sum(case when exposure_eur > 0 then exposure_eur else 0 end) as total_exposure_eur,
        sum(case when rank <= {{ var('concentration_top_n') }} then share else 0 end) as top10_share,
        sum(power(share * 100, 2)) as hhi,
        min(case when cumulative_share >= {{ var('concentration_cumulative_share') }} then rank end) as groups_for_80pct,
        count(rank) as debtor_groups_with_exposure,
    from exposure
    group by as_of_date

)

select
    as_of_date,
    cast(total_exposure_eur as decimal(18, 2)) as total_exposure_eur,
    round(top10_share, 6) as top10_share,
    round(hhi, 2) as hhi,
    groups_for_80pct,
    debtor_groups_with_exposure,
from concentration
