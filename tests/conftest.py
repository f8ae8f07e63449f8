"""Fixtures: tiny literal drops written in each entity's dialect, real DuckDB files."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from layers import (  # noqa: F401 (hooks: pytest finds them in this module)
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_runtest_logreport,
    pytest_sessionfinish,
    pytest_xdist_make_scheduler,
)

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATASETS = SHARED / "datasets"

REGISTRY_YAML = """\
group_currency: EUR
entities:
  - code: FR01
    name: Société Exemple Distribution SAS
    country: FR
    currency: EUR
    csv: {delimiter: ";", decimal: ",", encoding: cp1252, date_format: "%d/%m/%Y"}
  - code: DE01
    name: Beispiel Handel GmbH
    country: DE
    currency: EUR
    csv: {delimiter: ";", decimal: ",", encoding: utf-8, date_format: "%d.%m.%Y"}
  - code: US01
    name: Example Supply Inc.
    country: US
    currency: USD
    csv: {delimiter: ",", decimal: ".", encoding: utf-8, date_format: "%m/%d/%Y"}
  - code: GB01
    name: Example Trading Ltd
    country: GB
    currency: GBP
"""

DIALECTS = {
    "FR01": (";", ",", "cp1252", "%d/%m/%Y"),
    "FR02": (";", ",", "cp1252", "%d/%m/%Y"),  # FR01's dialect (tests/test_batch_validation.py)
    "FR03": (";", ",", "cp1252", "%d/%m/%Y"),
    "DE01": (";", ",", "utf-8", "%d.%m.%Y"),
    "US01": (",", ".", "utf-8", "%m/%d/%Y"),
    "GB01": (",", ".", "utf-8", "%Y-%m-%d"),
    "_group": (",", ".", "utf-8", "%Y-%m-%d"),
}

COLUMNS = {
    "debtors": [
        "debtor_id",
        "name",
        "registration_id",
        "country",
        "parent_registration_id",
        "intercompany_entity",
        "customer_type",
        "payment_terms_days",
        "credit_limit",
    ],
    "invoices": [
        "document_id",
        "document_type",
        "debtor_id",
        "issue_date",
        "due_date",
        "currency",
        "amount",
        "amount_excl_tax",
        "disputed",
        "status",
    ],
    "payments": [
        "settlement_id",
        "line_no",
        "debtor_id",
        "document_id",
        "settlement_date",
        "currency",
        "amount",
        "kind",
    ],
    "risk_ratings": [
        "debtor_id",
        "provider",
        "rating",
        "rated_at",
        "cover_amount",
        "cover_currency",
        "cover_share",
        "insolvency_status",
        "insolvency_date",
    ],
    "fx_rates": ["rate_date", "currency", "units_per_eur"],
    "collection_events": [
        "event_id",
        "debtor_id",
        "document_id",
        "event_type",
        "event_date",
        "promised_date",
        "amount",
        "currency",
        "dispute_reason",
        "note",
    ],
}
AMOUNT_COLUMNS = {"credit_limit", "amount", "amount_excl_tax", "cover_amount", "cover_share", "units_per_eur"}
MANIFEST_AMOUNT = {
    "debtors": "credit_limit",
    "invoices": "amount",
    "payments": "amount",
    "risk_ratings": "cover_amount",
    "collection_events": "amount",
}

DAY1 = date(2026, 3, 2)
DAY2 = date(2026, 3, 3)
DAY3 = date(2026, 3, 4)


def good_drop(entity: str, currency: str = "EUR") -> dict[str, list[dict[str, Any]]]:
    """One entity's first drop: two debtors (one French company), invoices, payments, ratings."""
    return {
        "debtors": [
            {
                "debtor_id": "C001",
                "name": "Boulangerie Lefèvre & Fils",
                "registration_id": "552 100 554",
                "country": "FR",
                "customer_type": "B2B",
                "payment_terms_days": "30",
                "credit_limit": "50000.00",
            },
            {
                "debtor_id": "C002",
                "name": "Müller Bau GmbH",
                "registration_id": "DE123456789",
                "country": "DE",
                "parent_registration_id": "55210055400013",
                "payment_terms_days": "60",
                "credit_limit": "12000.50",
            },
        ],
        "invoices": [
            {
                "document_id": "F-1",
                "document_type": "invoice",
                "debtor_id": "C001",
                "issue_date": date(2026, 1, 5),
                "due_date": date(2026, 2, 4),
                "currency": currency,
                "amount": "1234.56",
                "amount_excl_tax": "1028.80",
                "disputed": "false",
                "status": "open",
            },
            {
                "document_id": "F-2",
                "document_type": "invoice",
                "debtor_id": "C002",
                "issue_date": date(2026, 2, 1),
                "due_date": date(2026, 4, 2),
                "currency": currency,
                "amount": "999.99",
                "disputed": "TRUE",
            },
            {
                "document_id": "A-1",
                "document_type": "credit_note",
                "debtor_id": "C001",
                "issue_date": date(2026, 2, 10),
                "due_date": date(2026, 2, 10),
                "currency": currency,
                "amount": "100.00",
            },
        ],
        "payments": [
            {
                "settlement_id": "S-1",
                "line_no": "1",
                "debtor_id": "C001",
                "document_id": "F-1",
                "settlement_date": date(2026, 2, 20),
                "currency": currency,
                "amount": "500.00",
                "kind": "payment",
            },
            {
                "settlement_id": "S-2",
                "line_no": "1",
                "debtor_id": "C002",
                "document_id": "",
                "settlement_date": date(2026, 3, 1),
                "currency": currency,
                "amount": "200.00",
                "kind": "payment",
            },
        ],
        "risk_ratings": [
            {
                "debtor_id": "C001",
                "provider": "coface",
                "rating": "7",
                "rated_at": date(2026, 1, 1),
                "cover_amount": "30000.00",
                "cover_currency": "EUR",
                "cover_share": "0.9",
                "insolvency_status": "none",
            },
            {
                "debtor_id": "C001",
                "provider": "banque_de_france",
                "rating": "3+",
                "rated_at": date(2026, 1, 1),
            },
            {
                "debtor_id": "C002",
                "provider": "banque_de_france",
                "rating": "4+",
                "rated_at": date(2021, 6, 1),
            },
        ],
    }


