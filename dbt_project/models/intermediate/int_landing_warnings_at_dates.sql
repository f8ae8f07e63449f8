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
{%- set warned_keys = [
    ('debtors', "raw_rows.debtor_id"),
    ('invoices', "raw_rows.document_id"),
    ('payments', "raw_rows.settlement_id || ' / ' || cast(raw_rows.line_no as varchar)"),
    ('risk_ratings',
        "raw_rows.debtor_id || ' / ' || raw_rows.provider || ' / ' || strftime(raw_rows.rated_at, '%Y-%m-%d')"),
    ('fx_rates', "strftime(raw_rows.rate_date, '%Y-%m-%d') || ' / ' || raw_rows.currency"),
    ('collection_events', "raw_rows.event_id"),
] -%}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

landing_warnings as (

    select * from {{ ref('stg_raw__landing_warnings') }}

),

row_warnings as (

    select * from landing_warnings
    where document_key is not null

),

-- the drop that wrote each warned row as the warehouse holds it now; the keys are written as
-- landing.row_key writes them (dates ISO, integers bare); only the warned keys are looked up
current_rows as (

    {% for extract, key in warned_keys %}
        {% if not loop.first %}union all{% endif %}
        select
            raw_rows.entity_code,
            '{{ extract }}.csv' as file_name,
            {{ key }} as document_key,
            raw_rows.extract_date as current_extract_date,
        from {{ source('raw', extract) }} as raw_rows
        semi join row_warnings
            on row_warnings.entity_code = raw_rows.entity_code
            and row_warnings.file_name = '{{ extract }}.csv'
            and row_warnings.document_key = {{ key }}
    {% endfor %}

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
