with

source_rates as (

    select * from {{ source('raw', 'fx_rates') }}

),

renamed as (

    select
        currency,
        units_per_eur,
        rate_date,
        entity_code,
        extract_date,
    from source_rates

)

select * from renamed
