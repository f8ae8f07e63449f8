{#
  When each open invoice is expected to be collected, at each as-of date t
  (SPEC section 14), split by source:
  - doubtful: more than doubtful_days_past_due past due, of a debtor group
    in insolvency or default, or refused by the buyer (e-invoicing status
    210, SPEC section 17): not forecast (its whole open amount);
  - promise: what is left of each pending promise or plan instalment on the
    document, on its promised date (a debtor-level promise does not move a
    document: it names no date for any one of them);
  - dispute: the rest of a disputed invoice, on its due date plus the
    entity's median resolution days over the last 12 months (the seed's
    default below its minimum count). A dispute resolved by an event counts
    from its opening to its resolution; an invoice disputed by its flag
    alone, with no dispute event, counts from its due date to its
    settlement in full (the delay its dispute caused), never below 0;
  - behaviour: the rest of any other invoice, on its due date plus the
    average days late (weighted by amount) of the undisputed invoices
    settled in full in the behaviour window (a disputed one's delay is its
    dispute's, forecast above), of its consolidated debtor, else its debtor
    group, else its entity, else 0. An early payer's average is negative
    and kept: the invoice is expected before its due date (the SPEC's
    "never negative" read as never before t + 1, docs/decisions.md).
  A date on or before t becomes t + 1. Credit notes, unapplied cash and
  group companies' invoices are not forecast. naive_date: the due date, or
  t + 1 when past due (the baseline of mart_forecast_accuracy).
#}
with

parameters as (

    {{ collection_parameters({
        'doubtful_days_past_due': 'doubtful_days',
        'dispute_resolution_default_days': 'resolution_default_days',
    }) }}

),

open_invoices as (

    {{ forecastable_invoices() }}

),

promise_parts_capped as (

    select * from {{ ref('int_forecast_promised_parts') }}

),

delays as (

    select * from {{ ref('int_forecast_delays') }}

),

delay_by_debtor as (

    select
        as_of_date,
        scope_id as consolidated_debtor_id,
        days_late,
    from delays
    where basis = 'debtor'

),

delay_by_group as (

    select
        as_of_date,
        scope_id as debtor_group_id,
        days_late,
    from delays
    where basis = 'debtor_group'

),

delay_by_entity as (

    select
        as_of_date,
        scope_id as entity_code,
        days_late,
    from delays
    where basis = 'entity'

),

resolution_by_entity as (

    select
        as_of_date,
        scope_id as entity_code,
        median_days,
    from delays
    where basis = 'dispute_resolution'

),

group_risk as (

    select * from {{ ref('int_debtor_group_exposure') }}

),

promised_by_document as (

    select
        as_of_date,
        entity_code,
        document_id,
        sum(amount) as amount,
    from promise_parts_capped
    group by all

),

classified as (

    select
        open_invoices.*,
        open_invoices.days_past_due > parameters.doubtful_days
        or coalesce(group_risk.insolvency_status, 'none') <> 'none'
        or coalesce(group_risk.is_in_default, false)
        or coalesce(open_invoices.einvoice_effect = 'refused', false) as is_doubtful,
        coalesce(promised.amount, 0) as promised_amount,
        case
            when delay_by_debtor.days_late is not null then 'debtor'
            when delay_by_group.days_late is not null then 'debtor_group'
            when delay_by_entity.days_late is not null then 'entity'
            else 'none'
        end as delay_basis,
        -- negative for an early payer: expected before its due date, never before t + 1 (below)
        round(coalesce(delay_by_debtor.days_late, delay_by_group.days_late, delay_by_entity.days_late, 0))
            as delay_days,
        cast(round(coalesce(resolution_by_entity.median_days, parameters.resolution_default_days)) as integer)
            as resolution_days,
    from open_invoices
    cross join parameters
    left join group_risk
        on group_risk.as_of_date = open_invoices.as_of_date
        and group_risk.debtor_group_id = open_invoices.debtor_group_id
    left join promised_by_document as promised
        on promised.as_of_date = open_invoices.as_of_date
        and promised.entity_code = open_invoices.entity_code
        and promised.document_id = open_invoices.document_id
    left join delay_by_debtor
        on delay_by_debtor.as_of_date = open_invoices.as_of_date
        and delay_by_debtor.consolidated_debtor_id = open_invoices.consolidated_debtor_id
    left join delay_by_group
        on delay_by_group.as_of_date = open_invoices.as_of_date
        and delay_by_group.debtor_group_id = open_invoices.debtor_group_id
    left join delay_by_entity
        on delay_by_entity.as_of_date = open_invoices.as_of_date
        and delay_by_entity.entity_code = open_invoices.entity_code
    left join resolution_by_entity
        on resolution_by_entity.as_of_date = open_invoices.as_of_date
        and resolution_by_entity.entity_code = open_invoices.entity_code

),

parts as (

    select
        classified.as_of_date,
        classified.entity_code,
        classified.document_id,
        'doubtful' as forecast_source,
        cast(null as date) as expected_on,
        classified.open_amount as amount,
        cast(null as varchar) as part_key,
    from classified
    where classified.is_doubtful

    union all

    select
        promise_parts_capped.as_of_date,
        promise_parts_capped.entity_code,
        promise_parts_capped.document_id,
        'promise' as forecast_source,
        promise_parts_capped.promised_date as expected_on,
        promise_parts_capped.amount,
        promise_parts_capped.event_id as part_key,
    from promise_parts_capped
    inner join classified
        on classified.as_of_date = promise_parts_capped.as_of_date
        and classified.entity_code = promise_parts_capped.entity_code
        and classified.document_id = promise_parts_capped.document_id
    where not classified.is_doubtful
        and promise_parts_capped.amount > 0

    union all

    select
        classified.as_of_date,
        classified.entity_code,
        classified.document_id,
        case when classified.is_disputed then 'dispute' else 'behaviour' end as forecast_source,
        case
            when classified.is_disputed then cast(classified.due_date + to_days(classified.resolution_days) as date)
            else cast(classified.due_date + to_days(cast(classified.delay_days as integer)) as date)
        end as expected_on,
        classified.open_amount - classified.promised_amount as amount,
        cast(null as varchar) as part_key,
    from classified
    where not classified.is_doubtful
        and classified.open_amount - classified.promised_amount > 0

),

parts_in_order as (

    -- each promised part with the parts of its invoice up to it, by promised date and promise id (an
    -- invoice has one part of each other source: the window is over the promised parts alone)
    select
        parts.*,
        sum(parts.amount) over (
            partition by parts.as_of_date, parts.entity_code, parts.document_id
            order by parts.expected_on, parts.part_key
            rows between unbounded preceding and current row
        ) as promised_through,
        promised_through - parts.amount as promised_before,
    from parts
    where parts.forecast_source = 'promise'

    union all

    select
        parts.*,
        parts.amount as promised_through,
        0 as promised_before,
    from parts
    where parts.forecast_source <> 'promise'

),

dated as (

    select
        parts.as_of_date,
        parts.entity_code,
        classified.debtor_id,
        classified.consolidated_debtor_id,
        classified.debtor_group_id,
        parts.document_id,
        classified.currency,
        classified.functional_currency,
        classified.due_date,
        classified.days_past_due,
        parts.forecast_source,
        case when parts.forecast_source = 'behaviour' then classified.delay_basis end as delay_basis,
        case when parts.expected_on <= parts.as_of_date then cast(parts.as_of_date + 1 as date) else parts.expected_on end
            as expected_on,
        case
            when parts.forecast_source = 'doubtful' then null
            when classified.due_date <= parts.as_of_date then cast(parts.as_of_date + 1 as date)
            else classified.due_date
        end as naive_on,
        parts.amount,
        classified.open_amount_eur,
        classified.open_amount_entity_currency,
        -- the invoice's EUR and entity-currency amounts, shared in proportion to the promised parts: a
        -- part takes the rounded share of the parts up to it less that of the parts before it, so the
        -- parts add up to the rounded share of their total, the whole invoice when all of it is promised
        -- (each share rounded half away from zero in integers: divide_to_cents); the promised parts only:
        -- the other parts take what they leave (below)
        case
            when parts.forecast_source = 'promise' then
                {{ divide_to_cents('classified.open_amount_eur * parts.promised_through', 'classified.open_amount') }}
                - {{ divide_to_cents('classified.open_amount_eur * parts.promised_before', 'classified.open_amount') }}
        end as promise_eur,
        case
            when parts.forecast_source = 'promise' then
                {{ divide_to_cents('classified.open_amount_entity_currency * parts.promised_through', 'classified.open_amount') }}
                - {{ divide_to_cents(
                    'classified.open_amount_entity_currency * parts.promised_before', 'classified.open_amount'
                ) }}
        end as promise_entity,
    from parts_in_order as parts
    inner join classified
        on classified.as_of_date = parts.as_of_date
        and classified.entity_code = parts.entity_code
        and classified.document_id = parts.document_id

),

promised_by_part as (

    select
        as_of_date,
        entity_code,
        document_id,
        sum(promise_eur) as promised_eur,
        sum(promise_entity) as promised_entity,
    from dated
    where forecast_source = 'promise'
    group by all

)

-- the rest of the invoice takes what its promised parts leave, so its parts add up to the cent
select
    dated.* exclude (
        dated.open_amount_eur, dated.open_amount_entity_currency, dated.promise_eur, dated.promise_entity
    ),
    cast(case
        when dated.forecast_source = 'promise' then dated.promise_eur
        else dated.open_amount_eur - coalesce(promised.promised_eur, 0)
    end as decimal(18, 2)) as amount_eur,
    cast(case
        when dated.forecast_source = 'promise' then dated.promise_entity
        else dated.open_amount_entity_currency - coalesce(promised.promised_entity, 0)
    end as decimal(18, 2)) as amount_entity_currency,
from dated
left join promised_by_part as promised
    on promised.as_of_date = dated.as_of_date
    and promised.entity_code = dated.entity_code
    and promised.document_id = dated.document_id
