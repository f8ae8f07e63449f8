{# One value of seeds/legal_parameters.csv, as a scalar subquery. #}
{% macro legal_parameter(name) -%}
    (select value from {{ ref('legal_parameters') }} where parameter = '{{ name }}')
{%- endmacro %}

{#
  The as-of dates this run builds, set by `receivables build` in the
  environment, not as dbt vars: dbt parses the whole project again whenever
  vars change. They are read only when dbt executes (`execute`), never while
  it parses, so that dbt does not tie them to any file and a new night keeps
  the whole saved parse.
#}
{% macro as_of_date(bound) -%}
    {%- if not execute -%}
        {{ return("date '1970-01-01'") }}
    {%- endif -%}
    {%- set value = env_var('RECEIVABLES_AS_OF_' ~ bound | upper, '') -%}
    {%- if not value -%}
        {{ exceptions.raise_compiler_error("set RECEIVABLES_AS_OF_FROM and RECEIVABLES_AS_OF_TO (receivables build --as-of DATE)") }}
    {%- endif -%}
    date '{{ value }}'
{%- endmacro %}

{#
  The date one window (a var, in days) before `day`: the earlier dates a run
  looks at, one overdue-growth window before each as-of date
  (int_evaluation_dates), one rating window before (int_debtor_risk_at_dates).
  Applied to the run's first as-of date, a constant of the run: a model that
  joins every document or rating to each date filters by it first, so that
  DuckDB leaves out, while it scans, the rows that can match no date (a
  document closed before the first date, a rating superseded before it). The
  joins keep their own conditions; the constant only narrows.
#}
{% macro window_before(day, window_var) -%}
    cast({{ day }} - to_days({{ var(window_var) }}) as date)
{%- endmacro %}

{#
  What a data test reads of a table that keeps history: the rows of this
  run's as-of dates (earlier dates were tested when they were built), or,
  for a column of extract dates, the rows landed since recent_extract_days
  before the run. A --full-refresh run tests everything.
#}
{% macro built_in_this_run(column, kind='as_of') -%}
    {%- if flags.FULL_REFRESH or column is none -%}
        true
    {%- elif kind == 'extract' -%}
        {{ column }} >= {{ as_of_date('from') }} - to_days({{ var('recent_extract_days') }})
    {%- else -%}
        {{ column }} between {{ as_of_date('from') }} and {{ as_of_date('to') }}
    {%- endif -%}
{%- endmacro %}
