"""Write the Superset asset bundle under dashboards/ from this compact spec (run, then review the YAML diff).

The YAML under dashboards/ is what Superset imports; this script is how it was written.
Usage: .venv/bin/python scripts/generate_dashboards_bundle.py
"""

import json
import pathlib
import uuid

import yaml

root = pathlib.Path(__file__).resolve().parents[1] / "dashboards"
NS = uuid.UUID("6b1f2a9e-1d0c-4c84-9d9e-7f0f6d0a5e11")


def uid(name):
    return str(uuid.uuid5(NS, name))


DB = uid("database/receivables")


def dump(path, data):
    p = root / path
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


dump("metadata.yaml", {"version": "1.0.0", "type": "assets", "timestamp": "2026-11-25T00:00:00+00:00"})
dump(
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
EUR = ",.2f"
datasets = {
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
    "fct_open_items": [
        (
            "open_amount_eur",
            "SUM(open_amount_eur)",
            "Open amount in EUR: sum of fct_open_items.open_amount_eur",
        )
    ],
}
for table, metrics in datasets.items():
    dump(
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
            "columns": []
            if table == "mart_dso"
            else [
                {
                    "column_name": "as_of_day",
                    "verbose_name": "As-of date",
                    "is_dttm": False,
                    "is_active": True,
                    "type": "VARCHAR",
                    "groupby": True,
                    "filterable": True,
                    "expression": "CAST(as_of_date AS VARCHAR)",
                    "description": "as_of_date as text, for the dashboards' as-of filter",
                    "python_date_format": None,
                    "extra": None,
                }
            ],
            "metrics": [
                {
                    "metric_name": n,
                    "verbose_name": None,
                    "metric_type": None,
                    "expression": e,
                    "description": d,
                    "d3format": None,
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


def where(sql):
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


charts = [
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
        "DSO countback and best possible DSO by month end (days)",
        "mart_dso",
        "echarts_timeseries_line",
        {
            "x_axis": "month_end",
            "time_grain_sqla": "P1M",
            "metrics": ["dso_countback", "bpdso"],
            "groupby": ["entity_code"],
            "adhoc_filters": [],
            "row_limit": 10000,
            "y_axis_format": ",.1f",
            "show_legend": True,
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
            "groupby": ["aging_bucket"],
            "stack": "Stack",
            "adhoc_filters": [],
            "row_limit": 10000,
            "y_axis_format": EUR,
            "show_legend": True,
            "x_axis_sort_asc": True,
        },
    ),
    (
        ("overview", "concentration", "signals"),
        "Freshness per entity",
        "mart_freshness",
        "table",
        {
            "query_mode": "raw",
            "all_columns": ["entity_code", "status", "last_good_extract_date", "rows_landed", "reason"],
            "order_by_cols": [json.dumps(["entity_code", True])],
            "adhoc_filters": [],
            "row_limit": 1000,
        },
    ),
    (
        ("overview", "concentration", "signals"),
        "Data issues of the night: rows landed with a warning, figures left out",
        "mart_data_issues",
        "table",
        {
            "query_mode": "raw",
            "all_columns": ["entity_code", "severity", "kind", "detail", "items", "amount", "currency"],
            "order_by_cols": [json.dumps(["severity", True]), json.dumps(["entity_code", True])],
            "adhoc_filters": [],
            "row_limit": 1000,
            "conditional_formatting": [
                {"column": "items", "operator": ">", "targetValue": 0, "colorScheme": "#E04355"}
            ],
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
                "debtor_group_name",
                "debtor_group_id",
                "exposure_eur",
                "share",
                "cumulative_share",
                "worst_risk_class",
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
            "x_axis": "worst_risk_class",
            "metrics": ["exposure_eur"],
            "groupby": [],
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
                "insolvency_status",
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
        "signals",
        "Weak signals with the amount at stake (EUR)",
        "mart_weak_signals",
        "table",
        {
            "query_mode": "raw",
            "all_columns": ["signal", "debtor_group_id", "signal_date", "amount_eur", "detail"],
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
            "x_axis": "dunning_stage",
            "metrics": ["open_amount_eur"],
            "groupby": ["entity_code"],
            "stack": "Stack",
            "adhoc_filters": where("dunning_stage IS NOT NULL"),
            "row_limit": 1000,
            "y_axis_format": EUR,
        },
    ),
]
by_dash = {}
for chart_number, (dash, name, table, viz, params) in enumerate(charts, start=1):
    cu = uid(f"chart/{name}")
    params = {"viz_type": viz, "datasource": f"{uid('dataset/' + table)}__table", **params}
    if viz == "table":  # French number format in table cells too: amounts to the cent, shares in %
        shown = params.get("all_columns") or params.get("metrics") or []
        params["column_config"] = {
            c: {"d3NumberFormat": ".2%" if "share" in c else EUR}
            for c in shown
            if c.endswith("_eur") or "share" in c
        }
    dump(
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
        by_dash.setdefault(board, []).append((cu, name, viz, chart_number))
titles = {
    "overview": ("Group overview: encours, DSO, aging, freshness", "receivables-overview"),
    "concentration": ("Risk concentration per debtor group", "receivables-concentration"),
    "signals": ("Weak signals and collections", "receivables-signals"),
}
filter_datasets = {
    "overview": "mart_aging",
    "concentration": "mart_debtor_exposure",
    "signals": "mart_weak_signals",
}
for dash, items in by_dash.items():
    title, slug = titles[dash]
    pos = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": title}},
    }
    row = None
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
    series = [number for _, _, viz, number in items if viz == "echarts_timeseries_line"]
    native = [
        {
            "id": f"NATIVE_FILTER-{dash}-as_of_date",
            "name": "As-of date",
            "filterType": "filter_select",
            "targets": [{"datasetUuid": fds, "column": {"name": "as_of_day"}}],
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
            "description": "Figures as of this date (latest night by default); trends are not filtered",
        }
    ]
    for col in (["entity_code"] if dash != "concentration" else []) + ["debtor_group_id"]:
        native.append(
            {
                "id": f"NATIVE_FILTER-{dash}-{col}",
                "name": col.replace("_", " "),
                "filterType": "filter_select",
                "targets": [{"datasetUuid": fds, "column": {"name": col}}],
                "controlValues": {"multiSelect": True, "enableEmptyFilter": False, "searchAllOptions": True},
                "defaultDataMask": {"filterState": {}, "extraFormData": {}},
                "cascadeParentIds": [],
                "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
                "type": "NATIVE_FILTER",
                "description": "",
            }
        )
    dump(
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
                "label_colors": {},
                "shared_label_colors": [],
                "chart_configuration": {},
            },
            "version": "1.0.0",
        },
    )
print("ok")
