"""Several consecutive nights with `receivables run`, checked against tests/oracle.py.

The oracle reads the landed files itself and computes the figures of SPEC.md
in plain Python with Decimal; nothing is taken from the project's models.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from conftest import MARTS, marts_snapshot, reader, receivables, run_nights
from oracle import Ledger, bucket_of, concentration, debtor_groups, group_contractual_terms, group_dso
from receivables.dev.generate import GeneratorConfig, generate
from receivables.warehouse.build import BuildError, run_dbt

pytestmark = pytest.mark.dbt

START, END, NIGHTLY = date(2025, 9, 1), date(2025, 12, 31), date(2025, 12, 29)


@pytest.fixture(scope="module")
def nights(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("e2e")
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    generate(
        GeneratorConfig(
            out=landing, entities=3, start=START, end=END, seed=5, invoices=2500, nightly_from=NIGHTLY
        )
    )
    run_nights(landing, warehouse, "2025-12-28", "2025-12-31")
    return landing, warehouse


def test_open_items_match_the_oracle_item_by_item(nights):
    landing, warehouse = nights
    t = date(2025, 12, 31)
    ledger = Ledger.read(landing, landing / "entities.yml", t)
    expected = {
        (i["entity"], i["document"]): (i["open"], i["eur"], i["local"], i["dpd"], bucket_of(i["dpd"]))
        for i in ledger.open_items(t)
    }
    rows = reader(warehouse)(
        "select entity_code, document_id, open_amount, open_amount_eur, open_amount_entity_currency, days_past_due, "
        "aging_bucket from marts.fct_open_items where as_of_date = ?",
        t,
    )
    actual = {(r[0], r[1]): (r[2], r[3], r[4], r[5], r[6]) for r in rows}
    assert len(expected) > 300
    assert actual == expected


def test_aging_adds_up_per_debtor_and_matches_the_oracle(nights):
    landing, warehouse = nights
    t = date(2025, 12, 30)
    ledger = Ledger.read(landing, landing / "entities.yml", t)
    expected: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for item in ledger.open_items(t):
        expected[(item["entity"], item["debtor"], bucket_of(item["dpd"]))] += item["eur"]
    rows = reader(warehouse)(
        "select entity_code, consolidated_debtor_id, aging_bucket, amount_eur from marts.mart_aging "
        "where as_of_date = ? and item_count > 0",
        t,
    )
    assert {(r[0], r[1], r[2]): r[3] for r in rows} == dict(expected)


def test_exposure_and_concentration_match_the_oracle(nights):
    landing, warehouse = nights
    t = date(2025, 12, 31)
    ledger = Ledger.read(landing, landing / "entities.yml", t)
    items = [i for i in ledger.open_items(t) if not i["intercompany"]]
    groups = debtor_groups(items)
    exposure: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        exposure[groups[item["debtor"]]] += item["eur"]
    query = reader(warehouse)
    rows = query(
        "select debtor_group_id, exposure_eur from marts.mart_debtor_exposure where as_of_date = ?", t
    )
    assert dict(rows) == dict(exposure)
    expected = concentration(exposure)
    [(total, hhi, top10, groups_for_80)] = query(
        "select total_exposure_eur, hhi, top10_share, groups_for_80pct from marts.mart_concentration where as_of_date = ?",
        t,
    )
    assert total == expected["total"]
    assert hhi == pytest.approx(float(expected["hhi"]), abs=0.01)
    assert top10 == pytest.approx(float(expected["top10"]), abs=1e-6)
    assert groups_for_80 == expected["groups_for_80"]


def test_group_dso_matches_the_oracle(nights):
    landing, warehouse = nights
    month_end = date(2025, 11, 30)
    ledger = Ledger.read(landing, landing / "entities.yml", date(2025, 12, 31))
    encours, days = group_dso(ledger, month_end)
    [(net_encours, dso)] = reader(warehouse)(
        "select net_encours, dso_countback from marts.mart_dso where entity_code = 'GROUP' and month_end = ?",
        month_end,
    )
    assert net_encours == encours
    assert days is not None and dso == pytest.approx(float(days), abs=0.006)
    # the first month end: its countback walks past the first month with sales (SPEC section 7 amended)
    first = date(2025, 9, 30)
    _, first_days = group_dso(ledger, first)
    [(first_dso, status)] = reader(warehouse)(
        "select dso_countback, status from marts.mart_dso where entity_code = 'GROUP' and month_end = ?",
        first,
    )
    if first_days is None:
        assert (first_dso, status) == (None, "history_too_short")
    else:
        assert first_dso == pytest.approx(float(first_days), abs=0.006) and status == "ok"
    # the contractual terms, the DSO's reference: the month's sales-weighted due minus issue days
    [(terms,)] = reader(warehouse)(
        "select contractual_terms_days from marts.mart_dso where entity_code = 'GROUP' and month_end = ?",
        month_end,
    )
    expected_terms = group_contractual_terms(ledger, month_end)
    assert expected_terms is not None and terms == pytest.approx(float(expected_terms), abs=0.051)
    months = reader(warehouse)("select distinct month_end from marts.mart_dso order by 1")
    assert [m[0] for m in months] == [
        date(2025, 9, 30),
        date(2025, 10, 31),
        date(2025, 11, 30),
        date(2025, 12, 31),
    ]


def test_history_kept_per_as_of_date(nights):
    _, warehouse = nights
    query = reader(warehouse)
    assert query("select distinct as_of_date from marts.mart_concentration order by 1") == [
        (date(2025, 12, d),) for d in (28, 29, 30, 31)
    ]
    # fct_open_items keeps the latest date and month ends only
    assert query("select distinct as_of_date from marts.fct_open_items") == [(date(2025, 12, 31),)]
    assert query("select count(*) from marts.mart_freshness where status <> 'ok'") == [(0,)]


def test_rerun_of_a_night_changes_nothing(nights):
    landing, warehouse = nights
    before = marts_snapshot(warehouse)
    run_nights(landing, warehouse, "2025-12-31")
    assert marts_snapshot(warehouse) == before


def test_rebuilding_a_range_leaves_other_dates_alone(nights, monkeypatch):
    _, warehouse = nights
    before = marts_snapshot(warehouse)
    receivables(
        "build", "--warehouse", str(warehouse), "--as-of", "2025-12-29", "--to", "2025-12-30", check=True
    )
    after = marts_snapshot(warehouse)
    for mart in (
        "mart_aging",
        "mart_debtor_exposure",
        "mart_concentration",
        "mart_weak_signals",
        "mart_freshness",
    ):
        outside = [row for row in before[mart] if row[0] not in (date(2025, 12, 29), date(2025, 12, 30))]
        assert [
            row for row in after[mart] if row[0] not in (date(2025, 12, 29), date(2025, 12, 30))
        ] == outside
    # the DSO keeps every month end up to the latest night, and the detail its latest date
    assert after["mart_dso"] == before["mart_dso"]
    assert after["fct_open_items"] == before["fct_open_items"]
    # rebuilt dates use what is known now (a later re-send, a cancellation), and a second rebuild agrees,
    # in runs of one date each (RECEIVABLES_BUILD_RANGE_DATES): a range's dates are built the same apart
    monkeypatch.setenv("RECEIVABLES_BUILD_RANGE_DATES", "1")
    receivables(
        "build", "--warehouse", str(warehouse), "--as-of", "2025-12-29", "--to", "2025-12-30", check=True
    )
    assert marts_snapshot(warehouse) == after
    assert reader(warehouse)("select as_of_from, as_of_to from raw.build_log order by built_at desc limit 3") == [
        (date(2025, 12, 30), date(2025, 12, 30)), (date(2025, 12, 29), date(2025, 12, 29)),
        (date(2025, 12, 29), date(2025, 12, 30)),
    ]  # fmt: skip


GOLDEN = Path(__file__).parent / "golden"
GOLDEN_AS_OF = date(2025, 12, 31)


def _golden_csv(query, mart: str) -> str:
    """A mart's rows of 2025-12-31 (mart_dso: its month ends up to then) as CSV, sorted."""
    columns = [row[0] for row in query(f"select column_name from (describe marts.{mart})")]
    date_column = "month_end" if mart == "mart_dso" else "as_of_date"
    where = f"{date_column} <= ?" if mart == "mart_dso" else f"{date_column} = ?"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in query(f"select * from marts.{mart} where {where} order by all", GOLDEN_AS_OF):
        writer.writerow("" if value is None else str(value) for value in row)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "mart",
    [
        *MARTS,
        "mart_entity_debtor_exposure",
        "mart_data_issues",
        "mart_promises",
        "mart_disputes",
        "mart_cash_forecast",
    ],
)
def test_the_sample_group_s_marts_are_the_golden_ones(nights, mart):
    """Every published figure of the sample group at 2025-12-31, to the cent, as committed.

    A change that moves a figure on purpose rewrites the file in the same
    commit (RECEIVABLES_UPDATE_GOLDEN=1 pytest -k golden) and says so in the
    CHANGELOG; any other change must leave these files as they are.
    """
    _, warehouse = nights
    got = _golden_csv(reader(warehouse), mart)
    path = GOLDEN / f"{mart}.csv"
    if os.environ.get("RECEIVABLES_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(got, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    if got != expected:
        changed = [
            (old, new)
            for old, new in zip(expected.splitlines(), got.splitlines(), strict=False)
            if old != new
        ]
        raise AssertionError(
            f"{mart}: {len(got.splitlines())} rows now, {len(expected.splitlines())} golden; "
            f"first differences (golden, now): {changed[:3]}"
        )


def test_the_two_net_encours_must_agree_at_month_ends(nights, tmp_path):
    """fct_open_items and mart_dso compute the net encours apart: a cent apart per item at most, or the build fails."""
    _, warehouse = nights
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(warehouse, copy)
    month_end = (GOLDEN_AS_OF, GOLDEN_AS_OF)
    run_dbt(copy, ["test", "--select", "net_encours_agrees_at_month_ends"], month_end)  # agrees as built
    with duckdb.connect(
        str(copy)
    ) as connection:  # one item of DE01 a euro higher: its encours no longer agrees
        connection.execute(
            "update marts.fct_open_items set open_amount_entity_currency = open_amount_entity_currency + 1, "
            "open_amount_eur = open_amount_eur + 1 where as_of_date = ? and entity_code = 'DE01' "
            "and document_id = (select min(document_id) from marts.fct_open_items "
            "where as_of_date = ? and entity_code = 'DE01' and not is_intercompany)",
            [GOLDEN_AS_OF, GOLDEN_AS_OF],
        )
    with pytest.raises(BuildError) as failed:
        run_dbt(copy, ["test", "--select", "net_encours_agrees_at_month_ends"], month_end)
    # DE01 fails; the group's bound (half a cent for each of its 511 converted items) is wider than a euro
    assert [(n["name"], n["failures"]) for n in failed.value.nodes] == [
        ("net_encours_agrees_at_month_ends", 1)
    ]
