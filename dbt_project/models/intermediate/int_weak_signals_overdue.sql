{#
  The weak signal of an overdue amount growing fast (SPEC section 8): a
  debtor group's overdue at the as-of date against the window before. One
  row per signal, as mart_weak_signals publishes them.
#}
with

evaluation_dates as (

    select * from {{ ref('int_evaluation_dates') }}

),

open_items as (

    select * from {{ ref('int_open_items_converted') }}

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

)

select * from overdue_growth
