{#
  dbt's get_where_subquery, overridden as dbt documents for placeholders in a
  data test's `where`: `where: "built_in_this_run:<column>"` filters the
  tested table with built_in_this_run(<column>) (macros/parameters.sql).
  A test's `where` cannot call a project macro itself, and writing the as-of
  dates there would make dbt parse the whole schema file again every night.
  Any other `where` is applied as dbt does.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and where.startswith('built_in_this_run:') -%}
        {%- set where = built_in_this_run(where.split(':', 1)[1].strip()) -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
