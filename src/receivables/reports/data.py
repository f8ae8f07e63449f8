"""What a scheduled report holds, read from the published marts (no figure is recomputed here).

A report has a scope: ``GROUP`` (the CFO's: every entity, and the group's
consolidated figures, intercompany left out) or one entity code (its
controllers': that entity's rows only, nothing of another entity). Every
figure is a mart value or a sum of mart rows, so the workbook, the PDF and
the dashboards agree to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from receivables.errors import ReceivablesError
from receivables.marts_catalog import EINVOICE_WORKLIST_STATUSES
from receivables.reports.changes import changes_table, new_signals_table, risers_table
from receivables.reports.model import (
    AGING,
    DATA_ISSUES,
    DEBTORS,
    DSO,
    DUNNING_LABELS,
    EINVOICE,
    FIGURE_LABELS,
    FORECAST,
    FRESHNESS,
    FRESHNESS_LABELS,
    GROUP,
    INSOLVENCY_LABELS,
    ISSUE_LABELS,
    LATE_LABELS,
    PERIOD_LABELS,
    RESTATED,
    SEVERITY_LABELS,
    SIGNAL_LABELS,
    SIGNALS,
    Column,
    Kind,
    Marts,
    Report,
    Table,
)


def read_report(warehouse: Path, as_of: date, entity: str | None = None, top: int = 20) -> Report:
    """Read one report's figures from a published warehouse (opened read-only)."""
    marts = Marts(warehouse)
    try:
        return _read(marts, as_of, entity, top)
    finally:
        marts.close()


