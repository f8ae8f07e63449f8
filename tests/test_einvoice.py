"""E-invoicing lifecycle statuses (SPEC section 17, issue 36): the landing of a drop's CDAR messages
and of einvoice_status.csv, and what the warehouse makes of them."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import DATASETS, DAY1, DAY2, REGISTRY_YAML, good_drop, quiet_drop, write_drop
from receivables.ingest.landing import land
from receivables.ingest.outcome import OK, QUARANTINED
from receivables.registry import load_registry

MESSAGES = DATASETS / "einvoice_lifecycle" / "cdar"
SELLER = "100000009"  # the public samples' seller (VENDEUR)
STATUS_COLUMNS = [
    "document_id",
    "issue_date",
    "status_code",
    "status_at",
    "reason_code",
    "action_code",
    "amount_type",
    "amount",
    "currency",
    "note",
]


def registry_with_siren(tmp_path: Path, siren: str | None = SELLER, vat_on_receipts: bool = False) -> Path:
    """The tests' registry, FR01 with the samples' seller as its SIREN."""
    extra = (f'    siren: "{siren}"\n' if siren else "") + (
        "    vat_on_receipts: true\n" if vat_on_receipts else ""
    )
    text = REGISTRY_YAML.replace(
        "    name: Société Exemple Distribution SAS\n", "    name: Société Exemple Distribution SAS\n" + extra
    )
    path = tmp_path / "entities.yml"
    path.write_text(text, encoding="utf-8")
    return path


def copy_messages(folder: Path, *names: str) -> None:
    (folder / "einvoice").mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(MESSAGES / name, folder / "einvoice" / name)


def write_status_csv(folder: Path, rows: list[dict[str, str]]) -> None:
    """einvoice_status.csv in FR01's dialect (semicolons, decimal comma, cp1252, dd/mm/yyyy)."""
    lines = [";".join(STATUS_COLUMNS)] + [";".join(row.get(c, "") for c in STATUS_COLUMNS) for row in rows]
    (folder / "einvoice_status.csv").write_text("\r\n".join(lines) + "\r\n", encoding="cp1252")


@pytest.mark.unit
def test_messages_and_the_csv_land_as_statuses_each_traced_to_its_file(tmp_path, landing, warehouse, query):
    registry = load_registry(registry_with_siren(tmp_path))
    folder = write_drop(landing, "FR01", DAY1, good_drop("FR01"))
    copy_messages(folder, "status-205-approuvee.xml", "payment-212-encaissee.xml", "status-210-refusee.xml")
    shutil.copy(
        MESSAGES / "status-205-approuvee.xml", folder / "einvoice" / "copy-of-205.xml"
    )  # delivered twice
    write_status_csv(
        folder,
        [
            {"document_id": "INV-1", "issue_date": "02/02/2026", "status_code": "207",
             "status_at": "01/03/2026 14:05", "reason_code": "QTE_ERR", "amount_type": "MNATTC",
             "amount": "120,50", "currency": "EUR", "note": "deux palettes manquantes"},
            {"document_id": "INV-1", "status_code": "205", "status_at": "02/03/2026"},
        ],
    )  # fmt: skip

    outcomes = {o.entity_code: o for o in land(registry, landing, DAY1, warehouse, workers=1)}

    assert outcomes["FR01"].status == OK, outcomes["FR01"].reason
    rows = query(
        "select document_id, issue_date::varchar, status_code, status_at::varchar, reason_code, amount_type, "
        "amount::varchar, source_file from raw.einvoice_status order by status_at, status_code"
    )
    assert rows == [
        ("F202500003", "2025-07-01", "205", "2025-07-01 15:10:00", None, None, None,
         "einvoice/copy-of-205.xml"),
        ("F202500003", "2025-07-01", "210", "2025-07-01 15:10:00", "TX_TVA_ERR", None, None,
         "einvoice/status-210-refusee.xml"),
        ("F202500003", "2025-07-01", "212", "2025-07-02 00:00:00", None, "MEN", "500.0000",
         "einvoice/payment-212-encaissee.xml"),
        ("INV-1", "2026-02-02", "207", "2026-03-01 14:05:00", "QTE_ERR", "MNATTC", "120.5000", None),
        ("INV-1", None, "205", "2026-03-02 00:00:00", None, None, None, None),
    ]  # fmt: skip


