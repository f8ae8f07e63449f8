{#
  The headline figures of each entity and of the group at each of this
  run's as-of dates, as a publish records them (SPEC section 18, "as
  reported": receivables.serve.as_reported) and the builds after it compare
  with them (int_restatements): the net encours of the external debtors,
  what of it is overdue and disputed, the intercompany encours, in EUR; the
  open items; the cash expected over the 13 weeks. An item without a
  usable rate counts for nothing in EUR, as in mart_aging.
#}
with

open_items as (

    select * from {{ ref('int_open_items_aged') }}

),

forecast as (

    select * from {{ ref('int_cash_forecast') }}
    where period_kind = 'week'
        and as_of_date in (select as_of_dates.as_of_date from {{ ref('int_as_of_dates') }} as as_of_dates)

),

by_entity as (

    select
        as_of_date,
        entity_code,
        cast(coalesce(sum(open_amount_eur) filter (where not is_intercompany), 0) as decimal(18, 2))
            as net_encours_eur,
        cast(coalesce(sum(overdue_amount_eur) filter (where not is_intercompany), 0) as decimal(18, 2))
            as overdue_eur,
        cast(coalesce(sum(open_amount_eur) filter (where not is_intercompany and is_disputed), 0) as decimal(18, 2))
            as disputed_eur,
        cast(coalesce(sum(open_amount_eur) filter (where is_intercompany), 0) as decimal(18, 2)) as intercompany_eur,
        cast(count(*) as decimal(18, 2)) as open_items,
    from open_items
    group by all

),

expected as (

    select
        as_of_date,
        entity_code,
        cast(sum(expected_eur) as decimal(18, 2)) as expected_13_weeks_eur,
    from forecast
    where entity_code <> 'GROUP'
    group by all

),

entity_figures as (

    select
        by_entity.*,
        expected.expected_13_weeks_eur,
    from by_entity
    left join expected
        on expected.as_of_date = by_entity.as_of_date
        and expected.entity_code = by_entity.entity_code

),

with_group as (

    select * from entity_figures
    union all
    select
        as_of_date,
        'GROUP' as entity_code,
        cast(sum(net_encours_eur) as decimal(18, 2)) as net_encours_eur,
        cast(sum(overdue_eur) as decimal(18, 2)) as overdue_eur,
        cast(sum(disputed_eur) as decimal(18, 2)) as disputed_eur,
        cast(sum(intercompany_eur) as decimal(18, 2)) as intercompany_eur,
        cast(sum(open_items) as decimal(18, 2)) as open_items,
        cast(sum(expected_13_weeks_eur) as decimal(18, 2)) as expected_13_weeks_eur,
    from entity_figures
    group by as_of_date

),

figures as (

    unpivot with_group
    on net_encours_eur, overdue_eur, disputed_eur, intercompany_eur, open_items, expected_13_weeks_eur
    into name figure value figure_value

)

select
    as_of_date,
    entity_code,
    figure,
    cast(coalesce(figure_value, 0) as decimal(18, 2)) as figure_value,
from figures
