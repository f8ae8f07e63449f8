"""`receivables build` on real DuckDB files: clear failures, what a night writes."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from conftest import (
    DAY1,
    DAY2,
    REGISTRY_YAML,
    fx_drop,
    good_drop,
    quiet_drop,
    reader,
    receivables,
    write_drop,
)
from receivables.ingest.landing import land
from receivables.nights import Nights
from receivables.registry import load_registry
from receivables.warehouse.build import dbt_target_dir


def night(registry_file: Path, landing: Path, warehouse: Path, day: date, drops: dict[str, Any]) -> None:
    """The group's rates and these entities' drops for ``day``, landed and built."""
    write_drop(landing, "_group", day, fx_drop())
    for entity, drop in drops.items():
        write_drop(landing, entity, day, drop)
    land(load_registry(registry_file), landing, day, warehouse)
    receivables("build", "--warehouse", str(warehouse), "--as-of", day.isoformat(), check=True)


@pytest.fixture(scope="module")
def first_night_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """FR01's good drop of the first day with the group's rates, landed and built once for the module."""
    root = tmp_path_factory.mktemp("first-night")
    registry_file = root / "entities.yml"
    registry_file.write_text(REGISTRY_YAML, encoding="utf-8")
    (root / "landing").mkdir()
    night(registry_file, root / "landing", root / "warehouse.duckdb", DAY1, {"FR01": good_drop("FR01")})
    return root


@pytest.fixture
def first_night(first_night_built: Path, registry_file: Path, landing: Path, warehouse: Path) -> None:
    """The test's registry, landing folder and warehouse as FR01's first night left them (a copy of its own)."""
    shutil.copytree(first_night_built, warehouse.parent, dirs_exist_ok=True)


def rebuilt_from_scratch(warehouse: Path, day: date, folder: Path) -> Any:
    """A copy of the warehouse rebuilt with --full-refresh for ``day``; returns a reader of the copy."""
    rebuilt = folder / "rebuilt" / "warehouse.duckdb"
    rebuilt.parent.mkdir()
    rebuilt.write_bytes(warehouse.read_bytes())
    receivables(
        "build", "--warehouse", str(rebuilt), "--as-of", day.isoformat(), "--full-refresh", check=True
    )
    return reader(rebuilt)


def nodes_run(warehouse: Path) -> Counter[tuple[str, str]]:
    """(resource type, status) of every node the last dbt run ran, from its run_results.json."""
    results = json.loads((dbt_target_dir(warehouse) / "run_results.json").read_text(encoding="utf-8"))
    return Counter((r["unique_id"].split(".")[0], r["status"]) for r in results["results"])


def tamper(warehouse: Path, *statements: str) -> None:
    with duckdb.connect(str(warehouse)) as connection:
        for statement in statements:
            connection.execute(statement)


@pytest.mark.dbt
def test_missing_fx_rates_leave_figures_missing_with_their_reason(registry_file, landing, warehouse, query):
    """SPEC section 12: a missing rate never fails the night; what needs it is null and listed."""
    # USD has a rate in the FX history (else US01's drop would be quarantined), none in the 7 days
    # before 2026-03-02 nor before any month end of the DSO
    old_rate = {"rate_date": date(2025, 11, 3), "currency": "USD", "units_per_eur": "1.0500"}
    write_drop(landing, "_group", DAY1, {"fx_rates": [old_rate]})
    write_drop(landing, "US01", DAY1, good_drop("US01", "USD"))
    write_drop(landing, "FR01", DAY1, good_drop("FR01", "EUR"))
    land(load_registry(registry_file), landing, DAY1, warehouse)
    receivables("build", "--warehouse", str(warehouse), "--as-of", DAY1.isoformat(), check=True)

    # US01's USD items: in USD (its own currency) they are known, in EUR they are not
    assert query(
        "select count(*), sum(open_amount), count(open_amount_eur), sum(open_amount_entity_currency), "
        "any_value(missing_rate_currencies) from marts.fct_open_items where entity_code = 'US01'"
    ) == [(4, Decimal("1434.5500"), 0, Decimal("1434.55"), "USD")]
    # FR01 (EUR) needs no rate at all
    assert query("select sum(open_amount_eur) from marts.fct_open_items where entity_code = 'FR01'") == [
        (Decimal("1434.55"),)
    ]
    issues = query(
        "select entity_code, kind, severity, items, amount, currency, detail from marts.mart_data_issues "
        "where kind = 'missing_fx_rate'"
    )
    assert [row[:6] for row in issues] == [
        ("US01", "missing_fx_rate", "error", 4, Decimal("1434.5500"), "USD")
    ]
    assert "aucun cours de change pour USD au 02/03/2026 ni dans les 7 jours précédents" in issues[0][6]
    # DSO: US01 in USD is known, the group's (in EUR) is not, with the currency and month end named
    dso = query(
        "select entity_code, month_end, status, status_reason, dso_countback, net_encours from marts.mart_dso "
        "where entity_code in ('US01', 'GROUP') and month_end = date '2026-02-28'"
    )
    statuses = {row[0]: row for row in dso}
    assert statuses["US01"][2] in ("ok", "history_too_short")
    assert statuses["GROUP"][2] == "missing_fx_rate"
    assert statuses["GROUP"][3].startswith("no FX rate for USD at 2026-02-28")
    assert statuses["GROUP"][4] is None and statuses["GROUP"][5] is None
    assert query(
        "select kind, entity_code from marts.mart_data_issues where kind = 'dso_missing_fx_rate'"
    ) == [("dso_missing_fx_rate", "GROUP")]


@pytest.mark.dbt
def test_a_night_builds_every_mart(registry_file, landing, warehouse, query):
    write_drop(landing, "_group", DAY1, fx_drop())
    for entity, currency in (("FR01", "EUR"), ("US01", "USD")):
        write_drop(landing, entity, DAY1, good_drop(entity, currency))
    land(load_registry(registry_file), landing, DAY1, warehouse)
    result = receivables("build", "--warehouse", str(warehouse), "--as-of", DAY1.isoformat(), "--unit-tests")
    assert result.returncode == 0, result.stderr[-2000:]
    ran = nodes_run(warehouse)
    assert ran[("unit_test", "pass")] >= 15 and ran[("test", "pass")] >= 80, ran
    assert {status for _, status in ran} <= {"pass", "success"}, ran
    # FR01: F-1 1234.56 - 500 paid, F-2 999.99, credit note -100, unapplied cash -200
    assert query(
        "select sum(open_amount_eur), count(*) from marts.fct_open_items where entity_code = 'FR01'"
    ) == [(Decimal("1434.55"), 4)]
    statuses = query("select entity_code, status from marts.mart_freshness order by 1")
    assert statuses == [("DE01", "stale"), ("FR01", "ok"), ("GB01", "stale"), ("GROUP", "ok"), ("US01", "ok")]
    assert query("select count(*) from marts.mart_concentration") == [(1,)]


@pytest.mark.unit
def test_build_before_any_landing_says_what_to_do(tmp_path):
    result = receivables("build", "--warehouse", str(tmp_path / "none.duckdb"), "--as-of", "2026-03-02")
    assert result.returncode == 2
    assert "no warehouse yet; land a night first" in result.stderr.strip().splitlines()[-1]


@pytest.mark.dbt
def test_a_line_re_sent_against_another_document_reopens_the_first(registry_file, landing, warehouse, query):
    """The night recomputes only the documents it touched, including the one a re-sent line left."""
    registry = load_registry(registry_file)
    first = good_drop("FR01")
    first["payments"].append(
        {"settlement_id": "S-3", "line_no": "1", "debtor_id": "C002", "document_id": "F-2",
         "settlement_date": date(2026, 3, 1), "currency": "EUR", "amount": "999.99", "kind": "payment"}
    )  # fmt: skip
    night(registry_file, landing, warehouse, DAY1, {"FR01": first})
    assert ("unit_test", "pass") not in nodes_run(warehouse)  # a night runs the data tests only
    open_on = "select document_id, open_amount from marts.fct_open_items where as_of_date = ? and document_type = 'invoice' order by 1"
    assert query(open_on, DAY1) == [("F-1", Decimal("734.5600"))]

    moved = quiet_drop(payments=[
        {"settlement_id": "S-3", "line_no": "1", "debtor_id": "C001", "document_id": "F-1",
         "settlement_date": date(2026, 3, 1), "currency": "EUR", "amount": "734.56", "kind": "payment"}
    ])  # fmt: skip
    write_drop(landing, "_group", DAY2, fx_drop())
    write_drop(landing, "FR01", DAY2, moved)
    land(registry, landing, DAY2, warehouse)
    assert query("select settlement_id, previous_document_id from raw.settlement_line_moves") == [
        ("S-3", "F-2")
    ]
    result = receivables("build", "--warehouse", str(warehouse), "--as-of", DAY2.isoformat())
    assert result.returncode == 0, result.stderr[-2000:]
    assert query(open_on, DAY2) == [("F-2", Decimal("999.9900"))]


@pytest.mark.dbt
def test_a_night_recomputes_dso_of_documents_it_changed_as_a_full_rebuild_would(
    first_night, registry_file, landing, warehouse, query, tmp_path
):
    """DSO per document is kept night to night: moved, cancelled and re-classed documents count as from scratch."""
    sales = (
        "select month_end, sales from marts.mart_dso where entity_code = 'FR01' and month_end < ? order by 1"
    )
    # January: F-1 1234.56 and F-2 (C002) nothing; February: F-2 999.99 less the credit note A-1 100
    assert query(sales, DAY1) == [
        (date(2026, 1, 31), Decimal("1234.56")),
        (date(2026, 2, 28), Decimal("899.99")),
    ]

    first = good_drop("FR01")
    moved = quiet_drop(
        debtors=[dict(first["debtors"][1], intercompany_entity="US01")],  # C002 is now a group company
        invoices=[
            dict(
                first["invoices"][0], issue_date=date(2026, 2, 5), due_date=date(2026, 3, 7), amount="1300.00"
            ),
            dict(first["invoices"][2], status="cancelled"),
        ],
    )
    night(registry_file, landing, warehouse, DAY2, {"FR01": moved})
    changes = (
        "select debtor_id, previous_intercompany_entity, extract_date from raw.debtor_intercompany_changes"
    )
    assert query(changes) == [
        ("C002", None, DAY2)
    ]  # recorded by the load; the build recomputes its documents
    # F-1 moved to February (the first month with sales now); A-1 cancelled; F-2 intercompany, out of DSO
    assert query(sales, DAY1) == [(date(2026, 2, 28), Decimal("1300.00"))]
    every = "select * from marts.mart_dso order by all"
    assert query(every) == rebuilt_from_scratch(warehouse, DAY2, tmp_path)(every) != []


@pytest.mark.dbt
def test_ratings_are_classified_again_when_the_rating_seeds_change(
    first_night, registry_file, landing, warehouse, query
):
    """A night classifies only new ratings; ratings classified under other seeds are classified again."""
    classes = "select provider, risk_class from intermediate.int_rating_periods order by all"
    classified = query(classes)
    assert len(classified) == 3

    # the next night brings no rating: a stale class under the same seeds stays, nothing is classified again
    tamper(warehouse, "update intermediate.int_rating_periods set risk_class = 10")
    night(registry_file, landing, warehouse, DAY2, {"FR01": quiet_drop()})
    assert {risk_class for _, risk_class in query(classes)} == {10}
    # rows classified under other seeds (as after an upgrade that changes a mapping) are classified again
    tamper(warehouse, "update intermediate.int_rating_periods set classified_with = 'earlier seeds'")
    receivables("build", "--warehouse", str(warehouse), "--as-of", DAY2.isoformat(), check=True)
    assert query(classes) == classified


@pytest.mark.dbt
def test_a_drop_landed_late_is_read_by_the_next_build(first_night, registry_file, landing, warehouse, query):
    """US01's night 1 arrives after night 2 was built: the next build reads it (load_id, not extract dates)."""
    night(registry_file, landing, warehouse, DAY2, {"FR01": quiet_drop()})
    entities = "select distinct entity_code from marts.fct_open_items where as_of_date = ? order by 1"
    assert query(entities, DAY2) == [("FR01",)]

    # late: night 1's drop, delivered after night 2
    write_drop(landing, "US01", DAY1, good_drop("US01", "USD"))
    land(load_registry(registry_file), landing, DAY1, warehouse)
    receivables("build", "--warehouse", str(warehouse), "--as-of", DAY2.isoformat(), check=True)
    assert query(entities, DAY2) == [("FR01",), ("US01",)]
    assert query("select count(*) from intermediate.int_document_balances where entity_code = 'US01'") == [
        (3,)
    ]


