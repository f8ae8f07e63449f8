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
        -- the lettering's date of a FEC's line (SPEC section 16): before it the line is unapplied cash
        matched_on,
        greatest(settlement_date, coalesce(matched_on, settlement_date)) as settles_document_from,
        extract_date,
    from source_payments

)

select * from renamed
