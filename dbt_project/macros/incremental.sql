{#
  For incremental models kept per document (int_document_balances,
  int_dso_document_months): the CTEs built_through and touched_documents.
  A night touches the documents of the invoices and settlement lines landed
  since the model's last build, and those a re-sent line left
  (raw.settlement_line_moves). The mark is per entity and inclusive, so that
  an entity's drop landed after other entities' later nights is still seen,
  and a night landed again is read again. The model defines the CTEs
  `invoices` and `payments` (settlement lines applied to a document) and
  keeps changed_through, the latest extract date it has read per document.
#}
{% macro touched_documents_ctes() -%}
built_through as (

    select entity_code, max(changed_through) as extract_date
    from {{ this }}
    group by entity_code

),

touched_documents as (

    select invoices.entity_code, invoices.document_id
    from invoices
    left join built_through using (entity_code)
    where invoices.extract_date >= coalesce(built_through.extract_date, date '1900-01-01')

    union

    select payments.entity_code, payments.document_id
    from payments
    left join built_through using (entity_code)
    where payments.extract_date >= coalesce(built_through.extract_date, date '1900-01-01')

    union

    select moves.entity_code, moves.previous_document_id as document_id
    from {{ source('raw', 'settlement_line_moves') }} as moves
    left join built_through using (entity_code)
    where moves.extract_date >= coalesce(built_through.extract_date, date '1900-01-01')

)
{%- endmacro %}
