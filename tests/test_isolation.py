"""One entity's data never stops the group (SPEC section 12): severities, unreadable drops, warnings."""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import (
    DAY1,
    DAY2,
    MARTS,
    fx_drop,
    good_drop,
    marts_snapshot,
    quiet_drop,
    reader,
    receivables,
    write_drop,
)
from receivables.ingest.landing import OK, QUARANTINED, land
from receivables.registry import load_registry
from test_landing import ENTITIES, currency_of, raw_snapshot, write_good_night


def land_night(registry_file: Path, landing: Path, warehouse: Path, day: date) -> dict[str, Any]:
    return {o.entity_code: o for o in land(load_registry(registry_file), landing, day, warehouse)}


def reason_of(landing: Path, entity: str, day: date) -> dict[str, Any]:
    return json.loads((landing / "_quarantine" / entity / day.isoformat() / "reason.json").read_text())


@pytest.mark.unit
def test_implausible_rows_land_and_are_listed_as_warnings(registry_file, landing, warehouse, query):
    write_good_night(landing)
    drop = good_drop("FR01")
    drop["invoices"][0]["due_date"] = date(2026, 1, 4)  # due the day before it was issued
    drop["invoices"][1]["issue_date"] = date(2026, 3, 20)  # issued after the drop's date
    drop["invoices"][1]["due_date"] = date(2026, 4, 20)
    drop["payments"][1]["amount"] = "0.00"  # a zero line
    drop["debtors"][1]["payment_terms_days"] = "400"  # terms over a year
    write_drop(landing, "FR01", DAY1, drop, manifest=True)

    outcomes = land_night(registry_file, landing, warehouse, DAY1)
    assert {o.status for o in outcomes.values()} == {OK}
    assert "4 rows with warnings" in outcomes["FR01"].describe()
    assert query("select count(*) from raw.invoices where entity_code = 'FR01'") == [(3,)]
    warnings = query(
        "select file_name, row_number, column_name, rule, document_key, amount, currency, items "
        "from raw.landing_warnings order by file_name, row_number"
    )
    assert warnings == [
        ("debtors.csv", 3, "payment_terms_days", "implausible_value", "C002", Decimal("12000.5"), None, 1),
        ("invoices.csv", 2, "due_date", "date_order", "F-1", Decimal("1234.56"), "EUR", 1),
        ("invoices.csv", 3, "issue_date", "after_extract_date", "F-2", Decimal("999.99"), "EUR", 1),
        ("payments.csv", 3, "amount", "zero_amount", "S-2 / 1", 0, "EUR", 1),
    ]
    found = query("select found from raw.landing_warnings where rule = 'date_order'")
    assert found == [("due_date=2026-01-04, issue_date=2026-01-05",)]
    # landing the night again replaces its warnings, never adds to them
    land_night(registry_file, landing, warehouse, DAY1)
    assert query("select count(*) from raw.landing_warnings") == [(4,)]


BAD_MANIFESTS = {
    "rows not a number": {"invoices.csv": {"rows": "many"}},
    "rows null": {"invoices.csv": {"rows": None}},
    "amount written with a space": {"invoices.csv": {"amount_sum": "12 345,67"}},
    "sha256 not hex": {"invoices.csv": {"sha256": 42}},
    "entry not an object": {"invoices.csv": [3]},
    "a path, not a file name": {"../../DE01/2026-03-02/invoices.csv": {"rows": 3}},
}


@pytest.mark.unit
@pytest.mark.parametrize("case", sorted(BAD_MANIFESTS))
def test_a_manifest_that_cannot_be_read_quarantines_its_drop_alone(case, registry_file, landing, warehouse):
    write_good_night(landing)
    (landing / "FR01" / DAY1.isoformat() / "_manifest.json").write_text(
        json.dumps({"files": BAD_MANIFESTS[case]}), encoding="utf-8"
    )
    outcomes = land_night(registry_file, landing, warehouse, DAY1)
    assert outcomes["FR01"].status == QUARANTINED
    failures = reason_of(landing, "FR01", DAY1)["failures"]
    assert any(f["rule"].startswith("manifest") and f["message"].startswith("expected") for f in failures)
    for entity in ENTITIES:
        if entity != "FR01":
            assert outcomes[entity].status == OK, outcomes[entity].reason


@pytest.mark.unit
def test_a_drop_that_cannot_be_read_at_all_is_quarantined(registry_file, landing, warehouse):
    write_good_night(landing, manifest=False)
    # a folder where a file should be: reading it raises, the night goes on
    path = landing / "GB01" / DAY1.isoformat() / "payments.csv"
    path.unlink()
    path.mkdir()
    outcomes = land_night(registry_file, landing, warehouse, DAY1)
    assert outcomes["GB01"].status == QUARANTINED
    assert "payments.csv" in outcomes["GB01"].reason or "unreadable" in outcomes["GB01"].reason
    assert all(outcomes[e].status == OK for e in ENTITIES if e != "GB01")


