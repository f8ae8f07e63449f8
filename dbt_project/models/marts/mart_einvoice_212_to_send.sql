{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
    )
}}
{#
  The 212 statuses to send (SPEC section 17), kept date by date:
  int_einvoice_212_to_send computes the run's dates.
#}
select * from {{ ref('int_einvoice_212_to_send') }}
