{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
    )
}}
{#
  Risk per entity and consolidated debtor at each as-of date, external
  debtors only (SPEC section 6): what one entity's controller may see.
  Summed over entities it gives mart_debtor_exposure (tested).
#}
with

entity_exposure as (

    select * from {{ ref('int_entity_debtor_exposure') }}

),

debtor_risk as (

    select * from {{ ref('int_debtor_risk_at_dates') }}
    where is_as_of_date

),

consolidated_debtors as (

    select * from {{ ref('int_consolidated_debtors') }}

),

exposure_with_risk as (

    select
        entity_exposure.*,
        consolidated_debtors.consolidated_debtor_name,
        debtor_risk.insolvency_status,
        debtor_risk.worst_risk_class,
        debtor_risk.is_in_default,
        debtor_risk.insolvency_date,
    from entity_exposure
    left join consolidated_debtors
        on consolidated_debtors.consolidated_debtor_id = entity_exposure.consolidated_debtor_id
    left join debtor_risk
        on debtor_risk.as_of_date = entity_exposure.as_of_date
        and debtor_risk.consolidated_debtor_id = entity_exposure.consolidated_debtor_id

)

select
    as_of_date,
    entity_code,
    consolidated_debtor_id,
    debtor_group_id,
    consolidated_debtor_name,
    functional_currency,
    cover_provider,
    coalesce(insolvency_status, 'none') as insolvency_status,
    cast(exposure_eur as decimal(18, 2)) as exposure_eur,
    cast(exposure_entity_currency as decimal(18, 2)) as exposure_entity_currency,
    cast(overdue_eur as decimal(18, 2)) as overdue_eur,
    credit_limit,
    cast(cover_eur as decimal(18, 2)) as cover_eur,
    cover_share,
    cast(insured_eur as decimal(18, 2)) as insured_eur,
    cast(uninsured_eur as decimal(18, 2)) as uninsured_eur,
    cast(over_cover_eur as decimal(18, 2)) as over_cover_eur,
    cast(over_limit_eur as decimal(18, 2)) as over_limit_eur,
    worst_risk_class,
    coalesce(is_in_default, false) as is_in_default,
    insolvency_date,
from exposure_with_risk
