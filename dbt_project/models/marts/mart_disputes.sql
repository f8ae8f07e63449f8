{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
    )
}}
{#
  The credit managers' disputes worklist (SPEC section 13), kept date by
  date: int_disputes_open computes the run's dates.
#}
select * from {{ ref('int_disputes_open') }}
