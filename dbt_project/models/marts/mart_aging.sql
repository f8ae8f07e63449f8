{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
    )
}}
with

open_items as (

    select * from {{ ref('int_open_items_aged') }}

),

aging_buckets as (

    select * from {{ ref('aging_buckets') }}

),

debtors_with_open_items as (

    select distinct
        as_of_date,
        entity_code,
        consolidated_debtor_id,
        debtor_group_id,
        functional_currency,
        is_intercompany,
    from open_items

),

amounts_by_bucket as (

    select
        as_of_date,
        entity_code,
        consolidated_debtor_id,
        aging_bucket,
        sum(open_amount_eur) as amount_eur,
        sum(open_amount_entity_currency) as amount_entity_currency,
        sum(case when is_disputed then open_amount_eur else 0 end) as disputed_amount_eur,
        sum(overdue_amount_eur) as overdue_amount_eur,
        count(*) as item_count,
    from open_items
    group by all

),

every_bucket as (

    select
        debtors_with_open_items.as_of_date,
        debtors_with_open_items.entity_code,
        debtors_with_open_items.consolidated_debtor_id,
        debtors_with_open_items.debtor_group_id,
        debtors_with_open_items.functional_currency,
        aging_buckets.aging_bucket,
        aging_buckets.bucket_order,
        cast(coalesce(amounts_by_bucket.amount_eur, 0) as decimal(18, 2)) as amount_eur,
        cast(coalesce(amounts_by_bucket.amount_entity_currency, 0) as decimal(18, 2)) as amount_entity_currency,
        cast(coalesce(amounts_by_bucket.disputed_amount_eur, 0) as decimal(18, 2)) as disputed_amount_eur,
        cast(coalesce(amounts_by_bucket.overdue_amount_eur, 0) as decimal(18, 2)) as overdue_amount_eur,
        coalesce(amounts_by_bucket.item_count, 0) as item_count,
        debtors_with_open_items.is_intercompany,
    from debtors_with_open_items
    cross join aging_buckets
    left join amounts_by_bucket
        on amounts_by_bucket.as_of_date = debtors_with_open_items.as_of_date
        and amounts_by_bucket.entity_code = debtors_with_open_items.entity_code
        and amounts_by_bucket.consolidated_debtor_id = debtors_with_open_items.consolidated_debtor_id
        and amounts_by_bucket.aging_bucket = aging_buckets.aging_bucket

)

select
    as_of_date,
    entity_code,
    consolidated_debtor_id,
    debtor_group_id,
    functional_currency,
    aging_bucket,
    bucket_order,
    amount_eur,
    amount_entity_currency,
    disputed_amount_eur,
    overdue_amount_eur,
    -- what counts in the group's totals (SPEC section 4: intercompany is left out): sum these
    case when is_intercompany then 0 else amount_eur end as external_amount_eur,
    case when is_intercompany then 0 else overdue_amount_eur end as external_overdue_amount_eur,
    item_count,
    is_intercompany,
from every_bucket
