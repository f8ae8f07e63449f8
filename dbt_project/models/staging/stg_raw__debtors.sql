with

source_debtors as (

    select * from {{ source('raw', 'debtors') }}

),

renamed as (

    select
        entity_code,
        debtor_id,
        coalesce(
            {{ normalise_registration_id('registration_id') }},
            entity_code || ':' || debtor_id
        ) as consolidated_debtor_id,
        {{ normalise_registration_id('parent_registration_id') }} as parent_consolidated_id,
        intercompany_entity,
        name as debtor_name,
        registration_id,
        parent_registration_id,
        country as debtor_country,
        customer_type,
        payment_terms_days,
        credit_limit,
        intercompany_entity is not null as is_intercompany,
        extract_date,
    from source_debtors

)

select * from renamed
