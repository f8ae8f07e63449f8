{#
  Insured exposure is never negative nor above the cover, and insured +
  uninsured = exposure. Reads this run's as-of dates. (It may exceed a group's net exposure: an entity's
  credit balance is not netted against another entity's insured debt.)
#}
{% test insured_within_exposure(model) %}
select *
from {{ model }}
where {{ built_in_this_run('as_of_date') }}
    and (insured_eur < 0
    or insured_eur > cover_eur
    or insured_eur + uninsured_eur <> exposure_eur)
{% endtest %}
