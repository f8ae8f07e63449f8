{#
  One row per scope a figure is given for: each entity of the registry (and
  each retired one, with its retired_on) and the group, GROUP, in EUR under
  its French name.
#}
with

entities as (

    select * from {{ ref('stg_raw__entities') }}

),

scopes as (

    select
        entity_code,
        entity_name,
        functional_currency,
        retired_on,
    from entities

    union all

    select
        'GROUP' as entity_code,
        'Groupe (consolidé)' as entity_name,
        'EUR' as functional_currency,
        cast(null as date) as retired_on,

)

select * from scopes
