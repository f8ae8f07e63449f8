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
    from source_entities

)

select * from renamed
