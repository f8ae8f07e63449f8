{#
  What the cash-in forecast dates an invoice by (SPEC section 14), at each
  as-of date: the average days late, weighted by amount, of the undisputed
  invoices settled in full in the behaviour window, per consolidated
  debtor, debtor group and entity (basis debtor, debtor_group, entity;
  days_late); and per entity the median days a dispute took to be resolved
  in the resolution window, null below its minimum count (basis
  dispute_resolution; median_days). int_cash_forecast_items says how each
  is used.
#}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

parameters as (

    {{ collection_parameters({
        'behaviour_window_months': 'behaviour_months',
        'dispute_resolution_window_months': 'resolution_months',
        'dispute_resolution_min_disputes': 'resolution_min_disputes',
    }) }}

),

resolved_disputes as (

    select * from {{ ref('int_collection_disputes') }}
    where resolved_on is not null

),

documents as (

    select * from {{ ref('int_document_balances') }}

),

debtors as (

    select * from {{ ref('int_debtors_resolved') }}

),

documents_with_dispute_events as (

    select distinct
        entity_code,
        document_id,
    from {{ ref('int_collection_events') }}
    where event_type = 'dispute_opened'
        and document_id is not null

),

settled_invoices as (

    select
        as_of_dates.as_of_date,
        documents.entity_code,
        debtors.consolidated_debtor_id,
        debtors.debtor_group_id,
        documents.amount,
        documents.fully_settled_on,
        date_diff('day', documents.due_date, documents.fully_settled_on) as days_late,
        coalesce(documents.is_disputed, false) or disputed.document_id is not null as was_disputed,
        coalesce(documents.is_disputed, false) and disputed.document_id is null as is_flag_dispute,
    from as_of_dates
    cross join parameters
    inner join documents
        on documents.fully_settled_on <= as_of_dates.as_of_date
        and documents.fully_settled_on > as_of_dates.as_of_date - to_months(
            greatest(parameters.behaviour_months, parameters.resolution_months)
        )
    inner join debtors
        on debtors.entity_code = documents.entity_code
        and debtors.debtor_id = documents.debtor_id
    left join documents_with_dispute_events as disputed
        on disputed.entity_code = documents.entity_code
        and disputed.document_id = documents.document_id
    where documents.document_type = 'invoice'
        and not documents.is_cancelled
        and not debtors.is_intercompany

),

undisputed_settled as (

    select settled_invoices.*
    from settled_invoices
    cross join parameters
    where not settled_invoices.was_disputed
        and settled_invoices.fully_settled_on
        > settled_invoices.as_of_date - to_months(parameters.behaviour_months)

),

resolution_samples as (

    -- disputes resolved by an event, from opening to resolution
    select
        resolved_disputes.as_of_date,
        resolved_disputes.entity_code,
        date_diff('day', resolved_disputes.opened_on, resolved_disputes.resolved_on) as resolution_days,
    from resolved_disputes
    cross join parameters
    where resolved_disputes.resolved_on
        > resolved_disputes.as_of_date - to_months(parameters.resolution_months)

    union all

    -- invoices disputed by their flag alone, from due date to settlement in full
    select
        settled_invoices.as_of_date,
        settled_invoices.entity_code,
        greatest(settled_invoices.days_late, 0) as resolution_days,
    from settled_invoices
    cross join parameters
    where settled_invoices.is_flag_dispute
        and settled_invoices.fully_settled_on
        > settled_invoices.as_of_date - to_months(parameters.resolution_months)

),

delay_by_debtor as (

    select
        as_of_date,
        consolidated_debtor_id,
        sum(amount * days_late) / sum(amount) as days_late,
    from undisputed_settled
    group by all

),

delay_by_group as (

    select
        as_of_date,
        debtor_group_id,
        sum(amount * days_late) / sum(amount) as days_late,
    from undisputed_settled
    group by all

),

delay_by_entity as (

    select
        as_of_date,
        entity_code,
        sum(amount * days_late) / sum(amount) as days_late,
    from undisputed_settled
    group by all

),

resolution_by_entity as (

    select
        resolution_samples.as_of_date,
        resolution_samples.entity_code,
        case
            when count(*) >= any_value(parameters.resolution_min_disputes)
                then median(resolution_samples.resolution_days)
        end as median_days,
    from resolution_samples
    cross join parameters
    group by all

),

delays as (

    select as_of_date, 'debtor' as basis, consolidated_debtor_id as scope_id, days_late, from delay_by_debtor
    union all by name
    select as_of_date, 'debtor_group' as basis, debtor_group_id as scope_id, days_late, from delay_by_group
    union all by name
    select as_of_date, 'entity' as basis, entity_code as scope_id, days_late, from delay_by_entity
    union all by name
    select as_of_date, 'dispute_resolution' as basis, entity_code as scope_id, median_days, from resolution_by_entity

)

select * from delays