@pytest.mark.unit
def test_references_into_a_quarantined_earlier_drop_say_so(registry_file, landing, warehouse, query):
    write_good_night(landing)
    bad = good_drop("DE01")
    bad["invoices"][0]["currency"] = "EURO"
    write_drop(landing, "DE01", DAY1, bad, manifest=True)
    assert land_night(registry_file, landing, warehouse, DAY1)["DE01"].status == QUARANTINED

    # the next night pays an invoice of the quarantined drop
    payment = dict(good_drop("DE01")["payments"][0], settlement_id="S-9")
    write_drop(landing, "DE01", DAY2, quiet_drop(payments=[payment]))
    outcome = land_night(registry_file, landing, warehouse, DAY2)["DE01"]
    assert outcome.status == QUARANTINED
    rules = [f["rule"] for f in reason_of(landing, "DE01", DAY2)["failures"]]
    assert "reference" in rules and "earlier_drop_quarantined" in rules
    note = next(
        f for f in reason_of(landing, "DE01", DAY2)["failures"] if f["rule"] == "earlier_drop_quarantined"
    )
    assert note["found"] == DAY1.isoformat()
    assert raw_snapshot(query, "DE01")["invoices"] == []


@pytest.mark.unit
def test_each_entity_judged_alone_with_warnings_beside_errors(registry_file, landing, warehouse):
    # a warning in one drop of a batch and an error in another: only the error quarantines
    write_good_night(landing)
    warned = good_drop("US01", currency_of("US01"))
    warned["invoices"][0]["due_date"] = date(2026, 1, 1)
    write_drop(landing, "US01", DAY1, warned, manifest=True)
    broken = good_drop("GB01", currency_of("GB01"))
    broken["invoices"][0]["amount"] = "-1.00"
    write_drop(landing, "GB01", DAY1, broken, manifest=True)
    outcomes = land_night(registry_file, landing, warehouse, DAY1)
    assert outcomes["US01"].status == OK and outcomes["US01"].warnings
    assert outcomes["GB01"].status == QUARANTINED and "range" in outcomes["GB01"].reason
    assert outcomes["FR01"].status == outcomes["DE01"].status == OK


CROSS_FILE = {
    # name: (entity, change to the drop, file, row, column, rule)
    "a currency with no rate in the FX history": (
        "DE01",
        lambda r: r["invoices"][0].update(currency="XXX"),
        "invoices.csv",
        2,
        "currency",
        "currency_without_rate",
    ),
    "a settlement line in another currency than its document": (
        "FR01",
        lambda r: r["payments"][0].update(currency="USD"),
        "payments.csv",
        2,
        "currency",
        "settlement_matches_document",
    ),
    "a settlement line on another debtor than its document's": (
        "FR01",
        lambda r: r["payments"][0].update(debtor_id="C002"),
        "payments.csv",
        2,
        "debtor_id",
        "settlement_matches_document",
    ),
    "an amount the warehouse cannot hold once converted": (
        "US01",
        lambda r: r["invoices"][1].update(amount="99999999999999.99"),
        "invoices.csv",
        3,
        "amount",
        "amount_too_large",
    ),
    "a cover in a currency with no rate": (
        "GB01",
        lambda r: r["risk_ratings"][0].update(cover_currency="JPY"),
        "risk_ratings.csv",
        2,
        "cover_currency",
        "currency_without_rate",
    ),
}


@pytest.mark.unit
@pytest.mark.parametrize("case", sorted(CROSS_FILE))
def test_cross_file_errors_quarantine_on_landing(case, registry_file, landing, warehouse, query):
    entity, change, file_name, row, column, rule = CROSS_FILE[case]
    write_good_night(landing)
    drop = good_drop(entity, currency_of(entity))
    change(drop)
    write_drop(landing, entity, DAY1, drop, manifest=False)
    (landing / entity / DAY1.isoformat() / "_manifest.json").unlink(missing_ok=True)
    outcomes = land_night(registry_file, landing, warehouse, DAY1)
    assert outcomes[entity].status == QUARANTINED
    failures = reason_of(landing, entity, DAY1)["failures"]
    assert [(f["file"], f.get("row"), f.get("column")) for f in failures if f["rule"] == rule] == [
        (file_name, row, column)
    ], failures
    assert all(outcomes[e].status == OK for e in ENTITIES if e != entity)
    assert raw_snapshot(query, entity)["invoices"] == []


