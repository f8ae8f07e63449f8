with

source_entities as (

    select * from {{ source('raw', 'entities') }}

),

renamed as (

    select
        entity_code,
        entity_name,
        country as entity_country,
        currency as functional_currency,
        retired_on,
    from source_entities

)

select * from renamed
