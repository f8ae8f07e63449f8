{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
    )
}}
{#
  Freshness per entity (and GROUP for FX rates) and as-of date (SPEC section
  10), kept date by date: int_freshness computes the run's dates.
#}
select * from {{ ref('int_freshness') }}
