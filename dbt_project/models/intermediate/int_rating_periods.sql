-- read by the incremental branch only, which dbt cannot see when it parses:
-- depends_on: {{ ref('stg_raw__landing_log') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['entity_code', 'debtor_id', 'provider'],
        on_schema_change='append_new_columns',
    )
}}
{#
  Every rating row with its common class (1 best, 10 worst) and default flag,
  through the scale version in force at rated_at (SPEC section 6), and the
  date from which a later row of the same entity, debtor and provider
  supersedes it: the row current at a date D is the one with rated_at <= D
  and superseded_on null or after D. For the credit insurers' cover, the same
  among the rows that carry a cover amount (cover_superseded_on).

  A night reclassifies only the entity, debtor and provider keys that
  received a rating row since the last build, or every key when a rating
  seed changed (classified_with, a fingerprint of the seeds). The debtor's
  consolidated identity is joined where the ratings are used, so that a
  debtor re-sent under another registration moves its ratings with it.
#}
-- import CTEs not materialized: DuckDB would copy a whole staging view used twice (docs/decisions.md, "Scale")
with

ratings as not materialized (

    select * from {{ ref('stg_raw__risk_ratings') }}

),

rating_scales as not materialized (

    select * from {{ ref('rating_scales') }}

),

rating_mappings as not materialized (

    select * from {{ ref('rating_mappings') }}

),

rating_providers as not materialized (

    select * from {{ ref('rating_providers') }}

),

seed_lines as (

    select concat_ws('|', 'scale', provider, scale_version, valid_from, valid_to) as seed_line from rating_scales
    union all
    select concat_ws('|', 'mapping', provider, scale_version, rating, risk_class, is_default) from rating_mappings
    union all
    select concat_ws('|', 'provider', provider, is_credit_insurer) from rating_providers

),

seed_fingerprint as (

    select md5(string_agg(seed_line, ';' order by seed_line)) as classified_with
    from seed_lines

),

{% if is_incremental() %}
{{ landed_since_last_build_cte() }},

seeds_changed as (

    select count(*) > 0 as changed
    from {{ this }}
    where classified_with <> (select classified_with from seed_fingerprint)

),

touched_keys as (

    select distinct entity_code, debtor_id, provider
    from ratings
    semi join landed_since_last_build using (entity_code, extract_date)

    union

    select entity_code, debtor_id, provider
    from ratings
    where (select changed from seeds_changed)

),
{% endif %}

ratings_classified as (

    select
        ratings.entity_code,
        ratings.debtor_id,
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
        -- a provider the seeds no longer list keeps its rows, out of use, so a later seed finds them
        rating_providers.provider is not null as is_known_provider,
        ratings.rated_at,
        ratings.insolvency_date,
        ratings.extract_date,
    from ratings
    {% if is_incremental() %}
    semi join touched_keys using (entity_code, debtor_id, provider)
    {% endif %}
    left join rating_providers
        on rating_providers.provider = ratings.provider
    left join rating_scales
        on rating_scales.provider = ratings.provider
        and ratings.rated_at between rating_scales.valid_from and rating_scales.valid_to
    left join rating_mappings
        on rating_mappings.provider = ratings.provider
        and rating_mappings.scale_version = rating_scales.scale_version
        and rating_mappings.rating = ratings.rating

),

with_periods as (

    select
        *,
        lead(rated_at) over (partition by entity_code, debtor_id, provider order by rated_at) as superseded_on,
        case
            when is_credit_insurer and cover_amount is not null then lead(rated_at) over (
                    partition by entity_code, debtor_id, provider, is_credit_insurer and cover_amount is not null
                    order by rated_at
                )
        end as cover_superseded_on,
        (select seed_fingerprint.classified_with from seed_fingerprint) as classified_with,
        {{ loaded_through() }} as loaded_through,
    from ratings_classified

)

select * from with_periods
