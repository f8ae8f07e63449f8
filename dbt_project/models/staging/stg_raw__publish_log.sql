with

source_log as (

    select * from {{ source('raw', 'publish_log') }}

),

renamed as (

    select
        snapshot_dir,
        loaded_through,
        as_of_date,
        published_at,
    from source_log

)

select * from renamed
