{#
  Exposure of each entity to each consolidated debtor at each as-of date,
  external debtors only (SPEC section 6): net encours, overdue, internal limit
  and the credit insurer's cover. Insured exposure is computed here, per
  entity, so that group figures are sums over entities, never nettings.
#}
with

open_items as (

    select * from {{ ref('int_open_items_aged') }}

),

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

debtors as (

    select * from {{ ref('int_debtors_resolved') }}

),

ratings as (

    select * from {{ ref('int_rating_periods') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_resolved') }}

),

exposure as (

    select
        open_items.as_of_date,
        open_items.entity_code,
        open_items.consolidated_debtor_id,
        any_value(open_items.debtor_group_id) as debtor_group_id,
        any_value(open_items.functional_currency) as functional_currency,
        any_value(open_items.entity_units_per_eur) as entity_units_per_eur,
        sum(open_items.open_amount_eur) as exposure_eur,
        sum(open_items.open_amount_entity_currency) as exposure_entity_currency,
        sum(open_items.overdue_amount_eur) as overdue_eur,
    from open_items
    inner join as_of_dates
        on as_of_dates.as_of_date = open_items.as_of_date
    where not open_items.is_intercompany
    group by open_items.as_of_date, open_items.entity_code, open_items.consolidated_debtor_id

),

credit_limits as (

    select
        entity_code,
        consolidated_debtor_id,
        sum(credit_limit) as credit_limit,
    from debtors
    where credit_limit is not null
    group by all

),

latest_cover as (

    select
        as_of_dates.as_of_date,
        ratings.entity_code,
        debtors.consolidated_debtor_id,
        ratings.provider as cover_provider,
        ratings.cover_currency,
        ratings.cover_amount,
        coalesce(ratings.cover_share, 1) as cover_share,
        ratings.rated_at as cover_rated_at,
    from as_of_dates
    inner join ratings
        on ratings.rated_at <= as_of_dates.as_of_date
        and coalesce(ratings.cover_superseded_on > as_of_dates.as_of_date, true)
    inner join debtors
        on debtors.entity_code = ratings.entity_code
        and debtors.debtor_id = ratings.debtor_id
    where ratings.is_credit_insurer
        and ratings.cover_amount is not null
    qualify row_number() over (
            partition by as_of_dates.as_of_date, ratings.entity_code, debtors.consolidated_debtor_id
            order by ratings.rated_at desc, ratings.provider asc, ratings.debtor_id asc
        ) = 1

),

exposure_with_cover as (

    select
        exposure.*,
        credit_limits.credit_limit,
        latest_cover.cover_provider,
        latest_cover.cover_share,
        case
            when latest_cover.cover_amount is not null then
                -- null without a usable rate for the cover's currency (SPEC section 12): unknown, not 0
                {{ divide_to_cents('latest_cover.cover_amount', 'cover_rates.units_per_eur') }}
        end as cover_eur,
    from exposure
    left join credit_limits
        on credit_limits.entity_code = exposure.entity_code
        and credit_limits.consolidated_debtor_id = exposure.consolidated_debtor_id
    left join latest_cover
        on latest_cover.as_of_date = exposure.as_of_date
        and latest_cover.entity_code = exposure.entity_code
        and latest_cover.consolidated_debtor_id = exposure.consolidated_debtor_id
    left join fx_rates as cover_rates
        on cover_rates.rate_day = exposure.as_of_date
        and cover_rates.currency = latest_cover.cover_currency

),

insured as (

    select
        *,
        cast(
            round(coalesce(cover_share * least(greatest(exposure_eur, 0), cover_eur), 0), 2) as decimal(18, 2)
        ) as insured_eur,
        case
            when cover_eur is not null then greatest(exposure_eur - cover_eur, 0)
            else 0
        end as over_cover_eur,
        case
            when credit_limit is not null and exposure_entity_currency > credit_limit
                then
                    {{ divide_to_cents('exposure_entity_currency - credit_limit', 'entity_units_per_eur') }}
            else 0
        end as over_limit_eur,
    from exposure_with_cover

)

select
    as_of_date,
    entity_code,
    consolidated_debtor_id,
    debtor_group_id,
    functional_currency,
    cover_provider,
    exposure_eur,
    exposure_entity_currency,
    overdue_eur,
    credit_limit,
    cover_eur,
    cover_share,
    insured_eur,
    exposure_eur - insured_eur as uninsured_eur,
    over_cover_eur,
    over_limit_eur,
from insured
