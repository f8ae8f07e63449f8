"""Drops validated many at a time: fewer Great Expectations runs, each drop still judged alone."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from conftest import DAY1, REGISTRY_YAML, fx_drop, good_drop, write_drop
from receivables.ingest.landing import OK, QUARANTINED, batches, land
from receivables.ingest.validation import Validator
from receivables.registry import load_registry

pytestmark = pytest.mark.unit

FRENCH = """\
  - code: {code}
    name: Filiale {code} SAS
    country: FR
    currency: EUR
    csv: {{delimiter: ";", decimal: ",", encoding: cp1252, date_format: "%d/%m/%Y"}}
"""


@pytest.fixture
def group_registry(tmp_path: Path) -> Path:
    """The test group with two more French entities, written in FR01's dialect."""
    path = tmp_path / "group.yml"
    path.write_text(REGISTRY_YAML + FRENCH.format(code="FR02") + FRENCH.format(code="FR03"), encoding="utf-8")
    return path


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each suite runs (in this process: land with one worker)."""
    counted: Counter[str] = Counter()
    run = Validator._run

    def counting(self, suite, frame, parameters, result_format):
        counted[suite.name] += 1
        return run(self, suite, frame, parameters, result_format)

    monkeypatch.setattr(Validator, "_run", counting)
    return counted


def write_night(landing: Path, codes: list[str]) -> None:
    write_drop(landing, "_group", DAY1, fx_drop())
    for code in codes:
        currency = {"US01": "USD", "GB01": "GBP"}.get(code, "EUR")
        write_drop(landing, code, DAY1, good_drop(code, currency), manifest=True)


def test_drops_of_one_dialect_are_validated_in_one_run_per_suite(
    group_registry, landing, warehouse, runs, query
):
    registry = load_registry(group_registry)
    write_night(landing, list(registry.codes))  # every entity uses the same keys (C001, F-1, S-1...)
    outcomes = land(registry, landing, DAY1, warehouse, workers=1)

    assert {outcome.entity_code: outcome.status for outcome in outcomes} == dict.fromkeys(
        ("GROUP", *registry.codes), OK
    )
    # one run of each suite for every entity, though their date formats and decimal marks differ
    # (FR01, FR02 and FR03 share theirs; DE01, US01 and GB01 each have their own date format): a
    # value is matched against its own entity's pattern within the batch (Validator._batch_passes)
    entity_extracts = ("debtors", "invoices", "payments", "risk_ratings")
    assert runs == Counter(
        {f"{name}.{phase}": 1 for name in (*entity_extracts, "fx_rates") for phase in ("format", "content")}
    )
    assert query("select entity_code, count(*) from raw.invoices group by all order by all") == [
        (code, 3) for code in sorted(registry.codes)
    ]


def test_a_failing_drop_is_judged_alone_in_its_batch(group_registry, landing, warehouse, runs):
    registry = load_registry(group_registry)
    write_night(landing, ["DE01", "US01", "GB01"])
    # FR01 pays an invoice it does not have, FR02 has it and pays it: the batch's list of
    # references that do not resolve holds F-404, which fails FR01 only
    fr01 = good_drop("FR01")
    fr01["payments"][0]["document_id"] = "F-404"
    fr02 = good_drop("FR02")
    fr02["invoices"].append(dict(fr02["invoices"][0], document_id="F-404"))
    fr02["payments"][0]["document_id"] = "F-404"
    # FR03 repeats an invoice: a key must be unique within the file, not across the batch
    fr03 = good_drop("FR03")
    fr03["invoices"].append(dict(fr03["invoices"][1]))
    for code, rows in (("FR01", fr01), ("FR02", fr02), ("FR03", fr03)):
        write_drop(landing, code, DAY1, rows, manifest=True)

    outcomes = {
        outcome.entity_code: outcome for outcome in land(registry, landing, DAY1, warehouse, workers=1)
    }

    assert {code: outcome.status for code, outcome in outcomes.items()} == {
        "GROUP": OK,
        "FR01": QUARANTINED,
        "FR02": OK,
        "FR03": QUARANTINED,
        "DE01": OK,
        "US01": OK,
        "GB01": OK,
    }
    fr01_reason = json.loads(
        (landing / "_quarantine" / "FR01" / DAY1.isoformat() / "reason.json").read_text("utf-8")
    )
    assert [(f["file"], f["rule"], f["row"], f["column"], f["found"]) for f in fr01_reason["failures"]] == [
        ("payments.csv", "reference", 2, "document_id", "F-404")
    ]
    fr03_reason = json.loads(
        (landing / "_quarantine" / "FR03" / DAY1.isoformat() / "reason.json").read_text("utf-8")
    )
    assert [(f["file"], f["rule"], f["row"], f["column"], f["found"]) for f in fr03_reason["failures"]] == [
        ("invoices.csv", "unique_key", 3, "document_id", "F-2"),
        ("invoices.csv", "unique_key", 5, "document_id", "F-2"),
    ]
    # a batch that fails is validated again file by file, and a file that fails once more for its
    # rows: the six entities' invoices as one batch, each alone, FR03's rows
    assert runs["invoices.format"] == 1 + 6 + 1
    # the payments of the five drops well formed (not FR03), as one batch, then alone, FR01's rows
    assert runs["payments.content"] == 1 + 5 + 1


def test_a_value_in_another_entitys_format_fails_its_own_drop_in_a_batch(
    registry_file, landing, warehouse, runs
):
    """Each value is matched against its own entity's date and number patterns, never a neighbour's."""
    registry = load_registry(registry_file)
    write_night(landing, ["FR01", "GB01"])
    de01 = good_drop("DE01")  # DE01 writes 05.01.2026: FR01's 05/01/2026 is not a date of DE01's
    de01["invoices"][1]["issue_date"] = "05/01/2026"
    us01 = good_drop(
        "US01", "USD"
    )  # US01's decimal mark is a point: FR01's 1234,50 is not a number of US01's
    us01["invoices"][0]["amount"] = "1234,50"
    for code, rows in (("DE01", de01), ("US01", us01)):
        write_drop(landing, code, DAY1, rows, manifest=True)

    outcomes = {
        outcome.entity_code: outcome.status for outcome in land(registry, landing, DAY1, warehouse, workers=1)
    }

    assert outcomes == {"GROUP": OK, "FR01": OK, "DE01": QUARANTINED, "US01": QUARANTINED, "GB01": OK}
    found = {
        code: [
            (f["file"], f["row"], f["column"], f["found"])
            for f in json.loads(
                (landing / "_quarantine" / code / DAY1.isoformat() / "reason.json").read_text("utf-8")
            )["failures"]
        ]
        for code in ("DE01", "US01")
    }
    assert found == {
        "DE01": [("invoices.csv", 3, "issue_date", "05/01/2026")],
        "US01": [("invoices.csv", 2, "amount", "1234,50")],
    }  # the values as written, never marked
    # the four entities' invoices as one batch, then each alone, then DE01's and US01's rows
    assert runs["invoices.format"] == 1 + 4 + 2


@pytest.mark.parametrize(
    ("sizes", "parts", "limit", "expected"),
    [
        ([10] * 6, 2, 1000, [[0, 1, 2], [3, 4, 5]]),  # a night: one batch per core
        ([10] * 5, 2, 1000, [[0, 1], [2, 3, 4]]),
        ([10] * 3, 8, 1000, [[0], [1], [2]]),  # fewer drops than cores
        ([100, 1, 1, 100], 2, 50, [[0], [1, 2], [3]]),  # history drops: a large drop is a batch alone
        ([1, 30, 1], 2, 16, [[0], [1], [2]]),  # ... even beside small ones
        ([0, 0, 0], 2, 1000, [[0, 1, 2]]),  # no drop on disk: one batch reports them stale
        ([], 2, 1000, []),
    ],
)
def test_batches_are_consecutive_balanced_and_bounded(sizes, parts, limit, expected):
    assert batches(sizes, parts, limit) == expected


def test_a_batch_is_named_by_its_drops_within_the_width_airflow_shows() -> None:
    from receivables.nightly import batch_label

    assert batch_label(["GROUP", "FR01", "DE01"]) == "GROUP, FR01, DE01"
    codes = [f"E{number:03d}" for number in range(60)]
    label = batch_label(codes, width=40)
    assert len(label) <= 40 and label.startswith("E000, E001") and label.endswith("more)")
    shown = label.split(" (+")[0].split(", ")
    assert label.endswith(f"(+{len(codes) - len(shown)} more)")


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_a_wrong_number_of_validation_batches_is_named(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from receivables.errors import ReceivablesError
    from receivables.nightly import validation_slots

    monkeypatch.setenv("RECEIVABLES_VALIDATION_BATCHES", value)
    with pytest.raises(ReceivablesError, match=f"RECEIVABLES_VALIDATION_BATCHES='{value}'"):
        validation_slots()


def test_the_nightly_batches_cover_every_drop_once(
    group_registry: Path, landing: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the DAG's mapped validation gets: every drop once, in at least as many batches as slots."""
    from receivables import nightly

    registry = load_registry(group_registry)
    write_night(landing, list(registry.codes))
    monkeypatch.setenv("RECEIVABLES_ENTITIES", str(group_registry))
    monkeypatch.setenv("RECEIVABLES_LANDING", str(landing))
    monkeypatch.setenv("RECEIVABLES_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("RECEIVABLES_SERVING", str(warehouse.with_name("serving.duckdb")))
    for slots in (1, 3, 50):
        monkeypatch.setenv("RECEIVABLES_VALIDATION_BATCHES", str(slots))
        runs = nightly.plan(nightly.settings(), DAY1)
        assert sorted(code for run in runs for code in run) == sorted(["GROUP", *registry.codes])
        assert len(runs) == min(slots, 1 + len(registry.codes))
