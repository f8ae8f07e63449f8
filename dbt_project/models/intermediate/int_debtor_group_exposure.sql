{#
  Risk per debtor group at this run's as-of dates, in EUR, external debtors
  only (SPEC sections 6 and 8), published as mart_debtor_exposure and read by
  mart_concentration and mart_weak_signals. Shares are of the sum of positive group exposures;
  groups with a net credit balance have no share and no rank.
#}
with

entity_exposure as (

    select * from {{ ref('int_entity_debtor_exposure') }}

),

debtor_risk as (

    select * from {{ ref('int_debtor_risk_at_dates') }}
    where is_as_of_date

),

consolidated_debtors as (

    select * from {{ ref('int_consolidated_debtors') }}

),

payment_behaviour as (

    select * from {{ ref('int_payment_behaviour') }}

),

insolvency_severity as (

    select * from {{ ref('insolvency_statuses') }}

),

group_exposure as (

    select
        as_of_date,
        debtor_group_id,
        sum(exposure_eur) as exposure_eur,
        sum(overdue_eur) as overdue_eur,
        sum(coalesce(cover_eur, 0)) as cover_eur,
        sum(insured_eur) as insured_eur,
        sum(uninsured_eur) as uninsured_eur,
        sum(over_cover_eur) as over_cover_eur,
        sum(over_limit_eur) as over_limit_eur,
        count(distinct entity_code) as entity_count,
        count(distinct consolidated_debtor_id) as debtor_count,
    from entity_exposure
    group by all

),

most_severe_insolvency as (

    select
        debtor_risk.as_of_date,
        debtor_risk.debtor_group_id,
        debtor_risk.insolvency_status,
        debtor_risk.insolvency_date,
    from debtor_risk
    inner join insolvency_severity
        on insolvency_severity.insolvency_status = debtor_risk.insolvency_status
    qualify row_number() over (
            partition by debtor_risk.as_of_date, debtor_risk.debtor_group_id
            order by
                insolvency_severity.severity desc, debtor_risk.insolvency_date desc nulls last,
                debtor_risk.consolidated_debtor_id asc
        ) = 1

),

group_risk as (

    select
        debtor_risk.as_of_date,
        debtor_risk.debtor_group_id,
        max(debtor_risk.worst_risk_class) as worst_risk_class,
        bool_or(debtor_risk.is_in_default) as is_in_default,
        any_value(most_severe_insolvency.insolvency_status) as insolvency_status,
        any_value(most_severe_insolvency.insolvency_date) as insolvency_date,
    from debtor_risk
    inner join most_severe_insolvency
        on most_severe_insolvency.as_of_date = debtor_risk.as_of_date
        and most_severe_insolvency.debtor_group_id = debtor_risk.debtor_group_id
    group by all

),

group_names as (

    select
        debtor_group_id,
        coalesce(
            max(case when consolidated_debtor_id = debtor_group_id then consolidated_debtor_name end),
            min(consolidated_debtor_name)
        ) as debtor_group_name,
    from consolidated_debtors
    group by all

),

shares as (

    select
        group_exposure.*,
        sum(case when group_exposure.exposure_eur > 0 then group_exposure.exposure_eur end)
            over (partition by group_exposure.as_of_date)
            as total_exposure_eur,
    from group_exposure

),

ranked as (

    select
        shares.*,
        case when shares.exposure_eur > 0 then shares.exposure_eur / shares.total_exposure_eur end as share,
        case
            when shares.exposure_eur > 0
                then row_number() over (
                        partition by shares.as_of_date, shares.exposure_eur > 0
                        order by shares.exposure_eur desc, shares.debtor_group_id asc
                    )
        end as rank,
    from shares

),

cumulated as (

    select
        ranked.*,
        case
            when ranked.rank is not null
                then sum(ranked.share) over (
                        partition by ranked.as_of_date, ranked.rank is not null
                        order by ranked.rank rows between unbounded preceding and current row
                    )
        end as cumulative_share,
    from ranked

)

select
    cumulated.as_of_date,
    cumulated.debtor_group_id,
    group_names.debtor_group_name,
    coalesce(group_risk.insolvency_status, 'none') as insolvency_status,
    cast(cumulated.exposure_eur as decimal(18, 2)) as exposure_eur,
    cast(cumulated.overdue_eur as decimal(18, 2)) as overdue_eur,
    cumulated.share,
    cumulated.rank,
    cumulated.cumulative_share,
    group_risk.worst_risk_class,
    cast(cumulated.cover_eur as decimal(18, 2)) as cover_eur,
    cast(cumulated.insured_eur as decimal(18, 2)) as insured_eur,
    cast(cumulated.uninsured_eur as decimal(18, 2)) as uninsured_eur,
    cast(cumulated.over_cover_eur as decimal(18, 2)) as over_cover_eur,
    cast(cumulated.over_limit_eur as decimal(18, 2)) as over_limit_eur,
    payment_behaviour.avg_days_to_pay_90d,
    payment_behaviour.avg_days_late_90d,
    payment_behaviour.avg_days_late_prior_90d,
    payment_behaviour.days_late_lengthening,
    cumulated.entity_count,
    cumulated.debtor_count,
    coalesce(group_risk.is_in_default, false) as is_in_default,
    group_risk.insolvency_date,
    cast(
        group_risk.insolvency_date + to_months(cast({{ legal_parameter('insolvency_claim_months') }} as integer)) as date
    ) as insolvency_claim_deadline,
from cumulated
left join group_risk
    on group_risk.as_of_date = cumulated.as_of_date
    and group_risk.debtor_group_id = cumulated.debtor_group_id
left join group_names
    on group_names.debtor_group_id = cumulated.debtor_group_id
left join payment_behaviour
    on payment_behaviour.as_of_date = cumulated.as_of_date
    and payment_behaviour.debtor_group_id = cumulated.debtor_group_id
