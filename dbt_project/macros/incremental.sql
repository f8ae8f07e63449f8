{#
  Incremental models read exactly the drops loaded since their last build.
  Every load gives the landing log a new load_id; each incremental model
  stores on the rows it writes the highest load_id it has read
  (loaded_through). A night's build reads the rows of the (entity, extract
  date) pairs loaded since: whatever their extract dates (an entity that
  delivers late is seen), and again when a night is landed again. A model
  built before loaded_through existed reads every drop once.
#}
{% macro loaded_through() -%}
(select coalesce(max(load_id), 0) from {{ ref('stg_raw__landing_log') }})
{%- endmacro %}


{% macro landed_since_last_build_cte() -%}
{%- set built_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list if execute else [] -%}
landed_since_last_build as (

    select entity_code, extract_date
    from {{ ref('stg_raw__landing_log') }}
    where load_id > {% if 'loaded_through' in built_columns -%}
        (select coalesce(max(loaded_through), -1) from {{ this }})
    {%- else -%}
        -1
    {%- endif %}

)
{%- endmacro %}


{#
  For the models kept per document (int_document_balances,
  int_dso_document_months): the documents a night touched. Those of the
  invoices and settlement lines loaded since the last build, and those a
  re-sent line left (stg_raw__settlement_line_moves). The model defines the CTEs
  `invoices` and `payments` (settlement lines applied to a document).
#}
{% macro touched_documents_ctes() -%}
{{ landed_since_last_build_cte() }},

touched_documents as (

    select entity_code, document_id
    from invoices
    semi join landed_since_last_build using (entity_code, extract_date)

    union

    select entity_code, document_id
    from payments
    semi join landed_since_last_build using (entity_code, extract_date)

    union

    select entity_code, previous_document_id as document_id
    from {{ ref('stg_raw__settlement_line_moves') }}
    semi join landed_since_last_build using (entity_code, extract_date)

)
{%- endmacro %}


{#
  A pre-hook of the models kept per document (int_document_balances,
  int_dso_document_months): the documents an entity's FEC no longer holds
  (raw.document_removals, SPEC section 16: a FEC is a snapshot) leave the
  model, unless a later drop sent them again. A delete+insert only replaces
  the keys it writes: a document gone from the raw layer writes none.
#}
{% macro remove_documents_gone() -%}
{%- if is_incremental() -%}
delete from {{ this }} as built
where exists (
    select 1 from {{ ref('stg_raw__document_removals') }} as removals
    where removals.entity_code = built.entity_code and removals.document_id = built.document_id
)
and not exists (
    select 1 from {{ ref('stg_raw__invoices') }} as invoices
    where invoices.entity_code = built.entity_code and invoices.document_id = built.document_id
)
{%- endif -%}
{%- endmacro %}