@pytest.mark.dbt
def test_a_warehouse_of_the_previous_version_is_upgraded_by_its_next_night(
    first_night, registry_file, landing, warehouse, query, tmp_path
):
    """No load_id in the log, no loaded_through in the incremental models, the not-due encours per month end
    rather than as changes, the forecasts kept in the mart only: the next night adds what is missing and
    recomputes what it cannot trust."""
    models = ("int_document_balances", "int_dso_document_months", "int_rating_periods")
    tamper(
        warehouse,
        "alter table raw.landing_log drop column load_id",
        *(f"alter table intermediate.{model} drop column loaded_through" for model in models),
        "alter table intermediate.int_dso_document_months rename column not_due_change to not_due_encours",
        "drop table intermediate.int_cash_forecast",
    )
    night(registry_file, landing, warehouse, DAY2, {"FR01": quiet_drop()})
    assert query("select load_id, count(*) from raw.landing_log group by 1 order by 1") == [(0, 5), (1, 5)]
    for model in models:
        assert query(f"select min(loaded_through) from intermediate.{model}") == [(1,)], model
    # the first night's forecast, kept by the mart only, is kept for its accuracy to be measured
    forecast = "select * from {} where as_of_date = ? order by all"
    assert (
        query(forecast.format("intermediate.int_cash_forecast"), DAY1)
        == query(forecast.format("marts.mart_cash_forecast"), DAY1)
        != []
    )

    rebuilt = rebuilt_from_scratch(warehouse, DAY2, tmp_path)
    for mart, where in (("fct_open_items", "as_of_date = ?"), ("mart_debtor_exposure", "as_of_date = ?"),
                        ("mart_dso", "month_end <= ?")):  # fmt: skip
        rows = f"select * from marts.{mart} where {where} order by all"
        assert query(rows, DAY2) == rebuilt(rows, DAY2) != [], mart