@pytest.mark.unit
def test_a_hostile_or_foreign_message_quarantines_its_drop_naming_the_message(tmp_path, landing, warehouse):
    registry = load_registry(registry_with_siren(tmp_path, siren="552100554"))
    folder = write_drop(landing, "FR01", DAY1, good_drop("FR01"))
    copy_messages(folder, "status-205-approuvee.xml")
    (folder / "einvoice" / "bomb.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaa">]><a>&a;</a>', encoding="utf-8"
    )
    (folder / "einvoice" / "readme.txt").write_text("not a message", encoding="utf-8")
    write_drop(landing, "DE01", DAY1, good_drop("DE01"))

    outcomes = {o.entity_code: o for o in land(registry, landing, DAY1, warehouse, workers=1)}

    assert outcomes["FR01"].status == QUARANTINED and outcomes["DE01"].status == OK
    reason = json.loads(
        (landing / "_quarantine" / "FR01" / DAY1.isoformat() / "reason.json").read_text("utf-8")
    )
    named = {(f["file"], f["rule"]) for f in reason["failures"]}
    assert named == {
        ("einvoice/status-205-approuvee.xml", "cdar_seller"),
        ("einvoice/bomb.xml", "cdar_unsafe"),
        ("einvoice/readme.txt", "einvoice_file"),
    }
    kept = landing / "_quarantine" / "FR01" / DAY1.isoformat() / "einvoice" / "status-205-approuvee.xml"
    assert kept.read_bytes() == (MESSAGES / "status-205-approuvee.xml").read_bytes()  # nothing lost


@pytest.mark.unit
def test_messages_without_a_siren_in_the_registry_or_a_bad_csv_row_are_named(tmp_path, landing, warehouse):
    registry = load_registry(registry_with_siren(tmp_path, siren=None))
    folder = write_drop(landing, "FR01", DAY1, good_drop("FR01"))
    copy_messages(folder, "status-205-approuvee.xml")
    write_drop(landing, "DE01", DAY1, good_drop("DE01"))
    (landing / "DE01" / DAY1.isoformat() / "einvoice_status.csv").write_text(
        "document_id;status_code;status_at\nINV-1;20;01.03.2026 10:00\n", encoding="utf-8"
    )
    write_drop(landing, "GB01", DAY1, good_drop("GB01"))
    (landing / "GB01" / DAY1.isoformat() / "einvoice_status.csv").write_text(
        "document_id,status_code,status_at\nINV-2,205,2026-02-31T10:00:00\n", encoding="utf-8"
    )

    outcomes = {o.entity_code: o for o in land(registry, landing, DAY1, warehouse, workers=1)}

    assert outcomes["FR01"].status == QUARANTINED and "einvoice_siren" in outcomes["FR01"].reason
    named = set()
    for code in ("DE01", "GB01"):
        assert outcomes[code].status == QUARANTINED
        reason = json.loads(
            (landing / "_quarantine" / code / DAY1.isoformat() / "reason.json").read_text("utf-8")
        )
        named |= {(code, f["file"], f.get("row"), f.get("column"), f["rule"]) for f in reason["failures"]}
    assert named == {
        ("DE01", "einvoice_status.csv", 2, "status_code", "pattern"),
        ("GB01", "einvoice_status.csv", 2, "status_at", "date_value"),
    }


@pytest.mark.unit
def test_the_same_status_landed_again_counts_once(tmp_path, landing, warehouse, query):
    registry = load_registry(registry_with_siren(tmp_path))
    copy_messages(write_drop(landing, "FR01", DAY1, good_drop("FR01")), "status-205-approuvee.xml")
    land(registry, landing, DAY1, warehouse, workers=1)
    copy_messages(write_drop(landing, "FR01", DAY2, quiet_drop()), "status-205-approuvee.xml")
    land(registry, landing, DAY2, warehouse, workers=1)

    assert query("select count(*), max(extract_date)::varchar from raw.einvoice_status") == [
        (1, DAY2.isoformat())
    ]


# --- what the warehouse makes of the statuses -----------------------------------------------------

BUILT_ON = date(2026, 3, 2)


def invoice(document_id: str, amount: str, issued: date, due: date) -> dict[str, object]:
    return {"document_id": document_id, "document_type": "invoice", "debtor_id": "C001", "issue_date": issued,
            "due_date": due, "currency": "EUR", "amount": amount, "status": "open"}  # fmt: skip


def status(
    document_id: str, code: str, at: str, issued: str | None = "01/02/2026", **more: str
) -> dict[str, str]:
    return {
        "document_id": document_id,
        "issue_date": issued or "",
        "status_code": code,
        "status_at": at,
        **more,
    }