def _read(marts: Marts, as_of: date, entity: str | None, top: int) -> Report:
    built = marts.rows("select max(as_of_date) from marts.mart_concentration")[0][0]
    if not marts.rows("select 1 from marts.mart_freshness where as_of_date = ?", as_of):
        raise ReceivablesError(
            f"the warehouse holds no as-of date {as_of} (latest built: {built}); build that date first"
        )
    entities = dict(marts.rows("select entity_code, entity_name from raw.entities order by entity_code"))
    if entity is not None and entity not in entities:
        raise ReceivablesError(f"unknown entity {entity!r}; the warehouse has {', '.join(entities)}")
    scope = entity or GROUP
    codes = [entity] if entity else list(entities)
    buckets = marts.rows("select aging_bucket, label_fr from reference.aging_buckets order by bucket_order")
    bucket_names = [name for name, _ in buckets]
    headers = [label for _, label in buckets]  # the seed's names, as on the dashboards

    aging_rows, external_eur_by_bucket, external_overdue_eur, intercompany_eur = _aging(
        marts, as_of, codes, bucket_names, with_group=entity is None
    )
    aging = Table(
        AGING,
        (
            Column.of("entity_code", "text"),
            Column("Périmètre", "text"),
            Column.of("currency", "text"),
            *(Column(header, "amount") for header in headers),
            Column("Total", "amount"),
            Column("Total EUR", "amount"),
            Column.of("disputed_amount_eur", "amount"),
        ),
        aging_rows,
        note="Montants en devise de l'entité ; la ligne GROUPE est consolidée en EUR, hors intragroupe.",
    )
    debtors, top_exposures = (
        _group_debtors(marts, as_of, top) if entity is None else _entity_debtors(marts, as_of, entity, top)
    )
    signals = _group_signals(marts, as_of) if entity is None else _entity_signals(marts, as_of, entity)
    dso_scope = entity or GROUP
    dso_codes = [entity] if entity else [*codes, GROUP]
    dso_rows = marts.rows(
        "select month_end, entity_code, currency, net_encours, sales, dso_countback, dso_ratio, bpdso, add_days, "
        "contractual_terms_days "
        f"from marts.mart_dso where month_end <= ? and entity_code in ({', '.join('?' for _ in dso_codes)}) "
        "order by month_end desc, entity_code = 'GROUP' desc, entity_code",
        as_of,
        *dso_codes,
    )
    dso = Table(
        DSO,
        (
            Column.of("month_end", "date"),
            Column.of("entity_code", "text"),
            Column.of("currency", "text"),
            Column.of("net_encours", "amount"),
            Column.of("sales", "amount"),
            Column.of("dso_countback", "days"),
            Column.of("dso_ratio", "days"),
            Column.of("bpdso", "days"),
            Column.of("add_days", "days"),
            Column.of("contractual_terms_days", "days"),
        ),
        dso_rows,
        note="DSO par épuisement du chiffre d'affaires ; GROUPE en EUR, hors intragroupe.",
    )
    trend = sorted((row[0], row[5], row[6], row[7]) for row in dso_rows if row[1] == dso_scope)[-13:]
    dso_currency = next((row[2] for row in dso_rows if row[1] == dso_scope), "EUR")
    freshness_rows = [
        (code, FRESHNESS_LABELS.get(status, status), last_good, rows_landed, reason or "")
        for code, status, last_good, rows_landed, reason in marts.rows(
            "select entity_code, status, last_good_extract_date, rows_landed, reason from marts.mart_freshness "
            f"where as_of_date = ? and entity_code in ({', '.join('?' for _ in codes)}) order by entity_code",
            as_of,
            *codes,
        )
    ]
    freshness = Table(
        FRESHNESS,
        (
            Column.of("entity_code", "text"),
            Column.of("status_label", "text"),
            Column.of("last_good_extract_date", "date"),
            Column.of("rows_landed", "count"),
            Column.of("reason", "text"),
        ),
        freshness_rows,
    )

    issues = Table(
        DATA_ISSUES,
        (
            Column.of("entity_code", "text"),
            Column.of("severity_label", "text"),
            Column.of("kind_label", "text"),
            Column.of("detail", "text"),
            Column.of("items", "count"),
            Column.of("amount", "amount"),
            Column.of("currency", "text"),
        ),
        [
            (code, SEVERITY_LABELS.get(severity, severity), ISSUE_LABELS.get(kind, kind), *rest)
            for code, severity, kind, *rest in marts.rows(
                "select entity_code, severity, kind, detail, items, amount, currency from marts.mart_data_issues "
                f"where as_of_date = ? and entity_code in ({', '.join('?' for _ in dso_codes)}) "
                "order by severity, entity_code, kind, issue_key",
                as_of,
                *dso_codes,  # the group's own issues (its DSO in EUR, its FX drop) in the group's report
            )
        ]
        if marts.has_table("mart_data_issues")
        else [],
        note="Lignes chargées malgré une anomalie, et chiffres qui n'ont pas pu être calculés (SPEC section 12).",
    )

    forecast = _forecast(marts, as_of, scope)
    einvoice = _einvoice_worklist(marts, as_of, codes)
    headline = _headline(
        marts,
        as_of,
        entity,
        external_eur_by_bucket,
        external_overdue_eur,
        intercompany_eur,
        dso_rows,
        dso_scope,
        signals,
        freshness_rows,
    )
    headline.append(("Anomalies de données", len(issues.rows), "count"))
    headline.append(("Factures e-facture à traiter", len(einvoice.rows), "count"))
    published_at = marts.last_publish(as_of)
    headline.append(
        (
            "Publication lue",
            published_at.strftime("%d/%m/%Y %H:%M") if published_at else "non enregistrée",
            "text",
        )
    )
    headline += _restatements(marts, as_of, scope)

    # what changed first: the executive summary (receivables.reports.changes)
    summary = [
        changes_table(marts, as_of, entity, codes),
        risers_table(marts, as_of, entity),
        new_signals_table(marts, as_of, entity),
    ]
    return Report(
        as_of=as_of,
        scope=scope,
        scope_name=entities[entity] if entity else "Groupe (consolidé)",
        headline=headline,
        tables=[*summary, aging, debtors, signals, dso, forecast, einvoice, freshness, issues],
        bucket_headers=headers,
        aging_eur=external_eur_by_bucket,
        dso_trend=trend,
        dso_currency=dso_currency,
        top_exposures=top_exposures,
        published_at=published_at,
    )


def _restatements(marts: Marts, as_of: date, scope: str) -> list[tuple[str, Any, str]]:
    """The figures of the as-of date an earlier publish gave otherwise (SPEC section 18): one line each,
    the change since that publish as its value (mart_restatements has the figures and the cause)."""
    if not marts.has_table("mart_restatements"):
        return []
    rows = marts.rows(
        "select figure, difference, published_at from marts.mart_restatements "
        "where as_of_date = ? and entity_code = ? order by published_at, figure",
        as_of,
        scope,
    )
    return [
        (
            f"{RESTATED} {published:%d/%m/%Y %H:%M} : {FIGURE_LABELS.get(figure, figure)}",
            difference,
            "count" if figure == "open_items" else "amount",
        )
        for figure, difference, published in rows
    ]


