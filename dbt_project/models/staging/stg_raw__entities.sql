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
        siren,
        coalesce(vat_on_receipts, false) as vat_on_receipts,
    from source_entities

)

select * from renamed
