with

source_events as (

    select * from {{ source('raw', 'collection_events') }}

),

renamed as (

    select
        entity_code,
        event_id,
        debtor_id,
        document_id,
        event_type,
        currency,
        dispute_reason,
        note,
        amount,
        event_date,
        promised_date,
        extract_date,
    from source_events

)

select * from renamed
