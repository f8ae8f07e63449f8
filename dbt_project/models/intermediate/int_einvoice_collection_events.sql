{#
  What the buyers' lifecycle statuses (SPEC section 17) mean for collection,
  written as collection events of section 13 so that disputes, promises,
  dunning and the forecast read them as they read an entity's own events:
  - a 206 (approuvée partiellement), 207 (en litige) or 208 (suspendue)
    opens a dispute on its invoice from its day: the not-approved amount
    (MNA or MNATTC) when the status gives it, else the whole open amount,
    its reason mapped from the MDT-113 code (unknown or none: other). A run
    of such statuses is one dispute, opened by the first; it is resolved on
    the day of the first later status that decides something (approved,
    completed, refused, payment sent, collected, rejected, cancelled,
    factored), or by the entity's own events or settlement as any dispute;
  - a 211 (paiement transmis) is a promise to pay on its day plus
    einvoice_payment_sent_days (seed collection_parameters): the amount paid
    (MPA) when given, else the whole open amount.
  Only statuses of invoices the ledger holds; event_id names the status.
#}
with

statuses as (

    select * from {{ ref('int_einvoice_statuses') }}
    where is_matched

),

parameters as (

    {{ collection_parameters({'einvoice_payment_sent_days': 'payment_sent_days'}) }}

),

runs as (

    select
        *,
        'einvoice:' || document_id || ':' || status_code || ':' || strftime(status_at, '%Y%m%d%H%M%S') as status_key,
        effect in ('partly_approved', 'disputed', 'suspended') as is_dispute,
        coalesce(
            lag(effect in ('partly_approved', 'disputed', 'suspended')) over (
                partition by entity_code, document_id order by status_order
            ),
            false
        ) as follows_dispute,
    from statuses

),

deciding as (

    select * from runs
    where effect in ('approved', 'completed', 'refused', 'payment_sent', 'collected', 'rejected', 'cancelled', 'factored')

),

dispute_starts as (

    -- the first status of each run of dispute statuses: it opens the dispute
    select * from runs
    where is_dispute and not follows_dispute

),

disputes_opened as (

    select
        entity_code,
        status_key as event_id,
        debtor_id,
        document_id,
        'dispute_opened' as event_type,
        status_on as event_date,
        cast(null as date) as promised_date,
        case when amount_type in ('MNA', 'MNATTC') then amount end as amount,
        case when amount_type in ('MNA', 'MNATTC') then coalesce(currency, document_currency) end as currency,
        dispute_reason,
        status_name || coalesce(' : ' || note, '') as note,
        extract_date,
    from dispute_starts

),

disputes_resolved as (

    select
        dispute_starts.entity_code,
        dispute_starts.status_key || ':resolved' as event_id,
        dispute_starts.debtor_id,
        dispute_starts.document_id,
        'dispute_resolved' as event_type,
        min(deciding.status_on) as event_date,
        cast(null as date) as promised_date,
        cast(null as decimal(18, 4)) as amount,
        cast(null as varchar) as currency,
        cast(null as varchar) as dispute_reason,
        cast(null as varchar) as note,
        arg_min(deciding.extract_date, deciding.status_order) as extract_date,
    from dispute_starts
    inner join deciding
        on deciding.entity_code = dispute_starts.entity_code
        and deciding.document_id = dispute_starts.document_id
        and deciding.status_order > dispute_starts.status_order
    group by all

),

payments_sent as (

    select
        runs.entity_code,
        runs.status_key as event_id,
        runs.debtor_id,
        runs.document_id,
        'promise_to_pay' as event_type,
        runs.status_on as event_date,
        cast(runs.status_on + to_days(parameters.payment_sent_days) as date) as promised_date,
        case when runs.amount_type = 'MPA' then runs.amount end as amount,
        case when runs.amount_type = 'MPA' then coalesce(runs.currency, runs.document_currency) end as currency,
        cast(null as varchar) as dispute_reason,
        runs.status_name || coalesce(' : ' || runs.note, '') as note,
        runs.extract_date,
    from runs
    cross join parameters
    where runs.effect = 'payment_sent'

),

events as (

    select * from disputes_opened
    union all
    select * from disputes_resolved
    union all
    select * from payments_sent

)

select * from events
