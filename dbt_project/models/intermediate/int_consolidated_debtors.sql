{#
  One row per consolidated debtor (the same company across entities): its
  debtor group is the parent named on any of its accounts (the greatest
  normalised id when accounts disagree), else itself (SPEC section 4).
#}
with

debtors as (

    select * from {{ ref('stg_raw__debtors') }}

),

consolidated as (

    select
        consolidated_debtor_id,
        coalesce(max(parent_consolidated_id), consolidated_debtor_id) as debtor_group_id,
        min(debtor_name) as consolidated_debtor_name,
        bool_or(is_intercompany) as is_intercompany,
        count(*) as account_count,
    from debtors
    group by consolidated_debtor_id

)

select * from consolidated
