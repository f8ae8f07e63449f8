{#
  A seed of day ranges has no gap and no overlap: sorted by lower bound, each
  range starts the day after the previous one ends; a null lower bound is the
  open start and a null upper bound the open end, each at most once.
#}
{% test contiguous_ranges(model, lower, upper, partition_by=none) %}
with ranges as (
    select
        {{ lower }} as lower_bound,
        {{ upper }} as upper_bound,
        lag({{ upper }}) over (
            {% if partition_by %}partition by {{ partition_by }}{% endif %}
            order by {{ lower }} nulls first
        ) as previous_upper,
        row_number() over (
            {% if partition_by %}partition by {{ partition_by }}{% endif %}
            order by {{ lower }} nulls first
        ) as position,
        count(*) over ({% if partition_by %}partition by {{ partition_by }}{% endif %}) as range_count
    from {{ model }}
)
select *
from ranges
where (position > 1 and (lower_bound is null or previous_upper is null or lower_bound <> previous_upper + 1))
    or (upper_bound is null and position <> range_count)
    or (upper_bound is not null and lower_bound is not null and upper_bound < lower_bound)
{% endtest %}