def quiet_drop(**rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """An entity's drop with nothing new (header-only files), but for the ``rows`` given."""
    return {"debtors": [], "invoices": [], "payments": [], "risk_ratings": []} | rows


def fx_drop() -> dict[str, list[dict[str, Any]]]:
    """Rates of the drop's day and of the last business days of January and February (month ends)."""
    return {
        "fx_rates": [
            {"rate_date": day, "currency": currency, "units_per_eur": rate}
            for day in (date(2026, 1, 30), date(2026, 2, 27), DAY1)
            for currency, rate in (("GBP", "0.8512"), ("USD", "1.0834"))
        ]
    }


def render(value: Any, entity: str, column: str) -> str:
    _, decimal, _, date_format = DIALECTS[entity]
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime(date_format)
    if column in AMOUNT_COLUMNS and decimal != ".":
        return str(value).replace(".", decimal)
    return str(value)


def _number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def write_drop(
    landing: Path,
    entity: str,
    day: date,
    files: dict[str, list[dict[str, Any]]],
    manifest: bool = False,
) -> Path:
    """Write a drop in the entity's dialect; ``files`` rows map column to value."""
    delimiter, _, encoding, _ = DIALECTS[entity]
    folder = landing / entity / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    controls = {}
    for name, rows in files.items():
        path = folder / f"{name}.csv"
        with path.open("w", encoding=encoding, newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
            writer.writerow(COLUMNS[name])
            for row in rows:
                writer.writerow([render(row.get(column), entity, column) for column in COLUMNS[name]])
        amount = MANIFEST_AMOUNT.get(name)
        total = sum(float(r[amount]) for r in rows if _number(r.get(amount))) if amount else 0.0
        controls[path.name] = {
            "rows": len(rows),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "amount_sum": f"{total:.2f}",
        }
    if manifest:
        (folder / "_manifest.json").write_text(json.dumps({"files": controls}), encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def _unit_tests_run_no_dbt(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test of the fast tier that reaches dbt fails at once, saying which layer it belongs to."""
    if request.node.get_closest_marker("unit") is None:
        return

    def refused(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"{request.node.nodeid} is marked unit but runs dbt: mark it dbt")

    monkeypatch.setattr("receivables.warehouse.build.run_dbt", refused)
    monkeypatch.setenv(UNIT_LAYER, request.node.nodeid)


UNIT_LAYER = "RECEIVABLES_TEST_UNIT"  # set while a unit test runs: its `receivables` children build nothing


@pytest.fixture
def registry_file(tmp_path: Path) -> Path:
    path = tmp_path / "entities.yml"
    path.write_text(REGISTRY_YAML, encoding="utf-8")
    return path


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    return folder


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def reader(warehouse: Path) -> Callable[..., list[tuple[Any, ...]]]:
    """Run one query on a read-only connection to a real warehouse file."""

    def run(sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            return connection.execute(sql, list(parameters)).fetchall()

    return run


@pytest.fixture
def query(warehouse: Path) -> Callable[..., list[tuple[Any, ...]]]:
    return reader(warehouse)


@pytest.fixture
def query_factory() -> Callable[[Path], Callable[..., list[tuple[Any, ...]]]]:
    return reader


MARTS = (
    "fct_open_items",
    "mart_aging",
    "mart_dso",
    "mart_debtor_exposure",
    "mart_concentration",
    "mart_weak_signals",
    "mart_freshness",
)


def marts_snapshot(warehouse: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every published mart, sorted: two snapshots are equal when the marts are."""
    query = reader(warehouse)
    return {mart: query(f"select * from marts.{mart} order by all") for mart in MARTS}


@pytest.fixture(scope="session")
def superset_server(tmp_path_factory) -> Any:
    """One real Superset server for the session (tests/superset_support.py)."""
    from superset_support import start_server

    yield from start_server(tmp_path_factory.mktemp("superset"))


REPORT_AS_OF = date(2025, 12, 31)  # the as-of date of the reported_group fixture
REPORT_COMPARED = (date(2025, 11, 30), date(2025, 12, 28))  # also built: its previous month end, last Sunday
FORMULA_NAMES = ('=HYPERLINK("http://example.invalid","x")', "+33 Négoce SARL", "-Dupont SA", "@Risque SAS")


def receivables(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    """The ``receivables`` command, in a child process as a user runs it; ``check`` asserts it succeeded."""
    unit = os.environ.get(UNIT_LAYER)
    if unit and (args[0] in {"run", "bench"} or (args[0] == "build" and _warehouse_exists(args))):
        raise AssertionError(f"{unit} is marked unit but runs `receivables {args[0]}`: mark it dbt")
    result = subprocess.run(
        [sys.executable, "-m", "receivables.cli", *args], capture_output=True, text=True, timeout=1200
    )
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def _warehouse_exists(args: tuple[str, ...]) -> bool:
    return "--warehouse" in args and Path(args[args.index("--warehouse") + 1]).exists()


def group_paths(root: Path) -> tuple[Path, Path, Path]:
    """A generated group's landing folder, working warehouse and serving file under ``root``."""
    return root / "landing", root / "warehouse.duckdb", root / "serving" / "warehouse.duckdb"


def run_nights(landing: Path, warehouse: Path, first: str, last: str | None = None) -> str:
    """`receivables run` over a generated group, one night or a range; its output."""
    arguments = ["run", "--entities", str(landing / "entities.yml"), "--landing", str(landing)]
    arguments += ["--warehouse", str(warehouse), "--as-of", first, *(["--to", last] if last else [])]
    return receivables(*arguments, check=True).stdout


@pytest.fixture(scope="session")
def reported_group(tmp_path_factory) -> Path:
    """Three entities, built for the last two nights of 2025; four debtor names look like formulas."""
    from receivables.dev.generate import GeneratorConfig, generate

    root = tmp_path_factory.mktemp("reports")
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    generate(
        GeneratorConfig(
            out=landing,
            entities=3,
            start=date(2025, 7, 1),
            end=REPORT_AS_OF,
            seed=11,
            invoices=2000,
            nightly_from=date(2025, 12, 31),
        )
    )
    run_nights(landing, warehouse, "2025-12-30", "2025-12-31")
    with duckdb.connect(str(warehouse)) as connection:
        # the largest FR01 debtors get names a spreadsheet would run as formulas
        targets = connection.execute(
            "select consolidated_debtor_id from marts.mart_entity_debtor_exposure "
            "where as_of_date = ? and entity_code = 'FR01' order by exposure_eur desc limit 4",
            [REPORT_AS_OF],
        ).fetchall()
        for (debtor,), name in zip(targets, FORMULA_NAMES, strict=True):
            connection.execute(
                "update raw.debtors set name = ? where entity_code = 'FR01' and debtor_id in "
                "(select debtor_id from marts.fct_open_items where consolidated_debtor_id = ?)",
                [name, debtor],
            )
    # the dates the reports compare with: the previous month end, and the last report day (a Sunday)
    for day in (*REPORT_COMPARED, REPORT_AS_OF):
        receivables("build", "--warehouse", str(warehouse), "--as-of", day.isoformat(), check=True)
    return warehouse
