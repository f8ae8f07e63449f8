"""A property of the night (SPEC section 12): one entity's corrupted drop never stops the group.

Hypothesis corrupts one entity's drop at random (a cell, its encoding, a cut,
a column taken away or added, a duplicated row, a huge amount). Whatever it
does, the night (landing, then the build with its landing folder) succeeds;
the corruption is either quarantined with a reason naming the file and, for
a rule on a value, the row and column, or it is valid data and lands; and
when it is quarantined, every other entity's published figures are exactly
those of the same night with the good drop.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from conftest import DAY1, DAY2, DIALECTS, REGISTRY_YAML, good_drop, quiet_drop, write_drop
from receivables.ingest.landing import OK, QUARANTINED, land
from receivables.nights import Nights
from receivables.registry import load_registry
from receivables.warehouse.build import build
from test_isolation import other_entities
from test_landing import ENTITIES, currency_of, write_good_night

pytestmark = pytest.mark.dbt

FILES = ("debtors", "invoices", "payments", "risk_ratings")
# rules about a whole file or drop, not about one value: they name the file only
FILE_RULES = {
    "columns",
    "missing_file",
    "csv_structure",
    "header",
    "encoding",
    "unreadable",
    "parquet",
    "earlier_drop_quarantined",
    "unique_key",
    "truncated",
    "encoding_mismatch",
    "symlink",
    "not_a_file",
    "file_too_large",
}
ODD_VALUES = st.sampled_from(
    ["", " ", "NaN", "null", "1e400", "-0", "99999999999999999999", "31/02/2026", "2026-13-01",
     "'; drop table raw.invoices; --", "=1+1", "ÿ€\u2028", "\x00", "true", "-1", "0", "1,5", "1.5"]
)  # fmt: skip


def night_drops(entity_rows: dict[str, dict[str, list[dict[str, Any]]]], landing: Path) -> None:
    """The second night: every entity sends a new invoice and a payment against it."""
    for entity in ENTITIES:
        write_drop(landing, entity, DAY2, entity_rows[entity])
    write_drop(landing, "_group", DAY2, {"fx_rates": []})


def second_night(entity: str) -> dict[str, list[dict[str, Any]]]:
    first = good_drop(entity, currency_of(entity))
    invoice = dict(
        first["invoices"][0], document_id="F-5", issue_date=date(2026, 3, 1), due_date=date(2026, 3, 31)
    )
    payment = dict(first["payments"][0], settlement_id="S-5", document_id="F-5", amount="34.50")
    debtor = dict(first["debtors"][0], debtor_id="C005", name="Épicerie Nouvelle")
    rating = dict(first["risk_ratings"][0], rated_at=date(2026, 3, 2), rating="6")
    return quiet_drop(debtors=[debtor], invoices=[invoice], payments=[payment], risk_ratings=[rating])


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict[str, Any]:
    """The first night built, and the control: the second night with every drop good."""
    root = tmp_path_factory.mktemp("corruption")
    registry_file = root / "entities.yml"
    registry_file.write_text(REGISTRY_YAML, encoding="utf-8")
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    landing.mkdir()
    write_good_night(landing)
    registry = load_registry(registry_file)
    land(registry, landing, DAY1, warehouse)
    build(warehouse, Nights.of(DAY1), landing=landing)
    control = root / "control"
    shutil.copytree(landing, control / "landing")
    shutil.copyfile(warehouse, control / "warehouse.duckdb")
    night_drops({e: second_night(e) for e in ENTITIES}, control / "landing")
    land(registry, control / "landing", DAY2, control / "warehouse.duckdb")
    build(control / "warehouse.duckdb", Nights.of(DAY2), landing=control / "landing")
    return {
        "root": root,
        "registry": registry,
        "landing": landing,
        "warehouse": warehouse,
        "control": {e: other_entities(control / "warehouse.duckdb", e) for e in ENTITIES},
    }


def _rows(data: bytes, entity: str) -> tuple[list[list[str]], str]:
    delimiter, _, encoding, _ = DIALECTS[entity]
    return list(csv.reader(io.StringIO(data.decode(encoding)), delimiter=delimiter)), encoding


def _write(rows: list[list[str]], entity: str) -> bytes:
    delimiter, _, encoding, _ = DIALECTS[entity]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding, errors="replace")


@st.composite
def corruptions(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            ["cell", "encoding", "truncation", "missing_column", "extra_column", "duplicate", "huge"]
        )
    )
    return {
        "kind": kind,
        "entity": draw(st.sampled_from(ENTITIES)),
        "file": draw(st.sampled_from(FILES)),
        "column": draw(st.integers(min_value=0, max_value=9)),
        "value": draw(st.one_of(ODD_VALUES, st.text(max_size=12))),
        "cut": draw(st.floats(min_value=0.05, max_value=0.95)),
        "encoding": draw(st.sampled_from(["utf-16", "latin-1", "cp1252", "utf-8"])),
        "exponent": draw(st.integers(min_value=10, max_value=24)),
    }


def corrupt(path: Path, entity: str, corruption: dict[str, Any]) -> tuple[int | None, str | None]:
    """Corrupt one file of the drop; returns the (row, column) of a corrupted value, if one."""
    data = path.read_bytes()
    rows, encoding = _rows(data, entity)
    header, body = rows[0], rows[1:]
    kind = corruption["kind"]
    column = corruption["column"] % len(header)
    if kind == "cell":
        body[0][column] = corruption["value"]
        path.write_bytes(_write([header, *body], entity))
        return 2, header[column]
    if kind == "huge":
        amount = next(
            (i for i, name in enumerate(header) if name in {"amount", "credit_limit", "cover_amount"}), column
        )
        body[0][amount] = "9" * corruption["exponent"]
        path.write_bytes(_write([header, *body], entity))
        return 2, header[amount]
    if kind == "encoding":
        path.write_bytes(data.decode(encoding).encode(corruption["encoding"], errors="replace"))
    elif kind == "truncation":
        path.write_bytes(data[: max(1, int(len(data) * corruption["cut"]))])
    elif kind == "missing_column":
        path.write_bytes(_write([[v for i, v in enumerate(row) if i != column] for row in rows], entity))
    elif kind == "extra_column":
        path.write_bytes(_write([[*header, "commentaire"], *[[*row, "x"] for row in body]], entity))
    elif kind == "duplicate":
        path.write_bytes(_write([header, *body, body[0]], entity))
    return None, None


def _each_kind_once() -> list[dict[str, Any]]:
    """One explicit example of each kind of corruption, beside those Hypothesis draws."""
    common = {"column": 3, "value": "n/a", "cut": 0.5, "encoding": "utf-16", "exponent": 20}
    kinds = [
        ("cell", "FR01", "invoices"),
        ("encoding", "DE01", "debtors"),
        ("truncation", "US01", "payments"),
        ("missing_column", "GB01", "invoices"),
        ("extra_column", "FR01", "risk_ratings"),
        ("duplicate", "DE01", "payments"),
        ("huge", "GB01", "invoices"),
    ]
    return [common | {"kind": kind, "entity": entity, "file": file} for kind, entity, file in kinds]


def _with_examples(test: Any) -> Any:
    for corruption in _each_kind_once():
        test = example(corruption=corruption)(test)
    return test


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI stays reproducible
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(corruption=corruptions())
@_with_examples
def test_a_corrupted_drop_never_stops_the_night_nor_changes_the_others(base, corruption, tmp_path_factory):
    entity = corruption["entity"]
    work = tmp_path_factory.mktemp("example")
    landing, warehouse = work / "landing", work / "warehouse.duckdb"
    shutil.copytree(base["landing"], landing)
    shutil.copyfile(base["warehouse"], warehouse)
    night_drops({e: second_night(e) for e in ENTITIES}, landing)
    target = landing / entity / DAY2.isoformat() / f"{corruption['file']}.csv"
    row, column = corrupt(target, entity, corruption)

    outcomes = {o.entity_code: o for o in land(base["registry"], landing, DAY2, warehouse)}
    build(warehouse, Nights.of(DAY2), landing=landing)  # never raises for an entity's data

    assert all(outcomes[other].status == OK for other in ENTITIES if other != entity), outcomes
    event(
        f"{corruption['kind']}: {'quarantined' if (landing / '_quarantine' / entity).exists() else 'landed'}"
    )
    quarantine = landing / "_quarantine" / entity / DAY2.isoformat()
    if quarantine.exists():
        failures = json.loads((quarantine / "reason.json").read_text(encoding="utf-8"))["failures"]
        assert failures and all(f.get("file") for f in failures), failures
        for failure in failures:
            if failure["rule"] not in FILE_RULES and not failure["rule"].startswith(
                ("manifest", "data_test")
            ):
                assert failure.get("row") is not None and failure.get("column"), failure
        named = [f for f in failures if f.get("file") == target.name and f.get("row") == row]
        if row is not None and named:  # the corrupted value itself is named, with its column
            assert any(column in (f.get("column") or "") for f in named), failures
        elif row is not None:  # or what it broke elsewhere: a reference to it, a whole-file rule
            assert any(f["rule"] in FILE_RULES | {"reference", "data_test"} for f in failures), failures
        assert other_entities(warehouse, entity) == base["control"][entity]
    else:
        assert outcomes[entity].status == OK  # valid data: it landed
        assert outcomes[entity].status != QUARANTINED
