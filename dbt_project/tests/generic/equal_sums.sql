{#
  Amount identity: per group of keys, the sum of a column of this model equals
  the sum of a column of another model (e.g. aging buckets = net encours).
  With as_of_column, both sides are read for this run's as-of dates only
  (the marts keep history; fct_open_items keeps fewer dates than the others).
#}
{% test equal_sums(model, column, compare_model, compare_column, group_by, as_of_column=none) %}
with this_side as (
    select {{ group_by | join(', ') }}, sum({{ column }}) as total
    from {{ model }}
    where {{ built_in_this_run(as_of_column) }}
    group by all
),
other_side as (
    select {{ group_by | join(', ') }}, sum({{ compare_column }}) as total
    from {{ compare_model }}
    where {{ built_in_this_run(as_of_column) }}
    group by all
)
select *
from this_side
full outer join other_side using ({{ group_by | join(', ') }})
where coalesce(this_side.total, 0) <> coalesce(other_side.total, 0)
{% if as_of_column %}
    and {{ as_of_column }} in (select {{ as_of_column }} from {{ model }} where {{ built_in_this_run(as_of_column) }})
    and {{ as_of_column }} in (select {{ as_of_column }} from {{ compare_model }} where {{ built_in_this_run(as_of_column) }})
{% endif %}
{% endtest %}
