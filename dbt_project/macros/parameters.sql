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