@pytest.mark.unit
def test_a_settlement_line_checked_against_the_document_in_the_warehouse(registry_file, landing, warehouse):
    write_good_night(landing)
    land_night(registry_file, landing, warehouse, DAY1)
    line = dict(good_drop("DE01")["payments"][0], settlement_id="S-7", currency="GBP")
    write_drop(landing, "DE01", DAY2, quiet_drop(payments=[line]))
    outcome = land_night(registry_file, landing, warehouse, DAY2)["DE01"]
    assert outcome.status == QUARANTINED
    failure = next(
        f for f in reason_of(landing, "DE01", DAY2)["failures"] if f["rule"] == "settlement_matches_document"
    )
    assert failure["found"] == "currency=GBP, document_currency=EUR"


def build_night(registry_file: Path, landing: Path, warehouse: Path, day: date) -> str:
    """`receivables run` for one night: land every drop, then build with the landing folder."""
    result = receivables(
        "run",
        "--entities",
        str(registry_file),
        "--landing",
        str(landing),
        "--warehouse",
        str(warehouse),
        "--as-of",
        day.isoformat(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def first_night(registry_file: Path, landing: Path, warehouse: Path) -> None:
    write_good_night(landing)
    build_night(registry_file, landing, warehouse, DAY1)


def other_entities(warehouse: Path, entity: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every published mart without the rows of one entity (and without the group-wide figures)."""
    query = reader(warehouse)
    snapshot = {}
    for mart in (*MARTS, "mart_entity_debtor_exposure", "mart_data_issues"):
        columns = [row[0] for row in query(f"select column_name from (describe marts.{mart})")]
        where = f"where entity_code not in ('{entity}', 'GROUP')" if "entity_code" in columns else None
        if where:
            snapshot[mart] = query(f"select * from marts.{mart} {where} order by all")
    return snapshot


@pytest.mark.dbt
def test_a_failing_data_test_takes_the_drop_back_out_and_the_night_goes_on(
    registry_file, landing, warehouse, tmp_path
):
    """DE01 re-sends an invoice in another currency than the lines already settling it.

    Landing cannot see it (the drop has no line), dbt's payment_matches_document does: DE01's
    drop is taken back out, its earlier version of the invoice comes back, the others publish.
    """
    first_night(registry_file, landing, warehouse)
    control_landing, control = tmp_path / "control" / "landing", tmp_path / "control" / "warehouse.duckdb"
    shutil.copytree(landing, control_landing)
    shutil.copyfile(warehouse, control)

    resent = dict(good_drop("DE01")["invoices"][0], currency="GBP", disputed="true")
    for entity in ENTITIES:
        rows = (
            quiet_drop(invoices=[resent])
            if entity == "DE01"
            else quiet_drop(
                invoices=[dict(good_drop(entity, currency_of(entity))["invoices"][0], document_id="F-5")]
            )
        )
        write_drop(landing, entity, DAY2, rows)
        if entity != "DE01":
            write_drop(control_landing, entity, DAY2, rows)
    for folder in (landing, control_landing):
        write_drop(folder, "_group", DAY2, fx_drop())
    arrived = {p.name: p.read_bytes() for p in (landing / "DE01" / DAY2.isoformat()).iterdir()}

    output = build_night(registry_file, landing, warehouse, DAY2)
    build_night(registry_file, control_landing, control, DAY2)

    assert "DE01 2026-03-03: quarantined by the build" in output
    quarantined = landing / "_quarantine" / "DE01" / DAY2.isoformat()
    assert not (landing / "DE01" / DAY2.isoformat()).exists()
    assert {p.name: p.read_bytes() for p in quarantined.iterdir() if p.name != "reason.json"} == arrived
    reason = reason_of(landing, "DE01", DAY2)
    assert {f["file"] for f in reason["failures"]} == {"payment_matches_document_stg_raw__payments_"}
    assert '"document_id": "F-1"' in reason["failures"][0]["found"]
    query = reader(warehouse)
    # the raw layer is back at DE01's last good data: the invoice of the first night
    assert query(
        "select currency, disputed, extract_date from raw.invoices where entity_code = 'DE01' and document_id = 'F-1'"
    ) == [("EUR", False, DAY1)]
    assert query(
        "select status, reason like 'taken out by the build%' from marts.mart_freshness "
        "where entity_code = 'DE01' and as_of_date = ?",
        DAY2,
    ) == [("quarantined", True)]
    assert query(
        "select status from raw.landing_log where entity_code = 'DE01' and extract_date = ?", DAY2
    ) == [("quarantined",)]
    # the other entities' figures are those of the same night without DE01's drop
    assert other_entities(warehouse, "DE01") == other_entities(control, "DE01")
    assert not warehouse.with_name(warehouse.name + ".building").exists()

    # the corrected drop, sent again for that date, brings DE01 back
    corrected = dict(good_drop("DE01")["invoices"][0], disputed="true")
    write_drop(landing, "DE01", DAY2, quiet_drop(invoices=[corrected]))
    output = build_night(registry_file, landing, warehouse, DAY2)
    assert "quarantined by the build" not in output
    assert query(
        "select currency, disputed, extract_date from raw.invoices where entity_code = 'DE01' and document_id = 'F-1'"
    ) == [("EUR", True, DAY2)]
    assert query(
        "select status from marts.mart_freshness where entity_code = 'DE01' and as_of_date = ?", DAY2
    ) == [("ok",)]


@pytest.mark.dbt
def test_a_failed_build_leaves_the_working_file_as_it_was(registry_file, landing, warehouse):
    first_night(registry_file, landing, warehouse)
    before = marts_snapshot(warehouse)
    resent = dict(good_drop("DE01")["invoices"][0], currency="GBP")
    write_drop(landing, "DE01", DAY2, quiet_drop(invoices=[resent]))
    write_drop(landing, "_group", DAY2, fx_drop())
    land_night(registry_file, landing, warehouse, DAY2)
    # without a landing folder the build cannot take a drop out: it fails, and changes no mart
    result = receivables("build", "--warehouse", str(warehouse), "--as-of", DAY2.isoformat())
    assert result.returncode == 2
    assert "payment_matches_document" in result.stderr
    assert marts_snapshot(warehouse) == before
    assert not warehouse.with_name(warehouse.name + ".building").exists()


@pytest.mark.dbt
def test_three_bad_entities_in_one_night_leave_the_fourth_as_if_alone(
    registry_file, landing, warehouse, tmp_path
):
    """`receivables run`: FR01 invoices in a currency with no rate, DE01 settles in another currency
    than its document, US01 pays an unknown document. Each is quarantined with its rule, its files
    byte-identical to what arrived; GB01's figures are those of a night without the three; the
    corrected drops, sent again, bring them back."""
    first_night(registry_file, landing, warehouse)
    control_landing, control = tmp_path / "control" / "landing", tmp_path / "control" / "warehouse.duckdb"
    shutil.copytree(landing, control_landing)
    shutil.copyfile(warehouse, control)

    def night(entity: str) -> dict[str, list[dict[str, Any]]]:
        drop = good_drop(entity, currency_of(entity))
        invoice = dict(drop["invoices"][0], document_id="F-6", amount="250.00")
        line = dict(drop["payments"][0], settlement_id="S-6", document_id="F-6", amount="100.00")
        return quiet_drop(invoices=[invoice], payments=[line])

    broken = {
        "FR01": ("invoices", "currency", "XXX", "currency_without_rate"),
        "DE01": ("payments", "currency", "USD", "settlement_matches_document"),
        "US01": ("payments", "document_id", "F-404", "reference"),
    }
    for folder in (landing, control_landing):
        write_drop(folder, "_group", DAY2, fx_drop())
        write_drop(folder, "GB01", DAY2, night("GB01"))
    for entity, (file, column, value, _) in broken.items():
        drop = night(entity)
        drop[file][0][column] = value
        write_drop(landing, entity, DAY2, drop, manifest=True)
    arrived = {
        entity: {p.name: p.read_bytes() for p in (landing / entity / DAY2.isoformat()).iterdir()}
        for entity in broken
    }
    build_night(registry_file, landing, warehouse, DAY2)
    build_night(registry_file, control_landing, control, DAY2)

    query = reader(warehouse)
    for entity, (file, column, _, rule) in broken.items():
        quarantined = landing / "_quarantine" / entity / DAY2.isoformat()
        assert {p.name: p.read_bytes() for p in quarantined.iterdir() if p.name != "reason.json"} == arrived[
            entity
        ]
        failures = reason_of(landing, entity, DAY2)["failures"]
        assert [(f["file"], f["row"], f["column"]) for f in failures if f["rule"] == rule] == [
            (f"{file}.csv", 2, column)
        ], failures
        [(status, reason)] = query(
            "select status, reason from marts.mart_freshness where entity_code = ? and as_of_date = ?",
            entity,
            DAY2,
        )
        assert status == "quarantined" and rule in reason
    gb01 = {
        mart: [row for row in rows if "GB01" in row]
        for mart, rows in other_entities(warehouse, "FR01").items()
    }
    assert gb01 == {
        mart: [row for row in rows if "GB01" in row] for mart, rows in other_entities(control, "FR01").items()
    }

    for entity in broken:  # the entities send their drops again, corrected
        write_drop(landing, entity, DAY2, night(entity), manifest=True)
    build_night(registry_file, landing, warehouse, DAY2)
    assert query(
        "select entity_code, status from marts.mart_freshness where as_of_date = ? order by 1", DAY2
    ) == [("DE01", "ok"), ("FR01", "ok"), ("GB01", "ok"), ("GROUP", "ok"), ("US01", "ok")]
    assert query(
        "select count(*) from marts.fct_open_items where document_id = 'F-6' and as_of_date = ?", DAY2
    ) == [(4,)]
