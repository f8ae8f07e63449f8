"""Back-test of the cash-in forecast on a real ledger (SPEC section 14, issue 22).

The IBM Watson accounts-receivable sample (../shared/datasets/ibm_watson_ar)
gives 2,466 invoices of 100 customers with the date each was settled. It is
landed as one entity, IBM1 (USD), in one drop dated after its last
settlement: every figure of an as-of date is computed from the documents'
and lines' own dates, so the warehouse sees at each past date what a ledger
held then. The product then builds a forecast at each month end of the test
period, and a last night after the last forecast's thirteenth week, whose
build measures every week of every forecast (mart_forecast_accuracy).

Printed: per forecast date and over all, the weighted absolute error
(sum |forecast - actual| / sum actual over the weeks) of the forecast and of
the naive baseline (every invoice on its due date, t + 1 when past due).
The sample has no rates: a constant 1.30 USD per EUR is written for every
day (the errors are ratios, which a constant rate leaves unchanged).
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from receivables.ingest.landing import OK, land
from receivables.nights import Nights
from receivables.registry import load_registry
from receivables.warehouse.build import build
from receivables.warehouse.store import read_only

log = logging.getLogger(__name__)

ENTITY = "IBM1"
USD_PER_EUR = "1.3000"
REGISTRY = (
    "entities:\n"
    f"  - {{code: {ENTITY}, name: IBM Watson AR sample, country: US, currency: USD,"
    " csv: {date_format: '%m/%d/%Y'}}\n"
)


@dataclass(frozen=True)
class Ledger:
    rows: list[dict[str, str]]

    @property
    def last_settlement(self) -> date:
        return max(_day(row["SettledDate"]) for row in self.rows)

    @property
    def first_invoice(self) -> date:
        return min(_day(row["InvoiceDate"]) for row in self.rows)


def _day(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


def read_ledger(dataset: Path) -> Ledger:
    with dataset.open(encoding="utf-8", newline="") as handle:
        return Ledger(list(csv.DictReader(handle)))


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_drop(ledger: Ledger, landing: Path, day: date) -> None:
    """The ledger as one drop of IBM1 on ``day``, and a constant USD rate for every day before it."""
    folder = landing / ENTITY / day.isoformat()
    customers = sorted({row["customerID"] for row in ledger.rows})
    _write(
        folder / "debtors.csv",
        ["debtor_id", "name", "country"],
        [[c, f"Customer {c}", "US"] for c in customers],
    )
    _write(
        folder / "invoices.csv",
        [
            "document_id",
            "document_type",
            "debtor_id",
            "issue_date",
            "due_date",
            "currency",
            "amount",
            "disputed",
        ],
        [
            [
                row["invoiceNumber"],
                "invoice",
                row["customerID"],
                row["InvoiceDate"],
                row["DueDate"],
                "USD",
                row["InvoiceAmount"],
                {"Yes": "true", "No": "false"}[row["Disputed"]],
            ]
            for row in ledger.rows
        ],
    )
    _write(
        folder / "payments.csv",
        [
            "settlement_id",
            "line_no",
            "debtor_id",
            "document_id",
            "settlement_date",
            "currency",
            "amount",
            "kind",
        ],
        [
            [
                f"P{row['invoiceNumber']}",
                "1",
                row["customerID"],
                row["invoiceNumber"],
                row["SettledDate"],
                "USD",
                row["InvoiceAmount"],
                "payment",
            ]
            for row in ledger.rows
        ],
    )
    _write(folder / "risk_ratings.csv", ["debtor_id", "provider", "rating", "rated_at"], [])
    first = ledger.first_invoice - timedelta(days=7)
    _write(
        landing / "_group" / day.isoformat() / "fx_rates.csv",
        ["rate_date", "currency", "units_per_eur"],
        [
            [(first + timedelta(days=offset)).isoformat(), "USD", USD_PER_EUR]
            for offset in range((day - first).days + 1)
        ],
    )


def month_ends(first: date, last: date) -> list[date]:
    """Every month end from ``first``'s month to ``last`` (inclusive)."""
    ends: list[date] = []
    month = date(first.year, first.month, 1)
    while True:
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        end = following - timedelta(days=1)
        if end > last:
            return ends
        if end >= first:
            ends.append(end)
        month = following


def _error(rows: list[tuple[Any, ...]], column: int) -> float | None:
    actual = sum(float(row[2]) for row in rows)
    return sum(abs(float(row[column]) - float(row[2])) for row in rows) / actual if actual else None


def backtest_forecast(dataset: Path, workdir: Path, first: date, last: date) -> dict[str, Any]:
    """Land the ledger, forecast at each month end from ``first`` to ``last``, measure, return the errors."""
    ledger = read_ledger(dataset)
    landing, warehouse = workdir / "landing", workdir / "warehouse.duckdb"
    workdir.mkdir(parents=True, exist_ok=True)
    registry_file = workdir / "entities.yml"
    registry_file.write_text(REGISTRY, encoding="utf-8")
    drop_day = ledger.last_settlement + timedelta(days=1)
    write_drop(ledger, landing, drop_day)
    outcomes = land(load_registry(registry_file), landing, drop_day, warehouse)
    failed = [o for o in outcomes if o.status != OK]
    if failed:
        raise RuntimeError(f"the sample did not land: {[(o.entity_code, o.reason) for o in failed]}")
    forecast_dates = month_ends(first, last)
    for day in forecast_dates:
        log.info("forecast at %s", day)
        build(warehouse, Nights.of(day))
    measured_on = forecast_dates[-1] + timedelta(weeks=13)
    build(warehouse, Nights.of(measured_on))  # its build measures every week over by then
    with read_only(warehouse) as connection:
        assert connection is not None  # landed above
        rows = connection.execute(
            "select as_of_date, period_start, actual_eur, forecast_eur, naive_eur "
            "from marts.mart_forecast_accuracy where entity_code = ? order by as_of_date, period_start",
            [ENTITY],
        ).fetchall()
    by_date: dict[date, list[tuple[Any, ...]]] = {}
    for row in rows:  # (as_of_date, period_start, actual, forecast, naive), as _error reads them
        by_date.setdefault(row[0], []).append(row)
    every = [row for weeks in by_date.values() for row in weeks]
    return {
        "dataset": str(dataset),
        "invoices": len(ledger.rows),
        "forecast_dates": [day.isoformat() for day in forecast_dates],
        "measured_on": measured_on.isoformat(),
        "weeks_measured": len(every),
        "per_forecast": [
            {
                "as_of_date": day.isoformat(),
                "weeks": len(weeks),
                "actual_eur": round(sum(float(w[2]) for w in weeks), 2),
                "forecast_wape": _rounded(_error(weeks, 3)),
                "naive_wape": _rounded(_error(weeks, 4)),
            }
            for day, weeks in sorted(by_date.items())
        ],
        "forecast_wape": _rounded(_error(every, 3)),
        "naive_wape": _rounded(_error(every, 4)),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
