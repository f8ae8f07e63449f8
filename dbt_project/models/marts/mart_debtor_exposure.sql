{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
    )
}}
{#
  Risk per debtor group and as-of date, in EUR, external debtors only (SPEC
  sections 6 and 8), kept date by date: int_debtor_group_exposure computes
  the run's dates.
#}
select * from {{ ref('int_debtor_group_exposure') }}
