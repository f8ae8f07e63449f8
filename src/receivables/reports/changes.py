"""What changed: the executive summary of a report (the PDF's first page, the workbook's first sheets).

Three comparisons, each read from the published marts at the dates compared
(no figure is recomputed here, docs/decisions.md, "Reading the figures"):

- the key figures at the as-of date, at the previous month end and at the end
  of the same month a year before (DSO: the latest month end, the one before
  it and the one twelve months before);
- the five debtor groups whose exposure or overdue rose most since the
  previous month end;
- the weak signals new since the last report day (the previous Sunday or
  month end): present at the as-of date and not at that day, or, when that
  day was not built, raised after it.

A date the warehouse has not built gives no figure ("n/d"), never a zero.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from receivables.reports.model import BY_ROW, GROUP, SIGNAL_LABELS, Column, Marts, Table

CHANGES, RISERS, NEW_SIGNALS = "Évolution", "Plus fortes hausses", "Nouveaux signaux"
RISERS_LISTED = 5


def previous_month_end(day: date) -> date:
    return day.replace(day=1) - timedelta(days=1)


def same_month_last_year(day: date) -> date:
    """The end of the as-of date's month, one year before (29 February gives the 28th)."""
    year = day.year - 1
    return date(year, day.month, monthrange(year, day.month)[1])


def is_report_day(as_of: date) -> bool:
    """Reports go out on Mondays (the night that processes Sunday) and for every month end."""
    return as_of.weekday() == 6 or (as_of + timedelta(days=1)).day == 1


def last_report_day(as_of: date) -> date:
    """The report day before ``as_of`` (``is_report_day``: Sundays and month ends)."""
    day = as_of - timedelta(days=1)
    while not is_report_day(day):
        day -= timedelta(days=1)
    return day


def _is_built(marts: Marts, day: date) -> bool:
    return bool(marts.rows("select 1 from marts.mart_concentration where as_of_date = ?", day))


def _in(codes: Sequence[str]) -> str:
    return f"({', '.join('?' for _ in codes)})"


def key_figures(marts: Marts, day: date, entity: str | None, codes: Sequence[str]) -> dict[str, Any]:
    """The compared figures at ``day`` (empty when it is not built): sums of mart columns."""
    if not _is_built(marts, day):
        return {}
    [(external, overdue, intercompany)] = marts.rows(
        "select coalesce(sum(external_amount_eur), 0), coalesce(sum(external_overdue_amount_eur), 0), "
        "coalesce(sum(amount_eur) filter (where is_intercompany), 0) from marts.mart_aging "
        f"where as_of_date = ? and entity_code in {_in(codes)}",
        day,
        *codes,
    )
    figures: dict[str, Any] = {
        "Encours net externe EUR": external,
        "Dont échu EUR": overdue,
        "Part échue": overdue / external if external else None,
        "Encours intragroupe EUR": intercompany,
    }
    if entity is None:
        [(total, top10, hhi)] = marts.rows(
            "select total_exposure_eur, top10_share, hhi from marts.mart_concentration where as_of_date = ?",
            day,
        )
        figures |= {
            "Exposition positive des groupes débiteurs EUR": total,
            "Part des 10 premiers groupes": top10,
            "Indice de Herfindahl-Hirschman": hhi,
        }
        [(signals,)] = marts.rows("select count(*) from marts.mart_weak_signals where as_of_date = ?", day)
    else:
        [(signals,)] = marts.rows(
            "select count(*) from marts.mart_weak_signals where as_of_date = ? and debtor_group_id in ("
            "select debtor_group_id from marts.mart_entity_debtor_exposure where as_of_date = ? and entity_code = ?)",
            day,
            day,
            entity,
        )
    figures["Signaux faibles"] = signals
    return figures


KINDS = {
    "Encours net externe EUR": "amount",
    "Dont échu EUR": "amount",
    "Part échue": "ratio",
    "Encours intragroupe EUR": "amount",
    "Exposition positive des groupes débiteurs EUR": "amount",
    "Part des 10 premiers groupes": "ratio",
    "Indice de Herfindahl-Hirschman": "days",
    "Signaux faibles": "count",
    "DSO par épuisement, j": "days",
    "BPDSO, j": "days",
}


def _change(now: Any, then: Any) -> Any:
    return None if now is None or then is None else now - then


def changes_table(marts: Marts, as_of: date, entity: str | None, codes: Sequence[str]) -> Table:
    previous_day, last_year_day = previous_month_end(as_of), same_month_last_year(as_of)
    now = key_figures(marts, as_of, entity, codes)
    previous = key_figures(marts, previous_day, entity, codes)
    last_year = key_figures(marts, last_year_day, entity, codes)
    rows = [
        (
            label,
            "",
            now[label],
            previous.get(label),
            _change(now[label], previous.get(label)),
            last_year.get(label),
            _change(now[label], last_year.get(label)),
        )
        for label in now
    ]
    kinds = [KINDS[label] for label in now]
    # the DSO is monthly: the latest month end, the one before, and the same one a year before
    scope = entity or GROUP
    dso = {
        month_end: (countback, bpdso)
        for month_end, countback, bpdso in marts.rows(
            "select month_end, dso_countback, bpdso from marts.mart_dso where entity_code = ? and month_end <= ?",
            scope,
            as_of,
        )
    }
    if dso:
        latest = max(dso)
        before = dso.get(previous_month_end(latest), (None, None))
        year_before = dso.get(same_month_last_year(latest), (None, None))
        for position, label in enumerate(("DSO par épuisement, j", "BPDSO, j")):
            value = dso[latest][position]
            rows.append(
                (
                    label,
                    f"fin {latest.strftime('%m/%Y')}",
                    value,
                    before[position],
                    _change(value, before[position]),
                    year_before[position],
                    _change(value, year_before[position]),
                )
            )
            kinds.append(KINDS[label])
    return Table(
        CHANGES,
        (
            Column("Indicateur", "text"),
            Column("Date", "text"),
            Column(f"Au {as_of.strftime('%d/%m/%Y')}", BY_ROW),
            Column(f"Fin de mois précédente ({previous_day.strftime('%d/%m/%Y')})", BY_ROW),
            Column("Variation sur le mois", BY_ROW),
            Column(f"Même mois N-1 ({last_year_day.strftime('%d/%m/%Y')})", BY_ROW),
            Column("Variation sur un an", BY_ROW),
        ),
        rows,
        row_kinds=tuple(kinds),
        note=(
            "n/d : la date comparée n'est pas dans l'entrepôt. Variations d'une part en points, "
            "du DSO en jours (fins de mois)."
        ),
    )


