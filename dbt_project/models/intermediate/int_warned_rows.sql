{#
  The drop that wrote each row a landing warning names, as the warehouse
  holds the row now (one row per entity, file and key): a warning stays
  listed while this is its own drop (int_landing_warnings_at_dates). The
  keys are written as landing.row_key writes them (dates ISO, integers
  bare); only the warned keys are looked up.
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

row_warnings as (

    select * from {{ ref('stg_raw__landing_warnings') }}
    where document_key is not null

),

current_rows as (

    {% for extract, key in warned_keys %}
        {% if not loop.first %}union all{% endif %}
        select
            raw_rows.entity_code,
            '{{ extract }}.csv' as file_name,
            {{ key }} as document_key,
            raw_rows.extract_date as current_extract_date,
        from {{ ref('stg_raw__' ~ extract) }} as raw_rows
        semi join row_warnings
            on row_warnings.entity_code = raw_rows.entity_code
            and row_warnings.file_name = '{{ extract }}.csv'
            and row_warnings.document_key = {{ key }}
    {% endfor %}

)

select * from current_rows
