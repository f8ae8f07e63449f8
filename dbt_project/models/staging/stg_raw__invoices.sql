with

source_invoices as (

    select * from {{ source('raw', 'invoices') }}

),

renamed as (

    select
        entity_code,
        document_id,
        debtor_id,
        document_type,
        currency,
        case document_type when 'credit_note' then -1 else 1 end as document_sign,
        amount,
        amount_excl_tax,
        disputed as is_disputed,
        status = 'cancelled' as is_cancelled,
        issue_date,
        due_date,
        -- where the due date comes from: the extract, or for a FEC's document (SPEC section 16)
        -- DateRglt (fec), the debtor's terms (terms) or the registry's default terms (default)
        coalesce(due_date_source, 'extract') as due_date_source,
        extract_date,
    from source_invoices

)

select * from renamed