@pytest.mark.dbt
def test_each_status_acts_on_the_open_items_as_section_17_says(tmp_path, landing, warehouse, query):
    """One invoice per effect of the table of SPEC section 17, landed and built for 2 March 2026."""
    import duckdb

    from receivables.nights import Nights
    from receivables.warehouse.build import build

    registry = load_registry(registry_with_siren(tmp_path, vat_on_receipts=True))
    feb1, due = date(2026, 2, 1), date(2026, 3, 1)
    drop = good_drop("FR01")
    drop["invoices"] = [
        invoice("DISPUTED", "1200.00", feb1, due),
        invoice("REFUSED", "600.00", feb1, date(2026, 3, 20)),
        invoice("PAYMENT_SENT", "300.00", feb1, due),
        invoice("COLLECTED", "500.00", feb1, due),
        invoice("REJECTED", "400.00", feb1, due),
        invoice("FACTORED", "250.00", feb1, due),
        invoice("OTHER_DATE", "100.00", feb1, due),
        invoice("PAID", "700.00", feb1, due),
    ]
    drop["payments"] = [
        {"settlement_id": "S-9", "line_no": "1", "debtor_id": "C001", "document_id": "PAID",
         "settlement_date": BUILT_ON, "currency": "EUR", "amount": "700.00", "kind": "payment"},
        {"settlement_id": "S-10", "line_no": "1", "debtor_id": "C001", "document_id": "COLLECTED",
         "settlement_date": date(2026, 2, 21), "currency": "EUR", "amount": "200.00", "kind": "payment"},
    ]  # fmt: skip
    drop["collection_events"] = []
    folder = write_drop(landing, "FR01", BUILT_ON, drop)
    write_status_csv(
        folder,
        [
            status("DISPUTED", "205", "03/02/2026 09:00"),
            status("DISPUTED", "207", "20/02/2026 11:30", reason_code="QTE_ERR", amount_type="MNATTC",
                   amount="200,00", currency="EUR"),
            status("REFUSED", "210", "25/02/2026", reason_code="TX_TVA_ERR"),
            status("PAYMENT_SENT", "211", "01/03/2026 08:00"),
            status("COLLECTED", "212", "20/02/2026", amount_type="MEN", amount="500,00", currency="EUR"),
            status("REJECTED", "213", "02/02/2026"),
            status("FACTORED", "225", "10/02/2026"),
            status("FACTORED", "205", "15/02/2026"),
            status("OTHER_DATE", "205", "15/02/2026", issued="31/01/2026"),
            status("UNKNOWN-9", "205", "28/02/2026", issued="05/02/2026"),
        ],
    )  # fmt: skip

    outcomes = {o.entity_code: o for o in land(registry, landing, BUILT_ON, warehouse, workers=1)}
    assert outcomes["FR01"].status == OK, outcomes["FR01"].reason
    build(warehouse, Nights.of(BUILT_ON))

    items = {
        row[0]: row[1:]
        for row in query(
            "select document_id, einvoice_status, einvoice_status_name, dunning_stage, is_disputed, is_factored "
            "from marts.fct_open_items where as_of_date = ? and entity_code = 'FR01' and document_id in "
            "('DISPUTED', 'REFUSED', 'PAYMENT_SENT', 'COLLECTED', 'REJECTED', 'FACTORED', 'OTHER_DATE')",
            BUILT_ON,
        )
    }
    assert items == {
        "DISPUTED": ("207", "En litige", "disputed", True, False),
        "REFUSED": ("210", "Refusée", "refused", False, False),
        "PAYMENT_SENT": ("211", "Paiement transmis", "promised", False, False),
        "COLLECTED": ("212", "Encaissée", "reminder", False, False),
        "REJECTED": ("213", "Rejetée", "reminder", False, False),
        "FACTORED": ("205", "Approuvée", "factored", False, True),
        "OTHER_DATE": (None, None, "reminder", False, False),  # its status names another issue date
    }
    # the 207's not-approved amount is disputed, its reason mapped from QTE_ERR
    assert query(
        "select document_id, dispute_reason, disputed_amount from marts.mart_disputes where as_of_date = ?",
        BUILT_ON,
    ) == [("DISPUTED", "quantity", Decimal("200.00"))]
    # the 211: a promise on its day + 3, pending; the refusal: doubtful, not forecast
    assert query(
        "select document_id, promised_date, promise_status from marts.mart_promises where as_of_date = ?",
        BUILT_ON,
    ) == [("PAYMENT_SENT", date(2026, 3, 4), "pending")]
    [(doubtful,)] = query(
        "select expected_eur from marts.mart_cash_forecast where as_of_date = ? and entity_code = 'FR01' "
        "and period_kind = 'doubtful'",
        BUILT_ON,
    )
    assert doubtful == Decimal("600.00")
    assert query(
        "select signal, amount_eur from marts.mart_weak_signals where as_of_date = ? and signal = 'invoice_refused'",
        BUILT_ON,
    ) == [("invoice_refused", Decimal("600.00"))]
    issues = {
        (kind, key): detail
        for kind, key, detail in query(
            "select kind, document_key, detail from marts.mart_data_issues where as_of_date = ? "
            "and kind in ('einvoice_unknown_invoice', 'collected_not_in_ledger', 'rejected_invoice_open', "
            "'cancelled_invoice_open')",
            BUILT_ON,
        )
    }
    assert set(issues) == {
        ("einvoice_unknown_invoice", "UNKNOWN-9"),
        ("einvoice_unknown_invoice", "OTHER_DATE"),
        ("collected_not_in_ledger", "COLLECTED"),
        ("rejected_invoice_open", "REJECTED"),
    }
    assert issues[("einvoice_unknown_invoice", "UNKNOWN-9")] == (
        "1 statut(s) e-facture (205 Approuvée, le dernier du 28/02/2026) pour la facture UNKNOWN-9 du 05/02/2026 : "
        "le grand livre de l'entité ne la contient pas"
    )
    assert "OTHER_DATE du 31/01/2026" in issues[("einvoice_unknown_invoice", "OTHER_DATE")]
    assert "500,00 EUR" in issues[("collected_not_in_ledger", "COLLECTED")]
    assert "que 200,00" in issues[("collected_not_in_ledger", "COLLECTED")]
    lifecycle = {
        row[0]: row[1:]
        for row in query(
            "select status_code, items, amount_eur, factored_amount_eur from marts.mart_einvoice_lifecycle "
            "where as_of_date = ? and entity_code = 'FR01'",
            BUILT_ON,
        )
    }
    assert lifecycle == {
        "205": (1, Decimal("250.00"), Decimal("250.00")),
        "207": (1, Decimal("1200.00"), Decimal("0.00")),
        "210": (1, Decimal("600.00"), Decimal("0.00")),
        "211": (1, Decimal("300.00"), Decimal("0.00")),
        "212": (1, Decimal("300.00"), Decimal("0.00")),
        "213": (1, Decimal("400.00"), Decimal("0.00")),
    }
    # FR01's controllers read its lifecycle in its own file (SPEC section 15), and only its own
    from receivables import nightly
    from receivables.settings import settings

    serving = tmp_path / "serving" / "warehouse.duckdb"
    nightly.publish(settings().given(warehouse=warehouse, serving=serving), BUILT_ON)
    own = tmp_path / "serving" / "entities" / "FR01.duckdb"
    for mart in ("mart_einvoice_lifecycle", "mart_einvoice_212_to_send"):
        with duckdb.connect(str(own), read_only=True) as connection:
            held = connection.execute(f"select * from marts.{mart} order by all").fetchall()
        assert held and held == query(
            f"select * from marts.{mart} where entity_code = 'FR01' order by all"
        ), mart
    # FR01 is taxed on collection: the collections of the night (PAID, 2 March) need their 212; COLLECTED's
    # payment of 21 February was that night's
    assert query(
        "select document_id, issue_date, collected_on, amount, currency from marts.mart_einvoice_212_to_send "
        "where as_of_date = ? order by document_id",
        BUILT_ON,
    ) == [("PAID", feb1, BUILT_ON, Decimal("700.00"), "EUR")]


