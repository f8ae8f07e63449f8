"""`receivables build` on real DuckDB files: clear failures, what a night writes."""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal

from conftest import DAY1, fx_drop, good_drop, write_drop
from receivables.landing import land
from receivables.registry import load_registry


def receivables(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "receivables.cli", *args], capture_output=True, text=True, timeout=900
    )


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
