{# Insured exposure is never negative nor above the positive exposure; insured + uninsured = exposure. #}
{% test insured_within_exposure(model) %}
select *
from {{ model }}
where insured_eur < 0
    or insured_eur > greatest(exposure_eur, 0) + 0.01 * debtor_count
    or insured_eur + uninsured_eur <> exposure_eur
{% endtest %}
