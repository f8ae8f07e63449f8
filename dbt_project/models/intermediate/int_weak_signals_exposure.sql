{#
  The weak signals of default read from each debtor group's exposure at an
  as-of date (SPEC section 8): insolvency proceedings, rating downgrades,
  exposure over the insurer's cover or the credit limit, lengthening
  delays, payment reversals, a high share of the group's exposure. One row
  per signal, as mart_weak_signals publishes them.
#}
with

exposure as (

    select * from {{ ref('int_debtor_group_exposure') }}

),

debtor_risk as (

    select * from {{ ref('int_debtor_risk_at_dates') }}

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
        {{ value_label('mart_debtor_exposure', 'insolvency_status', 'exposure.insolvency_status') }}
        || ' : procédure ouverte le ' || {{ fr_date('exposure.insolvency_date') }}
        || ' ; déclarer la créance avant le ' || {{ fr_date('exposure.insolvency_claim_deadline') }} as detail,
    from exposure
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

)

select * from signals
