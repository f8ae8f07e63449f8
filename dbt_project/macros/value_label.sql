{#
  The French label of the code an expression holds, as the marts' YAML gives
  it for mart.column (config.meta.labels: the one place a label is written,
  read by the reports and the dashboards too); the code itself when it has
  none. For the text a model writes (a weak signal's detail). dbt's unit
  tests run without the graph: there the code stands for its label (the
  data test value_labels_reach_the_models checks the real thing).
#}
{% macro value_label(mart, column, expression) -%}
    {%- set labels = {} -%}
    {%- set node = (graph.get('nodes') or {}).get('model.' ~ project_name ~ '.' ~ mart) if execute else none -%}
    {%- if node -%}
        {%- set labels = node.columns[column].meta.labels -%}
    {%- endif -%}
    {%- if labels -%}
        case {{ expression }}
        {%- for code, label in labels.items() %} when '{{ code }}' then '{{ label | replace("'", "''") }}'{%- endfor %}
            else {{ expression }}
        end
    {%- else -%}
        {{ expression }}
    {%- endif -%}
{%- endmacro %}
