"""FEC entities (SPEC section 16): the reader, the customer ledger it gives, and landing a FEC drop.

The public sample (../shared/datasets/fec, a real ledger with partial
lettering and aggregated opening entries) is read as it is; the expected
balances are summed from the file with the csv module and Decimal, not
with the reader under test.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from conftest import DATASETS, REGISTRY_YAML, good_drop, write_drop
from oracle import fec_open_by_debtor
from receivables.ingest.fec import LEGAL_COLUMNS, read_fec
from receivables.ingest.landing import OK, QUARANTINED, land
from receivables.ingest.ledger import KnownDebtor, customer_ledger
from receivables.registry import Entity, load_registry

SAMPLE = DATASETS / "fec" / "0000000001FEC20220831.txt"
SAMPLE_DAY = date(2022, 8, 31)
ENTITY = Entity("FR9", "Primeurs SAS", "FR", "EUR", format="fec")
HEADER = list(LEGAL_COLUMNS)  # the 18 columns of art. A47 A-1, in their legal order
REGISTRY = (
    REGISTRY_YAML.rstrip("\n")
    + """
  - code: FR9
    name: Primeurs SAS
    country: FR
    currency: EUR
    format: fec
"""
)


def sample_balances(path: Path = SAMPLE) -> dict[str, Decimal]:
    """Each debtor's balance on the customer accounts, summed from the file (the identity's right side)."""
    balances: dict[str, Decimal] = defaultdict(Decimal)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["CompteNum"].startswith(("411", "413", "416")):
                debit, credit = (Decimal(row[c].replace(",", ".") or 0) for c in ("Debit", "Credit"))
                balances[row["CompAuxNum"] or row["CompteNum"]] += debit - credit
    return dict(balances)


def line(
    journal: str,
    number: str,
    day: str,
    account: str,
    debit: str = "",
    credit: str = "",
    aux: str = "",
    ref: str = "",
    letter: str = "",
    letter_date: str = "",
    **more: str,
) -> dict[str, str]:
    """One FEC line as written (decimal comma, YYYYMMDD dates); ``more``: other legal or extra columns."""
    return {
        "JournalCode": journal, "JournalLib": journal, "EcritureNum": number, "EcritureDate": day,
        "CompteNum": account, "CompteLib": f"Compte {account}", "CompAuxNum": aux,
        "CompAuxLib": f"Client {aux}" if aux else "", "PieceRef": ref, "PieceDate": day, "EcritureLib": ref,
        "Debit": debit or "0,00", "Credit": credit or "0,00", "EcritureLet": letter, "DateLet": letter_date,
        "ValidDate": day, "Montantdevise": "", "Idevise": "",
    } | more  # fmt: skip


def write_fec(
    path: Path,
    lines: list[dict[str, str]],
    separator: str = "|",
    trailing: bool = False,
    encoding: str = "utf-8",
    header: list[str] | None = None,
) -> Path:
    columns = header or list(dict.fromkeys(name for row in lines for name in [*HEADER, *row]))
    end = separator if trailing else ""
    text = separator.join(columns) + end + "\n"
    text += "".join(separator.join(row.get(c, "") for c in columns) + end + "\n" for row in lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def sale(
    number: str, day: str, aux: str, ref: str, total: str, letter: str = "", **more: str
) -> list[dict[str, str]]:
    """An invoice: the customer debited TTC, revenue and VAT credited (20 %)."""
    amount = Decimal(total.replace(",", "."))
    excl = (amount / Decimal("1.2")).quantize(Decimal("0.01"))
    fr = lambda d: str(d).replace(".", ",")  # noqa: E731
    return [
        line("VE", number, day, "411000", debit=total, aux=aux, ref=ref, letter=letter, **more),
        line("VE", number, day, "706000", credit=fr(excl), ref=ref),
        line("VE", number, day, "445710", credit=fr(amount - excl), ref=ref),
    ]


def receipt(
    number: str, day: str, aux: str, ref: str, total: str, letter: str = "", letter_date: str = ""
) -> list:
    return [
        line("BQ", number, day, "512000", debit=total, ref=ref),
        line(
            "BQ",
            number,
            day,
            "411000",
            credit=total,
            aux=aux,
            ref=ref,
            letter=letter,
            letter_date=letter_date,
        ),
    ]


def ledger_of(lines: list[dict[str, str]], tmp_path: Path, known: dict[str, KnownDebtor] | None = None):
    read = read_fec(write_fec(tmp_path / "fec.txt", lines), "FR9")
    assert not read.failures, [f.describe() for f in read.failures]
    return customer_ledger(read.lines, ENTITY, "fec.txt", known or {})


def documents(ledger) -> dict[str, dict[str, str]]:
    return {row["document_id"]: row for row in ledger.invoices.to_dict("records")}


def money(units: int) -> Decimal:
    return Decimal(units) / 10_000


# --- the reader ---------------------------------------------------------------------------------


@pytest.mark.unit
def test_the_public_sample_reads_whole_and_every_entry_balances():
    read = read_fec(SAMPLE, "FR9")

    assert read.failures == []
    assert len(read.lines) == 5422 and read.encoding == "utf-8"  # its BOM dropped
    assert read.lines["net"].sum() == 0
    assert read.lines["EcritureDate"].min().date() == date(2021, 9, 1)
    assert set(read.lines["journal"]) >= {"ANO", "VEN", "CRC", "RCH", "OD"}  # trailing spaces stripped


VARIANTS = [
    pytest.param({"separator": "\t"}, id="tab"),
    pytest.param({"separator": "|", "trailing": True}, id="pipe-trailing-separator"),
    pytest.param({"separator": "\t", "encoding": "utf-8-sig"}, id="utf8-bom"),
    pytest.param({"separator": "|", "encoding": "iso-8859-15"}, id="iso-8859-15"),
]


@pytest.mark.unit
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_written_variant_reads_to_the_same_lines(tmp_path, variant):
    lines = sale("1", "20260105", "C1", "F1", "1200,00") + receipt(
        "2", "20260110", "C1", "Chèque €", "1200,00"
    )
    reference = read_fec(write_fec(tmp_path / "a" / "fec.txt", lines), "FR9").lines

    read = read_fec(write_fec(tmp_path / "b" / "fec.txt", lines, **variant), "FR9")

    assert read.failures == []
    assert read.lines["net"].tolist() == reference["net"].tolist()
    assert read.lines["piece_ref"].tolist() == reference["piece_ref"].tolist()  # € and è read right


@pytest.mark.unit
def test_montant_sens_lower_case_names_padding_and_a_decimal_point_read_alike(tmp_path):
    plain = sale("1", "20260105", "C1", "F1", "1200,00")
    reference = read_fec(write_fec(tmp_path / "a" / "fec.txt", plain), "FR9").lines
    signed = []
    for row in plain:
        debit = Decimal(row.pop("Debit").replace(",", "."))
        credit = Decimal(row.pop("Credit").replace(",", "."))
        amount = debit or credit
        signed.append(row | {"Montant": f"{amount:015.2f}", "Sens": "D" if debit else "c", "ModeRglt": "VIR"})
    header = [name.lower() for name in signed[0]]
    rows = [{name.lower(): value for name, value in row.items()} for row in signed]

    read = read_fec(write_fec(tmp_path / "b" / "fec.txt", rows, header=header), "FR9")

    assert read.failures == []
    assert read.lines["net"].tolist() == reference["net"].tolist() == [12_000_000, -10_000_000, -2_000_000]


@pytest.mark.unit
def test_each_unreadable_line_is_named_with_its_column(tmp_path):
    lines = sale("1", "20260105", "C1", "F1", "1200,00") + receipt("2", "20260110", "C1", "P1", "1200,00")
    lines[1]["EcritureDate"] = "20260231"  # line 3
    lines[3]["Debit"] = "1.200,00"  # line 5: a thousands separator
    lines[4]["JournalCode"] = ""  # line 6
    path = write_fec(tmp_path / "fec.txt", lines)

    failures = {(f.rule, f.row, f.column) for f in read_fec(path, "FR9").failures}

    assert failures == {
        ("fec_date", 3, "EcritureDate"),
        ("fec_amount", 5, "Debit"),
        ("fec_required", 6, "JournalCode"),
    }


@pytest.mark.unit
def test_an_unbalanced_entry_and_a_short_line_are_errors(tmp_path):
    lines = sale("1", "20260105", "C1", "F1", "1200,00")
    lines[2]["Credit"] = "199,99"
    path = write_fec(tmp_path / "fec.txt", lines)
    [unbalanced] = read_fec(path, "FR9").failures
    assert (unbalanced.rule, unbalanced.row) == ("fec_unbalanced", 2)
    assert "debits 1200.00, credits 1199.99" in unbalanced.found

    with path.open("a", encoding="utf-8") as handle:
        handle.write("VE|Ventes|9|20260105|411000\n")
    [short] = read_fec(path, "FR9").failures
    assert (short.rule, short.row, short.found) == ("fec_structure", 5, "5 fields")


@pytest.mark.unit
def test_a_file_that_is_no_fec_says_so(tmp_path):
    path = tmp_path / "fec.txt"
    path.write_text("document_id;amount\nF1;12,00\n", encoding="utf-8")
    [failure] = read_fec(path, "FR9").failures
    assert failure.rule == "fec_header" and failure.row == 1

    path.write_text("JournalCode\tEcritureNum\tDebit\nVE\t1\t2\n", encoding="utf-8")
    [failure] = read_fec(path, "FR9").failures
    assert failure.rule == "fec_columns" and "EcritureDate" in failure.message


# --- the customer ledger -------------------------------------------------------------------------


@pytest.mark.unit
def test_the_identity_holds_to_the_cent_on_the_public_sample_at_every_month_end():
    """SPEC section 16: net open amount = the debtor's balance on the customer accounts, for every debtor;
    at the file's last date and, the lettering dated, at each earlier month end."""
    read = read_fec(SAMPLE, "FR9")
    ledger = customer_ledger(read.lines, ENTITY, SAMPLE.name, {})
    expected = sample_balances()

    opened = fec_open_by_debtor(ledger, SAMPLE_DAY)
    assert {d: money(u) for d, u in opened.items() if u} == {d: b for d, b in expected.items() if b}
    assert sum(expected.values()) == Decimal("52517.24")

    lines = read.lines[read.lines["account"].str.startswith("411")]
    day = date(2021, 9, 30)
    while day < SAMPLE_DAY:
        upto = lines[lines["EcritureDate"] <= str(day)]
        balances = upto.groupby(upto["aux"].fillna(upto["account"]))["net"].sum()
        opened = fec_open_by_debtor(ledger, day)
        assert {d: u for d, u in opened.items() if u} == {d: int(u) for d, u in balances.items() if u}, day
        day = (day + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


@pytest.mark.unit
def test_the_public_sample_warns_of_what_it_cannot_say():
    ledger = customer_ledger(
        read_fec(SAMPLE, "FR9").lines, ENTITY, SAMPLE.name, {"CLAURE": KnownDebtor(45, True)}
    )
    rules = defaultdict(list)
    for warning in ledger.warnings:
        rules[warning.rule].append(warning)

    assert len(rules["opening_balance_aggregated"]) == 7  # one opening line per customer, PieceRef RAN
    assert len(rules["registration_id_missing"]) == 16  # 17 debtors, CLAURE given in debtors.csv
    assert rules["lettering_partial"] and all(w.column == "EcritureLet" for w in rules["lettering_partial"])
    opening = documents(ledger)["ANO-1-44"]  # CLAURE's opening balance: its terms from debtors.csv
    assert (opening["issue_date"], opening["due_date"], opening["due_date_source"]) == (
        "2021-09-01", "2021-10-16", "terms",
    )  # fmt: skip
    assert documents(ledger)["ANO-1-43"]["due_date_source"] == "default"


@pytest.mark.unit
def test_lettering_settles_the_oldest_due_first_from_its_date(tmp_path):
    lines = [
        *sale("1", "20260105", "C1", "F1", "100,00", letter="AA"),
        *sale("2", "20260110", "C1", "F2", "200,00", letter="AA"),
        *receipt("3", "20260201", "C1", "P1", "250,00", letter="AA", letter_date="20260215"),
        *sale("4", "20260112", "C2", "F3", "60,00"),
        *receipt("5", "20260120", "C2", "P2", "50,00"),
    ]
    ledger = ledger_of(lines, tmp_path)
    payments = ledger.payments.to_dict("records")

    applied = [(p["document_id"], p["amount"], p["settlement_date"], p["matched_on"]) for p in payments[1:]]
    assert applied == [
        ("F1", "100.00", "2026-02-01", "2026-02-15"),
        ("F2", "150.00", "2026-02-01", "2026-02-15"),
    ]
    assert pd.isna(payments[0]["document_id"]) and payments[0]["amount"] == "50.00"  # P2, unlettered
    assert [w.rule for w in ledger.warnings if w.rule == "lettering_partial"] == ["lettering_partial"]
    # before the lettering's date the payment is unapplied cash and both invoices are open; the net is the same
    assert (
        fec_open_by_debtor(ledger, date(2026, 2, 10))["C1"]
        == fec_open_by_debtor(ledger, date(2026, 2, 20))["C1"]
    )
    assert money(fec_open_by_debtor(ledger, date(2026, 2, 20))["C1"]) == Decimal("50.00")  # left open on F2


@pytest.mark.unit
def test_credit_notes_write_offs_reversals_and_transfers(tmp_path):
    lines = [
        *sale("1", "20260105", "C1", "F1", "120,00", letter="A"),
        line("VE", "2", "20260107", "411000", credit="24,00", aux="C1", ref="AV1", letter="A"),
        line("VE", "2", "20260107", "706000", debit="20,00", ref="AV1"),
        line("VE", "2", "20260107", "445710", debit="4,00", ref="AV1"),
        *receipt("3", "20260120", "C1", "P1", "96,00", letter="A"),
        # a payment that bounced: the bank takes it back
        *sale("4", "20260110", "C2", "F2", "300,00", letter="B"),
        *receipt("5", "20260125", "C2", "P2", "300,00", letter="B"),
        line("BQ", "6", "20260130", "411000", debit="300,00", aux="C2", ref="IMP", letter="B"),
        line("BQ", "6", "20260130", "512000", credit="300,00", ref="IMP"),
        # doubtful: moved to 416, then written off
        *sale("7", "20260111", "C3", "F3", "500,00", letter="C"),
        line("OD", "8", "20260201", "411000", credit="500,00", aux="C3", ref="DOUT", letter="C"),
        line("OD", "8", "20260201", "416000", debit="500,00", aux="C3", ref="DOUT", letter="D"),
        line("OD", "9", "20260301", "654000", debit="500,00", ref="PERTE"),
        line("OD", "9", "20260301", "416000", credit="500,00", aux="C3", ref="PERTE", letter="D"),
    ]
    ledger = ledger_of(lines, tmp_path)
    rows = {(p["settlement_id"], p["line_no"]): p for p in ledger.payments.to_dict("records")}
    kinds = sorted((p["document_id"], p["kind"], p["amount"]) for p in rows.values())

    assert kinds == [
        ("AV1", "credit_note", "24.00"),
        ("F1", "credit_note", "24.00"),
        ("F1", "payment", "96.00"),
        ("F2", "payment", "300.00"),
        ("F2", "reversal", "-300.00"),
        ("F3", "write_off", "500.00"),
    ]
    assert set(documents(ledger)) == {"F1", "AV1", "F2", "F3"}  # the transfer makes no document
    opened = fec_open_by_debtor(ledger, date(2026, 3, 31))
    assert (opened.get("C1", 0), money(opened["C2"]), opened.get("C3", 0)) == (0, Decimal(300), 0)
    # 416's group joins 411's (no warning for C3); C2's bounced payment leaves its group open
    assert [w.found for w in ledger.warnings if w.rule == "lettering_partial"] == ["B on 411000 C2: 300.00"]


@pytest.mark.unit
def test_due_dates_document_ids_and_foreign_currency(tmp_path):
    lines = [
        *sale("1", "20260105", "C1", "F1", "120,00", DateRglt="20260305"),
        *sale("2", "20260105", "C2", "F1", "240,00"),  # the same PieceRef for another debtor
        *sale("3", "20260106", "C3", "F9", "360,00"),
    ]
    lines[6] |= {"Montantdevise": "400,00", "Idevise": "USD"}
    ledger = ledger_of(lines, tmp_path, {"C2": KnownDebtor(60, True)})
    found = documents(ledger)

    assert set(found) == {"VE-1-2", "VE-2-5", "F9"}
    assert (found["VE-1-2"]["due_date"], found["VE-1-2"]["due_date_source"]) == ("2026-03-05", "fec")
    assert (found["VE-2-5"]["due_date"], found["VE-2-5"]["due_date_source"]) == ("2026-03-06", "terms")
    assert (found["F9"]["due_date"], found["F9"]["due_date_source"]) == ("2026-02-05", "default")
    assert (found["F9"]["currency"], found["F9"]["amount"]) == ("USD", "400.00")
    assert pd.isna(found["F9"]["amount_excl_tax"])  # the revenue lines are in EUR
    assert found["VE-1-2"]["amount_excl_tax"] == "100.00"
    assert list(ledger.debtors["debtor_id"]) == ["C1", "C3"]  # C2 comes from debtors.csv


# --- landing a FEC drop ---------------------------------------------------------------------------


def fec_group(tmp_path: Path) -> tuple[Path, Path, Path]:
    registry = tmp_path / "entities.yml"
    registry.write_text(REGISTRY, encoding="utf-8")
    return registry, tmp_path / "landing", tmp_path / "warehouse.duckdb"


def extracts_drop(landing: Path, day: date) -> None:
    write_drop(landing, "FR01", day, good_drop("FR01"))


@pytest.mark.unit
def test_a_fec_beside_invoices_is_quarantined_whole_and_the_others_land(tmp_path, query_factory):
    registry, landing, warehouse = fec_group(tmp_path)
    drop = landing / "FR9" / SAMPLE_DAY.isoformat()
    drop.mkdir(parents=True)
    shutil.copy(SAMPLE, drop)
    (drop / "invoices.csv").write_text("document_id\n", encoding="utf-8")
    extracts_drop(landing, SAMPLE_DAY)

    outcomes = {
        o.entity_code: o for o in land(load_registry(registry), landing, SAMPLE_DAY, warehouse, workers=1)
    }

    assert outcomes["FR9"].status == QUARANTINED and "fec_with_extracts" in outcomes["FR9"].reason
    assert outcomes["FR01"].status == OK
    quarantined = landing / "_quarantine" / "FR9" / SAMPLE_DAY.isoformat()
    assert (quarantined / SAMPLE.name).read_bytes() == SAMPLE.read_bytes()  # moved unchanged, nothing lost


@pytest.mark.unit
def test_an_unreadable_fec_is_quarantined_naming_its_lines_and_the_others_land(tmp_path):
    registry, landing, warehouse = fec_group(tmp_path)
    lines = sale("1", "20260105", "C1", "F1", "1200,00") + receipt("2", "20260110", "C1", "P1", "1200,00")
    lines[2]["Credit"] = "199,99"  # line 4: entry VE 1 unbalanced
    lines[4]["EcritureDate"] = "2026-01-10"  # line 6: not YYYYMMDD
    write_fec(landing / "FR9" / "2026-01-31" / "fec.txt", lines)
    extracts_drop(landing, date(2026, 1, 31))

    outcomes = {
        o.entity_code: o for o in land(load_registry(registry), landing, date(2026, 1, 31), warehouse)
    }

    assert outcomes["FR9"].status == QUARANTINED and outcomes["FR01"].status == OK
    reason = json.loads((landing / "_quarantine" / "FR9" / "2026-01-31" / "reason.json").read_text("utf-8"))
    named = {(f["file"], f["rule"], f.get("row"), f.get("column")) for f in reason["failures"]}
    assert ("fec.txt", "fec_date", 6, "EcritureDate") in named
    # an unbalanced entry is checked once every value reads: the corrected file then names it
    lines[4]["EcritureDate"] = "20260110"
    write_fec(landing / "FR9" / "2026-02-01" / "fec.txt", lines)
    outcomes = {o.entity_code: o for o in land(load_registry(registry), landing, date(2026, 2, 1), warehouse)}
    outcome = outcomes["FR9"]
    assert outcome.status == QUARANTINED and "fec_unbalanced" in outcome.reason and "row 2" in outcome.reason


@pytest.mark.unit
def test_a_fec_drop_lands_its_ledger_and_a_later_one_replaces_it_whole(tmp_path, query_factory):
    registry, landing, warehouse = fec_group(tmp_path)
    query = query_factory(warehouse)
    first = [*sale("1", "20260105", "C1", "F1", "120,00"), *sale("2", "20260106", "C2", "F2", "60,00")]
    write_fec(landing / "FR9" / "2026-01-31" / "123456789FEC20260131.txt", first, separator="\t")
    (landing / "FR9" / "2026-01-31" / "debtors.csv").write_text(
        "debtor_id,name,registration_id,country,payment_terms_days\nC1,Client Un,552100554,FR,45\n",
        encoding="utf-8",
    )

    outcome = land(load_registry(registry), landing, date(2026, 1, 31), warehouse, workers=1)[-1]

    assert outcome.status == OK, outcome.reason
    assert query("select document_id, due_date, due_date_source from raw.invoices order by 1") == [
        ("F1", date(2026, 2, 19), "terms"),
        ("F2", date(2026, 2, 5), "default"),
    ]
    assert query("select debtor_id, name, registration_id from raw.debtors order by 1") == [
        ("C1", "Client Un", "552100554"),
        ("C2", "Client C2", None),
    ]
    assert query("select rule, row_number, column_name from raw.landing_warnings") == [
        ("registration_id_missing", 5, "CompAuxNum")
    ]

    second = [*sale("2", "20260106", "C2", "F2", "60,00"), *receipt("3", "20260203", "C2", "P1", "60,00")]
    write_fec(landing / "FR9" / "2026-02-28" / "fec.txt", second)
    outcome = land(load_registry(registry), landing, date(2026, 2, 28), warehouse, workers=1)[-1]

    assert outcome.status == OK, outcome.reason
    assert query("select document_id from raw.invoices") == [("F2",)]  # F1 is no longer in the ledger
    assert query("select document_id, extract_date from raw.document_removals") == [("F1", date(2026, 2, 28))]
    assert query("select count(*) from raw.payments where document_id is null") == [(1,)]


@pytest.mark.dbt
def test_the_public_sample_lands_and_builds_to_its_ledger_balances_and_a_later_fec_replaces_it(
    tmp_path, query_factory
):
    """The identity of SPEC section 16 in the published marts, and a FEC as a snapshot through a build."""
    from receivables.nights import Nights
    from receivables.warehouse.build import build

    registry, landing, warehouse = fec_group(tmp_path)
    query = query_factory(warehouse)
    drop = landing / "FR9" / SAMPLE_DAY.isoformat()
    drop.mkdir(parents=True)
    shutil.copy(SAMPLE, drop)
    land(load_registry(registry), landing, SAMPLE_DAY, warehouse, workers=1)
    build(warehouse, Nights.of(SAMPLE_DAY))

    def open_in_marts(day: date) -> dict[str, Decimal]:
        rows = query(
            "select debtor_id, sum(open_amount) from marts.fct_open_items "
            "where entity_code = 'FR9' and as_of_date = ? group by all",
            day,
        )
        return {debtor: amount for debtor, amount in rows if amount}

    assert open_in_marts(SAMPLE_DAY) == {d: b for d, b in sample_balances().items() if b}
    assert dict(query("select due_date_source, count(*) from marts.fct_open_items group by all")) == {
        "default": 34,
        None: 12,  # unapplied cash
    }
    issues = dict(
        query("select kind, count(*) from marts.mart_data_issues where entity_code = 'FR9' group by all")
    )
    assert issues == {"registration_id_missing": 17, "lettering_partial": 15, "opening_balance_aggregated": 7}

    # a month later the ledger no longer holds one open invoice (its entry removed): it leaves every model
    [(gone,)] = query(
        "select document_id from marts.fct_open_items where document_type = 'invoice' "
        "and document_id not like 'ANO%' order by document_id limit 1"
    )
    lines = read_fec(SAMPLE, "FR9").lines
    [(journal, number)] = (
        lines.loc[lines["piece_ref"] == gone, ["journal", "number"]].drop_duplicates().values
    )
    text = SAMPLE.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    kept = [t for t in text if [f.strip() for f in t.split("\t")[:3:2]] != [journal, number]]
    assert len(text) - len(kept) >= 2
    later = date(2022, 9, 30)
    target = landing / "FR9" / later.isoformat() / SAMPLE.name
    target.parent.mkdir(parents=True)
    target.write_text("".join(kept), encoding="utf-8")
    land(load_registry(registry), landing, later, warehouse, workers=1)
    build(warehouse, Nights.of(later))

    assert open_in_marts(later) == {d: b for d, b in sample_balances(target).items() if b}
    assert query("select count(*) from raw.invoices where document_id = ?", gone) == [(0,)]
    for model in ("int_document_balances", "int_dso_document_months"):
        assert query(f"select count(*) from intermediate.{model} where document_id = ?", gone) == [(0,)]
    assert query(
        "select count(*) from marts.fct_open_items where document_id = ? and as_of_date = ?", gone, later
    ) == [(0,)]


# --- generated FEC entities ----------------------------------------------------------------------


def fec_balances(path: Path) -> dict[str, Decimal]:
    """A generated FEC's customer balances, summed from the file as written (tab, decimal comma), each
    line in its document's currency: Montantdevise where Idevise is set (a USD invoice of a EUR entity
    is open in USD), else Debit less Credit."""
    balances: dict[str, Decimal] = defaultdict(Decimal)
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["CompteNum"].startswith("411"):
                debit, credit = (Decimal(row[c].replace(",", ".")) for c in ("Debit", "Credit"))
                if row["Idevise"]:
                    balances[row["CompAuxNum"]] += Decimal(row["Montantdevise"].replace(",", ".")) * (
                        1 if debit > credit else -1
                    )
                else:
                    balances[row["CompAuxNum"]] += debit - credit
    return {debtor: balance for debtor, balance in balances.items() if balance}


def generated_group(out: Path, as_extracts: bool = False) -> Path:
    from receivables.dev.generate import GeneratorConfig, generate

    generate(
        GeneratorConfig(
            out=out, entities=2, fec_entities=1, fec_as_extracts=as_extracts, start=date(2025, 6, 1),
            end=date(2026, 1, 31), invoices=3000, seed=7,
        )
    )  # fmt: skip
    return out


@pytest.mark.unit
def test_every_generated_fec_reads_whole_and_holds_the_identity(tmp_path):
    """The generator's FEC entity: a history drop of the whole ledger, then each night's fiscal year from
    its opening entries; every file balances, and its documents less unapplied cash are its balances."""
    landing = generated_group(tmp_path / "landing")
    files = sorted((landing / "FEC01").glob("*/*FEC*.txt"))
    assert len(files) == 8  # the history drop and seven nights

    for path in files:
        read = read_fec(path, "FEC01")
        assert read.failures == [], path
        ledger = customer_ledger(read.lines, ENTITY, path.name, {})
        opened = fec_open_by_debtor(ledger, ledger.last_entry_date)
        assert {d: money(u) for d, u in opened.items() if u} == fec_balances(path), path
    journals = set(read.lines["journal"])
    assert journals == {"AN", "VE", "BQ", "OD"}  # the last night's year opens with à-nouveaux
    assert read.lines["letter"].notna().sum() > 0 and read.lines["DateLet"].notna().sum() > 0
    assert (read.lines["account"] == "654000").any()  # write-offs


@pytest.mark.dbt
def test_the_same_ledger_as_extracts_and_as_a_fec_gives_the_same_open_items_and_aging(
    tmp_path, query_factory
):
    """Round trip (issue 35): one generated ledger landed as CSV extracts and as FEC files, night after
    night, gives every debtor the same open amount and every aging bucket the same total (document ids
    aside: a FEC's unapplied lines and opening balances carry ids of their own)."""
    from receivables.nights import Nights
    from receivables.warehouse.build import build

    figures = {}
    for kind in ("fec", "extracts"):
        landing = generated_group(tmp_path / kind / "landing", as_extracts=kind == "extracts")
        warehouse = tmp_path / kind / "warehouse.duckdb"
        registry = load_registry(landing / "entities.yml")
        assert registry.entity("FEC01").drops_fec == (kind == "fec")
        for night in sorted(folder.name for folder in (landing / "FEC01").iterdir()):
            outcomes = land(registry, landing, date.fromisoformat(night), warehouse, workers=1)
            assert [o.describe() for o in outcomes if o.status == QUARANTINED] == []
        last = date(2026, 1, 31)
        build(warehouse, Nights.of(last))
        query = query_factory(warehouse)
        where = "entity_code = 'FEC01' and as_of_date = ?"
        figures[kind] = (
            dict(query(f"select debtor_id, sum(open_amount) from marts.fct_open_items where {where} group by 1", last)),
            dict(query(f"select aging_bucket, sum(open_amount) from marts.fct_open_items where {where} group by 1", last)),
        )  # fmt: skip
    assert figures["fec"][0] == figures["extracts"][0] and len(figures["fec"][0]) > 20
    assert figures["fec"][1] == figures["extracts"][1]
