with

source_moves as (

    select * from {{ source('raw', 'settlement_line_moves') }}

),

renamed as (

    select
        entity_code,
        settlement_id,
        line_no,
        previous_document_id,
        extract_date,
    from source_moves

)

select * from renamed
