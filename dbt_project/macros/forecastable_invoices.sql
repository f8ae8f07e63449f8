{#
  The invoices the cash-in forecast forecasts at each as-of date (SPEC
  section 14): open invoices of external debtors with something left to
  collect. Credit notes, unapplied cash and group companies' invoices are
  not forecast. One definition for the promised parts and the items.
#}
{% macro forecastable_invoices() -%}
    select open_items.*
    from {{ ref('int_open_items_aged') }} as open_items
    where open_items.document_type = 'invoice'
        and open_items.open_amount > 0
        and not open_items.is_intercompany
{%- endmacro %}
