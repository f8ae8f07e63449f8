with

source_removals as (

    select * from {{ source('raw', 'document_removals') }}

),

renamed as (

    select
        entity_code,
        document_id,
        extract_date,
    from source_removals

)

select * from renamed
