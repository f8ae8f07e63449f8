{# Schemas are named as configured (raw, staging, intermediate, marts, reference), without a target prefix. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}
