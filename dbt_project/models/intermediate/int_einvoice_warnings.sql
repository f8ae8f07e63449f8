{#
  What the e-invoicing lifecycle statuses (SPEC section 17) say is wrong at
  each of this run's as-of dates t, one row per invoice, worded as
  mart_data_issues lists it (warnings: every figure still counts the item):
  - einvoice_unknown_invoice: the statuses of the last
    collection_history_days for an invoice the entity's ledger does not hold
    (number and, when the status gives it, issue date), one warning per
    invoice naming its statuses: never an error, the ledger may be late;
  - collected_not_in_ledger: the buyer's platform says collected (212, the
    MEN amounts of its 212s) einvoice_collected_check_days ago or more, and
    the document's payments (kind payment or reversal) dated up to t show
    less: a collection the ledger has not booked;
  - rejected_invoice_open: an open item whose latest status is 213 (the
    platform rejected it: it was never legally issued);
  - cancelled_invoice_open: an open item whose latest status is 220 (annulée).
#}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

statuses as (

    select * from {{ ref('int_einvoice_statuses') }}

),

open_items as (

    select * from {{ ref('int_open_items_aged') }}

),

payments as not materialized (

    select * from {{ ref('stg_raw__payments') }}

),

parameters as (

    {{ collection_parameters({'einvoice_collected_check_days': 'check_days'}) }}

),

unknown_statuses as (

    select
        as_of_dates.as_of_date,
        statuses.*,
    from as_of_dates
    inner join statuses
        on statuses.status_on <= as_of_dates.as_of_date
        and statuses.status_on > {{ window_before('as_of_dates.as_of_date', 'collection_history_days') }}
    where not statuses.is_matched

),

unknown_invoices as (

    -- one warning per invoice number and date, however many of its statuses came
    select
        as_of_date,
        entity_code,
        'einvoice_unknown_invoice' as kind,
        document_id,
        cast(count(*) as varchar) || ' statut(s) e-facture ('
        || string_agg(status_code || ' ' || status_name, ', ' order by status_order) || ', le dernier du '
        || {{ fr_date('max(status_on)') }} || ') pour la facture ' || document_id
        || coalesce(' du ' || {{ fr_date('issue_date') }}, ' (sans date d''émission)')
        || ' : le grand livre de l''entité ne la contient pas' as detail,
        'einvoice:' || document_id || ':' || coalesce(cast(issue_date as varchar), '') as issue_key,
        arg_max(coalesce(source_file, 'einvoice_status.csv'), status_order) as file_name,
        cast(null as decimal(18, 4)) as amount,
        cast(null as varchar) as currency,
    from unknown_statuses
    group by as_of_date, entity_code, document_id, issue_date

),

collected as (

    select
        as_of_dates.as_of_date,
        statuses.entity_code,
        statuses.document_id,
        statuses.document_currency,
        sum(statuses.amount) as collected_amount,
        max(statuses.status_on) as last_collected_on,
    from as_of_dates
    cross join parameters
    inner join statuses
        on statuses.status_on + to_days(parameters.check_days) <= as_of_dates.as_of_date
    where statuses.is_matched
        and statuses.effect = 'collected'
        and statuses.amount_type = 'MEN'
    group by all

),

booked as (

    select
        collected.as_of_date,
        collected.entity_code,
        collected.document_id,
        coalesce(sum(payments.amount), 0) as booked_amount,
    from collected
    left join payments
        on payments.entity_code = collected.entity_code
        and payments.document_id = collected.document_id
        and payments.settlement_kind in ('payment', 'reversal')
        and payments.settles_document_from <= collected.as_of_date
    group by all

),

collected_not_in_ledger as (

    select
        collected.as_of_date,
        collected.entity_code,
        'collected_not_in_ledger' as kind,
        collected.document_id,
        'Facture ' || collected.document_id || ' encaissée selon la plateforme de l''acheteur (statut 212 du '
        || {{ fr_date('collected.last_collected_on') }} || ', '
        || replace(cast(cast(collected.collected_amount as decimal(18, 2)) as varchar), '.', ',') || ' '
        || collected.document_currency || ') ; le grand livre n''en montre que '
        || replace(cast(cast(booked.booked_amount as decimal(18, 2)) as varchar), '.', ',') as detail,
        'einvoice:' || collected.document_id || ':212' as issue_key,
        cast(null as varchar) as file_name,
        collected.collected_amount - booked.booked_amount as amount,
        collected.document_currency as currency,
    from collected
    inner join booked
        on booked.as_of_date = collected.as_of_date
        and booked.entity_code = collected.entity_code
        and booked.document_id = collected.document_id
    where collected.collected_amount > booked.booked_amount

),

open_with_status as (

    select
        open_items.as_of_date,
        open_items.entity_code,
        case open_items.einvoice_effect
            when 'rejected' then 'rejected_invoice_open'
            else 'cancelled_invoice_open'
        end as kind,
        open_items.document_id,
        'Facture ' || open_items.document_id || ' ouverte au grand livre mais '
        || case open_items.einvoice_effect
            when 'rejected' then 'rejetée par la plateforme (statut 213) : elle n''a pas été émise légalement'
            else 'annulée (statut 220)'
        end || ' le ' || {{ fr_date('cast(open_items.einvoice_status_at as date)') }} as detail,
        'einvoice:' || open_items.document_id || ':' || open_items.einvoice_status as issue_key,
        cast(null as varchar) as file_name,
        open_items.open_amount as amount,
        open_items.currency,
    from open_items
    where open_items.einvoice_effect in ('rejected', 'cancelled')
        and open_items.open_amount <> 0

)

select * from unknown_invoices
union all by name
select * from collected_not_in_ledger
union all by name
select * from open_with_status
