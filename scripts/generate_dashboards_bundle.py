"""Write the Superset bundle (dashboards/) from the dbt project and a built warehouse.

The YAML under dashboards/ is what Superset imports; this script is how it is written.
Each dataset lists every column of its mart, read from a built warehouse, with its
French label and the figures' number formats from the dbt project (the marts'
``+meta`` in dbt_project.yml, read by receivables.marts_catalog, as the reports
read them): a mart that gains a column needs a label there and this run again.

Usage: .venv/bin/python scripts/generate_dashboards_bundle.py [--warehouse FILE] [--out DIR]

tests/test_dashboard_labels.py writes it afresh from a built group and fails on any difference
from the committed bundle. Nothing happens on import: ``main`` reads the warehouse and writes.
"""

from __future__ import annotations

import argparse
import csv
import json
import pathlib
import sys
import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any

import duckdb
import yaml

from receivables.marts_catalog import (
    EINVOICE_WORKLIST_STATUSES,
    column_label,
    labelled_columns,
    number_formats,
    value_labels,
)

repo = pathlib.Path(__file__).resolve().parents[1]
MartColumns = dict[str, list[tuple[str, str]]]  # mart: its (column, DuckDB type), in order
# a chart: its dashboard(s), its key (TITLES), its dataset, its viz type and its parameters
Chart = tuple[Any, str, str, str, dict[str, Any]]


def mart_columns(warehouse: pathlib.Path) -> MartColumns:
    """Every column of every published mart, in order, with its DuckDB type."""
    columns: MartColumns = {}
    with duckdb.connect(str(warehouse), read_only=True) as built:
        for table, column, data_type in built.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' order by table_name, ordinal_position"
        ).fetchall():
            columns.setdefault(table, []).append((column, data_type))
    return columns


