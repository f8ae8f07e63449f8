{#
  Risk of each consolidated debtor at each as-of date and one rating window
  earlier: the worst current class across entities and providers (prudence),
  any default, and the latest insolvency status (SPEC section 6). A debtor's
  current rating per entity and provider is its latest rated_at on or before
  the date: the row not yet superseded then (int_rating_periods).
#}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

ratings as (

    select * from {{ ref('int_rating_periods') }}

),

debtors as (

    select * from {{ ref('int_debtors_resolved') }}

),

risk_dates as (

    select as_of_date, as_of_date as risk_date from as_of_dates
    union all
    select
        as_of_date,
        {{ window_before('as_of_date', 'weak_signal_rating_window_days') }} as risk_date,
    from as_of_dates

),

current_ratings as (

    select
        risk_dates.as_of_date,
        risk_dates.risk_date,
        ratings.*,
        debtors.consolidated_debtor_id,
        debtors.debtor_group_id,
    from risk_dates
    inner join ratings
        on ratings.rated_at <= risk_dates.risk_date
        and coalesce(ratings.superseded_on > risk_dates.risk_date, true)
    inner join debtors
        on debtors.entity_code = ratings.entity_code
        and debtors.debtor_id = ratings.debtor_id
    where ratings.is_known_provider
        -- the same, against the run's first and last dates (macros/parameters.sql): read while scanning
        and coalesce(ratings.superseded_on > {{ window_before(as_of_date('from'), 'weak_signal_rating_window_days') }}, true)
        and ratings.rated_at <= {{ as_of_date('to') }}

),

worst_class as (

    select
        as_of_date,
        risk_date,
        consolidated_debtor_id,
        any_value(debtor_group_id) as debtor_group_id,
        max(risk_class) as worst_risk_class,
        bool_or(coalesce(is_default, false)) as is_in_default,
        max(rated_at) as last_rated_at,
        -- the latest rating's insolvency: on equal dates the later proceeding, then the graver status
        arg_max(
            { 'insolvency_status': insolvency_status, 'insolvency_date': insolvency_date },
            (rated_at, coalesce(insolvency_date, date '0001-01-01'), insolvency_status)
        ) as latest_insolvency,
    from current_ratings
    group by all

),

debtor_risk as (

    select
        worst_class.as_of_date,
        worst_class.risk_date,
        worst_class.consolidated_debtor_id,
        worst_class.debtor_group_id,
        worst_class.latest_insolvency.insolvency_status,
        worst_class.worst_risk_class,
        worst_class.is_in_default,
        worst_class.risk_date = worst_class.as_of_date as is_as_of_date,
        worst_class.last_rated_at,
        case
            when worst_class.latest_insolvency.insolvency_status <> 'none'
                then worst_class.latest_insolvency.insolvency_date
        end as insolvency_date,
    from worst_class

)

select * from debtor_risk
