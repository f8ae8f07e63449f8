with

source_ratings as (

    select * from {{ source('raw', 'risk_ratings') }}

),

renamed as (

    select
        entity_code,
        debtor_id,
        provider,
        rating,
        cover_currency,
        insolvency_status,
        cover_amount,
        cover_share,
        rated_at,
        insolvency_date,
        extract_date,
    from source_ratings

)

select * from renamed
