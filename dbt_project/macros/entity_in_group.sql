{#
  True while the entity is in the group on the date: not retired, or
  retired after it (registry retired_on; docs/operations.md, "Retiring an
  entity"). From its retired_on date a retired entity's open items, DSO
  and forecast leave the figures; earlier dates keep them.
#}
{% macro entity_in_group(entities, on_date) -%}
({{ entities }}.retired_on is null or {{ on_date }} < {{ entities }}.retired_on)
{%- endmacro %}
