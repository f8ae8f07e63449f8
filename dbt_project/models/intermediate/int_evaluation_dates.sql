{#
  Dates at which open items are evaluated: every as-of date, and the date one
  overdue-growth window earlier (weak signal "overdue amount up by half").
#}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

evaluation_dates_unioned as (

    select as_of_date, as_of_date as evaluation_date, true as is_as_of_date from as_of_dates
    union all
    select
        as_of_date,
        {{ window_before('as_of_date', 'weak_signal_overdue_window_days') }} as evaluation_date,
        false as is_as_of_date,
    from as_of_dates

)

select * from evaluation_dates_unioned
