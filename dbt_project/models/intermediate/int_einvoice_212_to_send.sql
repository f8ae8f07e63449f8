{#
  The 212 (encaissée) statuses an entity taxed on collection must send
  (SPEC section 17; registry vat_on_receipts: true): at each as-of date t,
  the collections of the night its settlement lines show, per invoice: the
  payment lines dated t (kind payment, net of reversals) on an invoice. A
  line landed late is listed when its date is rebuilt; a FEC's lines land
  again with each FEC, so the date they carry, not the drop that landed
  them, says which night they belong to. A collection whose 212 the
  warehouse already holds (a 212 of the invoice given on or after the day
  collected) is not listed again.
#}
with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

entities as (

    select * from {{ ref('stg_raw__entities') }}
    where vat_on_receipts

),

invoices as not materialized (

    select * from {{ ref('stg_raw__invoices') }}
    where document_type = 'invoice'

),

payments as not materialized (

    select * from {{ ref('stg_raw__payments') }}
    where settlement_kind in ('payment', 'reversal')

),

statuses as (

    select * from {{ ref('int_einvoice_statuses') }}
    where is_matched and status_code = '212'

),

collections as (

    select
        as_of_dates.as_of_date,
        payments.entity_code,
        payments.document_id,
        invoices.issue_date,
        payments.settlement_date as collected_on,
        sum(payments.amount) as amount,
        payments.currency,
    from as_of_dates
    inner join payments
        on payments.settlement_date = as_of_dates.as_of_date
    inner join entities
        on entities.entity_code = payments.entity_code
        and {{ entity_in_group('entities', 'as_of_dates.as_of_date') }}
    inner join invoices
        on invoices.entity_code = payments.entity_code
        and invoices.document_id = payments.document_id
    group by all
    having sum(payments.amount) > 0

),

already_sent as (

    select
        collections.as_of_date,
        collections.entity_code,
        collections.document_id,
        collections.collected_on,
    from collections
    inner join statuses
        on statuses.entity_code = collections.entity_code
        and statuses.document_id = collections.document_id
        and statuses.status_on >= collections.collected_on
    group by all

),

to_send as (

    select
        collections.as_of_date,
        collections.entity_code,
        collections.document_id,
        collections.issue_date,
        collections.collected_on,
        cast(collections.amount as decimal(18, 2)) as amount,
        collections.currency,
    from collections
    left join already_sent
        on already_sent.as_of_date = collections.as_of_date
        and already_sent.entity_code = collections.entity_code
        and already_sent.document_id = collections.document_id
        and already_sent.collected_on = collections.collected_on
    where already_sent.document_id is null

)

select * from to_send
