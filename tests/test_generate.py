"""The sample group: deterministic, in the landing layout, and as messy as real ledgers."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from conftest import REPO
from receivables.dev.generate import GeneratorConfig, fr_vat, generate, luhn_complete
from receivables.ingest.landing import OK, land
from receivables.registry import load_registry

pytestmark = pytest.mark.unit

START, END = date(2025, 1, 1), date(2025, 6, 30)


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def read_rows(folder: Path, name: str) -> list[dict[str, str]]:
    registry = load_registry(folder / "entities.yml")
    rows = []
    for entity in registry.entities:
        for drop in sorted((folder / entity.code).iterdir()):
            with (drop / f"{name}.csv").open(encoding=entity.csv.encoding, newline="") as handle:
                for row in csv.DictReader(handle, delimiter=entity.csv.delimiter):
                    rows.append(row | {"_entity": entity.code, "_drop": drop.name})
    return rows


@pytest.fixture(scope="module")
def group(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("group")
    generate(GeneratorConfig(out=out, entities=5, start=START, end=END, seed=11, invoices=6_000))
    return out


def test_deterministic_by_seed(tmp_path, group):
    again = tmp_path / "again"
    generate(GeneratorConfig(out=again, entities=5, start=START, end=END, seed=11, invoices=6_000))
    assert tree_digest(again) == tree_digest(group)
    other = tmp_path / "other"
    generate(GeneratorConfig(out=other, entities=5, start=START, end=END, seed=12, invoices=6_000))
    assert tree_digest(other) != tree_digest(group)


def test_landing_layout_and_nightly_drops(group):
    registry = load_registry(group / "entities.yml")
    assert registry.codes == ("FR01", "DE01", "GB01", "US01", "ES01")
    assert {e.currency for e in registry.entities} == {"EUR", "GBP", "USD"}
    for entity in registry.codes:
        drops = sorted(p.name for p in (group / entity).iterdir())
        assert drops == [f"2025-06-{day:02d}" for day in range(23, 31)]  # history drop + 7 nights
        for drop in drops:
            assert {p.name for p in (group / entity / drop).glob("*.csv")} == {
                "debtors.csv",
                "invoices.csv",
                "payments.csv",
                "risk_ratings.csv",
                "collection_events.csv",
            }
    events = []
    for entity in registry.entities:
        for path in (group / entity.code).glob("*/collection_events.csv"):
            with path.open(encoding=entity.csv.encoding, newline="") as handle:
                events += csv.DictReader(handle, delimiter=entity.csv.delimiter)
    assert {row["event_type"] for row in events} >= {
        "promise_to_pay",
        "payment_plan",
        "dispute_opened",
        "dispute_resolved",
        "dunning_sent",
        "contact",
    }
    weekend = group / "_group" / "2025-06-28" / "fx_rates.csv"  # a Saturday
    assert weekend.read_text().strip() == "rate_date,currency,units_per_eur"
    history = list(csv.DictReader((group / "_group" / "2025-06-23" / "fx_rates.csv").open()))
    dates = {date.fromisoformat(r["rate_date"]) for r in history}
    assert all(d.weekday() < 5 for d in dates) and date(2025, 1, 6) in dates


def test_french_entity_writes_its_own_dialect(group):
    raw = (group / "FR01" / "2025-06-23" / "debtors.csv").read_bytes()
    assert raw.startswith(b"debtor_id;name;")
    text = raw.decode("cp1252")
    assert any(ch in text for ch in "éèêôœÉç")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    invoice = (group / "FR01" / "2025-06-23" / "invoices.csv").read_text("cp1252").splitlines()[1].split(";")
    assert len(invoice[3]) == 10 and invoice[3][2] == "/" and "," in invoice[6]


def test_same_companies_under_several_registration_forms(group):
    debtors = read_rows(group, "debtors")
    forms = defaultdict(set)
    for row in debtors:
        ident = row["registration_id"].replace(" ", "")
        siren = (
            ident[:9]
            if len(ident) == 14 and ident.isdigit()
            else ident[4:]
            if ident.startswith("FR")
            else ident
        )
        if len(siren) == 9 and siren.isdigit():
            forms[siren].add((row["_entity"], row["registration_id"]))
    spread = [v for v in forms.values() if len({e for e, _ in v}) >= 2]
    assert len(spread) >= 5
    written = {reg for v in forms.values() for _, reg in v}
    assert any(len(r) == 14 and r.isdigit() for r in written)  # SIRET
    assert any(r.startswith("FR") and len(r) == 13 for r in written)  # VAT
    assert any(" " in r for r in written)  # spaced
    assert all(luhn_complete(s[:8]) == s for s in forms)  # valid SIREN check digits
    assert any(row["parent_registration_id"] for row in debtors)
    assert {row["intercompany_entity"] for row in debtors} >= {"FR01", "DE01"}


def test_every_settlement_story_appears(group):
    payments = read_rows(group, "payments")
    kinds = {row["kind"] for row in payments}
    assert kinds == {"payment", "credit_note", "write_off", "adjustment", "reversal"}
    assert any(row["amount"].startswith("-") for row in payments if row["kind"] == "reversal")
    keys = defaultdict(list)
    for row in payments:
        keys[(row["_entity"], row["settlement_id"], row["line_no"])].append(row)
    applied_later = [
        v for v in keys.values() if len(v) == 2 and not v[0]["document_id"] and v[1]["document_id"]
    ]
    assert applied_later, "unapplied cash re-sent with its document"
    by_document = defaultdict(int)
    for row in payments:
        if row["kind"] == "payment" and row["document_id"]:
            by_document[(row["_entity"], row["document_id"])] += 1
    assert max(by_document.values()) >= 2  # partial payments
    invoices = read_rows(group, "invoices")
    assert {"cancelled"} <= {row["status"] for row in invoices}
    assert any(row["disputed"] == "true" for row in invoices)
    assert any(row["document_type"] == "credit_note" for row in invoices)
    resent = defaultdict(int)
    for row in invoices:
        resent[(row["_entity"], row["document_id"])] += 1
    assert max(resent.values()) >= 2


def test_ratings_downgrades_and_insolvency(group):
    ratings = read_rows(group, "risk_ratings")
    assert {r["provider"] for r in ratings} >= {
        "coface",
        "banque_de_france",
        "altares",
        "internal",
        "allianz_trade",
        "atradius",
    }
    insolvent = [r for r in ratings if r["insolvency_status"] != "none"]
    assert insolvent and all(r["insolvency_date"] for r in insolvent)
    shares = {r["cover_share"] for r in ratings if r["provider"] in ("coface", "allianz_trade", "atradius")}
    assert "" in shares and len(shares) >= 3


def test_manifest_matches_the_files(group):
    manifest = json.loads((group / "FR01" / "2025-06-23" / "_manifest.json").read_text())
    control = manifest["files"]["invoices.csv"]
    path = group / "FR01" / "2025-06-23" / "invoices.csv"
    assert control["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert control["rows"] == len(path.read_bytes().splitlines()) - 1
    assert not (group / "US01" / "2025-06-23" / "_manifest.json").exists()  # some ERPs send none


def test_generated_group_lands_clean(group, tmp_path):
    registry = load_registry(group / "entities.yml")
    warehouse = tmp_path / "w.duckdb"
    for day in (date(2025, 6, 23), date(2025, 6, 24)):
        outcomes = land(registry, group, day, warehouse)
        assert [o.describe() for o in outcomes if o.status != OK] == []


def test_sample_registry_shipped_with_the_project_is_the_generators(tmp_path):
    config = GeneratorConfig(
        out=tmp_path, entities=4, fec_entities=1, start=START, end=date(2025, 1, 10), invoices=10
    )
    generate(config)
    assert (tmp_path / "entities.yml").read_text() == (REPO / "config" / "sample_entities.yml").read_text()


def test_identifier_helpers():
    assert luhn_complete("73282932") == "732829320"  # a real SIREN
    assert fr_vat("732829320") == "FR44732829320"


def test_every_entity_writes_text_its_code_page_holds(tmp_path):
    """Eight entities: FR01 exports Windows-1252, so the Polish entity's name reaches it with '?'."""
    summary = generate(GeneratorConfig(out=tmp_path, entities=8, seed=3, invoices=600))
    assert summary["invoice"] > 0
    registry = load_registry(tmp_path / "entities.yml")
    for entity in registry.entities:
        for path in (tmp_path / entity.code).glob("*/*.csv"):
            path.read_bytes().decode(entity.csv.encoding)  # every file decodes in its own code page
    french = (tmp_path / "FR01").glob("*/debtors.csv")
    names = "".join(path.read_bytes().decode("cp1252") for path in french)
    assert "Przyk?ad Dystrybucja" in names