def _einvoice_worklist(marts: Marts, as_of: date, codes: list[str]) -> Table:
    """The open invoices a buyer's platform says to act on (SPEC section 17), the latest status first."""
    rows = (
        marts.rows(
            "select entity_code, consolidated_debtor_id, document_id, einvoice_status, einvoice_status_name, "
            "cast(einvoice_status_at as date), dunning_stage, open_amount, currency, open_amount_eur, days_past_due "
            "from marts.fct_open_items where as_of_date = ? "
            f"and entity_code in ({', '.join('?' for _ in codes)}) "
            f"and einvoice_status in ({', '.join('?' for _ in EINVOICE_WORKLIST_STATUSES)}) "
            "order by einvoice_status_at desc, entity_code, document_id",
            as_of,
            *codes,
            *EINVOICE_WORKLIST_STATUSES,
        )
        if marts.has_table("mart_einvoice_lifecycle")
        else []
    )
    return Table(
        EINVOICE,
        (
            Column.of("entity_code", "text"),
            Column.of("consolidated_debtor_id", "text"),
            Column.of("document_id", "text"),
            Column.of("einvoice_status", "text"),
            Column.of("einvoice_status_name", "text"),
            Column.of("einvoice_status_at", "date"),
            Column.of("dunning_stage_label", "text"),
            Column.of("open_amount", "amount"),
            Column.of("currency", "text"),
            Column.of("open_amount_eur", "amount"),
            Column.of("days_past_due", "count"),
        ),
        _labelled(rows, 6, DUNNING_LABELS),
        note="Factures ouvertes que la plateforme de l'acheteur dit contestées, suspendues, refusées, encaissées "
        "ou que la plateforme a rejetées (statuts de cycle de vie, SPEC section 17).",
    )


def _forecast(marts: Marts, as_of: date, scope: str) -> Table:
    """The cash-in forecast of the scope at the as-of date (SPEC section 14): weeks, months, doubtful."""
    rows = (
        marts.rows(
            "select period_kind, period_start, period_end, expected_entity_currency, expected_eur, "
            "from_promises, from_behaviour, from_disputes, naive_eur from marts.mart_cash_forecast "
            "where as_of_date = ? and entity_code = ? "
            "order by case period_kind when 'week' then 1 when 'month' then 2 else 3 end, period_start",
            as_of,
            scope,
        )
        if marts.has_table("mart_cash_forecast")
        else []
    )
    return Table(
        FORECAST,
        (
            Column("Période", "text"),
            Column("Du", "date"),
            Column("Au", "date"),
            Column.of("expected_entity_currency", "amount"),
            Column.of("expected_eur", "amount"),
            Column.of("from_promises", "amount"),
            Column.of("from_behaviour", "amount"),
            Column.of("from_disputes", "amount"),
            Column.of("naive_eur", "amount"),
        ),
        [(PERIOD_LABELS.get(kind, kind), *rest) for kind, *rest in rows],
        note="Factures ouvertes attendues par période (promesses en cours, retard habituel du débiteur, "
        "litiges) ; les douteuses (plus de 180 jours d'échu, procédure ou défaut) ne sont pas prévues.",
    )


def _aging(
    marts: Marts, as_of: date, codes: Sequence[str], buckets: list[str], with_group: bool
) -> tuple[list[tuple[Any, ...]], list[Decimal], Decimal, Decimal]:
    """The aged balance rows, the external EUR amount of each bucket, the external overdue EUR
    total (mart_aging's columns: the product's one definition of overdue and of external), and the
    intercompany EUR total."""
    amounts = marts.rows(
        "select entity_code, is_intercompany, any_value(functional_currency), aging_bucket, "
        "sum(amount_entity_currency), sum(amount_eur), sum(disputed_amount_eur), "
        "sum(external_overdue_amount_eur) from marts.mart_aging "
        f"where as_of_date = ? and entity_code in ({', '.join('?' for _ in codes)}) group by all",
        as_of,
        *codes,
    )
    cells: dict[tuple[str, bool], dict[str, tuple[Decimal, Decimal, Decimal]]] = {}
    currency: dict[str, str] = {}
    zero = Decimal("0.00")
    external_overdue = zero
    for code, intercompany, unit, bucket, local, eur, disputed, overdue in amounts:
        cells.setdefault((code, intercompany), {})[bucket] = (local, eur, disputed)
        currency[code] = unit
        external_overdue += overdue
    rows: list[tuple[Any, ...]] = []
    external_eur = [zero for _ in buckets]
    external_disputed = intercompany_eur = zero
    for code, intercompany in sorted(cells):
        by_bucket = cells[(code, intercompany)]
        local = [by_bucket.get(bucket, (zero, zero, zero))[0] for bucket in buckets]
        eur = [by_bucket.get(bucket, (zero, zero, zero))[1] for bucket in buckets]
        disputed = sum((value[2] for value in by_bucket.values()), zero)
        rows.append(
            (
                code,
                "Intragroupe" if intercompany else "Externe",
                currency[code],
                *local,
                sum(local, zero),
                sum(eur, zero),
                disputed,
            )
        )
        if intercompany:
            intercompany_eur += sum(eur, zero)
        else:
            external_eur = [total + amount for total, amount in zip(external_eur, eur, strict=True)]
            external_disputed += disputed
    if with_group:
        total = sum(external_eur, zero)
        rows.append(
            (GROUP, "Consolidé hors intragroupe", "EUR", *external_eur, total, total, external_disputed)
        )
    return rows, external_eur, external_overdue, intercompany_eur


