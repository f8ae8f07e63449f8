{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
    )
}}
{#
  What the figures of an as-of date could not use, and the odd rows they do
  use (SPEC section 12), one row per issue: each row of the night's drops
  that broke a warning rule; per entity and currency, the open items left
  out of the EUR totals for lack of a rate; per scope, the month ends whose
  DSO is unknown for the same reason; the intercompany debtors naming an
  entity retired from the group; what the e-invoicing lifecycle statuses
  say is wrong (SPEC section 17, int_einvoice_warnings). Dashboards and reports show it beside
  freshness.
#}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

warnings_of_the_night as (

    select * from {{ ref('int_landing_warnings_at_dates') }}

),

open_items as (

    select * from {{ ref('int_open_items_aged') }}
    where missing_rate_currencies is not null

),

intercompany_entity_retired as (

    select * from {{ ref('int_retired_intercompany_debtors') }}

),

einvoice_warnings as (

    select * from {{ ref('int_einvoice_warnings') }}

),

rates_held_back as (

    select * from {{ ref('int_fx_rates_checked') }}
    where is_held_back

),

countback as (

    select * from {{ ref('int_dso_countback') }}
    where measure = 'dso' and status = 'missing_fx_rate'

),

open_items_without_rate as (

    select
        open_items.as_of_date,
        open_items.entity_code,
        'missing_fx_rate' as kind,
        'error' as severity,
        count(*) || ' pièce(s) ouverte(s) en ' || open_items.currency
        || ' exclue(s) des totaux en EUR : aucun cours de change pour ' || open_items.missing_rate_currencies
        || ' au ' || {{ fr_date('open_items.as_of_date') }}
        || ' ni dans les {{ var("fx_max_age_days") }} jours précédents' as detail,
        'open_items:' || open_items.currency || ':' || open_items.missing_rate_currencies as issue_key,
        cast(null as varchar) as file_name,
        cast(null as varchar) as column_name,
        cast(null as varchar) as document_key,
        open_items.currency,
        cast(null as integer) as row_number,
        cast(count(*) as integer) as items,
        sum(open_items.open_amount) as amount,
    from open_items
    inner join as_of_dates
        on as_of_dates.as_of_date = open_items.as_of_date
    group by open_items.as_of_date, open_items.entity_code, open_items.currency, open_items.missing_rate_currencies

),

dso_without_rate as (

    select
        as_of_dates.as_of_date,
        countback.entity_code,
        'dso_missing_fx_rate' as kind,
        'error' as severity,
        'DSO inconnu à ' || count(*) || ' fin(s) de mois faute de cours de change, du '
        || {{ fr_date('min(countback.month_end)') }} || ' au '
        || {{ fr_date('max(countback.month_end)') }} || ' (devises : '
        || string_agg(distinct countback.missing_rate_currencies, ', ') || ')' as detail,
        'dso' as issue_key,
        cast(null as varchar) as file_name,
        cast(null as varchar) as column_name,
        cast(null as varchar) as document_key,
        cast(null as varchar) as currency,
        cast(null as integer) as row_number,
        cast(count(*) as integer) as items,
        cast(null as decimal(18, 4)) as amount,
    from as_of_dates
    inner join countback
        on countback.month_end <= as_of_dates.as_of_date
    group by as_of_dates.as_of_date, countback.entity_code

),

implausible_rates as (

    -- listed at every as-of date that the rate would have served (within fx_max_age_days)
    select
        as_of_dates.as_of_date,
        'GROUP' as entity_code,
        'fx_rate_held_back' as kind,
        'warning' as severity,
        'Cours ' || rates_held_back.currency || ' du ' || {{ fr_date('rates_held_back.rate_date') }}
        || ' écarté : ' || replace(cast(rates_held_back.units_per_eur as varchar), '.', ',')
        || ' pour 1 EUR, contre ' || replace(cast(rates_held_back.reference_units_per_eur as varchar), '.', ',')
        || ' les jours précédents (plus de {{ var("fx_max_move_ratio") }} fois d''écart) ;'
        || ' le cours précédent sert' as detail,
        'fx:' || rates_held_back.currency || ':' || rates_held_back.rate_date as issue_key,
        'fx_rates.csv' as file_name,
        'units_per_eur' as column_name,
        cast(null as varchar) as document_key,
        rates_held_back.currency,
        cast(null as integer) as row_number,
        1 as items,
        cast(null as decimal(18, 4)) as amount,
    from as_of_dates
    inner join rates_held_back
        on rates_held_back.rate_date between as_of_dates.as_of_date - to_days({{ var('fx_max_age_days') }})
        and as_of_dates.as_of_date

),

einvoice_issues as (

    select
        as_of_date,
        entity_code,
        kind,
        'warning' as severity,
        detail,
        issue_key,
        file_name,
        cast(null as varchar) as column_name,
        document_id as document_key,
        currency,
        cast(null as integer) as row_number,
        1 as items,
        amount,
    from einvoice_warnings

),

issues as (

    select * from warnings_of_the_night
    union all by name
    select * from open_items_without_rate
    union all by name
    select * from dso_without_rate
    union all by name
    select * from implausible_rates
    union all by name
    select * from intercompany_entity_retired
    union all by name
    select * from einvoice_issues

)

select
    as_of_date,
    entity_code,
    kind,
    severity,
    detail,
    issue_key,
    file_name,
    column_name,
    document_key,
    currency,
    row_number,
    items,
    cast(amount as decimal(18, 4)) as amount,
from issues
