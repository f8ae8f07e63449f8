{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
    )
}}
{#
  Every figure of a published date that a later build changed (SPEC section
  18), kept date by date: int_restatements compares the run's dates.
#}
select * from {{ ref('int_restatements') }}
