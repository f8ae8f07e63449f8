{#
  A settlement line is in its document's currency and on its document's
  debtor (SPEC section 3), for the lines and the documents written lately
  (either side may have changed). Landing checks a line against its
  document; a document re-sent in another currency than the lines already
  settling it is seen here, and the build takes its drop back out
  (receivables.isolation, SPEC section 12).
#}
{% test payment_matches_document(model) %}
with recent_lines as (
    select entity_code, settlement_id, line_no, document_id, currency, debtor_id
    from {{ model }}
    where document_id is not null and {{ built_in_this_run('extract_date', 'extract') }}
),
recent_documents as (
    select entity_code, document_id, currency, debtor_id
    from {{ ref('stg_raw__invoices') }}
    where {{ built_in_this_run('extract_date', 'extract') }}
),
pairs as (
    select lines.entity_code, lines.settlement_id, lines.line_no, lines.document_id,
        lines.currency as line_currency, documents.currency as document_currency,
        lines.debtor_id as line_debtor_id, documents.debtor_id as document_debtor_id
    from recent_lines as lines
    inner join {{ ref('stg_raw__invoices') }} as documents
        on documents.entity_code = lines.entity_code and documents.document_id = lines.document_id
    union all
    select lines.entity_code, lines.settlement_id, lines.line_no, lines.document_id,
        lines.currency, documents.currency,
        lines.debtor_id, documents.debtor_id
    from recent_documents as documents
    inner join {{ model }} as lines
        on lines.entity_code = documents.entity_code and lines.document_id = documents.document_id
)
select *
from pairs
where line_currency <> document_currency or line_debtor_id <> document_debtor_id
{% endtest %}
