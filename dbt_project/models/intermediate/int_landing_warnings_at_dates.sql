{#
  The landing warnings each as-of date lists (SPEC section 12), one issue
  each, as mart_data_issues lists them: its detail in words and a key
  unique for the date and entity (the drop's date, file, row and column, or
  the rule for the rows past the 50 listed).

  A drop's warnings are listed on its night, and after it for as long as
  the row a warning names is still the one that drop landed (a later drop
  has not sent it again): a garbled name or an implausible value stays in
  the figures, so it stays in the list. The count of the rows past the 50
  listed names no row, and is listed on its night only.
#}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

landing_warnings as (

    select * from {{ ref('stg_raw__landing_warnings') }}

),

current_rows as (

    select * from {{ ref('int_warned_rows') }}

),

warnings_with_their_rows as (

    select
        landing_warnings.*,
        current_rows.current_extract_date,
    from landing_warnings
    left join current_rows
        on current_rows.entity_code = landing_warnings.entity_code
        and current_rows.file_name = landing_warnings.file_name
        and current_rows.document_key = landing_warnings.document_key

),

listed as (

    select
        as_of_dates.as_of_date,
        warnings.entity_code,
        warnings.rule as kind,
        'warning' as severity,
        warnings.file_name
        || coalesce(' row ' || warnings.row_number, '')
        || coalesce(', ' || warnings.column_name, '')
        || ': ' || warnings.message
        || coalesce(', found ' || warnings.found, '')
        || case
            when warnings.extract_date < as_of_dates.as_of_date
                then ' (extrait du ' || {{ fr_date('warnings.extract_date') }} || ', toujours dans l''entrepôt)'
            else ''
        end as detail,
        strftime(warnings.extract_date, '%Y-%m-%d') || ':' || warnings.file_name
        || ':' || coalesce(cast(warnings.row_number as varchar), warnings.rule || ':more')
        || coalesce(':' || warnings.column_name, '')
            as issue_key,
        warnings.file_name,
        warnings.column_name,
        warnings.document_key,
        warnings.currency,
        warnings.row_number,
        warnings.items,
        warnings.amount,
    from as_of_dates
    inner join warnings_with_their_rows as warnings
        on warnings.extract_date = as_of_dates.as_of_date
        or (
            warnings.extract_date < as_of_dates.as_of_date
            -- the row as that drop landed it: not sent again since (a later drop's row replaced it)
            and (
                warnings.current_extract_date = warnings.extract_date
                or warnings.current_extract_date > as_of_dates.as_of_date
            )
        )

)

select * from listed
