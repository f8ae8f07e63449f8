{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
    )
}}
{#
  Weak signals of default per debtor group and as-of date (SPEC section 8),
  each with its date and the amount at stake in EUR. Thresholds are vars.
#}
with

signals as (

    select * from {{ ref('int_weak_signals_exposure') }}
    union all by name
    select * from {{ ref('int_weak_signals_overdue') }}
    union all by name
    select * from {{ ref('int_weak_signals_collection') }}

)

select
    as_of_date,
    debtor_group_id,
    signal,
    detail,
    cast(amount_eur as decimal(18, 2)) as amount_eur,
    signal_date,
from signals
