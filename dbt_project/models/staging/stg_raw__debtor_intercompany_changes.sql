with

source_changes as (

    select * from {{ source('raw', 'debtor_intercompany_changes') }}

),

renamed as (

    select
        entity_code,
        debtor_id,
        previous_intercompany_entity,
        extract_date,
    from source_changes

)

select * from renamed
