"""The dashboards speak the users' language: every column and metric a chart shows has a French label.

The bundle's datasets list each mart's columns, read from a built warehouse
by scripts/generate_dashboards_bundle.py; a mart that gains a column without
the bundle being generated again fails here, as does a chart that shows a
column or metric without a label.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO, reader

BUNDLE = REPO / "dashboards"
IDENTIFIER = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")  # a column name, not a label


def load(folder: str) -> list[dict[str, Any]]:
    return [
        yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted((BUNDLE / folder).glob("*.yaml"))
    ]


DATASETS = {dataset["uuid"]: dataset for dataset in load("datasets")}


def is_label(text: Any) -> bool:
    return isinstance(text, str) and bool(text.strip()) and not IDENTIFIER.match(text)


def shown(params: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The columns and the saved metrics a chart's params show."""
    columns = list(params.get("all_columns", [])) + list(params.get("groupby", []))
    columns += [params["x_axis"]] if isinstance(params.get("x_axis"), str) else []
    metrics = list(params.get("metrics", [])) + ([params["metric"]] if params.get("metric") else [])
    saved = [m for m in metrics if isinstance(m, str)]
    adhoc = [m for m in metrics if not isinstance(m, str)]
    assert all(is_label(m.get("label")) for m in adhoc), f"an ad-hoc metric without a label: {adhoc}"
    return columns, saved


@pytest.mark.dbt
def test_every_dataset_lists_its_marts_columns_each_with_a_french_label(reported_group: Path) -> None:
    query = reader(reported_group)
    for dataset in DATASETS.values():
        physical = [c for c in dataset["columns"] if not c["expression"]]
        columns = [
            name
            for (name,) in query(
                "select column_name from information_schema.columns where table_schema = 'marts' "
                "and table_name = ? order by ordinal_position",
                dataset["table_name"],
            )
        ]
        assert [c["column_name"] for c in physical] == columns, (
            f"{dataset['table_name']}: the mart's columns changed; run scripts/generate_dashboards_bundle.py"
        )
        for column in dataset["columns"]:
            assert is_label(column["verbose_name"]), f"{dataset['table_name']}.{column['column_name']}"
        for metric in dataset["metrics"]:
            assert is_label(metric["verbose_name"]), (
                f"{dataset['table_name']}: metric {metric['metric_name']}"
            )
            assert metric["d3format"], (
                f"{dataset['table_name']}: metric {metric['metric_name']} has no format"
            )


@pytest.mark.unit
@pytest.mark.parametrize("chart", load("charts"), ids=lambda chart: chart["uuid"][:8])
def test_every_column_and_metric_a_chart_shows_has_a_label(chart: dict[str, Any]) -> None:
    dataset = DATASETS[chart["dataset_uuid"]]
    labels = {c["column_name"]: c["verbose_name"] for c in dataset["columns"]}
    metric_labels = {m["metric_name"]: m["verbose_name"] for m in dataset["metrics"]}
    columns, metrics = shown(chart["params"])
    assert columns or metrics, chart["slice_name"]
    for column in columns:
        assert is_label(labels.get(column)), f"{chart['slice_name']}: column {column} has no label"
    for metric in metrics:
        assert is_label(metric_labels.get(metric)), f"{chart['slice_name']}: metric {metric} has no label"
    assert not IDENTIFIER.match(chart["slice_name"])


@pytest.mark.unit
def test_a_column_without_a_label_is_caught() -> None:
    """The check above can fail: a chart showing a column its dataset does not label."""
    chart = next(c for c in load("charts") if c["params"].get("all_columns"))
    dataset = DATASETS[chart["dataset_uuid"]]
    unlabelled = {**dataset, "columns": [{**c, "verbose_name": None} for c in dataset["columns"]]}
    DATASETS[chart["dataset_uuid"]] = unlabelled
    try:
        with pytest.raises(AssertionError, match="has no label"):
            test_every_column_and_metric_a_chart_shows_has_a_label(chart)
    finally:
        DATASETS[chart["dataset_uuid"]] = dataset


