"""Figures as reported (SPEC section 18, issue 37): a publish keeps what it published, and a later build
that restates a published date lists what changed, by how much and why."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from conftest import good_drop, quiet_drop, write_drop
from receivables.ingest.landing import land
from receivables.nights import Nights
from receivables.registry import load_registry
from receivables.serve.as_reported import AS_REPORTED, prune
from receivables.settings import settings
from receivables.warehouse.build import build

MONTH_END = date(2026, 2, 28)
LATE = date(2026, 3, 3)  # a drop sent in March restating February: a payment of 25 February


@pytest.mark.dbt
def test_a_restated_month_end_stays_readable_as_published_and_lists_what_changed(
    tmp_path, registry_file, landing, warehouse, query
):
    from receivables import nightly

    registry = load_registry(registry_file)
    serving = tmp_path / "serving" / "warehouse.duckdb"
    config = settings().given(warehouse=warehouse, serving=serving)
    write_drop(landing, "FR01", MONTH_END, good_drop("FR01"))
    land(registry, landing, MONTH_END, warehouse, workers=1)
    build(warehouse, Nights.of(MONTH_END))
    nightly.publish(config, MONTH_END)
    [(first_at, first_dir)] = query("select published_at, snapshot_dir from raw.publish_log")
    [(open_before,)] = query(
        "select open_amount from marts.fct_open_items where as_of_date = ? and document_id = 'F-1'", MONTH_END
    )

    late_payment = {"settlement_id": "S-LATE", "line_no": "1", "debtor_id": "C001", "document_id": "F-1",
                    "settlement_date": date(2026, 2, 25), "currency": "EUR", "amount": "200.00",
                    "kind": "payment"}  # fmt: skip
    write_drop(landing, "FR01", LATE, quiet_drop(payments=[late_payment]))
    land(registry, landing, LATE, warehouse, workers=1)
    build(warehouse, Nights.of(MONTH_END))  # the month end rebuilt with the late drop
    nightly.publish(config, MONTH_END)

    # the first publish reads exactly as it was
    with duckdb.connect() as parquet:
        [(as_published,)] = parquet.execute(
            f"select open_amount from read_parquet('{first_dir}/fct_open_items.parquet') where document_id = 'F-1'"
        ).fetchall()
    assert as_published == open_before
    record = json.loads((tmp_path / "serving" / AS_REPORTED / MONTH_END.isoformat()).joinpath(
        first_at.strftime("%Y%m%dT%H%M%S"), "publish.json").read_text(encoding="utf-8"))  # fmt: skip
    latest = {b["entity_code"]: b["extract_date"] for b in record["latest_batches"]}
    assert latest["FR01"] == "2026-02-28"  # the late drop of 3 March came after it

    restated = query(
        "select entity_code, figure, as_reported, now, difference, published_at, cause from marts.mart_restatements "
        "where as_of_date = ? and figure = 'net_encours_eur' order by entity_code",
        MONTH_END,
    )
    assert [row[:5] for row in restated] == [
        (
            "FR01",
            "net_encours_eur",
            row_value := restated[0][2],
            row_value - Decimal("200.00"),
            Decimal("-200.00"),
        ),
        ("GROUP", "net_encours_eur", restated[1][2], restated[1][2] - Decimal("200.00"), Decimal("-200.00")),
    ]
    assert all(
        row[5] == first_at for row in restated
    )  # against the first publish; the second agrees with now
    assert [row[6] for row in restated] == ["Dépôts chargés depuis la publication : FR01 du 03/03/2026"] * 2
    assert {
        row[0] for row in query("select figure from marts.mart_restatements where entity_code = 'FR01'")
    } == {
        "net_encours_eur",
        "overdue_eur",
        "expected_13_weeks_eur",
    }  # fmt: skip: F-1 is overdue, and expected in the 13 weeks

    # the month end's report says, on its first page, what it restates and which publish it read
    from receivables.reports.data import read_report
    from receivables.reports.files import write_report

    report = read_report(serving, MONTH_END, "FR01")
    headline = {label: value for label, value, _ in report.headline}
    [(second_at,)] = query("select max(published_at) from raw.publish_log")
    assert headline["Publication lue"] == second_at.strftime("%d/%m/%Y %H:%M")
    stamp = first_at.strftime("%d/%m/%Y %H:%M")
    assert headline[f"Retraité depuis la publication du {stamp} : Encours net hors groupe (EUR)"] == Decimal(
        "-200.00"
    )
    workbook, pdf = write_report(report, tmp_path / "reports")
    from pypdf import PdfReader

    first_page = PdfReader(pdf).pages[0].extract_text()
    assert (
        f"Retraité depuis la publication du {stamp} : Encours net hors groupe (EUR) : −200,00" in first_page
    )
    assert f"Publication du {second_at:%d/%m/%Y %H:%M}" in first_page
    record = json.loads(workbook.with_suffix(".json").read_text(encoding="utf-8"))
    assert record["published_at"] == second_at.isoformat() and record["as_of_date"] == MONTH_END.isoformat()

    # replaying the same drops changes nothing
    before = query("select * exclude (published_at) from marts.mart_restatements order by all")
    land(registry, landing, LATE, warehouse, workers=1)
    build(warehouse, Nights.of(MONTH_END))
    assert query("select * exclude (published_at) from marts.mart_restatements order by all") == before


@pytest.mark.unit
def test_the_publish_keeps_every_month_end_and_the_last_nights(tmp_path):
    serving = tmp_path / "serving" / "warehouse.duckdb"
    root = tmp_path / "serving" / AS_REPORTED
    days = [date(2026, 1, 1).fromordinal(date(2026, 1, 1).toordinal() + n) for n in range(80)]
    for day in days:
        (root / day.isoformat() / "20260101T020000").mkdir(parents=True)

    removed = prune(serving, keep_nights=35)

    kept = sorted(path.name for path in root.iterdir())
    assert kept == ["2026-01-31", *[day.isoformat() for day in days[-35:]]]  # 2026-02-28 among the last
    assert len(removed) == 80 - len(kept)
