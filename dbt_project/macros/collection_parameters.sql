{#
  One row of the collection parameters a model uses (seed collection_parameters,
  SPEC sections 13 and 14), each an integer column named as asked:
  collection_parameters({'forecast_weeks': 'weeks'}) selects forecast_weeks as weeks.
#}
{% macro collection_parameters(columns) -%}
    select
        {%- for parameter, column in columns.items() %}
        max(case when parameter = '{{ parameter }}' then cast(value as integer) end) as {{ column }},
        {%- endfor %}
    from {{ ref('collection_parameters') }}
{%- endmacro %}
