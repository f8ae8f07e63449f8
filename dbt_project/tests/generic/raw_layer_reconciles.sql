{#
  The open items reconcile with the raw layer, computed here straight from
  raw tables (SPEC section 4), per as-of date, entity and currency: document
  currency to the cent; EUR within half a cent per item (each item is
  rounded once). Reads this run's as-of dates.

  The encours is the documents' signed amounts less their settled lines,
  summed per entity and currency without a total per document. Each line
  first counts as settling an invoice issued by the date (it takes the
  encours down by its amount); the few documents on which a line counts
  otherwise then correct that: a credit note's lines take the encours up
  (twice the amount, to undo the first count), and a cancelled document's
  or one not yet issued by the date do not count (once the amount). So the
  lines are joined only with those documents, not with millions of
  invoices; the sum is the same. A line whose document is not in the raw
  layer would count and fail this test: landing lets none in. An entity
  retired by the date (raw.entities.retired_on) counts for nothing.
#}
{% test raw_layer_reconciles(model) %}
with as_of_dates as (
    select distinct as_of_date from {{ model }} where {{ built_in_this_run('as_of_date') }}
),
issued as (
    select d.as_of_date, i.entity_code, i.currency,
        sum(case i.document_type when 'credit_note' then -i.amount else i.amount end) as encours
    from as_of_dates as d
    inner join {{ source('raw', 'invoices') }} as i
        on i.issue_date <= d.as_of_date and i.status <> 'cancelled'
    group by all
),
lines as (
    select d.as_of_date, p.entity_code, p.currency, -sum(p.amount) as encours
    from as_of_dates as d
    inner join {{ source('raw', 'payments') }} as p on p.settlement_date <= d.as_of_date
    group by all
),
documents_counted_otherwise as (
    select d.as_of_date, i.entity_code, i.document_id,
        case when i.status = 'cancelled' or i.issue_date > d.as_of_date then 1 else 2 end as times_amount
    from as_of_dates as d
    inner join {{ source('raw', 'invoices') }} as i
        on i.status = 'cancelled' or i.issue_date > d.as_of_date or i.document_type = 'credit_note'
),
their_lines as (
    -- filtered first: joined directly, DuckDB would hash the millions of lines, not the few documents
    select * from {{ source('raw', 'payments') }}
    semi join documents_counted_otherwise using (entity_code, document_id)
),
corrections as (
    select e.as_of_date, p.entity_code, p.currency, sum(e.times_amount * p.amount) as encours
    from documents_counted_otherwise as e
    inner join their_lines as p
        on p.entity_code = e.entity_code
        and p.document_id = e.document_id
        and p.settlement_date <= e.as_of_date
    group by all
),
raw_encours as (
    select as_of_date, entity_code, currency, sum(encours) as encours
    from (
        select * from issued
        union all
        select * from lines
        union all
        select * from corrections
    ) as raw_rows
    -- an entity retired from the group by the date has no open items in the marts from then on
    where not exists (
        select 1 from {{ source('raw', 'entities') }} as e
        where e.entity_code = raw_rows.entity_code and not {{ entity_in_group('e', 'raw_rows.as_of_date') }}
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
    -- without a usable rate the EUR amounts are null, by design (SPEC section 12): nothing to compare
    or (mart_encours.units_per_eur is not null and abs(
        coalesce(mart_encours.encours_eur, 0)
        - coalesce(raw_encours.encours, 0) / mart_encours.units_per_eur
    ) > 0.005 * coalesce(mart_encours.item_count, 0) + 0.005)
{% endtest %}
