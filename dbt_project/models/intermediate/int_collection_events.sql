{#
  Every collection event (SPEC section 13): the entities' own, and those the
  buyers' e-invoicing lifecycle statuses imply (section 17:
  int_einvoice_collection_events). The one input of the disputes, the
  promises and the forecast's delays.
#}
with

own_events as (

    select * from {{ ref('stg_raw__collection_events') }}

),

einvoice_events as (

    select * from {{ ref('int_einvoice_collection_events') }}

)

select * from own_events
union all by name
select * from einvoice_events
