{#
  A settlement line is in its document's currency and on its document's
  debtor (SPEC section 3); landing checks that the document exists, this
  checks that it is the right one.
#}
{% test payment_matches_document(model) %}
select
    lines.entity_code,
    lines.settlement_id,
    lines.line_no,
    lines.currency as line_currency,
    documents.currency as document_currency,
    lines.debtor_id as line_debtor_id,
    documents.debtor_id as document_debtor_id
from {{ model }} as lines
inner join {{ ref('stg_raw__invoices') }} as documents
    on documents.entity_code = lines.entity_code
    and documents.document_id = lines.document_id
where lines.currency <> documents.currency
    or lines.debtor_id <> documents.debtor_id
{% endtest %}
