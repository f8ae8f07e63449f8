{#
  One row per debtor account (entity, debtor id): the account as sent, the
  company it is across entities (consolidated_debtor_id, SPEC section 4) and
  the debtor group it belongs to, with the group's name. The one place where
  an account is resolved to its company and group: every model that needs
  either joins this model on (entity_code, debtor_id).
#}
with

debtors as (

    select * from {{ ref('stg_raw__debtors') }}

),

consolidated_debtors as (

    select * from {{ ref('int_consolidated_debtors') }}

),

resolved as (

    select
        debtors.*,
        consolidated_debtors.debtor_group_id,
        consolidated_debtors.consolidated_debtor_name,
    from debtors
    inner join consolidated_debtors
        on consolidated_debtors.consolidated_debtor_id = debtors.consolidated_debtor_id

)

select * from resolved