@pytest.mark.parametrize(
    ("cancel_after", "dispute_after", "expected"),
    [
        # cancelled and disputed the same night: one row with both (a key appears once in a file)
        (3, 3, [(3, "cancelled", True)]),
        # a later re-send carries the earlier change: the ERP sends the row as it stands
        (2, 5, [(2, "cancelled", False), (5, "cancelled", True)]),
        (6, 1, [(1, "open", True), (6, "cancelled", True)]),
    ],
)
def test_an_invoice_re_sent_carries_its_state_once_a_night(tmp_path, cancel_after, dispute_after, expected):
    from datetime import timedelta

    from receivables.dev.generate import GroupGenerator

    generator = GroupGenerator(
        GeneratorConfig(out=tmp_path, entities=1, start=START, end=END, seed=1, invoices=100)
    )
    code = next(iter(generator.sims))
    generator._emit = lambda *row: None  # the first send, written by the generator's run
    day = generator.history_day + timedelta(days=1)
    invoice = {"document_id": "F-1", "status": "open", "disputed": False}
    generator.events.clear()
    generator._emit_invoice(
        code, invoice, day, day + timedelta(days=cancel_after), day + timedelta(days=dispute_after)
    )
    resent = sorted(
        ((when - day).days, row["status"], row["disputed"])
        for when, _, kind, (_, row) in generator.events
        if kind == "resend"
    )
    assert resent == expected
