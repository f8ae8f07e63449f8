{# Every month end from the first month with sales up to the last as-of date (SPEC section 7). #}
with

invoices as (

    select * from {{ ref('stg_raw__invoices') }}

),

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

first_sales_month as (

    select date_trunc('month', min(issue_date)) as first_month
    from invoices
    where not is_cancelled

),

month_ends as (

    select cast(last_day(month_start) as date) as month_end
    from first_sales_month,
        unnest(generate_series(
            first_sales_month.first_month,
            (select max(as_of_date) from as_of_dates),
            interval 1 month
        )) as months(month_start)

),

month_ends_up_to_as_of as (

    select month_end
    from month_ends
    where month_end <= (select max(as_of_date) from as_of_dates)

)

select * from month_ends_up_to_as_of
