"""`receivables build` on real DuckDB files: clear failures, what a night writes."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from conftest import DAY1, fx_drop, good_drop, receivables, write_drop
from receivables.landing import land
from receivables.registry import load_registry


def test_missing_fx_rate_stops_the_build_with_currency_and_date(registry_file, landing, warehouse, query):
    write_drop(landing, "_group", DAY1, {"fx_rates": []})
    write_drop(landing, "US01", DAY1, good_drop("US01", "USD"))
    land(load_registry(registry_file), landing, DAY1, warehouse)
    result = receivables("build", "--warehouse", str(warehouse), "--as-of", DAY1.isoformat())
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: dbt build failed:")
    assert re.search(r"no FX rate for USD at 2026-0[1-3]-\d\d nor in the 7 days before", last)


def test_a_night_builds_every_mart(registry_file, landing, warehouse, query):
    write_drop(landing, "_group", DAY1, fx_drop())
    for entity, currency in (("FR01", "EUR"), ("US01", "USD")):
        write_drop(landing, entity, DAY1, good_drop(entity, currency))
    land(load_registry(registry_file), landing, DAY1, warehouse)
    result = receivables("build", "--warehouse", str(warehouse), "--as-of", DAY1.isoformat())
    assert result.returncode == 0, result.stderr[-2000:]
    # FR01: F-1 1234.56 - 500 paid, F-2 999.99, credit note -100, unapplied cash -200
    assert query(
        "select sum(open_amount_eur), count(*) from marts.fct_open_items where entity_code = 'FR01'"
    ) == [(Decimal("1434.55"), 4)]
    statuses = query("select entity_code, status from marts.mart_freshness order by 1")
    assert statuses == [("DE01", "stale"), ("FR01", "ok"), ("GB01", "stale"), ("GROUP", "ok"), ("US01", "ok")]
    assert query("select count(*) from marts.mart_concentration") == [(1,)]


def test_build_before_any_landing_says_what_to_do(tmp_path):
    result = receivables("build", "--warehouse", str(tmp_path / "none.duckdb"), "--as-of", "2026-03-02")
    assert result.returncode == 2
    assert "no warehouse yet; land a night first" in result.stderr.strip().splitlines()[-1]


def test_a_line_re_sent_against_another_document_reopens_the_first(registry_file, landing, warehouse, query):
    """The night recomputes only the documents it touched, including the one a re-sent line left."""
    from conftest import DAY2

    registry = load_registry(registry_file)
    first = good_drop("FR01")
    first["payments"].append(
        {"settlement_id": "S-3", "line_no": "1", "debtor_id": "C002", "document_id": "F-2",
         "settlement_date": date(2026, 3, 1), "currency": "EUR", "amount": "999.99", "kind": "payment"}
    )  # fmt: skip
    write_drop(landing, "_group", DAY1, fx_drop())
    write_drop(landing, "FR01", DAY1, first)
    land(registry, landing, DAY1, warehouse)
    assert receivables("build", "--warehouse", str(warehouse), "--as-of", DAY1.isoformat()).returncode == 0
    open_on = "select document_id, open_amount from marts.fct_open_items where as_of_date = ? and document_type = 'invoice' order by 1"
    assert query(open_on, DAY1) == [("F-1", Decimal("734.5600"))]

    moved = {"debtors": [], "invoices": [], "risk_ratings": [], "payments": [
        {"settlement_id": "S-3", "line_no": "1", "debtor_id": "C001", "document_id": "F-1",
         "settlement_date": date(2026, 3, 1), "currency": "EUR", "amount": "734.56", "kind": "payment"}
    ]}  # fmt: skip
    write_drop(landing, "_group", DAY2, fx_drop())
    write_drop(landing, "FR01", DAY2, moved)
    land(registry, landing, DAY2, warehouse)
    assert query("select settlement_id, previous_document_id from raw.settlement_line_moves") == [
        ("S-3", "F-2")
    ]
    result = receivables("build", "--warehouse", str(warehouse), "--as-of", DAY2.isoformat())
    assert result.returncode == 0, result.stderr[-2000:]
    assert query(open_on, DAY2) == [("F-2", Decimal("999.9900"))]