def seed(name: str) -> list[dict[str, str]]:
    with (repo / "dbt_project" / "seeds" / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# Aging buckets and risk classes as the users read them, in their order and with one colour each on
# every chart: the names and colours are the seeds' (the reports read the same); the number in front
# keeps Superset's name order the seed's order
@cache
def buckets() -> dict[str, tuple[str, str]]:
    """Each aging bucket's displayed name: (its code, its colour)."""
    return {
        f"{b['bucket_order']} · {b['label_fr']}": (b["aging_bucket"], b["colour"])
        for b in seed("aging_buckets")
    }


@cache
def risk_classes() -> dict[str, tuple[str, str]]:
    """Each risk class's displayed name: (its number, its colour)."""
    return {
        f"{int(c['risk_class']):02d} · {c['label_fr']}": (c["risk_class"], c["colour"])
        for c in seed("risk_classes")
    }


UNRATED = ("Non noté", "#BDBDBD")


def label_colours() -> dict[str, str]:
    return {label: colour for label, (_, colour) in {**buckets(), **risk_classes()}.items()} | {
        UNRATED[0]: UNRATED[1]
    }


QUOTE = "''"  # a single quote inside a SQL string literal


def rison_text(sql: str) -> str:
    """A SQL text expression as a quoted rison string (Superset's URL state): ! and ' escaped by !."""
    return f"'{QUOTE}' || replace(replace({sql}, '!', '!!'), '{QUOTE}', '!{QUOTE}') || '{QUOTE}'"


def html_text(sql: str) -> str:
    """A SQL text expression escaped for HTML text and attribute values."""
    return (
        f"replace(replace(replace(replace({sql}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '\"', '&quot;')"
    )


# The debtor group as people pick it: its name, then its id, "Rivière & Fils B.V. (NL872813901)".
# A select filter shows the values of the column it filters (upstream #13398: no label apart from
# the value), so each dataset of the debtor group's page offers this column, the name read from
# mart_debtor_exposure (the latest the group had, so one label per group on every date)
DEBTOR_GROUP_LABEL = (
    "coalesce((SELECT arg_max(names.debtor_group_name, names.as_of_date) FROM marts.mart_debtor_exposure AS names "
    "WHERE names.debtor_group_id = {table}.debtor_group_id) || ' (' || {table}.debtor_group_id || ')', "
    "{table}.debtor_group_id)"
)
DEBTOR_GROUP_FILTER = "NATIVE_FILTER-debtor_group-debtor_group_label"
# the debtor group's name as a link to its page, the group picked in the page's filter
FILTER_STATE = (
    f"({DEBTOR_GROUP_FILTER}:(extraFormData:(filters:!((col:debtor_group_label,op:IN,"
    f"val:!({{value}})))),filterState:(value:!({{value}})),id:{DEBTOR_GROUP_FILTER},ownState:()))"
)
DEBTOR_GROUP_LINK = (
    "'<a href=\"/superset/dashboard/receivables-debtor-group/?native_filters="
    + FILTER_STATE.replace(
        "{value}",
        # percent-encoded: a name holds spaces, "&" or "#" that would end the URL's parameter
        "' || url_encode("
        + rison_text(DEBTOR_GROUP_LABEL.replace("{table}", "mart_debtor_exposure"))
        + ") || '",
    )
    + "\">' || "
    + html_text("coalesce(debtor_group_name, debtor_group_id)")
    + " || '</a>'"
)


def sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@cache
def calculated_columns() -> dict[str, tuple[str, tuple[str, ...]]]:
    """The datasets' calculated columns: each one's SQL expression and the tables that offer it."""

    # codes as the users read them: the labels of the marts' YAML (config.meta.labels, read by
    # receivables.marts_catalog for the reports too), a code without one shown as it is
    value_label_tables: dict[str, tuple[str, ...]] = {}  # column: the tables whose column holds those codes
    for mart, column in labelled_columns():
        value_label_tables[column] = (*value_label_tables.get(column, ()), mart)
    # dunning stages numbered so that Superset's name order keeps theirs: the escalation in the seed's
    # order, then the items held back from it (a pending promise, a dispute: SPEC section 13)
    stage_order = {
        stage["dunning_stage"]: int(stage["stage_order"])
        for stage in seed("dunning_stages")
        if stage["is_disputed"] == "false"
    }
    codes = value_labels()
    for code in codes["dunning_stage"]:
        stage_order.setdefault(code, max(stage_order.values()) + 1)
    displayed = {
        **codes,
        "dunning_stage": {
            code: f"{stage_order[code]} · {label}" for code, label in codes["dunning_stage"].items()
        },
    }
    return {  # column: (expression, the tables that offer it)
        **{
            f"{column}_label": (
                f"CASE {column} "
                + " ".join(
                    f"WHEN {sql_text(code)} THEN {sql_text(label)}"
                    for code, label in displayed[column].items()
                )
                + f" ELSE {column} END",
                tables,
            )
            for column, tables in value_label_tables.items()
        },
        "debtor_group_link": (DEBTOR_GROUP_LINK, ("mart_debtor_exposure",)),
        "debtor_group_label": (  # {table}: the dataset's table, the subquery's outer reference
            DEBTOR_GROUP_LABEL,
            (
                "mart_debtor_exposure",
                "mart_entity_debtor_exposure",
                "mart_aging",
                "fct_open_items",
                "mart_weak_signals",
            ),
        ),
        "aging_bucket_label": (
            "CASE aging_bucket "
            + " ".join(f"WHEN '{code}' THEN '{label}'" for label, (code, _) in buckets().items())
            + " END",
            ("mart_aging", "fct_open_items"),
        ),
        "risk_class_label": (
            "CASE worst_risk_class "
            + " ".join(f"WHEN {number} THEN '{label}'" for label, (number, _) in risk_classes().items())
            + f" ELSE '{UNRATED[0]}' END",
            ("mart_debtor_exposure", "mart_entity_debtor_exposure"),
        ),
    }


CALCULATED_DESCRIPTIONS = {
    "aging_bucket_label": "the bucket's name and order (seed aging_buckets)",
    "risk_class_label": "the class's name and order (seed risk_classes)",
    "debtor_group_link": "the debtor group's name, a link to its page (dashboard receivables-debtor-group)",
    "debtor_group_label": "the debtor group's latest name and its id (mart_debtor_exposure), as the debtor group page's filter lists it",
}


NS = uuid.UUID("6b1f2a9e-1d0c-4c84-9d9e-7f0f6d0a5e11")


def uid(name: str) -> str:
    return str(uuid.uuid5(NS, name))


DB = uid("database/receivables")


def dump(root: pathlib.Path, path: str, data: dict[str, Any]) -> None:
    p = root / path
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def write_database(root: pathlib.Path) -> None:
    """The bundle's metadata and its one database, the published warehouse (read-only)."""
    dump(
        root,
        "metadata.yaml",
        {"version": "1.0.0", "type": "assets", "timestamp": "2026-11-25T00:00:00+00:00"},
    )
    dump(
        root,
        "databases/receivables.yaml",
        {
            "database_name": "Receivables warehouse (published, read-only)",
            "sqlalchemy_uri": "duckdb:///${RECEIVABLES_SERVING}",
            "cache_timeout": None,
            "expose_in_sqllab": True,
            "allow_run_async": False,
            "allow_ctas": False,
            "allow_cvas": False,
            "allow_dml": False,
            "allow_file_upload": False,
            "extra": {
                "engine_params": {
                    "connect_args": {"read_only": True, "config": {"enable_external_access": False}}
                },
                "allows_virtual_table_explore": True,
            },
            "uuid": DB,
            "version": "1.0.0",
        },
    )


def metric_labels() -> dict[str, tuple[str, str]]:
    """Each dataset metric's label and number format (a metric is a dashboard's aggregate, not a column)."""
    EUR, SHARE, DAYS, COUNT = (number_formats()[kind] for kind in ("eur", "share", "days", "count"))
    return {  # metric: (label, number format)
        "net_encours_eur": ("Encours net (EUR)", EUR),
        "overdue_eur": ("Échu (EUR)", EUR),
        "overdue_share": ("Part échue de l'encours", SHARE),
        "dso_countback": ("DSO (épuisement), j", DAYS),
        "bpdso": ("BPDSO, j", DAYS),
        "contractual_terms": ("Délai contractuel, j", DAYS),
        "exposure_eur": ("Exposition (EUR)", EUR),
        "insured_eur": ("Assuré (EUR)", EUR),
        "uninsured_eur": ("Non assuré (EUR)", EUR),
        "over_limit_eur": ("Dépassement de limite (EUR)", EUR),
        "hhi": ("Indice HHI", COUNT),
        "top10_share": ("Part des 10 premiers groupes", SHARE),
        "amount_at_stake_eur": ("Montant en jeu (EUR)", EUR),
        "rows_landed": ("Lignes chargées", COUNT),
        "issue_items": ("Éléments concernés", COUNT),
        "open_amount_eur": ("Reste dû (EUR)", EUR),
        "cumulative_share": ("Part cumulée de l'exposition", SHARE),
        "cover_eur": ("Garantie (EUR)", EUR),
        "worst_risk_class": ("Classe de risque (1 à 10)", COUNT),
        "avg_days_to_pay_90d": ("Délai moyen de paiement sur 90 j", DAYS),
        "avg_days_late_90d": ("Retard moyen sur 90 j", DAYS),
        "debtor_overdue_eur": ("Échu (EUR)", EUR),
        "expected_eur": ("Encaissements attendus (EUR)", EUR),
        "from_promises": ("Promesses (EUR)", EUR),
        "from_behaviour": ("Comportement de paiement (EUR)", EUR),
        "from_disputes": ("Litiges (EUR)", EUR),
        "naive_eur": ("Référence naïve : échéances (EUR)", EUR),
        "forecast_eur": ("Prévu (EUR)", EUR),
        "actual_eur": ("Encaissé (EUR)", EUR),
        "forecast_wape": ("Erreur de la prévision (WAPE)", SHARE),
        "naive_wape": ("Erreur de la référence naïve (WAPE)", SHARE),
        "promised_eur": ("Montant promis (EUR)", EUR),
        "disputed_eur": ("En litige (EUR)", EUR),
        "einvoice_open_eur": ("Reste dû au statut (EUR)", EUR),
    }


# each dataset's metrics: (name, SQL, description)
DATASET_METRICS: dict[str, list[tuple[str, str, str]]] = {
    "mart_aging": [
        (
            "net_encours_eur",
            "SUM(external_amount_eur)",
            "Net encours in EUR, intercompany left out: sum of mart_aging.external_amount_eur "
            "(buckets add up to the net encours)",
        ),
        (
            "overdue_eur",
            "SUM(external_overdue_amount_eur)",
            "Overdue encours in EUR, intercompany left out: sum of mart_aging.external_overdue_amount_eur",
        ),
        (
            "overdue_share",
            "SUM(external_overdue_amount_eur) / NULLIF(SUM(external_amount_eur), 0)",
            "Overdue share of net encours: overdue_eur / net_encours_eur",
        ),
    ],
    "mart_dso": [
        (
            "dso_countback",
            "AVG(dso_countback)",
            "Countback DSO in days: mart_dso.dso_countback (one row per month end and entity)",
        ),
        ("bpdso", "AVG(bpdso)", "Best possible DSO in days: mart_dso.bpdso"),
        (
            "contractual_terms",
            "AVG(contractual_terms_days)",
            "The month's sales-weighted contractual terms in days, the DSO's reference: mart_dso.contractual_terms_days",
        ),
    ],
    "mart_debtor_exposure": [
        ("exposure_eur", "SUM(exposure_eur)", "Exposure in EUR: sum of mart_debtor_exposure.exposure_eur"),
        ("insured_eur", "SUM(insured_eur)", "Insured exposure: sum of mart_debtor_exposure.insured_eur"),
        (
            "uninsured_eur",
            "SUM(uninsured_eur)",
            "Uninsured exposure: sum of mart_debtor_exposure.uninsured_eur",
        ),
        (
            "over_limit_eur",
            "SUM(over_limit_eur)",
            "Exposure over internal limits: sum of mart_debtor_exposure.over_limit_eur",
        ),
        (
            "cumulative_share",
            "MAX(cumulative_share)",
            "mart_debtor_exposure.cumulative_share (one row per rank)",
        ),
        ("cover_eur", "SUM(cover_eur)", "Cover: sum of mart_debtor_exposure.cover_eur"),
        (
            "worst_risk_class",
            "MAX(worst_risk_class)",
            "The worst risk class: mart_debtor_exposure.worst_risk_class",
        ),
        (
            "avg_days_to_pay_90d",
            "AVG(avg_days_to_pay_90d)",
            "Days to pay over 90 days: mart_debtor_exposure.avg_days_to_pay_90d (one row per group and date)",
        ),
        (
            "avg_days_late_90d",
            "AVG(avg_days_late_90d)",
            "Days late over 90 days: mart_debtor_exposure.avg_days_late_90d (one row per group and date)",
        ),
    ],
    "mart_entity_debtor_exposure": [
        (
            "exposure_eur",
            "SUM(exposure_eur)",
            "Exposure in EUR: sum of mart_entity_debtor_exposure.exposure_eur",
        ),
        (
            "debtor_overdue_eur",
            "SUM(overdue_eur)",
            "Overdue exposure in EUR: sum of mart_entity_debtor_exposure.overdue_eur",
        ),
    ],
    "mart_concentration": [
        ("hhi", "MAX(hhi)", "Herfindahl-Hirschman index: mart_concentration.hhi (one row per as-of date)"),
        (
            "top10_share",
            "MAX(top10_share)",
            "Share of the 10 largest debtor groups: mart_concentration.top10_share",
        ),
    ],
    "mart_weak_signals": [
        ("amount_at_stake_eur", "SUM(amount_eur)", "Amount at stake: sum of mart_weak_signals.amount_eur")
    ],
    "mart_freshness": [("rows_landed", "SUM(rows_landed)", "Rows landed: sum of mart_freshness.rows_landed")],
    "mart_data_issues": [
        (
            "issue_items",
            "SUM(items)",
            "Rows, open items or month ends concerned: sum of mart_data_issues.items",
        )
    ],
    "mart_cash_forecast": [
        (
            "expected_eur",
            "SUM(expected_eur)",
            "Expected collections in EUR: sum of mart_cash_forecast.expected_eur (the entities' rows add "
            "up to GROUP's; the charts read the entities')",
        ),
        (
            "from_promises",
            "SUM(from_promises)",
            "Expected from promises: sum of mart_cash_forecast.from_promises",
        ),
        (
            "from_behaviour",
            "SUM(from_behaviour)",
            "Expected from each debtor's payment behaviour: sum of mart_cash_forecast.from_behaviour",
        ),
        (
            "from_disputes",
            "SUM(from_disputes)",
            "Expected from disputed items: sum of mart_cash_forecast.from_disputes",
        ),
        (
            "naive_eur",
            "SUM(naive_eur)",
            "The naive baseline, every item on its due date (t + 1 when past due): sum of mart_cash_forecast.naive_eur",
        ),
    ],
    "mart_forecast_accuracy": [
        ("forecast_eur", "SUM(forecast_eur)", "Forecast: sum of mart_forecast_accuracy.forecast_eur"),
        ("naive_eur", "SUM(naive_eur)", "Naive baseline: sum of mart_forecast_accuracy.naive_eur"),
        ("actual_eur", "SUM(actual_eur)", "Collected: sum of mart_forecast_accuracy.actual_eur"),
        (
            "forecast_wape",
            "SUM(forecast_abs_error_eur) / NULLIF(SUM(actual_eur), 0)",
            "Weighted absolute error of the forecast (SPEC section 14): sum |forecast - actual| / sum actual "
            "over the rows shown (each entity's weeks: an entity's error is not cancelled by another's)",
        ),
        (
            "naive_wape",
            "SUM(naive_abs_error_eur) / NULLIF(SUM(actual_eur), 0)",
            "Weighted absolute error of the naive baseline: sum |naive - actual| / sum actual over the rows shown",
        ),
    ],
    "mart_promises": [
        (
            "promised_eur",
            "SUM(promised_amount_eur)",
            "Promised amount in EUR: sum of mart_promises.promised_amount_eur",
        )
    ],
    "mart_restatements": [],  # a table of figures of several kinds: nothing to add up
    "mart_einvoice_lifecycle": [
        (
            "einvoice_open_eur",
            "SUM(amount_eur)",
            "Open amount of the invoices at the status in EUR: sum of mart_einvoice_lifecycle.amount_eur",
        )
    ],
    "mart_disputes": [
        (
            "disputed_eur",
            "SUM(disputed_amount_eur)",
            "Amount in dispute in EUR: sum of mart_disputes.disputed_amount_eur",
        )
    ],
    "fct_open_items": [
        (
            "open_amount_eur",
            "SUM(open_amount_eur)",
            "Open amount in EUR: sum of fct_open_items.open_amount_eur",
        )
    ],
}


def write_datasets(root: pathlib.Path, columns: MartColumns) -> None:
    metrics_labelled = metric_labels()
    for table, metrics in DATASET_METRICS.items():
        dump(
            root,
            f"datasets/{table}.yaml",
            {
                "table_name": table,
                "schema": "marts",
                "main_dttm_col": None,
                "description": f"marts.{table} (SPEC section 11)",
                "sql": None,
                "params": None,
                "template_params": None,
                "filter_select_enabled": True,
                "cache_timeout": None,
                "extra": None,
                "columns": [
                    {
                        "column_name": column,
                        "verbose_name": column_label(column),
                        "is_dttm": data_type in ("DATE", "TIMESTAMP"),
                        "is_active": True,
                        "type": data_type,
                        "groupby": True,
                        "filterable": True,
                        "expression": None,
                        "description": None,
                        "python_date_format": None,
                        "extra": None,
                    }
                    for column, data_type in columns[table]
                ]
                + [
                    {
                        "column_name": column,
                        "verbose_name": column_label(column),
                        "is_dttm": False,
                        "is_active": True,
                        "type": "VARCHAR",
                        "groupby": True,
                        "filterable": True,
                        "expression": expression.replace("{table}", table),
                        "description": CALCULATED_DESCRIPTIONS.get(
                            column, "the code as the users read it (receivables.reports.model.VALUE_LABELS)"
                        ),
                        "python_date_format": None,
                        "extra": None,
                    }
                    for column, (expression, tables) in calculated_columns().items()
                    if table in tables
                ],
                "metrics": [
                    {
                        "metric_name": n,
                        "verbose_name": metrics_labelled[n][0],
                        "metric_type": None,
                        "expression": e,
                        "description": d,
                        "d3format": metrics_labelled[n][1],
                        "extra": None,
                        "warning_text": None,
                    }
                    for n, e, d in metrics
                ],
                "uuid": uid(f"dataset/{table}"),
                "database_uuid": DB,
                "version": "1.0.0",
            },
        )


def where(sql: str) -> list[dict[str, Any]]:
    return [
        {
            "expressionType": "SQL",
            "clause": "WHERE",
            "sqlExpression": sql,
            "subject": None,
            "operator": None,
            "comparator": None,
        }
    ]


def charts() -> list[Chart]:
    """Every chart, in the dashboards' order."""
    EUR, SHARE, DAYS = (number_formats()[kind] for kind in ("eur", "share", "days"))

    def by_source(period_kind: str, title: str) -> Chart:
        """The forecast's expected collections of each period of a kind, stacked by source."""
        return (
            "forecast",
            title,
            "mart_cash_forecast",
            "echarts_timeseries_bar",
            {
                "x_axis": "period_start",
                "time_grain_sqla": "P1D",
                "metrics": ["from_promises", "from_behaviour", "from_disputes"],
                "groupby": [],
                "stack": "Stack",
                "adhoc_filters": where(f"entity_code <> 'GROUP' AND period_kind = '{period_kind}'"),
                "row_limit": 1000,
                "y_axis_format": EUR,
                "show_legend": True,
            },
        )

    return [
        (
            "overview",
            "Net encours (EUR)",
            "mart_aging",
            "big_number_total",
            {
                "metric": "net_encours_eur",
                "adhoc_filters": [],
                "y_axis_format": EUR,
                "header_font_size": 0.3,
                "subheader_font_size": 0.125,
            },
        ),
        (
            "overview",
            "Overdue share of net encours",
            "mart_aging",
            "big_number_total",
            {"metric": "overdue_share", "adhoc_filters": [], "y_axis_format": ".1%"},
        ),
        (
            "overview",
            "DSO countback and best possible DSO by month end (days)",  # the group's, drawn apart
            "mart_dso",
            "echarts_timeseries_line",
            {
                "x_axis": "month_end",
                "time_grain_sqla": "P1M",
                "metrics": ["dso_countback", "bpdso", "contractual_terms"],  # the terms: the reference
                "groupby": [],
                "adhoc_filters": where("entity_code = 'GROUP'"),
                "row_limit": 10000,
                "y_axis_format": ",.1f",
                "show_legend": True,
                "markerEnabled": True,
            },
        ),
        (
            "overview",
            "Countback DSO of each entity by month end (days)",
            "mart_dso",
            "echarts_timeseries_line",
            {
                "x_axis": "month_end",
                "time_grain_sqla": "P1M",
                "metrics": ["dso_countback"],
                "groupby": ["entity_name"],  # one line per entity, by its name
                "adhoc_filters": where("entity_code <> 'GROUP'"),
                "row_limit": 10000,
                "y_axis_format": ",.1f",
                "show_legend": True,
                "legendType": "plain",
            },
        ),
        (
            "overview",
            "Aging by entity (EUR)",
            "mart_aging",
            "echarts_timeseries_bar",
            {
                "x_axis": "entity_code",
                "metrics": ["net_encours_eur"],
                "groupby": ["aging_bucket_label"],
                "sort_series_type": "name",
                "sort_series_ascending": True,
                "stack": "Stack",
                "adhoc_filters": [],
                "row_limit": 10000,
                "y_axis_format": EUR,
                "show_legend": True,
                "x_axis_sort_asc": True,
            },
        ),
        (
            ("overview", "concentration", "signals", "forecast"),
            "Freshness per entity",
            "mart_freshness",
            "table",
            {
                "query_mode": "raw",
                "all_columns": [
                    "entity_code",
                    "status_label",
                    "last_good_extract_date",
                    "rows_landed",
                    "sent_manifest",
                    "reason",
                ],
                "order_by_cols": [json.dumps(["entity_code", True])],
                "adhoc_filters": [],
                "row_limit": 1000,
            },
        ),
        (
            ("overview", "concentration", "signals", "forecast"),
            "Data issues of the night: rows landed with a warning, figures left out",
            "mart_data_issues",
            "table",
            {
                "query_mode": "raw",
                "all_columns": [
                    "entity_code",
                    "severity_label",
                    "kind_label",
                    "detail",
                    "items",
                    "amount",
                    "currency",
                ],
                "order_by_cols": [json.dumps(["severity_label", False]), json.dumps(["entity_code", True])],
                "adhoc_filters": [],
                "row_limit": 1000,
                "conditional_formatting": [
                    {"column": "items", "operator": ">", "targetValue": 0, "colorScheme": "#E04355"}
                ],
            },
        ),
        # figures as reported (SPEC section 18): what a later build changed of a published date, and why
        (
            "overview",
            "Restated figures: published, now, and the drops that changed them",
            "mart_restatements",
            "table",
            {
                "query_mode": "raw",
                "all_columns": [
                    "entity_code",
                    "figure_label",
                    "as_reported",
                    "now",
                    "difference",
                    "published_at",
                    "cause",
                ],
                "order_by_cols": [json.dumps(["published_at", False]), json.dumps(["entity_code", True])],
                "adhoc_filters": [],
                "row_limit": 1000,
            },
        ),
        (
            "concentration",
            "Top 20 debtor groups by exposure (EUR)",
            "mart_debtor_exposure",
            "table",
            {
                "query_mode": "raw",
                "all_columns": [
                    "rank",
                    "debtor_group_link",
                    "debtor_group_id",
                    "exposure_eur",
                    "share",
                    "cumulative_share",
                    "risk_class_label",
                    "cover_eur",
                    "insured_eur",
                    "uninsured_eur",
                    "over_limit_eur",
                    "avg_days_late_90d",
                ],
                "order_by_cols": [json.dumps(["rank", True])],
                "adhoc_filters": where("rank <= 20"),
                "row_limit": 20,
            },
        ),
        (
            "concentration",
            "Herfindahl-Hirschman index of exposure over time",
            "mart_concentration",
            "echarts_timeseries_line",
            {
                "x_axis": "as_of_date",
                "time_grain_sqla": "P1D",
                "metrics": ["hhi"],
                "groupby": [],
                "adhoc_filters": [],
                "row_limit": 10000,
                "y_axis_format": ",.0f",
            },
        ),
        (
            "concentration",
            "Share of the 10 largest debtor groups over time",
            "mart_concentration",
            "echarts_timeseries_line",
            {
                "x_axis": "as_of_date",
                "time_grain_sqla": "P1D",
                "metrics": ["top10_share"],
                "groupby": [],
                "adhoc_filters": [],
                "row_limit": 10000,
                "y_axis_format": ".1%",
            },
        ),
        (
            "concentration",
            "Exposure by worst risk class (EUR)",
            "mart_debtor_exposure",
            "echarts_timeseries_bar",
            {
                "x_axis": "risk_class_label",
                "metrics": ["exposure_eur"],
                "groupby": [],
                "color_by_primary_axis": True,  # each bar in its class's colour (the dashboards' label_colors)
                "adhoc_filters": [],
                "row_limit": 100,
                "y_axis_format": EUR,
                "x_axis_sort_asc": True,
            },
        ),
        (
            "concentration",
            "Insured, uninsured and over-limit exposure (EUR)",
            "mart_debtor_exposure",
            "table",
            {
                "query_mode": "aggregate",
                "groupby": [],
                "metrics": ["exposure_eur", "insured_eur", "uninsured_eur", "over_limit_eur"],
                "adhoc_filters": [],
                "row_limit": 10,
            },
        ),
        (
            "concentration",
            "Debtor groups in insolvency proceedings and claim deadlines",
            "mart_debtor_exposure",
            "table",
            {
                "query_mode": "raw",
                "all_columns": [
                    "debtor_group_name",
                    "debtor_group_id",
                    "insolvency_status_label",
                    "insolvency_date",
                    "insolvency_claim_deadline",
                    "exposure_eur",
                ],
                "order_by_cols": [json.dumps(["insolvency_claim_deadline", True])],
                "adhoc_filters": where("insolvency_status <> 'none'"),
                "row_limit": 1000,
            },
        ),
        (
            "concentration",
            "Pareto curve: cumulative share of exposure by debtor group rank",
            "mart_debtor_exposure",
            "echarts_timeseries_line",
            {
                "x_axis": "rank",
                "metrics": ["cumulative_share"],
                "groupby": [],
                "adhoc_filters": where("rank <= 50"),
                "row_limit": 50,
                "y_axis_format": SHARE,
                "x_axis_title": "Rang du groupe débiteur",
                "annotation_layers": [
                    {
                        "name": "80 % de l'exposition",
                        "annotationType": "FORMULA",
                        "sourceType": "",
                        "value": "0.8",
                        "overrides": {},
                        "show": True,
                        "showLabel": True,
                        "titleColumn": "",
                        "descriptionColumns": [],
                        "timeColumn": "",
                        "intervalEndColumn": "",
                        "color": "#B30000",
                        "opacity": "",
                        "style": "dashed",
                        "width": 2,
                        "showMarkers": False,
                        "hideLine": False,
                    }
                ],
            },
        ),
        (
            "concentration",
            "Exposure by debtor group, coloured by risk class (EUR)",
            "mart_debtor_exposure",
            "treemap_v2",
            {
                # each group's box holds one box named by its class: Superset colours a box by its
                # own name, so the class (in label_colors) colours the group; the group's name is
                # the box's upper label
                "groupby": ["debtor_group_name", "risk_class_label"],
                "metric": "exposure_eur",
                "adhoc_filters": where("rank <= 50"),
                "row_limit": 100,
                "number_format": EUR,
                "show_labels": True,
                "show_upper_labels": True,
                "label_type": "key_value",
            },
        ),
        (
            "concentration",
            "Insured and uninsured exposure of the 20 largest debtor groups (EUR)",
            "mart_debtor_exposure",
            "echarts_timeseries_bar",
            {
                "x_axis": "debtor_group_name",
                "metrics": ["insured_eur", "uninsured_eur"],
                "groupby": [],
                "stack": "Stack",
                "adhoc_filters": where("rank <= 20"),
                "row_limit": 20,
                "y_axis_format": EUR,
                "x_axis_sort": "uninsured_eur",
                "x_axis_sort_asc": False,
                "show_legend": True,
            },
        ),
        (
            "debtor_group",
            "Exposure of the debtor group per entity (EUR)",
            "mart_entity_debtor_exposure",
            "echarts_timeseries_bar",
            {
                "x_axis": "entity_code",
                "metrics": ["exposure_eur", "debtor_overdue_eur"],
                "groupby": [],
                "adhoc_filters": [],
                "row_limit": 1000,
                "y_axis_format": EUR,
                "x_axis_sort_asc": True,
                "show_legend": True,
            },
        ),
        (
            "debtor_group",
            "Aging of the debtor group (EUR)",
            "mart_aging",
            "echarts_timeseries_bar",
            {
                "x_axis": "aging_bucket_label",
                "metrics": ["net_encours_eur"],
                "groupby": [],
                "color_by_primary_axis": True,  # each bar in its bucket's colour (the dashboards' label_colors)
                "adhoc_filters": [],
                "row_limit": 100,
                "y_axis_format": EUR,
                "x_axis_sort_asc": True,
                "show_legend": False,
            },
        ),
        (
            "debtor_group",
            "Open documents of the debtor group",
            "fct_open_items",
            "table",
            {
                "query_mode": "raw",
                "all_columns": [
                    "entity_code",
                    "debtor_id",
                    "document_id",
                    "document_type_label",
                    "issue_date",
                    "due_date",
                    "days_past_due",
                    "aging_bucket_label",
                    "open_amount_eur",
                    "dunning_stage_label",
                    "is_disputed",
                ],
                "order_by_cols": [json.dumps(["days_past_due", False]), json.dumps(["document_id", True])],
                "adhoc_filters": [],
                "row_limit": 5000,
            },
        ),
        (
            "debtor_group",
            "Exposure and cover of the debtor group over time (EUR)",
            "mart_debtor_exposure",
            "echarts_timeseries_line",
            {
                "x_axis": "as_of_date",
                "time_grain_sqla": "P1D",
                "metrics": ["exposure_eur", "cover_eur"],
                "groupby": [],
                "adhoc_filters": [],
                "row_limit": 10000,
                "y_axis_format": EUR,
                "show_legend": True,
            },
        ),
        (
            "debtor_group",
            "Risk class of the debtor group over time (1 best, 10 worst)",
            "mart_debtor_exposure",
            "echarts_timeseries_line",
            {
                "x_axis": "as_of_date",
                "time_grain_sqla": "P1D",
                "metrics": ["worst_risk_class"],
                "groupby": [],
                "adhoc_filters": [],
                "row_limit": 10000,
                "y_axis_format": ",.0f",
                "y_axis_bounds": [1, 10],
            },
        ),
        (
            "debtor_group",
            "Payment behaviour of the debtor group over time (days)",
            "mart_debtor_exposure",
            "echarts_timeseries_line",
            {
                "x_axis": "as_of_date",
                "time_grain_sqla": "P1D",
                "metrics": ["avg_days_to_pay_90d", "avg_days_late_90d"],
                "groupby": [],
                "adhoc_filters": [],
                "row_limit": 10000,
                "y_axis_format": DAYS,
                "show_legend": True,
            },
        ),
        (
            "debtor_group",
            "Weak signals on the debtor group",
            "mart_weak_signals",
            "table",
            {
                "query_mode": "raw",
                "all_columns": ["signal_date", "signal_label", "amount_eur", "detail"],
                "order_by_cols": [json.dumps(["signal_date", False])],
                "adhoc_filters": [],
                "row_limit": 1000,
            },
        ),
        (
            "signals",
            "Weak signals with the amount at stake (EUR)",
            "mart_weak_signals",
            "table",
            {
                "query_mode": "raw",
                "all_columns": ["signal_label", "debtor_group_id", "signal_date", "amount_eur", "detail"],
                "order_by_cols": [json.dumps(["amount_eur", False])],
                "adhoc_filters": [],
                "row_limit": 1000,
            },
        ),
        (
            "signals",
            "Overdue invoices by recommended dunning stage (EUR)",
            "fct_open_items",
            "echarts_timeseries_bar",
            {
                "x_axis": "dunning_stage_label",
                "metrics": ["open_amount_eur"],
                "groupby": ["entity_code"],
                "stack": "Stack",
                "adhoc_filters": where("dunning_stage IS NOT NULL"),
                "row_limit": 1000,
                "y_axis_format": EUR,
            },
        ),
        (
            "signals",
            "Promises to pay broken or pending, the broken first",
            "mart_promises",
            "table",
            {
                "query_mode": "raw",
                "all_columns": [
                    "entity_code",
                    "debtor_name",
                    "document_id",
                    "event_type_label",
                    "event_date",
                    "promised_date",
                    "due_by",
                    "promise_status_label",
                    "promised_amount_eur",
                    "document_open_amount_eur",
                    "days_since_broken",
                ],
                # broken first, the longest broken first (DuckDB puts nulls last), then by the date to check
                "order_by_cols": [json.dumps(["days_since_broken", False]), json.dumps(["due_by", True])],
                "adhoc_filters": where("promise_status <> 'kept'"),
                "row_limit": 1000,
            },
        ),
        (
            "signals",
            "Open disputes, the oldest first",
            "mart_disputes",
            "table",
            {
                "query_mode": "raw",
                "all_columns": [
                    "entity_code",
                    "debtor_name",
                    "document_id",
                    "dispute_reason_label",
                    "opened_on",
                    "age_days",
                    "disputed_amount_eur",
                    "max_days_past_due",
                ],
                "order_by_cols": [json.dumps(["age_days", False]), json.dumps(["document_id", True])],
                "adhoc_filters": [],
                "row_limit": 1000,
            },
        ),
        (
            "signals",
            "Open disputes by reason (EUR)",
            "mart_disputes",
            "echarts_timeseries_bar",
            {
                "x_axis": "dispute_reason_label",
                "metrics": ["disputed_eur"],
                "groupby": ["entity_code"],
                "stack": "Stack",
                "adhoc_filters": [],
                "row_limit": 1000,
                "y_axis_format": EUR,
                "show_legend": True,
            },
        ),
        # the e-invoicing lifecycle (SPEC section 17): where each entity's open invoices stand on the buyers'
        # platforms, and the invoices a platform's status says to act on
        (
            "signals",
            "Open invoices by e-invoicing status, per entity",
            "mart_einvoice_lifecycle",
            "table",
            {
                "query_mode": "raw",
                "all_columns": [
                    "entity_code",
                    "status_code",
                    "status_name",
                    "items",
                    "amount_eur",
                    "factored_items",
                    "factored_amount_eur",
                ],
                "order_by_cols": [json.dumps(["entity_code", True]), json.dumps(["status_code", True])],
                "adhoc_filters": [],
                "row_limit": 1000,
            },
        ),
        (
            "signals",
            "E-invoicing worklist: refused, disputed or suspended by the buyer, rejected, collected but open",
            "fct_open_items",
            "table",
            {
                "query_mode": "raw",
                "all_columns": [
                    "entity_code",
                    "consolidated_debtor_id",
                    "document_id",
                    "einvoice_status",
                    "einvoice_status_name",
                    "einvoice_status_at",
                    "dunning_stage_label",
                    "open_amount_eur",
                    "days_past_due",
                ],
                "order_by_cols": [
                    json.dumps(["einvoice_status_at", False]),
                    json.dumps(["document_id", True]),
                ],
                "adhoc_filters": where(
                    "einvoice_status IN ("
                    + ", ".join(f"'{code}'" for code in EINVOICE_WORKLIST_STATUSES)
                    + ")"
                ),
                "row_limit": 1000,
            },
        ),
        # the cash-in forecast (SPEC section 14): the entities' rows, which add up to GROUP's, so that the
        # entity filter and a controller's row-level security apply
        (
            "forecast",
            "Expected collections over the next 13 weeks (EUR)",
            "mart_cash_forecast",
            "big_number_total",
            {
                "metric": "expected_eur",
                "adhoc_filters": where("entity_code <> 'GROUP' AND period_kind = 'week'"),
                "y_axis_format": EUR,
                "header_font_size": 0.3,
                "subheader_font_size": 0.125,
            },
        ),
        (
            "forecast",
            "Doubtful: not forecast (EUR)",
            "mart_cash_forecast",
            "big_number_total",
            {
                "metric": "expected_eur",
                "adhoc_filters": where("entity_code <> 'GROUP' AND period_kind = 'doubtful'"),
                "y_axis_format": EUR,
                "header_font_size": 0.3,
                "subheader_font_size": 0.125,
            },
        ),
        by_source("week", "Expected collections by week and source (EUR)"),
        by_source("month", "Expected collections by month and source (EUR)"),
        (
            "forecast",
            "Forecast against the naive baseline by week (EUR)",
            "mart_cash_forecast",
            "echarts_timeseries_line",
            {
                "x_axis": "period_start",
                "time_grain_sqla": "P1D",
                "metrics": ["expected_eur", "naive_eur"],
                "groupby": [],
                "adhoc_filters": where("entity_code <> 'GROUP' AND period_kind = 'week'"),
                "row_limit": 1000,
                "y_axis_format": EUR,
                "show_legend": True,
                "markerEnabled": True,
            },
        ),
        (
            "forecast",
            "Expected collections and doubtful items by entity (EUR)",
            "mart_cash_forecast",
            "table",
            {
                "query_mode": "aggregate",
                "groupby": ["entity_code", "period_kind_label"],
                "metrics": ["expected_eur", "from_promises", "from_behaviour", "from_disputes"],
                # the months cover what the 13 weeks do, and more: the weeks are the ones shown
                "adhoc_filters": where("entity_code <> 'GROUP' AND period_kind IN ('week', 'doubtful')"),
                "order_by_cols": [],
                "row_limit": 1000,
            },
        ),
        (
            "forecast",
            "Accuracy of past forecasts: weighted absolute error against the naive baseline",
            "mart_forecast_accuracy",
            "echarts_timeseries_line",
            {
                "x_axis": "as_of_date",
                "time_grain_sqla": "P1D",
                "metrics": ["forecast_wape", "naive_wape"],
                "groupby": [],
                "adhoc_filters": where("entity_code <> 'GROUP'"),
                "row_limit": 10000,
                "y_axis_format": SHARE,
                "show_legend": True,
                "markerEnabled": True,
            },
        ),
        (
            "forecast",
            "The week after each forecast: forecast, naive baseline and collected (EUR)",
            "mart_forecast_accuracy",
            "echarts_timeseries_line",
            {
                "x_axis": "as_of_date",
                "time_grain_sqla": "P1D",
                "metrics": ["forecast_eur", "naive_eur", "actual_eur"],
                "groupby": [],
                "adhoc_filters": where("entity_code <> 'GROUP' AND period_start = as_of_date + 1"),
                "row_limit": 10000,
                "y_axis_format": EUR,
                "show_legend": True,
                "markerEnabled": True,
            },
        ),
    ]


# each chart's title as shown; the English name above stays its key (its UUID), so that a
# deployment's charts are updated in place, never duplicated
TITLES = {
    "Net encours (EUR)": "Encours net (EUR)",
    "Overdue share of net encours": "Part échue de l'encours net",
    "DSO countback and best possible DSO by month end (days)": (
        "DSO du groupe : épuisement, BPDSO et délai contractuel par fin de mois (jours)"
    ),
    "Countback DSO of each entity by month end (days)": "DSO par épuisement de chaque entité (jours)",
    "Aging by entity (EUR)": "Balance âgée par entité (EUR)",
    "Freshness per entity": "Fraîcheur des données par entité",
    "Data issues of the night: rows landed with a warning, figures left out": (
        "Anomalies de la nuit : lignes chargées avec avertissement, montants écartés"
    ),
    "Restated figures: published, now, and the drops that changed them": (
        "Chiffres retraités : publiés, aujourd'hui, et les dépôts qui les ont changés"
    ),
    "Top 20 debtor groups by exposure (EUR)": "20 premiers groupes débiteurs par exposition (EUR)",
    "Herfindahl-Hirschman index of exposure over time": "Indice de Herfindahl-Hirschman de l'exposition",
    "Share of the 10 largest debtor groups over time": "Part des 10 premiers groupes débiteurs",
    "Exposure by worst risk class (EUR)": "Exposition par classe de risque (EUR)",
    "Insured, uninsured and over-limit exposure (EUR)": "Exposition assurée, non assurée et hors limite (EUR)",
    "Debtor groups in insolvency proceedings and claim deadlines": (
        "Groupes débiteurs en procédure collective et dates limites de déclaration"
    ),
    "Weak signals with the amount at stake (EUR)": "Signaux faibles et montants en jeu (EUR)",
    "Overdue invoices by recommended dunning stage (EUR)": (
        "Factures échues par étape de relance recommandée (EUR)"
    ),
    "Pareto curve: cumulative share of exposure by debtor group rank": (
        "Courbe de Pareto : part cumulée de l'exposition par rang de groupe débiteur"
    ),
    "Exposure by debtor group, coloured by risk class (EUR)": (
        "Exposition par groupe débiteur, couleur de sa classe de risque (EUR)"
    ),
    "Insured and uninsured exposure of the 20 largest debtor groups (EUR)": (
        "Exposition assurée et non assurée des 20 premiers groupes débiteurs (EUR)"
    ),
    "Exposure of the debtor group per entity (EUR)": "Exposition du groupe débiteur par entité (EUR)",
    "Aging of the debtor group (EUR)": "Balance âgée du groupe débiteur (EUR)",
    "Open documents of the debtor group": "Pièces ouvertes du groupe débiteur",
    "Exposure and cover of the debtor group over time (EUR)": (
        "Exposition et garantie du groupe débiteur dans le temps (EUR)"
    ),
    "Risk class of the debtor group over time (1 best, 10 worst)": (
        "Classe de risque du groupe débiteur dans le temps (1 la meilleure, 10 la pire)"
    ),
    "Payment behaviour of the debtor group over time (days)": (
        "Comportement de paiement du groupe débiteur dans le temps (jours)"
    ),
    "Weak signals on the debtor group": "Signaux faibles sur le groupe débiteur",
    "Promises to pay broken or pending, the broken first": (
        "Promesses de paiement non tenues ou en attente, les non tenues d'abord"
    ),
    "Open disputes, the oldest first": "Litiges ouverts, les plus anciens d'abord",
    "Open disputes by reason (EUR)": "Litiges ouverts par motif (EUR)",
    "Open invoices by e-invoicing status, per entity": (
        "Factures ouvertes par statut e-facture (plateformes des acheteurs), par entité"
    ),
    "E-invoicing worklist: refused, disputed or suspended by the buyer, rejected, collected but open": (
        "E-facture à traiter : refusées, contestées ou suspendues par l'acheteur, rejetées, encaissées mais ouvertes"
    ),
    "Expected collections over the next 13 weeks (EUR)": "Encaissements attendus sur 13 semaines (EUR)",
    "Doubtful: not forecast (EUR)": "Douteux : non prévus (EUR)",
    "Expected collections by week and source (EUR)": "Encaissements attendus par semaine et par source (EUR)",
    "Expected collections by month and source (EUR)": "Encaissements attendus par mois et par source (EUR)",
    "Forecast against the naive baseline by week (EUR)": (
        "Prévision et référence naïve (échéances) par semaine (EUR)"
    ),
    "Expected collections and doubtful items by entity (EUR)": (
        "Encaissements attendus sur 13 semaines et douteux par entité (EUR)"
    ),
    "Accuracy of past forecasts: weighted absolute error against the naive baseline": (
        "Fiabilité des prévisions passées : erreur absolue pondérée, prévision et référence naïve"
    ),
    "The week after each forecast: forecast, naive baseline and collected (EUR)": (
        "La semaine suivant chaque prévision : prévu, référence naïve et encaissé (EUR)"
    ),
}
DATE_AXES = {"as_of_date", "month_end"}  # a chart along these is a trend: the as-of filter leaves it whole
DATE_FORMAT = "%d/%m/%Y"
PERIOD_AXES = {"period_start"}  # a forecast's periods: dates, but of the as-of date the filter picks
MONTHLY = {"month_end", "Expected collections by month and source (EUR)"}  # an axis or a chart by month
# (dashboard, column): the dataset the filter lists the values of (the signals' has no entity, the
# forecast's entities include GROUP)
FILTER_VALUES = {("signals", "entity_code"): "fct_open_items", ("forecast", "entity_code"): "fct_open_items"}


def write_charts(root: pathlib.Path) -> dict[str, list[tuple[str, str, bool, int]]]:
    """Write every chart; each dashboard's charts: (uuid, name, whether a trend, its number)."""
    EUR = number_formats()["eur"]
    metrics_labelled = metric_labels()
    by_dash: dict[str, list[tuple[str, str, bool, int]]] = {}
    for chart_number, (dash, key, table, viz, chart_params) in enumerate(charts(), start=1):
        cu = uid(f"chart/{key}")
        name = TITLES[key]
        params: dict[str, Any] = {
            "viz_type": viz,
            "datasource": f"{uid('dataset/' + table)}__table",
            **chart_params,
        }
        if viz == "table":  # French number format in table cells too: amounts to the cent, shares in %
            shown = params.get("all_columns") or params.get("metrics") or []
            params["column_config"] = {
                c: {"d3NumberFormat": ".2%" if "share" in c else EUR}
                for c in shown
                if c.endswith("_eur") or "share" in c or metrics_labelled.get(c, ("", ""))[1] == EUR
            }
            params["table_timestamp_format"] = DATE_FORMAT
        if viz.startswith("echarts_timeseries") and params.get("x_axis") in DATE_AXES | PERIOD_AXES:
            monthly = params.get("x_axis") in MONTHLY or key in MONTHLY
            params["x_axis_time_format"] = "%m/%Y" if monthly else DATE_FORMAT
            params["tooltipTimeFormat"] = "%m/%Y" if monthly else DATE_FORMAT
        dump(
            root,
            f"charts/{table}__{cu[:8]}.yaml",
            {
                "slice_name": name,
                "description": None,
                "certified_by": None,
                "certification_details": None,
                "viz_type": viz,
                "params": params,
                "query_context": None,
                "cache_timeout": None,
                "uuid": cu,
                "version": "1.0.0",
                "dataset_uuid": uid("dataset/" + table),
            },
        )
        for board in (
            dash if isinstance(dash, tuple) else (dash,)
        ):  # freshness and data issues show on every dashboard
            by_dash.setdefault(board, []).append((cu, name, params.get("x_axis") in DATE_AXES, chart_number))
    return by_dash


def write_dashboards(root: pathlib.Path, by_dash: dict[str, list[tuple[str, str, bool, int]]]) -> None:
    titles = {
        "overview": ("Vue groupe : encours, DSO, balance âgée, fraîcheur", "receivables-overview"),
        "concentration": ("Concentration du risque par groupe débiteur", "receivables-concentration"),
        "signals": ("Signaux faibles et recouvrement : relances, promesses, litiges", "receivables-signals"),
        "debtor_group": (
            "Groupe débiteur : exposition, pièces, notation, paiements, signaux",
            "receivables-debtor-group",
        ),
        "forecast": (
            "Prévision d'encaissements : semaines, mois, douteux, fiabilité",
            "receivables-cash-forecast",
        ),
    }
    filter_datasets = {
        "overview": "mart_aging",
        "concentration": "mart_debtor_exposure",
        "signals": "mart_weak_signals",
        "debtor_group": "mart_debtor_exposure",
        "forecast": "mart_cash_forecast",
    }
    for dash, items in by_dash.items():
        title, slug = titles[dash]
        pos: dict[str, Any] = {
            "DASHBOARD_VERSION_KEY": "v2",
            "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
            "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
            "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": title}},
        }
        row = ""
        for i, (cu, name, _viz, number) in enumerate(items):
            if i % 2 == 0:
                row = f"ROW-{dash}-{i // 2}"
                pos["GRID_ID"]["children"].append(row)
                pos[row] = {
                    "type": "ROW",
                    "id": row,
                    "children": [],
                    "parents": ["ROOT_ID", "GRID_ID"],
                    "meta": {"background": "BACKGROUND_TRANSPARENT"},
                }
            cid = f"CHART-{cu[:8]}"
            pos[row]["children"].append(cid)
            pos[cid] = {
                "type": "CHART",
                "id": cid,
                "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row],
                "meta": {"width": 6, "height": 50, "chartId": number, "uuid": cu, "sliceName": name},
            }
        fds = uid("dataset/" + filter_datasets[dash])
        series = [number for _, _, trend, number in items if trend]
        native = [
            {
                "id": f"NATIVE_FILTER-{dash}-as_of_date",
                "name": column_label("as_of_date"),
                "filterType": "filter_select",
                "targets": [{"datasetUuid": fds, "column": {"name": "as_of_date"}}],
                "controlValues": {
                    "multiSelect": False,
                    "enableEmptyFilter": True,
                    "defaultToFirstItem": True,
                    "sortAscending": False,
                    "searchAllOptions": False,
                    "requiredFirst": True,
                    "inverseSelection": False,
                },
                "requiredFirst": True,
                "defaultDataMask": {"filterState": {}, "extraFormData": {}},
                "cascadeParentIds": [],
                "scope": {"rootPath": ["ROOT_ID"], "excluded": series},
                "type": "NATIVE_FILTER",
                "description": "Chiffres à cette date (la dernière nuit par défaut) ; les tendances ne sont pas filtrées",
            }
        ]
        if dash == "debtor_group":  # one group at a time, the largest by default (or the one a link picks)
            native.append(
                {
                    "id": DEBTOR_GROUP_FILTER,
                    "name": column_label("debtor_group_id"),
                    "filterType": "filter_select",
                    "targets": [{"datasetUuid": fds, "column": {"name": "debtor_group_label"}}],
                    "controlValues": {
                        "multiSelect": False,
                        "enableEmptyFilter": True,
                        "defaultToFirstItem": True,
                        "searchAllOptions": True,
                        "sortAscending": False,
                        "sortMetric": "exposure_eur",
                    },
                    "requiredFirst": True,
                    "defaultDataMask": {"filterState": {}, "extraFormData": {}},
                    "cascadeParentIds": [],
                    "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
                    "type": "NATIVE_FILTER",
                    "description": "Le groupe débiteur à examiner (le plus exposé par défaut)",
                }
            )
        for col in (["entity_code"] if dash not in {"concentration", "debtor_group"} else []) + (
            ["debtor_group_id"] if dash not in {"debtor_group", "forecast"} else []  # a forecast has no group
        ):
            native.append(
                {
                    "id": f"NATIVE_FILTER-{dash}-{col}",
                    "name": column_label(col),
                    "filterType": "filter_select",
                    # the values come from a dataset that has the column (the signals' has no entity)
                    "targets": [
                        {
                            "datasetUuid": uid(
                                "dataset/" + FILTER_VALUES.get((dash, col), filter_datasets[dash])
                            ),
                            "column": {"name": col},
                        }
                    ],
                    "controlValues": {
                        "multiSelect": True,
                        "enableEmptyFilter": False,
                        "searchAllOptions": True,
                    },
                    "defaultDataMask": {"filterState": {}, "extraFormData": {}},
                    "cascadeParentIds": [],
                    "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
                    "type": "NATIVE_FILTER",
                    "description": "",
                }
            )
        dump(
            root,
            f"dashboards/{slug}.yaml",
            {
                "dashboard_title": title,
                "description": None,
                "css": "",
                "slug": slug,
                "certified_by": "",
                "certification_details": "",
                "published": True,
                "uuid": uid("dashboard/" + slug),
                "position": pos,
                "metadata": {
                    "native_filter_configuration": native,
                    "color_scheme": "supersetColors",
                    "refresh_frequency": 0,
                    "cross_filters_enabled": False,
                    "timed_refresh_immune_slices": [],
                    "expanded_slices": {},
                    "label_colors": label_colours(),
                    "shared_label_colors": [],
                    "chart_configuration": {},
                },
                "version": "1.0.0",
            },
        )


def write_bundle(warehouse: pathlib.Path, root: pathlib.Path) -> None:
    """The whole bundle under ``root``, the datasets' columns read from the built ``warehouse``."""
    columns = mart_columns(warehouse)
    write_database(root)
    write_datasets(root, columns)
    write_dashboards(root, write_charts(root))


def main(argv: Sequence[str] | None = None) -> int:
    arguments = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    arguments.add_argument("--warehouse", default=str(repo / "var" / "serving" / "warehouse.duckdb"))
    arguments.add_argument("--out", default=str(repo / "dashboards"), help="where to write the bundle")
    options = arguments.parse_args(argv)
    write_bundle(pathlib.Path(options.warehouse), pathlib.Path(options.out))
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
