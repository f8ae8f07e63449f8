{#
  Every rating row with its common class (1 best, 10 worst) and default flag,
  through the scale version in force at rated_at (SPEC section 6).
#}
with

ratings as (

    select * from {{ ref('stg_raw__risk_ratings') }}

),

rating_scales as (

    select * from {{ ref('rating_scales') }}

),

rating_mappings as (

    select * from {{ ref('rating_mappings') }}

),

rating_providers as (

    select * from {{ ref('rating_providers') }}

),

debtors as (

    select * from {{ ref('stg_raw__debtors') }}

),

consolidated_debtors as (

    select * from {{ ref('int_consolidated_debtors') }}

),

ratings_classified as (

    select
        ratings.entity_code,
        ratings.debtor_id,
        debtors.consolidated_debtor_id,
        consolidated_debtors.debtor_group_id,
        ratings.provider,
        rating_scales.scale_version,
        ratings.rating,
        ratings.cover_currency,
        ratings.insolvency_status,
        rating_mappings.risk_class,
        ratings.cover_amount,
        ratings.cover_share,
        rating_mappings.is_default,
        rating_providers.is_credit_insurer,
        coalesce(debtors.is_intercompany, false) as is_intercompany,
        ratings.rated_at,
        ratings.insolvency_date,
    from ratings
    inner join debtors
        on debtors.entity_code = ratings.entity_code
        and debtors.debtor_id = ratings.debtor_id
    inner join consolidated_debtors
        on consolidated_debtors.consolidated_debtor_id = debtors.consolidated_debtor_id
    inner join rating_providers
        on rating_providers.provider = ratings.provider
    left join rating_scales
        on rating_scales.provider = ratings.provider
        and ratings.rated_at between rating_scales.valid_from and rating_scales.valid_to
    left join rating_mappings
        on rating_mappings.provider = ratings.provider
        and rating_mappings.scale_version = rating_scales.scale_version
        and rating_mappings.rating = ratings.rating

)

select * from ratings_classified