@pytest.mark.dbt
def test_open_items_that_disagree_with_the_raw_layer_fail_the_night(
    first_night, registry_file, landing, warehouse, query
):
    """The independent reconciliation catches a document wrongly left out by the kept state."""
    # F-2 (999.99, unpaid) recorded as closed: a night that does not touch it would leave it out
    tamper(
        warehouse,
        "update intermediate.int_document_balances set closed_on = date '2026-02-01' where document_id = 'F-2'",
    )
    write_drop(landing, "_group", DAY2, fx_drop())
    write_drop(landing, "FR01", DAY2, quiet_drop())
    land(load_registry(registry_file), landing, DAY2, warehouse)
    result = receivables("build", "--warehouse", str(warehouse), "--as-of", DAY2.isoformat())
    assert result.returncode == 2
    assert re.search(r"dbt build failed: raw_layer_reconciles_fct_open_items\w*: Got 1 result", result.stderr)


@pytest.mark.dbt
def test_a_build_that_leaves_the_file_sparse_writes_it_compact(
    first_night, registry_file, landing, warehouse, query, tmp_path, monkeypatch
):
    """Free blocks past half the used ones: the built file is written again with its data only."""
    import receivables.warehouse.build as build_module

    with duckdb.connect(str(warehouse)) as connection:  # what a long first build leaves behind
        connection.execute("create table raw.scratch as select random() as r from range(4000000)")
        connection.execute("checkpoint")
        # blocks written after it: its free blocks are not at the end of the file, which DuckDB cuts off
        connection.execute("create table raw.after_it as select random() as r from range(200000)")
        connection.execute("checkpoint")
        connection.execute("drop table raw.scratch")
        connection.execute("checkpoint")
    [(used, free)] = query("select used_blocks, free_blocks from pragma_database_size()")
    assert free > used
    same = tmp_path / "same" / "warehouse.duckdb"  # the same night, built without compacting
    same.parent.mkdir()
    same.write_bytes(warehouse.read_bytes())
    write_drop(landing, "FR01", DAY2, quiet_drop())
    write_drop(landing, "_group", DAY2, fx_drop())
    land(load_registry(registry_file), landing, DAY2, warehouse)
    land(load_registry(registry_file), landing, DAY2, same)
    sparse = warehouse.stat().st_size

    build_module.build(warehouse, Nights.of(DAY2))
    [(used, free)] = query("select used_blocks, free_blocks from pragma_database_size()")
    assert free <= used * 0.5 and warehouse.stat().st_size < sparse * 0.6
    monkeypatch.setattr(build_module, "SPARSE_SHARE", 1e9)
    build_module.build(same, Nights.of(DAY2))
    [(used, free)] = reader(same)("select used_blocks, free_blocks from pragma_database_size()")
    assert free > used * 0.5 and same.stat().st_size >= sparse  # without compacting, the free blocks stay
    # the compact file is the warehouse: every table and view, the primary key, the next night builds on it
    catalog = (
        "select schema_name, table_name, estimated_size from duckdb_tables() "
        "union all select schema_name, view_name, 0 from duckdb_views() where not internal order by all"
    )
    assert query(catalog) == reader(same)(catalog)
    for table in ("marts.fct_open_items", "marts.mart_aging", "marts.mart_freshness", "raw.landing_log"):
        assert sorted(map(str, query(f"table {table}"))) == sorted(
            map(str, reader(same)(f"table {table}"))
        ), table
    assert query(
        "select constraint_type from duckdb_constraints() where table_name = 'pending_builds' "
        "and constraint_type = 'PRIMARY KEY'"
    ) == [("PRIMARY KEY",)]
    night(registry_file, landing, warehouse, date(2026, 3, 4), {"FR01": quiet_drop()})
    assert query("select count(*) from raw.build_log") == [(3,)]