DEBTOR_RISK_COLUMNS = (
    Column.of("worst_risk_class", "count"),
    Column.of("is_in_default", "flag"),
    Column.of("insolvency_status_label", "text"),
    Column.of("cover_eur", "amount"),
    Column.of("insured_eur", "amount"),
    Column.of("uninsured_eur", "amount"),
    Column.of("over_limit_eur", "amount"),
)


def _labelled(rows: list[tuple[Any, ...]], index: int, labels: dict[str, str]) -> list[tuple[Any, ...]]:
    """The rows with the code in one column as the users read it (a code without a label as it is)."""
    return [(*row[:index], labels.get(row[index], row[index]), *row[index + 1 :]) for row in rows]


def _group_debtors(marts: Marts, as_of: date, top: int) -> tuple[Table, list[tuple[str, Decimal]]]:
    rows = marts.rows(
        "select rank, debtor_group_id, debtor_group_name, exposure_eur, overdue_eur, share, cumulative_share, "
        "worst_risk_class, is_in_default, insolvency_status, cover_eur, insured_eur, uninsured_eur, over_limit_eur, "
        "avg_days_late_90d from marts.mart_debtor_exposure where as_of_date = ? and rank <= ? order by rank",
        as_of,
        top,
    )
    table = Table(
        DEBTORS,
        (
            Column.of("rank", "count"),
            Column.of("debtor_group_id", "text"),
            Column.of("debtor_group_name", "text"),
            Column.of("exposure_eur", "amount"),
            Column.of("overdue_eur", "amount"),
            Column.of("share", "ratio"),
            Column.of("cumulative_share", "ratio"),
            *DEBTOR_RISK_COLUMNS,
            Column.of("avg_days_late_90d", "days"),
        ),
        _labelled(rows, 9, INSOLVENCY_LABELS),
        note=f"Les {top} premiers groupes débiteurs par encours, toutes entités, hors intragroupe.",
    )
    return table, [(row[2] or row[1], row[3]) for row in rows[:10]]


def _entity_debtors(
    marts: Marts, as_of: date, entity: str, top: int
) -> tuple[Table, list[tuple[str, Decimal]]]:
    rows = marts.rows(
        "select row_number() over (order by exposure_eur desc, consolidated_debtor_id), consolidated_debtor_id, "
        "consolidated_debtor_name, debtor_group_id, exposure_entity_currency, functional_currency, exposure_eur, "
        "overdue_eur, worst_risk_class, is_in_default, insolvency_status, cover_eur, insured_eur, uninsured_eur, "
        "over_limit_eur from marts.mart_entity_debtor_exposure "
        "where as_of_date = ? and entity_code = ? and exposure_eur > 0 "
        "order by exposure_eur desc, consolidated_debtor_id limit ?",
        as_of,
        entity,
        top,
    )
    table = Table(
        DEBTORS,
        (
            Column.of("rank", "count"),
            Column.of("consolidated_debtor_id", "text"),
            Column.of("consolidated_debtor_name", "text"),
            Column.of("debtor_group_id", "text"),
            Column.of("exposure_entity_currency", "amount"),
            Column.of("functional_currency", "text"),
            Column.of("exposure_eur", "amount"),
            Column.of("overdue_eur", "amount"),
            *DEBTOR_RISK_COLUMNS,
        ),
        _labelled(rows, 10, INSOLVENCY_LABELS),
        note=f"Les {top} premiers débiteurs de {entity} par encours (hors intragroupe).",
    )
    return table, [(row[2] or row[1], row[6]) for row in rows[:10]]