def seed(name: str) -> list[dict[str, str]]:
    import csv

    with (REPO / "dbt_project" / "seeds" / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.unit
def test_buckets_and_risk_classes_read_in_order_with_one_colour_each_on_every_dashboard() -> None:
    """Superset orders series by name: the names sort as the seeds order them, and each has the seed's colour."""
    buckets = {f"{b['bucket_order']} · {b['label_fr']}": b["colour"] for b in seed("aging_buckets")}
    classes = {f"{int(c['risk_class']):02d} · {c['label_fr']}": c["colour"] for c in seed("risk_classes")}
    for names in (buckets, classes):
        assert sorted(names) == list(names)
    calculated = {
        c["column_name"]: c["expression"] for d in DATASETS.values() for c in d["columns"] if c["expression"]
    }
    assert all(f"THEN '{name}'" in calculated["aging_bucket_label"] for name in buckets)
    assert all(f"THEN '{name}'" in calculated["risk_class_label"] for name in classes)
    for dashboard in load("dashboards"):
        colours = dashboard["metadata"]["label_colors"]
        assert {name: colours.get(name) for name in {**buckets, **classes}} == {**buckets, **classes}
    ordered = [c for c in load("charts") if "aging_bucket_label" in c["params"].get("groupby", [])]
    assert ordered and all(
        c["params"]["sort_series_type"] == "name" and c["params"]["sort_series_ascending"] for c in ordered
    )
    shown = [c for c in load("charts") if {"aging_bucket", "worst_risk_class"} & set(shown_columns(c))]
    assert not shown, "a chart shows a bucket or class by its code: show its name"


def shown_columns(chart: dict[str, Any]) -> list[str]:
    return shown(chart["params"])[0]


@pytest.mark.dbt
def test_every_native_filter_lists_a_column_its_dataset_has(reported_group: Path) -> None:
    """A filter on a column its dataset lacks shows "Network error" instead of its values."""
    for dashboard in load("dashboards"):
        for native in dashboard["metadata"]["native_filter_configuration"]:
            [target] = native["targets"]
            dataset = DATASETS[target["datasetUuid"]]
            columns = {c["column_name"] for c in dataset["columns"]}
            assert target["column"]["name"] in columns, (
                dashboard["slug"],
                native["name"],
                dataset["table_name"],
            )


@pytest.mark.unit
@pytest.mark.parametrize("chart", load("charts"), ids=lambda chart: chart["uuid"][:8])
def test_no_chart_shows_a_code_that_has_a_name(chart: dict[str, Any]) -> None:
    """A dataset that offers ``<column>_label`` (a bucket, a class, a signal, a stage...) is read by its name."""
    named = {c["column_name"] for c in DATASETS[chart["dataset_uuid"]]["columns"]}
    codes = [c for c in shown_columns(chart) if f"{c}_label" in named]
    assert not codes, f"{chart['slice_name']} shows {codes} as codes"


@pytest.mark.dbt
def test_every_code_the_marts_hold_has_its_french_name(reported_group: Path) -> None:
    from receivables.reports.model import VALUE_LABELS

    query = reader(reported_group)
    tables = {"signal": "mart_weak_signals", "status": "mart_freshness", "dunning_stage": "fct_open_items"}
    tables |= {"document_type": "fct_open_items", "kind": "mart_data_issues", "severity": "mart_data_issues"}
    tables |= {"promise_status": "mart_promises", "event_type": "mart_promises"}
    tables |= {"insolvency_status": "mart_debtor_exposure", "period_kind": "mart_cash_forecast"}
    for column, table in tables.items():
        held = {
            value
            for (value,) in query(f"select distinct {column} from marts.{table} where {column} is not null")
        }
        assert held <= set(VALUE_LABELS[column]), (column, held - set(VALUE_LABELS[column]))
    # the seed's stages, the one the collection events give an item with a pending promise,
    from receivables.contract import INSOLVENCY_STATUSES

    # every proceeding has its name, not only those the sample holds
    assert set(VALUE_LABELS["insolvency_status"]) == set(INSOLVENCY_STATUSES)
    # and those the e-invoicing statuses give whatever the age: refused by the buyer, factored (SPEC 17)
    stages = {row["dunning_stage"] for row in seed("dunning_stages")} | {"promised", "refused", "factored"}
    assert stages == set(VALUE_LABELS["dunning_stage"])
    rules = (REPO / "dbt_project" / "models" / "marts" / "_marts.yml").read_text(encoding="utf-8")
    assert all(f"`{kind}`" in rules for kind in VALUE_LABELS["kind"])  # the kinds the mart documents


@pytest.mark.unit
@pytest.mark.parametrize("chart", load("charts"), ids=lambda chart: chart["uuid"][:8])
def test_a_table_orders_by_columns_it_shows(chart: dict[str, Any]) -> None:
    """Superset's raw table query fails when it orders by a column it does not select (DuckDB binds it)."""
    import json

    params = chart["params"]
    ordered = [json.loads(item)[0] for item in params.get("order_by_cols", [])]
    assert set(ordered) <= set(params.get("all_columns", [])), chart["slice_name"]


@pytest.mark.dbt
def test_the_committed_bundle_is_what_the_generator_writes(reported_group: Path, tmp_path: Path) -> None:
    """Labels, formats and entity-level marts live in the dbt models' YAML: the bundle is derived, never edited."""
    import subprocess
    import sys

    out = tmp_path / "bundle"
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "generate_dashboards_bundle.py"), "--warehouse", str(reported_group),
         "--out", str(out)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    written = {path.relative_to(out): path.read_text(encoding="utf-8") for path in out.rglob("*.yaml")}
    committed = {
        path.relative_to(BUNDLE): path.read_text(encoding="utf-8") for path in BUNDLE.rglob("*.yaml")
    }
    assert sorted(written) == sorted(committed)
    differing = sorted(str(path) for path in written if written[path] != committed[path])
    assert differing == [], f"run scripts/generate_dashboards_bundle.py and commit: {differing}"