@pytest.mark.unit
def test_a_writer_never_writes_the_file_the_serving_path_shares(tmp_path):
    """After a publish links the working file at the serving path, the first writer copies it first."""
    from receivables.warehouse.store import connect, own_copy

    working, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    with connect(working) as connection:
        connection.execute("create table t as select 1 as n")
    assert not own_copy(working)  # a file of its own: nothing copied
    serving.hardlink_to(working)
    with connect(working, read_only=True) as connection:  # reading shares nothing: no copy
        assert connection.execute("table t").fetchall() == [(1,)]
    assert working.stat().st_ino == serving.stat().st_ino
    with connect(working) as connection:
        connection.execute("insert into t values (2)")
    assert working.stat().st_ino != serving.stat().st_ino and working.stat().st_nlink == 1
    assert reader(serving)("table t order by n") == [(1,)]
    assert reader(working)("table t order by n") == [(1,), (2,)]


@pytest.mark.dbt
def test_a_build_range_that_is_no_count_stops_the_build(
    first_night, registry_file, landing, warehouse, monkeypatch
):
    """RECEIVABLES_BUILD_RANGE_DATES that is no count stops a build, named (the runs: tests/test_nights.py)."""
    for wrong in ("0", "ten"):
        monkeypatch.setenv("RECEIVABLES_BUILD_RANGE_DATES", wrong)
        refused = receivables("build", "--warehouse", str(warehouse), "--as-of", DAY1.isoformat())
        assert refused.returncode == 2
        assert f"RECEIVABLES_BUILD_RANGE_DATES='{wrong}': expected a whole number of dates" in refused.stderr


