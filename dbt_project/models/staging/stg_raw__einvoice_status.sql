with

source_statuses as (

    select * from {{ source('raw', 'einvoice_status') }}

),

renamed as (

    select
        entity_code,
        document_id,
        status_code,
        reason_code,
        action_code,
        amount_type,
        currency,
        note,
        source_file,
        amount,
        issue_date,
        status_at,
        cast(status_at as date) as status_on,
        extract_date,
    from source_statuses

)

select * from renamed
