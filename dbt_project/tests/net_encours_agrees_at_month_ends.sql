{#
  The net encours is computed twice: item by item (fct_open_items, SPEC
  section 4) and month by month from what each document adds
  (int_dso_document_months, then mart_dso, SPEC section 7). At each month
  end this run builds, both agree, per entity in its functional currency and
  for the group in EUR, over external debtors: an item converted to another
  currency is rounded to the cent, so they may differ by half a cent per
  converted item (those whose converted amount differs from the amount in
  their own currency) and half a cent for the total, never more. A month end with an amount that cannot be
  converted (a missing rate) is unknown on both sides and not compared.
  A row that fails names the entity, whose drops of the night the build
  takes out (docs/decisions.md, "Isolation", item 4).
#}
with

open_items as (

    select * from {{ ref('fct_open_items') }}
    where as_of_date = last_day(as_of_date)
        and {{ built_in_this_run('as_of_date') }}
        and is_intercompany is false

),

dso as (

    select * from {{ ref('mart_dso') }}
    where month_end in (select open_items.as_of_date from open_items)

),

item_totals as (

    select
        as_of_date as month_end,
        entity_code,
        sum(open_amount_entity_currency) as net_encours,
        count(*) filter (where open_amount_entity_currency <> open_amount) as rounded_items,
        count(*) filter (where open_amount_entity_currency is null) as unconverted,
    from open_items
    group by all

    union all

    select
        as_of_date as month_end,
        'GROUP' as entity_code,
        sum(open_amount_eur) as net_encours,
        count(*) filter (where open_amount_eur <> open_amount) as rounded_items,
        count(*) filter (where open_amount_eur is null) as unconverted,
    from open_items
    group by all

)

select
    month_end,
    entity_code,
    item_totals.net_encours as open_items_net_encours,
    dso.net_encours as dso_net_encours,
    item_totals.rounded_items,
from item_totals
full outer join dso using (month_end, entity_code)
where coalesce(item_totals.unconverted, 0) = 0
    and (dso.status is null or dso.status <> 'missing_fx_rate')
    and abs(coalesce(item_totals.net_encours, 0) - coalesce(dso.net_encours, 0))
    > 0.005 * coalesce(item_totals.rounded_items, 0) + 0.005