def risers_table(marts: Marts, as_of: date, entity: str | None) -> Table:
    """The debtor groups whose exposure or overdue rose most since the previous month end."""
    previous = previous_month_end(as_of)
    built = _is_built(marts, previous)
    source, where, parameters = (
        ("marts.mart_debtor_exposure", "true", [])
        if entity is None
        else ("marts.mart_entity_debtor_exposure", "entity_code = ?", [entity])
    )
    rows = (
        marts.rows(
            "with at_date as ("
            "  select as_of_date, debtor_group_id, sum(exposure_eur) as exposure_eur, "
            "  sum(overdue_eur) as overdue_eur "
            f"  from {source} where as_of_date in (?, ?) and {where} group by all"
            "), changes as ("
            "  select coalesce(now.debtor_group_id, before.debtor_group_id) as debtor_group_id, "
            "  coalesce(now.exposure_eur, 0) as exposure_eur, "
            "  coalesce(now.exposure_eur, 0) - coalesce(before.exposure_eur, 0) as exposure_change, "
            "  coalesce(now.overdue_eur, 0) as overdue_eur, "
            "  coalesce(now.overdue_eur, 0) - coalesce(before.overdue_eur, 0) as overdue_change "
            "  from (select * from at_date where as_of_date = ?) as now "
            "  full join (select * from at_date where as_of_date = ?) as before "
            "  on now.debtor_group_id = before.debtor_group_id"
            ") "
            "select changes.debtor_group_id, names.debtor_group_name, changes.exposure_eur, "
            "changes.exposure_change, changes.overdue_eur, changes.overdue_change from changes "
            "left join marts.mart_debtor_exposure as names "
            "  on names.as_of_date = ? and names.debtor_group_id = changes.debtor_group_id "
            "where greatest(changes.exposure_change, changes.overdue_change) > 0 "
            "order by greatest(changes.exposure_change, changes.overdue_change) desc, changes.debtor_group_id "
            "limit ?",
            as_of,
            previous,
            *parameters,
            as_of,
            previous,
            as_of,
            RISERS_LISTED,
        )
        if built
        else []
    )
    scope = "toutes entités" if entity is None else f"{entity} seulement"
    return Table(
        RISERS,
        (
            Column.of("debtor_group_id", "text"),
            Column.of("debtor_group_name", "text"),
            Column.of("exposure_eur", "amount"),
            Column("Variation de l'exposition (EUR)", "amount"),
            Column.of("overdue_eur", "amount"),
            Column("Variation de l'échu (EUR)", "amount"),
        ),
        rows,
        note=(
            f"Les {RISERS_LISTED} groupes débiteurs dont l'encours ou l'échu a le plus augmenté depuis le "
            f"{previous.strftime('%d/%m/%Y')} ({scope})."
            if built
            else f"Fin de mois précédente ({previous.strftime('%d/%m/%Y')}) absente de l'entrepôt : pas de comparaison."
        ),
    )


def new_signals_table(marts: Marts, as_of: date, entity: str | None) -> Table:
    since = last_report_day(as_of)
    exposed = (
        ""
        if entity is None
        else "and signals.debtor_group_id in (select debtor_group_id from marts.mart_entity_debtor_exposure "
        "where as_of_date = signals.as_of_date and entity_code = ?) "
    )
    if _is_built(marts, since):
        new = (
            "not exists (select 1 from marts.mart_weak_signals as earlier where earlier.as_of_date = ? "
            "and earlier.debtor_group_id = signals.debtor_group_id and earlier.signal = signals.signal)"
        )
    else:
        new = "signals.signal_date > ?"
    rows = marts.rows(
        "select signals.signal_date, signals.debtor_group_id, names.debtor_group_name, signals.signal "
        "from marts.mart_weak_signals as signals "
        "left join marts.mart_debtor_exposure as names on names.as_of_date = signals.as_of_date "
        "and names.debtor_group_id = signals.debtor_group_id "
        f"where signals.as_of_date = ? {exposed}and {new} "
        "order by signals.signal_date desc, signals.debtor_group_id, signals.signal",
        as_of,
        *([entity] if entity else []),
        since,
    )
    return Table(
        NEW_SIGNALS,
        (
            Column.of("signal_date", "date"),
            Column.of("debtor_group_id", "text"),
            Column.of("debtor_group_name", "text"),
            Column.of("signal_label", "text"),
        ),
        [(*row[:3], SIGNAL_LABELS.get(row[3], row[3])) for row in rows],
        note=f"Signaux apparus depuis le rapport du {since.strftime('%d/%m/%Y')}.",
    )
