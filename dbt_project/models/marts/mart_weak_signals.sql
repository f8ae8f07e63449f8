{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
    )
}}
{#
  Weak signals of default per debtor group and as-of date (SPEC section 8),
  each with its date and the amount at stake in EUR. Thresholds are vars.
#}
with

exposure as (

    select * from {{ ref('int_debtor_group_exposure') }}

),

debtor_risk as (

    select * from {{ ref('int_debtor_risk_at_dates') }}

),

evaluation_dates as (

    select * from {{ ref('int_evaluation_dates') }}

),

open_items as (

    select * from {{ ref('int_open_items_converted') }}

),

reversals as (

    select * from {{ ref('int_payment_reversals') }}

),

insolvency_opened as (

    select
        exposure.as_of_date,
        exposure.debtor_group_id,
        'insolvency_proceeding' as signal,
        exposure.insolvency_date as signal_date,
        exposure.exposure_eur as amount_eur,
        coalesce(insolvency_labels.description, exposure.insolvency_status) || ' ouverte le '
        || {{ fr_date('exposure.insolvency_date') }} || ' ; déclarer la créance avant le '
        || {{ fr_date('exposure.insolvency_claim_deadline') }} as detail,
    from exposure
    left join {{ ref('insolvency_statuses') }} as insolvency_labels
        on insolvency_labels.insolvency_status = exposure.insolvency_status
    where exposure.insolvency_status <> 'none'
        and exposure.insolvency_date is not null

),

group_class_then_and_now as (

    select
        now_risk.as_of_date,
        now_risk.debtor_group_id,
        max(now_risk.worst_risk_class) as class_now,
        max(now_risk.last_rated_at) as last_rated_at,
    from debtor_risk as now_risk
    where now_risk.is_as_of_date
    group by all

),

group_class_before as (

    select
        before_risk.as_of_date,
        before_risk.debtor_group_id,
        max(before_risk.worst_risk_class) as class_before,
    from debtor_risk as before_risk
    where not before_risk.is_as_of_date
    group by all

),

rating_downgrades as (

    select
        exposure.as_of_date,
        exposure.debtor_group_id,
        'rating_downgrade' as signal,
        group_class_then_and_now.last_rated_at as signal_date,
        exposure.exposure_eur as amount_eur,
        'classe de risque la plus mauvaise passée de ' || cast(group_class_before.class_before as varchar)
        || ' à ' || cast(group_class_then_and_now.class_now as varchar) || ' en '
        || '{{ var("weak_signal_rating_window_days") }} jours' as detail,
    from exposure
    inner join group_class_then_and_now
        on group_class_then_and_now.as_of_date = exposure.as_of_date
        and group_class_then_and_now.debtor_group_id = exposure.debtor_group_id
    inner join group_class_before
        on group_class_before.as_of_date = exposure.as_of_date
        and group_class_before.debtor_group_id = exposure.debtor_group_id
    where group_class_then_and_now.class_now - group_class_before.class_before
        >= {{ var('weak_signal_rating_drop_classes') }}

),

over_cover_or_limit as (

    select
        as_of_date,
        debtor_group_id,
        'exposure_over_cover' as signal,
        as_of_date as signal_date,
        over_cover_eur as amount_eur,
        'encours de ' || {{ fr_amount('exposure_eur') }} || ' EUR au-delà de la garantie de l''assureur de '
        || {{ fr_amount('cover_eur') }} || ' EUR' as detail,
    from exposure
    where over_cover_eur > 0

    union all

    select
        as_of_date,
        debtor_group_id,
        'exposure_over_limit' as signal,
        as_of_date as signal_date,
        over_limit_eur as amount_eur,
        'encours au-delà de la limite de crédit interne de ' || {{ fr_amount('over_limit_eur') }} || ' EUR'
            as detail,
    from exposure
    where over_limit_eur > 0

),

delays_lengthening as (

    select
        as_of_date,
        debtor_group_id,
        'payment_delays_lengthening' as signal,
        as_of_date as signal_date,
        overdue_eur as amount_eur,
        'retard moyen passé de ' || {{ fr_number('avg_days_late_prior_90d') }} || ' à '
        || {{ fr_number('avg_days_late_90d') }} || ' jours' as detail,
    from exposure
    where days_late_lengthening > {{ var('weak_signal_delay_lengthening_days') }}

),

payment_reversals as (

    select
        exposure.as_of_date,
        exposure.debtor_group_id,
        'payment_reversal' as signal,
        reversals.last_reversal_date as signal_date,
        exposure.exposure_eur as amount_eur,
        cast(reversals.reversal_count as varchar) || ' rejet(s) de paiement en '
        || '{{ var("weak_signal_reversal_window_days") }} jours, '
        || {{ fr_amount('reversals.reversed_amount') }} || ' ' || reversals.currencies as detail,
    from exposure
    inner join reversals
        on reversals.as_of_date = exposure.as_of_date
        and reversals.debtor_group_id = exposure.debtor_group_id

),

high_share as (

    select
        as_of_date,
        debtor_group_id,
        'high_share_of_exposure' as signal,
        as_of_date as signal_date,
        exposure_eur as amount_eur,
        'part de l''encours du groupe : ' || {{ fr_number('share * 100') }} || ' %' as detail,
    from exposure
    where share > {{ var('weak_signal_share_of_exposure') }}

),

overdue_by_date as (

    select
        evaluation_dates.as_of_date,
        evaluation_dates.is_as_of_date,
        open_items.debtor_group_id,
        sum(open_items.overdue_amount_eur) as overdue_eur,
    from evaluation_dates
    inner join open_items
        on open_items.evaluation_date = evaluation_dates.evaluation_date
    where open_items.is_overdue
        and not open_items.is_intercompany
    group by all

),

overdue_growth as (

    select
        overdue_now.as_of_date,
        overdue_now.debtor_group_id,
        'overdue_growth' as signal,
        overdue_now.as_of_date as signal_date,
        overdue_now.overdue_eur - overdue_before.overdue_eur as amount_eur,
        'échu de ' || {{ fr_amount('overdue_before.overdue_eur') }} || ' EUR il y a '
        || '{{ var("weak_signal_overdue_window_days") }} jours, '
        || {{ fr_amount('overdue_now.overdue_eur') }} || ' EUR aujourd''hui' as detail,
    from overdue_by_date as overdue_now
    inner join overdue_by_date as overdue_before
        on overdue_before.as_of_date = overdue_now.as_of_date
        and overdue_before.debtor_group_id = overdue_now.debtor_group_id
        and not overdue_before.is_as_of_date
    where overdue_now.is_as_of_date
        and overdue_before.overdue_eur > 0
        and overdue_now.overdue_eur > overdue_before.overdue_eur * (1 + {{ var('weak_signal_overdue_growth_ratio') }})

),

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
    from {{ ref('mart_disputes') }} as disputes
    inner join {{ ref('int_debtors_resolved') }} as debtors
        on debtors.entity_code = disputes.entity_code
        and debtors.debtor_id = disputes.debtor_id
        and not debtors.is_intercompany
    where disputes.as_of_date in (select as_of_dates.as_of_date from {{ ref('int_as_of_dates') }} as as_of_dates)
        and disputes.age_days > {{ var('weak_signal_dispute_open_days') }}
    group by all

),

signals as (

    select * from insolvency_opened
    union all by name
    select * from rating_downgrades
    union all by name
    select * from over_cover_or_limit
    union all by name
    select * from delays_lengthening
    union all by name
    select * from payment_reversals
    union all by name
    select * from high_share
    union all by name
    select * from overdue_growth
    union all by name
    select * from broken_promises
    union all by name
    select * from repeated_payment_plans
    union all by name
    select * from long_disputes

)

select
    as_of_date,
    debtor_group_id,
    signal,
    detail,
    cast(amount_eur as decimal(18, 2)) as amount_eur,
    signal_date,
from signals
