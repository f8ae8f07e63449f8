"""Landing on real DuckDB files with real Great Expectations validation."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from conftest import DAY1, DAY2, DAY3, fx_drop, good_drop, quiet_drop, write_drop
from receivables.ingest.landing import OK, QUARANTINED, STALE, land
from receivables.registry import load_registry

pytestmark = pytest.mark.unit

ENTITIES = ("FR01", "DE01", "US01", "GB01")


def currency_of(entity: str) -> str:
    return {"US01": "USD", "GB01": "GBP"}.get(entity, "EUR")


def land_night(registry_file: Path, landing: Path, warehouse: Path, day: date) -> dict[str, Any]:
    outcomes = land(load_registry(registry_file), landing, day, warehouse)
    return {outcome.entity_code: outcome for outcome in outcomes}


def write_good_night(landing: Path, day: date = DAY1, manifest: bool = True) -> None:
    write_drop(landing, "_group", day, fx_drop())
    for entity in ENTITIES:
        write_drop(landing, entity, day, good_drop(entity, currency_of(entity)), manifest=manifest)


def raw_snapshot(query, entity: str | None = None) -> dict[str, list[tuple[Any, ...]]]:
    where = f"where entity_code = '{entity}'" if entity else ""
    return {
        table: query(f"select * from raw.{table} {where} order by all")
        for table in ("debtors", "invoices", "payments", "risk_ratings", "fx_rates")
    }


def test_each_dialect_lands_typed_and_exact(registry_file, landing, warehouse, query):
    write_good_night(landing)
    outcomes = land_night(registry_file, landing, warehouse, DAY1)
    assert {code: o.status for code, o in outcomes.items()} == dict.fromkeys(("GROUP", *ENTITIES), OK)
    for entity in ENTITIES:
        rows = query(
            "select document_id, issue_date, due_date, amount, disputed, status from raw.invoices "
            "where entity_code = ? order by document_id",
            entity,
        )
        assert rows == [
            ("A-1", date(2026, 2, 10), date(2026, 2, 10), Decimal("100.0000"), False, "open"),
            ("F-1", date(2026, 1, 5), date(2026, 2, 4), Decimal("1234.5600"), False, "open"),
            ("F-2", date(2026, 2, 1), date(2026, 4, 2), Decimal("999.9900"), True, "open"),
        ], entity
        names = query(
            "select name, credit_limit, customer_type from raw.debtors where entity_code = ? order by 1",
            entity,
        )
        assert names == [
            ("Boulangerie Lefèvre & Fils", Decimal("50000.0000"), "B2B"),
            ("Müller Bau GmbH", Decimal("12000.5000"), "B2B"),  # customer_type defaults to B2B
        ]
        unapplied = query(
            "select document_id, amount from raw.payments where entity_code = ? and settlement_id = 'S-2'",
            entity,
        )
        assert unapplied == [(None, Decimal("200.0000"))]
        share = query(
            "select cover_share from raw.risk_ratings where entity_code = ? and provider = 'banque_de_france' "
            "and debtor_id = 'C001'",
            entity,
        )
        assert share == [(Decimal("1.000000"),)]  # cover_share defaults to 1
    assert query("select extract_date, count(*) from raw.invoices group by 1") == [(DAY1, 12)]
    assert query("select currency, units_per_eur from raw.fx_rates where rate_date = ? order by 1", DAY1) == [
        ("GBP", Decimal("0.851200")),
        ("USD", Decimal("1.083400")),
    ]
    # drops are kept where they were: nothing deleted
    assert (landing / "FR01" / DAY1.isoformat() / "invoices.csv").exists()


def test_parquet_drop_lands(registry_file, landing, warehouse, query):
    rows = good_drop("GB01", "GBP")
    write_drop(landing, "_group", DAY1, fx_drop())  # GBP has a rate
    folder = landing / "GB01" / DAY1.isoformat()
    folder.mkdir(parents=True)
    for name, records in rows.items():
        frame = pd.DataFrame(records)
        for column in frame.columns:
            if column in {"amount", "credit_limit", "cover_amount", "cover_share", "amount_excl_tax"}:
                frame[column] = frame[column].map(lambda v: None if pd.isna(v) or v == "" else Decimal(v))
            elif column in {"line_no", "payment_terms_days"}:
                frame[column] = frame[column].astype("Int64")
            elif column == "disputed":
                frame[column] = frame[column].map(lambda v: None if pd.isna(v) else v.lower() == "true")
        frame.to_parquet(folder / f"{name}.parquet")
    outcome = land_night(registry_file, landing, warehouse, DAY1)["GB01"]
    assert outcome.status == OK, outcome.reason
    assert query("select sum(amount), count(*) from raw.invoices") == [(Decimal("2334.5500"), 3)]
    assert query("select issue_date from raw.invoices where document_id = 'F-1'") == [(date(2026, 1, 5),)]


BROKEN_DROPS = {
    # name: (extract, change to the good rows, file, row, column, rule)
    "required value missing": (
        "invoices",
        lambda r: r["invoices"][1].update(debtor_id=""),
        "invoices.csv",
        3,
        "debtor_id",
        "required",
    ),
    "date in the wrong format": (
        "invoices",
        lambda r: r["invoices"][0].update(issue_date="2026-01-05"),
        "invoices.csv",
        2,
        "issue_date",
        "date_format",
    ),
    "not a calendar date": (
        "invoices",
        lambda r: r["invoices"][0].update(issue_date="31/02/2026"),
        "invoices.csv",
        2,
        "issue_date",
        "date_value",
    ),
    "decimal point instead of comma": (
        "invoices",
        lambda r: r["invoices"][2].update(amount="100.00.0"),
        "invoices.csv",
        4,
        "amount",
        "decimal_format",
    ),
    "unknown document type": (
        "invoices",
        lambda r: r["invoices"][0].update(document_type="facture"),
        "invoices.csv",
        2,
        "document_type",
        "enum",
    ),
    "unknown currency": (
        "invoices",
        lambda r: r["invoices"][1].update(currency="EURO"),
        "invoices.csv",
        3,
        "currency",
        "currency",
    ),
    "unknown country": (
        "debtors",
        lambda r: r["debtors"][0].update(country="FRA"),
        "debtors.csv",
        2,
        "country",
        "country",
    ),
    "negative amount": (
        "invoices",
        lambda r: r["invoices"][0].update(amount="-10.00"),
        "invoices.csv",
        2,
        "amount",
        "range",
    ),
    "duplicate key": (
        "invoices",
        lambda r: r["invoices"].append(dict(r["invoices"][0])),
        "invoices.csv",
        5,
        "document_id",
        "unique_key",
    ),
    "duplicate compound key": (
        "payments",
        lambda r: r["payments"].append(dict(r["payments"][0], amount="1.00")),
        "payments.csv",
        4,
        "settlement_id, line_no",
        "unique_key",
    ),
    "unknown rating grade": (
        "risk_ratings",
        lambda r: r["risk_ratings"][0].update(rating="AAA"),
        "risk_ratings.csv",
        2,
        "rating",
        "rating_grade",
    ),
    "grade of the old Banque de France scale after 2022": (
        "risk_ratings",
        lambda r: r["risk_ratings"][1].update(rating="3++"),
        "risk_ratings.csv",
        3,
        "rating",
        "rating_grade",
    ),
    "payment to an unknown invoice": (
        "payments",
        lambda r: r["payments"][0].update(document_id="F-404"),
        "payments.csv",
        2,
        "document_id",
        "reference",
    ),
    "invoice to an unknown debtor": (
        "invoices",
        lambda r: r["invoices"][0].update(debtor_id="C999"),
        "invoices.csv",
        2,
        "debtor_id",
        "reference",
    ),
    "boolean not understood": (
        "invoices",
        lambda r: r["invoices"][0].update(disputed="oui"),
        "invoices.csv",
        2,
        "disputed",
        "boolean_format",
    ),
    "quotité over 1": (
        "risk_ratings",
        lambda r: r["risk_ratings"][0].update(cover_share="1.5"),
        "risk_ratings.csv",
        2,
        "cover_share",
        "range",
    ),
    "unknown intercompany entity": (
        "debtors",
        lambda r: r["debtors"][1].update(intercompany_entity="XX99"),
        "debtors.csv",
        3,
        "intercompany_entity",
        "entity",
    ),
}


def collection_event(**changes: Any) -> dict[str, Any]:
    """A promise to pay invoice F-1 (SPEC section 13), with ``changes``."""
    event = {
        "event_id": "E-1",
        "debtor_id": "C001",
        "document_id": "F-1",
        "event_type": "promise_to_pay",
        "event_date": date(2026, 2, 20),
        "promised_date": date(2026, 3, 10),
        "amount": "1234.56",
        "currency": "EUR",
        "dispute_reason": None,
        "note": "promis au téléphone; confirmé par mail",
    }
    return event | changes


BROKEN_DROPS |= {
    # the optional fifth extract is judged like the others: a bad row quarantines the drop
    "collection event of an unknown debtor": (
        "collection_events",
        lambda r: r.update(collection_events=[collection_event(debtor_id="C999", document_id=None)]),
        "collection_events.csv",
        2,
        "debtor_id",
        "reference",
    ),
    "promise to pay without a date": (
        "collection_events",
        lambda r: r.update(
            collection_events=[collection_event(), collection_event(event_id="E-2", promised_date=None)]
        ),
        "collection_events.csv",
        3,
        "promised_date",
        "required",
    ),
    "payment plan instalment without a date": (
        "collection_events",
        lambda r: r.update(
            collection_events=[collection_event(event_type="payment_plan", promised_date=None)]
        ),
        "collection_events.csv",
        2,
        "promised_date",
        "required",
    ),
    "unknown dispute reason": (
        "collection_events",
        lambda r: r.update(
            collection_events=[
                collection_event(event_type="dispute_opened", promised_date=None, dispute_reason="prix")
            ]
        ),
        "collection_events.csv",
        2,
        "dispute_reason",
        "enum",
    ),
    "promised amount without its currency": (
        "collection_events",
        lambda r: r.update(collection_events=[collection_event(currency=None)]),
        "collection_events.csv",
        2,
        "currency",
        "required",
    ),
    "collection event on another debtor's invoice": (
        "collection_events",
        lambda r: r.update(collection_events=[collection_event(debtor_id="C002")]),
        "collection_events.csv",
        2,
        "debtor_id",
        "settlement_matches_document",
    ),
}


DIALECT_SENSITIVE = (
    "date in the wrong format",
    "not a calendar date",
    "decimal point instead of comma",
    "negative amount",
)
QUARANTINE_CASES = (
    [(case, "FR01") for case in sorted(BROKEN_DROPS)]
    + [(case, "US01") for case in DIALECT_SENSITIVE]
    + [("promise to pay without a date", "US01")]  # the US01 dialect's empty cells
)


@pytest.mark.parametrize(("case", "entity"), QUARANTINE_CASES)
def test_each_quarantine_reason_alone(case, entity, registry_file, landing, warehouse, query):
    _, change, file_name, row, column, rule = BROKEN_DROPS[case]
    write_good_night(landing)
    land_night(registry_file, landing, warehouse, DAY1)
    before = raw_snapshot(query, entity)

    write_drop(landing, "_group", DAY2, {"fx_rates": []})
    for other in ENTITIES:
        rows = quiet_drop()
        rows["invoices"] = [dict(good_drop(other, currency_of(other))["invoices"][0], document_id="F-3")]
        if other == entity:
            rows = copy.deepcopy(good_drop(other, currency_of(other)))
            change(rows)
        write_drop(landing, other, DAY2, rows, manifest=True)
    outcomes = land_night(registry_file, landing, warehouse, DAY2)

    bad = outcomes[entity]
    assert bad.status == QUARANTINED
    quarantined = landing / "_quarantine" / entity / DAY2.isoformat()
    assert not (landing / entity / DAY2.isoformat()).exists()
    assert (quarantined / "invoices.csv").exists()
    reason = json.loads((quarantined / "reason.json").read_text(encoding="utf-8"))
    matching = [f for f in reason["failures"] if f["rule"] == rule and f.get("row") == row]
    assert matching, reason
    assert matching[0]["file"] == file_name
    assert matching[0]["column"] == column
    assert matching[0]["message"].startswith("expected")
    assert entity in bad.reason and file_name in bad.reason
    # the entity keeps its last good data; the others land
    assert raw_snapshot(query, entity) == before
    for other in ENTITIES:
        if other != entity:
            assert outcomes[other].status == OK
            assert query(
                "select count(*) from raw.invoices where entity_code = ? and document_id = 'F-3'", other
            ) == [(1,)]
    assert query(
        "select status from raw.landing_log where entity_code = ? and extract_date = ?", entity, DAY2
    ) == [(QUARANTINED,)]


def test_collection_events_land_typed_and_are_optional(registry_file, landing, warehouse, query):
    """SPEC section 13: the fifth extract lands like the others; a drop without it lands too."""
    write_good_night(landing)
    rows = copy.deepcopy(good_drop("FR01"))
    rows["collection_events"] = [
        collection_event(),
        collection_event(event_id="E-2", event_type="payment_plan", amount=None, currency=None),
        collection_event(
            event_id="E-3",
            debtor_id="C002",
            document_id="F-2",
            event_type="dispute_opened",
            promised_date=None,
            amount="500.00",
            dispute_reason="quality",
        ),
        collection_event(
            event_id="E-4",
            document_id=None,
            event_type="contact",
            promised_date=None,
            amount=None,
            currency=None,
        ),
    ]
    write_drop(landing, "FR01", DAY1, rows, manifest=True)
    outcomes = land_night(registry_file, landing, warehouse, DAY1)
    assert {code: o.status for code, o in outcomes.items()} == dict.fromkeys(("GROUP", *ENTITIES), OK)
    assert query(
        "select event_id, document_id, event_type, event_date, promised_date, amount, currency, "
        "dispute_reason from raw.collection_events where entity_code = 'FR01' order by event_id"
    ) == [
        (
            "E-1",
            "F-1",
            "promise_to_pay",
            date(2026, 2, 20),
            date(2026, 3, 10),
            Decimal("1234.5600"),
            "EUR",
            None,
        ),
        ("E-2", "F-1", "payment_plan", date(2026, 2, 20), date(2026, 3, 10), None, None, None),
        ("E-3", "F-2", "dispute_opened", date(2026, 2, 20), None, Decimal("500.0000"), "EUR", "quality"),
        ("E-4", None, "contact", date(2026, 2, 20), None, None, None, None),
    ]
    assert query("select count(*) from raw.collection_events where entity_code <> 'FR01'") == [(0,)]
    # a date left empty where it is not required is no warning (no far date, no date order)
    assert query("select count(*) from raw.landing_warnings") == [(0,)]


def test_truncated_file_caught_by_manifest(registry_file, landing, warehouse, query):
    write_good_night(landing)
    path = landing / "FR01" / DAY1.isoformat() / "invoices.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))  # the last row never arrived
    outcomes = land_night(registry_file, landing, warehouse, DAY1)
    assert outcomes["FR01"].status == QUARANTINED
    reason = json.loads((landing / "_quarantine" / "FR01" / DAY1.isoformat() / "reason.json").read_text())
    rules = {f["rule"] for f in reason["failures"]}
    assert {"manifest_rows", "manifest_sha256", "manifest_amount_sum"} <= rules
    assert query("select count(*) from raw.invoices where entity_code = 'FR01'") == [(0,)]
    assert outcomes["DE01"].status == OK


def test_missing_file_and_bad_encoding_and_shifted_columns(registry_file, landing, warehouse):
    write_good_night(landing, manifest=False)
    (landing / "DE01" / DAY1.isoformat() / "payments.csv").unlink()
    fr = landing / "FR01" / DAY1.isoformat() / "debtors.csv"
    fr.write_bytes(fr.read_bytes().replace("Lefèvre".encode("cp1252"), "Lefèvre".encode("cp1252") + b"\x81"))
    us = landing / "US01" / DAY1.isoformat() / "invoices.csv"
    us.write_text(us.read_text().replace("F-2,invoice", "F-2,,invoice"))
    outcomes = land_night(registry_file, landing, warehouse, DAY1)
    assert outcomes["DE01"].status == QUARANTINED and "payments.csv" in outcomes["DE01"].reason
    assert outcomes["FR01"].status == QUARANTINED and "debtors.csv row 2" in outcomes["FR01"].reason
    assert "cp1252" in outcomes["FR01"].reason
    assert outcomes["US01"].status == QUARANTINED and "invoices.csv row 3" in outcomes["US01"].reason
    assert outcomes["GB01"].status == OK


def test_unknown_and_missing_columns_are_named(registry_file, landing, warehouse):
    write_good_night(landing, manifest=False)
    path = landing / "GB01" / DAY1.isoformat() / "invoices.csv"
    path.write_text(path.read_text().replace("due_date", "due_dt"))
    outcome = land_night(registry_file, landing, warehouse, DAY1)["GB01"]
    assert outcome.status == QUARANTINED
    assert outcome.failure_count == 1  # one clear failure, not one per expectation
    assert "missing due_date" in outcome.reason and "unknown due_dt" in outcome.reason


def test_header_only_file_is_checked_for_its_columns(registry_file, landing, warehouse):
    # a file without rows passes every row-by-row rule; its columns are still checked
    write_good_night(landing, manifest=False)
    path = landing / "FR01" / DAY1.isoformat() / "debtors.csv"
    header = path.read_text(encoding="cp1252").splitlines()[0]
    path.write_text(header.replace("country", "pays") + "\r\n", encoding="cp1252")
    outcome = land_night(registry_file, landing, warehouse, DAY1)["FR01"]
    assert outcome.status == QUARANTINED
    assert outcome.failure_count == 1
    assert "debtors.csv" in outcome.reason
    assert "missing country" in outcome.reason and "unknown pays" in outcome.reason


def test_resent_row_replaces_earlier_version_and_later_extract_wins(registry_file, landing, warehouse, query):
    write_good_night(landing)
    land_night(registry_file, landing, warehouse, DAY1)
    resent = good_drop("FR01")
    changed = dict(resent["invoices"][0], disputed="true")
    write_drop(landing, "FR01", DAY3, quiet_drop(invoices=[changed]))
    land_night(registry_file, landing, warehouse, DAY3)
    # a late drop of an earlier date must not overwrite the later extract
    stale = dict(resent["invoices"][0], status="cancelled")
    write_drop(landing, "FR01", DAY2, quiet_drop(invoices=[stale]))
    land_night(registry_file, landing, warehouse, DAY2)
    rows = query(
        "select disputed, status, extract_date from raw.invoices where entity_code = 'FR01' and document_id = 'F-1'"
    )
    assert rows == [(True, "open", DAY3)]
    assert query("select count(*) from raw.invoices where entity_code = 'FR01'") == [(3,)]


def test_unapplied_cash_later_applied_by_the_same_key(registry_file, landing, warehouse, query):
    write_good_night(landing)
    land_night(registry_file, landing, warehouse, DAY1)
    applied = dict(good_drop("DE01")["payments"][1], document_id="F-2")
    write_drop(landing, "DE01", DAY2, quiet_drop(payments=[applied]))
    assert land_night(registry_file, landing, warehouse, DAY2)["DE01"].status == OK  # F-2 is in the warehouse
    assert query(
        "select document_id, extract_date from raw.payments where entity_code = 'DE01' and settlement_id = 'S-2'"
    ) == [("F-2", DAY2)]


def test_landing_twice_changes_nothing(registry_file, landing, warehouse, query):
    write_good_night(landing)
    land_night(registry_file, landing, warehouse, DAY1)
    log = "select * exclude (load_id) from raw.landing_log order by all"
    first = raw_snapshot(query) | {"log": query(log)}
    again = land_night(registry_file, landing, warehouse, DAY1)
    assert all(o.status == OK for o in again.values())
    assert raw_snapshot(query) | {"log": query(log)} == first
    # a second load of the same night has a new load_id: the next build reads the night again
    assert query("select distinct load_id from raw.landing_log") == [(2,)]


def test_quarantined_drop_stays_quarantined_on_rerun(registry_file, landing, warehouse, query):
    write_good_night(landing)
    (landing / "US01" / DAY1.isoformat() / "risk_ratings.csv").write_text("debtor_id,provider\n")
    first = land_night(registry_file, landing, warehouse, DAY1)["US01"]
    second = land_night(registry_file, landing, warehouse, DAY1)["US01"]
    assert first.status == second.status == QUARANTINED
    assert first.reason == second.reason
    assert sorted(p.name for p in (landing / "_quarantine" / "US01").iterdir()) == [DAY1.isoformat()]


def test_missing_drop_marks_the_entity_stale(registry_file, landing, warehouse, query):
    write_good_night(landing)
    land_night(registry_file, landing, warehouse, DAY1)
    write_drop(landing, "FR01", DAY2, quiet_drop())
    outcomes = land_night(registry_file, landing, warehouse, DAY2)
    assert outcomes["FR01"].status == OK
    assert outcomes["DE01"].status == STALE and "no drop" in outcomes["DE01"].reason
    assert outcomes["GROUP"].status == STALE
    assert query(
        "select entity_code, status, rows_landed from raw.landing_log where extract_date = ? order by 1", DAY2
    ) == [("DE01", STALE, 0), ("FR01", OK, 0), ("GB01", STALE, 0), ("GROUP", STALE, 0), ("US01", STALE, 0)]
    assert query("select count(*) from raw.invoices where entity_code = 'DE01'") == [(3,)]
