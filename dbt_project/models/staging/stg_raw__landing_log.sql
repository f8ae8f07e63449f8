with

source_log as (

    select * from {{ source('raw', 'landing_log') }}

),

renamed as (

    select
        entity_code,
        status as landing_status,
        reason,
        rows_landed,
        failure_count,
        extract_date,
        load_id,
        with_manifest,
    from source_log

)

select * from renamed
