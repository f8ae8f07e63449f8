{#
  Amount identity: per group of keys, the sum of a column of this model equals
  the sum of a column of another model (e.g. aging buckets = net encours).
  With common_column, only values of that column present on both sides are
  compared (fct_open_items keeps fewer as-of dates than the aggregates).
#}
{% test equal_sums(model, column, compare_model, compare_column, group_by, common_column=none) %}
with this_side as (
    select {{ group_by | join(', ') }}, sum({{ column }}) as total
    from {{ model }}
    group by all
),
other_side as (
    select {{ group_by | join(', ') }}, sum({{ compare_column }}) as total
    from {{ compare_model }}
    group by all
)
select *
from this_side
full outer join other_side using ({{ group_by | join(', ') }})
where coalesce(this_side.total, 0) <> coalesce(other_side.total, 0)
{% if common_column %}
    and {{ common_column }} in (select {{ common_column }} from {{ model }})
    and {{ common_column }} in (select {{ common_column }} from {{ compare_model }})
{% endif %}
{% endtest %}
