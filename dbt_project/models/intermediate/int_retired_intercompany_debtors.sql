{#
  The debtors declared intercompany with an entity that has left the group
  (registry retired_on) by the as-of date, one issue each, as
  mart_data_issues lists them, at every as-of date from the named entity's
  retirement while the debtor still names it (docs/operations.md,
  "Retiring an entity").
#}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

entities as (

    select * from {{ ref('int_entity_scopes') }}

),

intercompany_debtors as (

    select * from {{ ref('stg_raw__debtors') }}
    where is_intercompany

),

listed as (

    select
        as_of_dates.as_of_date,
        debtors.entity_code,
        'intercompany_entity_retired' as kind,
        'warning' as severity,
        'Débiteur ' || debtors.debtor_id || ' (' || debtors.debtor_name || ') déclaré intragroupe ('
        || debtors.intercompany_entity || '), entité sortie du groupe le '
        || {{ fr_date('named.retired_on') }} || ' : son encours reste hors des totaux externes tant que'
        || ' debtors.csv le déclare intragroupe' as detail,
        'debtors.csv:' || debtors.debtor_id || ':intercompany_entity' as issue_key,
        'debtors.csv' as file_name,
        'intercompany_entity' as column_name,
        debtors.debtor_id as document_key,
        cast(null as varchar) as currency,
        cast(null as integer) as row_number,
        1 as items,
        cast(null as decimal(18, 4)) as amount,
    from as_of_dates
    inner join intercompany_debtors as debtors
        on true
    inner join entities as named
        on named.entity_code = debtors.intercompany_entity
        and not {{ entity_in_group('named', 'as_of_dates.as_of_date') }}
    inner join entities as own
        on own.entity_code = debtors.entity_code
        and {{ entity_in_group('own', 'as_of_dates.as_of_date') }}

)

select * from listed
