{#
  The weak signals of collection (SPEC section 13): broken promises,
  repeated payment plans and long disputes, and the invoices the buyer
  refused on the e-invoicing platform (status 210, SPEC section 17), per
  debtor group of the external debtors. One row per signal, as mart_weak_signals publishes them.
#}
with

promises as (

    select
        promises.*,
        debtors.debtor_group_id,
        -- a plan: its instalments agreed the same day on the same document (or balance)
        concat_ws('|', promises.entity_code, promises.debtor_id, promises.document_id, promises.event_date) as plan_key,
    from {{ ref('int_collection_promises') }} as promises
    inner join {{ ref('int_debtors_resolved') }} as debtors
        on debtors.entity_code = promises.entity_code
        and debtors.debtor_id = promises.debtor_id
        and not debtors.is_intercompany

),

broken_promises as (

    -- a promise broken within the window (SPEC section 13): its date is the last day it could be kept
    select
        as_of_date,
        debtor_group_id,
        'broken_promise' as signal,
        max(due_by) as signal_date,
        sum(promised_amount_eur) as amount_eur,
        cast(count(*) as varchar) || ' promesse(s) de paiement non tenue(s) en '
        || '{{ var("weak_signal_broken_promise_window_days") }} jours' as detail,
    from promises
    where promise_status = 'broken'
        and due_by >= {{ window_before('as_of_date', 'weak_signal_broken_promise_window_days') }}
    group by all

),

repeated_payment_plans as (

    select
        as_of_date,
        debtor_group_id,
        'repeated_payment_plans' as signal,
        max(event_date) as signal_date,
        sum(promised_amount_eur) as amount_eur,
        cast(count(distinct plan_key) as varchar)
        || ' échéanciers de paiement accordés en {{ var("weak_signal_payment_plan_window_days") }} jours' as detail,
    from promises
    where event_type = 'payment_plan'
        and event_date > {{ window_before('as_of_date', 'weak_signal_payment_plan_window_days') }}
    group by all
    having count(distinct plan_key) >= {{ var('weak_signal_payment_plans') }}

),

long_disputes as (

    select
        disputes.as_of_date,
        debtors.debtor_group_id,
        'long_dispute' as signal,
        cast(min(disputes.opened_on) + to_days({{ var('weak_signal_dispute_open_days') }}) as date) as signal_date,
        sum(disputes.disputed_amount_eur) as amount_eur,
        cast(count(*) as varchar) || ' litige(s) ouvert(s) depuis plus de {{ var("weak_signal_dispute_open_days") }} '
        || 'jours, le plus ancien depuis ' || cast(max(disputes.age_days) as varchar) || ' jours' as detail,
    from {{ ref('int_disputes_open') }} as disputes
    inner join {{ ref('int_debtors_resolved') }} as debtors
        on debtors.entity_code = disputes.entity_code
        and debtors.debtor_id = disputes.debtor_id
        and not debtors.is_intercompany
    where disputes.as_of_date in (select as_of_dates.as_of_date from {{ ref('int_as_of_dates') }} as as_of_dates)
        and disputes.age_days > {{ var('weak_signal_dispute_open_days') }}
    group by all

),

refused_invoices as (

    select
        as_of_date,
        debtor_group_id,
        'invoice_refused' as signal,
        max(cast(einvoice_status_at as date)) as signal_date,
        sum(open_amount_eur) as amount_eur,
        cast(count(*) as varchar) || ' facture(s) refusée(s) par l''acheteur sur sa plateforme (statut 210)'
            as detail,
    from {{ ref('int_open_items_aged') }}
    where einvoice_effect = 'refused'
        and document_type = 'invoice'
        and open_amount > 0
        and not is_intercompany
    group by all

),

signals as (

    select * from broken_promises
    union all by name
    select * from repeated_payment_plans
    union all by name
    select * from long_disputes
    union all by name
    select * from refused_invoices

)

select * from signals
