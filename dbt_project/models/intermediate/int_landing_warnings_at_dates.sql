{#
  The rows of each as-of date's drops that broke a warning rule on landing
  (SPEC section 12), one issue each, as mart_data_issues lists them: its
  detail in words and a key unique for the date and entity (file, row and
  column, or the rule for the rows past the 50 listed).
#}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

landing_warnings as (

    select * from {{ ref('stg_raw__landing_warnings') }}

),

warnings_of_the_night as (

    select
        as_of_dates.as_of_date,
        landing_warnings.entity_code,
        landing_warnings.rule as kind,
        'warning' as severity,
        landing_warnings.file_name
        || coalesce(' row ' || landing_warnings.row_number, '')
        || coalesce(', ' || landing_warnings.column_name, '')
        || ': ' || landing_warnings.message
        || coalesce(', found ' || landing_warnings.found, '') as detail,
        landing_warnings.file_name
        || ':' || coalesce(cast(landing_warnings.row_number as varchar), landing_warnings.rule || ':more')
        || coalesce(':' || landing_warnings.column_name, '')
            as issue_key,
        landing_warnings.file_name,
        landing_warnings.column_name,
        landing_warnings.document_key,
        landing_warnings.currency,
        landing_warnings.row_number,
        landing_warnings.items,
        landing_warnings.amount,
    from as_of_dates
    inner join landing_warnings
        on landing_warnings.extract_date = as_of_dates.as_of_date

)

select * from warnings_of_the_night