@pytest.mark.dbt
def test_a_build_takes_at_most_its_memory_limit(
    first_night, registry_file, landing, warehouse, monkeypatch, caplog
):
    """RECEIVABLES_BUILD_MEMORY_LIMIT reaches dbt's DuckDB; a value that is no size stops the build, named."""
    import logging

    from receivables.warehouse.build import run_dbt

    monkeypatch.setenv("RECEIVABLES_BUILD_MEMORY_LIMIT", "lots")
    refused = receivables("build", "--warehouse", str(warehouse), "--as-of", DAY1.isoformat())
    assert refused.returncode == 2
    assert "RECEIVABLES_BUILD_MEMORY_LIMIT='lots': expected a size such as 6GB" in refused.stderr
    monkeypatch.setenv("RECEIVABLES_BUILD_MEMORY_LIMIT", "300MB")
    with caplog.at_level(logging.DEBUG, logger="receivables.warehouse.build"):
        run_dbt(
            warehouse, ["show", "--inline", "select current_setting('memory_limit') as limit_"], (DAY1, DAY1)
        )
    assert "286.1 MiB" in caplog.text  # 300 MB, as DuckDB shows it
    monkeypatch.delenv("RECEIVABLES_BUILD_MEMORY_LIMIT")
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="receivables.warehouse.build"):
        run_dbt(
            warehouse, ["show", "--inline", "select current_setting('memory_limit') as limit_"], (DAY1, DAY1)
        )
    [(own,)] = duckdb.connect().execute("select current_setting('memory_limit')").fetchall()
    assert f"| {own} " in caplog.text  # the default: DuckDB's own, 80 % of this machine's memory


