{#
  The open items reconcile with the raw layer, computed here straight from
  raw tables (SPEC section 4), per as-of date, entity and currency: document
  currency to the cent; EUR within half a cent per item (each item is
  rounded once). Reads this run's as-of dates. The encours is the documents'
  signed amounts less their settled lines, summed per entity and currency
  without a total per document: the same sum, without grouping millions of
  documents.
#}
{% test raw_layer_reconciles(model) %}
with as_of_dates as (
    select distinct as_of_date from {{ model }} where {{ built_in_this_run('as_of_date') }}
),
documents as not materialized (
    select d.as_of_date, i.entity_code, i.currency, i.document_id,
        case i.document_type when 'credit_note' then -1 else 1 end as sign, i.amount
    from as_of_dates as d
    inner join {{ source('raw', 'invoices') }} as i
        on i.issue_date <= d.as_of_date and i.status <> 'cancelled'
),
settled as (
    select documents.as_of_date, documents.entity_code, documents.currency,
        -sum(documents.sign * p.amount) as encours
    from documents
    inner join {{ source('raw', 'payments') }} as p
        on p.entity_code = documents.entity_code
        and p.document_id = documents.document_id
        and p.settlement_date <= documents.as_of_date
    group by all
),
unapplied as (
    select d.as_of_date, p.entity_code, p.currency, -sum(p.amount) as encours
    from as_of_dates as d
    inner join {{ source('raw', 'payments') }} as p on p.settlement_date <= d.as_of_date
    where p.document_id is null
    group by all
),
raw_encours as (
    select as_of_date, entity_code, currency, sum(encours) as encours
    from (
        select as_of_date, entity_code, currency, sign * amount as encours from documents
        union all
        select * from settled
        union all
        select * from unapplied
    )
    group by all
),
mart_encours as (
    select as_of_date, entity_code, currency,
        sum(open_amount) as encours,
        sum(open_amount_eur) as encours_eur,
        count(*) as item_count,
        any_value(document_units_per_eur) as units_per_eur
    from {{ model }}
    where {{ built_in_this_run('as_of_date') }}
    group by all
)
select *
from raw_encours
full outer join mart_encours using (as_of_date, entity_code, currency)
where coalesce(raw_encours.encours, 0) <> coalesce(mart_encours.encours, 0)
    or abs(
        coalesce(mart_encours.encours_eur, 0)
        - coalesce(raw_encours.encours, 0) / coalesce(mart_encours.units_per_eur, 1)
    ) > 0.005 * coalesce(mart_encours.item_count, 0) + 0.005
{% endtest %}
