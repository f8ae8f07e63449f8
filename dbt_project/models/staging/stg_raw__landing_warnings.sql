with

source_warnings as (

    select * from {{ source('raw', 'landing_warnings') }}

),

renamed as (

    select
        entity_code,
        file_name,
        column_name,
        rule,
        message,
        found,
        document_key,
        currency,
        row_number,
        items,
        amount,
        extract_date,
    from source_warnings

)

select * from renamed