@pytest.mark.dbt
def test_run_with_a_serving_file_publishes_once_after_its_nights(
    first_night, registry_file, landing, warehouse, tmp_path
):
    """`receivables run --serving`: each night landed and built, then the group's file and each
    entity's published, and the night's entities not landed listed (the pipeline of the DAG)."""
    write_drop(landing, "FR01", DAY2, quiet_drop())
    write_drop(landing, "_group", DAY2, fx_drop())
    serving = tmp_path / "serving" / "warehouse.duckdb"
    output = receivables(
        "run", "--entities", str(registry_file), "--landing", str(landing), "--warehouse", str(warehouse),
        "--as-of", DAY2.isoformat(), "--serving", str(serving), check=True,
    ).stdout.splitlines()  # fmt: skip
    assert output[-1].startswith(f"{DAY2}: ") and "built " + DAY2.isoformat() in output
    assert f"published {serving}" in output
    not_landed = [line for line in output if line.startswith(f"{DAY2}: ")]
    assert not_landed and all(" stale: " in line or " quarantined: " in line for line in not_landed)
    assert reader(serving)("select max(as_of_date) from marts.fct_open_items") == [(DAY2,)]
    assert (serving.parent / "entities" / "FR01.duckdb").is_file()
    assert serving.stat().st_ino != warehouse.stat().st_ino  # the working file has its own copy again
