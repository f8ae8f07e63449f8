{#
  dbt's get_where_subquery, overridden as dbt documents for placeholders in a
  data test's `where`: `where: "built_in_this_run:<column>"` filters the
  tested table with built_in_this_run(<column>) (macros/parameters.sql).
  A test's `where` cannot call a project macro itself, and writing the as-of
  dates there would make dbt parse the whole schema file again every night.
  More conditions may follow the column: `built_in_this_run:<column> and ...`.
  Any other `where` is applied as dbt does.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and where.startswith('built_in_this_run:') -%}
        {#- "built_in_this_run:<column> and <more conditions>" keeps the conditions after the column -#}
        {%- set parts = where.split(':', 1)[1].strip().split(' ', 1) -%}
        {%- set where = built_in_this_run(parts[0]) ~ (' ' ~ parts[1] if parts | length > 1 else '') -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