@pytest.mark.unit
def test_the_sample_group_issues_through_the_platforms_from_the_reform(tmp_path):
    """The generator's French entities: FR01's statuses as CDAR messages, FEC01's beside its FEC, from
    1 September 2026 only; every night lands them."""
    import duckdb

    from receivables.dev.generate import GeneratorConfig, generate

    out = tmp_path / "landing"
    summary = generate(
        GeneratorConfig(out=out, entities=2, fec_entities=1, start=date(2026, 7, 1), end=date(2026, 10, 31),
                        invoices=2500, seed=3)
    )  # fmt: skip
    registry = load_registry(out / "entities.yml")
    assert [(e.code, e.siren, e.vat_on_receipts) for e in registry.entities] == [
        ("FR01", "100000009", False), ("DE01", None, False), ("FEC01", "390123453", True)
    ]  # fmt: skip
    warehouse = tmp_path / "warehouse.duckdb"
    history = date.fromisoformat(summary["history_drop"])
    for day in (history, *(history + timedelta(days=n) for n in range(1, 8))):
        outcomes = land(registry, out, day, warehouse, workers=1)
        assert all(o.status == OK for o in outcomes), [o.describe() for o in outcomes]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select entity_code, source_file is not null, min(issue_date), count(*), "
            "list(distinct status_code order by status_code) from raw.einvoice_status group by all order by 1"
        ).fetchall()
    assert [row[:2] for row in rows] == [("FEC01", False), ("FR01", True)]
    for code, _, first_issued, count, codes in rows:
        assert first_issued >= date(2026, 9, 1) and count > 100, code
        assert {"200", "204", "205", "212"} <= set(codes), code
    assert summary["einvoice_status"] == sum(row[3] for row in rows)
