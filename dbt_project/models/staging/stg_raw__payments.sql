with

source_payments as (

    select * from {{ source('raw', 'payments') }}

),

renamed as (

    select
        entity_code,
        settlement_id,
        line_no,
        debtor_id,
        document_id,
        currency,
        kind as settlement_kind,
        amount,
        document_id is null as is_unapplied,
        settlement_date,
        extract_date,
    from source_payments

)

select * from renamed
