{# One value of seeds/legal_parameters.csv, as a scalar subquery. #}
{% macro legal_parameter(name) -%}
    (select value from {{ ref('legal_parameters') }} where parameter = '{{ name }}')
{%- endmacro %}

{# The as-of dates this run builds (vars as_of_from and as_of_to, set by `receivables build`). #}
{% macro as_of_bounds() -%}
    {%- if var('as_of_from') is none or var('as_of_to') is none -%}
        {{ exceptions.raise_compiler_error("set vars as_of_from and as_of_to (receivables build --as-of DATE)") }}
    {%- endif -%}
    date '{{ var("as_of_from") }}', date '{{ var("as_of_to") }}'
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
        {{ column }} >= date '{{ var("as_of_from") }}' - to_days({{ var('recent_extract_days') }})
    {%- else -%}
        {{ column }} between {{ as_of_bounds() | replace(', ', ' and ') }}
    {%- endif -%}
{%- endmacro %}
