"""Property tests of the FEC reader and its customer ledger (SPEC section 16), as for the CSV reader.

Random ledgers of balanced entries (sales, credit notes, receipts, bounced
payments, write-offs, transfers to 416, other entries), lettered at random,
written in any of the variants French packages write: the reader gives the
same lines whatever the variant, and the identity of section 16 holds at
every date for every debtor.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oracle import fec_open_by_debtor
from receivables.ingest.fec import LEGAL_COLUMNS, read_fec
from receivables.ingest.ledger import customer_ledger
from receivables.registry import Entity

ENTITY = Entity("FR9", "Primeurs SAS", "FR", "EUR", format="fec")
START = date(2026, 1, 1)
DEBTORS = ("C1", "C2", "C3")
# (kind, the customer's side, the other account)
KINDS = {
    "sale": (1, "706000"),
    "credit_note": (-1, "706000"),
    "receipt": (-1, "512000"),
    "bounced": (1, "512000"),
    "write_off": (-1, "654000"),
    "other_debit": (1, "658000"),
    "other_credit": (-1, "758000"),
}


@st.composite
def ledgers(draw: st.DrawFn) -> list[dict[str, object]]:
    """Entries: (day, kind, debtor, cents, letter or None, lettering day offset or None, transfer?)."""
    count = draw(st.integers(1, 25))
    entries = []
    for number in range(1, count + 1):
        kind = draw(st.sampled_from([*KINDS, "transfer"]))
        entries.append(
            {
                "number": number,
                "day": START + timedelta(days=draw(st.integers(0, 60))),
                "kind": kind,
                "debtor": draw(st.sampled_from(DEBTORS)),
                "cents": draw(st.integers(1, 10**8)),
                "letter": draw(st.sampled_from([None, "A", "B", "C"])),
                "letter_after": draw(st.none() | st.integers(0, 30)),
                "ref": draw(st.sampled_from(["", "F1", "RAN", None])),
            }
        )
    return entries


def fec_line(entry: dict[str, object], account: str, signed: int, aux: str = "", letter: str = "") -> dict:
    day = entry["day"]
    after = entry["letter_after"]
    return {
        "JournalCode": "OD" if entry["kind"] == "transfer" else "J" + str(entry["kind"])[:2].upper(),
        "EcritureNum": str(entry["number"]),
        "EcritureDate": day,
        "CompteNum": account,
        "CompteLib": f"Compte {account}",
        "CompAuxNum": aux,
        "CompAuxLib": aux and f"Client {aux}",
        "PieceRef": entry["ref"] if entry["ref"] is not None else f"P{entry['number']}",
        "PieceDate": day,
        "EcritureLib": "Libellé é€",
        "signed": signed,
        "EcritureLet": letter,
        "DateLet": day + timedelta(days=after) if letter and after is not None else None,
        "ValidDate": day,
    }


def rows(entries: list[dict[str, object]]) -> list[dict[str, object]]:
    """The FEC lines of the entries, amounts as signed cents (written per variant by ``write``)."""
    lines = []
    for entry in entries:
        cents, debtor, letter = entry["cents"], entry["debtor"], entry["letter"] or ""
        if entry["kind"] == "transfer":  # to 416 (doubtful): the 416 side lettered on its own
            lines.append(fec_line(entry, "411000", -cents, debtor, letter))
            lines.append(fec_line(entry, "416000", cents, debtor, "Z"))
            continue
        side, other = KINDS[entry["kind"]]
        lines.append(fec_line(entry, "411000", side * cents, debtor, letter))
        lines.append(fec_line(entry, other, -side * cents))
    return lines


def write(path: Path, lines: list[dict[str, object]], variant: dict[str, object]) -> Path:
    separator, decimal = variant["separator"], variant["decimal"]
    signed_columns = variant["signed"]
    columns = [c for c in LEGAL_COLUMNS if not (signed_columns and c in ("Debit", "Credit"))]
    columns += ["Montant", "Sens"] if signed_columns else []
    columns += ["ModeRglt"]
    header = [c.upper() if variant["upper"] else c for c in columns]
    end = separator if variant["trailing"] else ""

    def amount(cents: int) -> str:
        whole, fraction = divmod(cents, 100)
        text = f"{whole}{decimal}{fraction:02d}"
        return text.rjust(variant["padding"], "0")

    out = [separator.join(header) + end]
    for line in lines:
        signed = int(line["signed"])
        values = {
            key: (
                value.strftime("%Y%m%d") if isinstance(value, date) else "" if value is None else str(value)
            )
            for key, value in line.items()
        }
        values |= {"Debit": amount(max(signed, 0)), "Credit": amount(max(-signed, 0))}
        values |= {"Montant": amount(abs(signed)), "Sens": "D" if signed > 0 else "C", "ModeRglt": "VIR"}
        out.append(separator.join(values.get(c, "") for c in columns) + end)
    path.write_bytes(("\r\n" if variant["crlf"] else "\n").join(out).encode(variant["encoding"]) + b"\n")
    return path


VARIANT = st.fixed_dictionaries(
    {
        "separator": st.sampled_from(["\t", "|"]),
        "decimal": st.sampled_from([",", "."]),
        "signed": st.booleans(),
        "upper": st.booleans(),
        "trailing": st.booleans(),
        "padding": st.sampled_from([0, 15]),
        "crlf": st.booleans(),
        "encoding": st.sampled_from(["utf-8", "utf-8-sig", "iso-8859-15"]),
    }
)
PLAIN = {"separator": "|", "decimal": ",", "signed": False, "upper": False, "trailing": False, "padding": 0,
         "crlf": False, "encoding": "utf-8"}  # fmt: skip


@pytest.mark.unit
@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(entries=ledgers(), variant=VARIANT)
def test_any_variant_reads_to_the_same_lines_and_the_identity_holds_at_every_date(entries, variant):
    lines = rows(entries)
    with TemporaryDirectory() as folder:
        reference = read_fec(write(Path(folder) / "a.txt", lines, PLAIN), "FR9")
        read = read_fec(write(Path(folder) / "b.txt", lines, variant), "FR9")
    assert reference.failures == [] and read.failures == []
    for column in ("net", "account", "aux", "piece_ref", "letter", "EcritureDate", "DateLet"):
        assert read.lines[column].equals(reference.lines[column]), column

    ledger = customer_ledger(read.lines, ENTITY, "b.txt", {})
    customer = read.lines[read.lines["account"].str.startswith(("411", "416"))]
    for offset in range(0, 95, 5):
        day = START + timedelta(days=offset)
        upto = customer[customer["EcritureDate"] <= str(day)]
        balances = upto.groupby(upto["aux"].fillna(upto["account"]))["net"].sum()
        expected = {debtor: int(units) for debtor, units in balances.items() if units}
        assert {d: u for d, u in fec_open_by_debtor(ledger, day).items() if u} == expected, day
