{#
  Every month end from the first month with sales up to the last as-of date
  (SPEC section 7). The last as-of date is the later of this run's and the
  latest night landed, so rebuilding an older date keeps the later months.
  The first month with sales is that of a document issued within
  date_horizon_years of its extract date: an ERP's placeholder date (1900,
  0001) is a warning on landing (SPEC section 12) and would otherwise add a
  month end per month since then to every model after this one
  (docs/decisions.md, "The boundary"). Such a document still counts in the
  encours, from the first month end on (int_dso_balances).
#}
with

invoices as (

    select * from {{ ref('stg_raw__invoices') }}

),

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

landing_log as (

    select * from {{ ref('stg_raw__landing_log') }}

),

last_as_of as (

    select greatest(
        (select max(as_of_date) from as_of_dates),
        coalesce((
            select max(extract_date) from landing_log
            where landing_status = 'ok'
        ), date '1900-01-01')
    ) as last_as_of_date

),

first_sales_month as (

    select date_trunc('month', min(issue_date)) as first_month
    from invoices
    where not is_cancelled
        and issue_date >= extract_date - to_years({{ var('date_horizon_years') }})

),

month_ends as (

    select cast(last_day(months.month_start) as date) as month_end
    from first_sales_month,
        unnest(generate_series(
            first_sales_month.first_month,
            (select last_as_of_date from last_as_of),
            interval 1 month
        )) as months (month_start)

),

month_ends_up_to_as_of as (

    select month_end
    from month_ends
    where month_end <= (select last_as_of.last_as_of_date from last_as_of)

)

select * from month_ends_up_to_as_of
