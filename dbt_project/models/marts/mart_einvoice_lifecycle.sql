{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
    )
}}
{#
  Where the open invoices stand in their e-invoicing lifecycle at each
  as-of date (SPEC section 17): per entity and latest status (the buyer's
  platform's word at the date), how many open invoices and how much is
  open, in EUR; of them, the factored ones (a factoring status 224-228 ever
  given, shown apart: factored exposure). Open invoices without any status
  (issued before the reform, or by a platform not yet read) are not rows.
#}
with

open_items as (

    select * from {{ ref('int_open_items_aged') }}
    where einvoice_status is not null
        and document_type = 'invoice'

),

by_status as (

    select
        as_of_date,
        entity_code,
        einvoice_status as status_code,
        einvoice_status_name as status_name,
        count(*) as items,
        cast(coalesce(sum(open_amount_eur), 0) as decimal(18, 2)) as amount_eur,
        count(*) filter (where is_factored) as factored_items,
        cast(coalesce(sum(open_amount_eur) filter (where is_factored), 0) as decimal(18, 2))
            as factored_amount_eur,
    from open_items
    group by all

)

select * from by_status
