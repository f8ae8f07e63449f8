{#
  The grain test: no two rows share these columns. With as_of_column, only
  this run's as-of dates are read. With extract_column (raw tables and
  incremental models, whose writers replace every key they write), only the
  rows written lately are read: a duplicate can only come in with them.
#}
{% test unique_combination(model, columns, as_of_column=none, extract_column=none) %}
select {{ columns | join(', ') }}, count(*) as row_count
from {{ model }}
where {{ built_in_this_run(as_of_column) }}
    and {{ built_in_this_run(extract_column, 'extract') }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