def _group_signals(marts: Marts, as_of: date) -> Table:
    rows = marts.rows(
        "select signals.signal_date, signals.debtor_group_id, exposure.debtor_group_name, signals.signal, "
        "signals.amount_eur, signals.detail from marts.mart_weak_signals as signals "
        "left join marts.mart_debtor_exposure as exposure on exposure.as_of_date = signals.as_of_date "
        "and exposure.debtor_group_id = signals.debtor_group_id "
        "where signals.as_of_date = ? order by signals.amount_eur desc nulls last, signals.debtor_group_id, signals.signal",
        as_of,
    )
    return Table(
        SIGNALS,
        (
            Column.of("signal_date", "date"),
            Column.of("debtor_group_id", "text"),
            Column.of("debtor_group_name", "text"),
            Column.of("signal_label", "text"),
            Column("Montant en jeu (EUR)", "amount"),
            Column.of("detail", "text"),
        ),
        [(*row[:3], SIGNAL_LABELS.get(row[3], row[3]), *row[4:]) for row in rows],
    )


def _entity_signals(marts: Marts, as_of: date, entity: str) -> Table:
    """The group's signals on debtor groups this entity is exposed to, with this entity's own amounts only."""
    rows = marts.rows(
        "with exposure as ("
        "  select debtor_group_id, sum(exposure_eur) as exposure_eur, sum(overdue_eur) as overdue_eur "
        "  from marts.mart_entity_debtor_exposure where as_of_date = ? and entity_code = ? group by all"
        ") "
        "select signals.signal_date, signals.debtor_group_id, names.debtor_group_name, signals.signal, "
        "exposure.exposure_eur, exposure.overdue_eur from marts.mart_weak_signals as signals "
        "inner join exposure on exposure.debtor_group_id = signals.debtor_group_id "
        "left join marts.mart_debtor_exposure as names on names.as_of_date = signals.as_of_date "
        "and names.debtor_group_id = signals.debtor_group_id "
        "where signals.as_of_date = ? order by exposure.exposure_eur desc, signals.debtor_group_id, signals.signal",
        as_of,
        entity,
        as_of,
    )
    return Table(
        SIGNALS,
        (
            Column.of("signal_date", "date"),
            Column.of("debtor_group_id", "text"),
            Column.of("debtor_group_name", "text"),
            Column.of("signal_label", "text"),
            Column(f"Encours {entity} EUR", "amount"),
            Column(f"Échu {entity} EUR", "amount"),
        ),
        [(*row[:3], SIGNAL_LABELS.get(row[3], row[3]), *row[4:]) for row in rows],
        note=f"Signaux du groupe sur les débiteurs de {entity} ; montants de {entity} seulement.",
    )


def _headline(
    marts: Marts,
    as_of: date,
    entity: str | None,
    external_eur_by_bucket: list[Decimal],
    overdue: Decimal,
    intercompany: Decimal,
    dso_rows: list[tuple[Any, ...]],
    dso_scope: str,
    signals: Table,
    freshness_rows: list[tuple[Any, ...]],
) -> list[tuple[str, Any, Kind]]:
    external = sum(external_eur_by_bucket, Decimal("0.00"))
    latest_dso = next((row for row in dso_rows if row[1] == dso_scope), None)
    lines: list[tuple[str, Any, Kind]] = [
        ("Date d'arrêté", as_of, "date"),
        ("Périmètre", entity or "Groupe, toutes entités", "text"),
        ("Encours net externe EUR", external, "amount"),
        ("Dont échu EUR", overdue, "amount"),
        ("Encours intragroupe EUR", intercompany, "amount"),
    ]
    if entity is None:
        concentration = marts.rows(
            "select total_exposure_eur, top10_share, hhi, groups_for_80pct from marts.mart_concentration "
            "where as_of_date = ?",
            as_of,
        )
        if concentration:
            total, top10, hhi, for80 = concentration[0]
            lines += [
                ("Exposition positive des groupes débiteurs EUR", total, "amount"),
                ("Part des 10 premiers groupes", top10, "ratio"),
                ("Indice de Herfindahl-Hirschman", hhi, "days"),
                ("Groupes faisant 80 % de l'encours", for80, "count"),
            ]
    if latest_dso is not None:
        lines += [
            ("Dernière fin de mois", latest_dso[0], "date"),
            ("DSO par épuisement, j", latest_dso[5], "days"),
            ("BPDSO, j", latest_dso[7], "days"),
        ]
    lines += [
        ("Signaux faibles", len(signals.rows), "count"),
        ("Entités non à jour", sum(1 for row in freshness_rows if row[1] in LATE_LABELS), "count"),
    ]
    return lines
