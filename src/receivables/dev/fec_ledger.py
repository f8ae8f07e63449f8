"""A generated entity's ledger written as the FEC its accounting package would export (SPEC section 16).

The sample generator (``receivables.dev.generate``) hands a FEC entity's
documents and settlement lines to a ``FecLedger`` as it makes them, drop by
drop (a line re-sent with its document is the accountant's lettering); each
drop then holds the FEC of the fiscal year up to its date, as a package
exports it: sales with their revenue and VAT lines, receipts on the bank
account, bounced payments, credit notes, write-offs on 654, bank charges as
other entries, opening entries (à-nouveaux) on the first day of the year for
what the year before left open, and lettering with dates, partial where a
document is partly paid. The due date travels in ``DateRglt``, as packages
that export it write it. Nothing here draws a random number: the same seed
gives the same ledger whether an entity drops extracts or a FEC.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from receivables.ingest.fec import LEGAL_COLUMNS

COLUMNS = (*LEGAL_COLUMNS, "DateRglt")
BANK, REVENUE, OUTPUT_VAT, BAD_DEBT, BANK_CHARGES, OPENING = (
    "512000", "706000", "445710", "654000", "627000", "890000",
)  # fmt: skip
CUSTOMERS = "411000"
JOURNALS = {"AN": "A nouveaux", "VE": "Ventes", "BQ": "Banque", "OD": "Operations diverses"}


@dataclass
class _Row:
    row: dict[str, Any]  # the extract's row as the generator made it (Money amounts, dates)
    booking: int  # cents in the entity's currency
    matched: date | None = None  # a settlement line: the day it first named its document


def _cents(money: Any) -> int:
    return int(money.units)


def _amount(cents: int) -> str:
    whole, fraction = divmod(abs(cents), 100)
    return f"{whole},{fraction:02d}"


def _day(value: date | None) -> str:
    return value.strftime("%Y%m%d") if value else ""


def _letters(index: int) -> str:
    """A lettering code: A, B, ... Z, AA, AB, ... (as packages letter, per customer account)."""
    code = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        code = chr(65 + rest) + code
    return code


class FecLedger:
    """One entity's customer ledger as the generator makes it, written as a FEC at each drop."""

    def __init__(self, entity_code: str, currency: str, siren: str, names: dict[str, str]) -> None:
        self.entity_code = entity_code
        self.currency = currency
        self.siren = siren
        self.names = names  # debtor_id -> name (CompAuxLib)
        self.documents: dict[str, _Row] = {}
        self.lines: dict[tuple[str, int], _Row] = {}

    def document(self, row: dict[str, Any], booking: int) -> None:
        self.documents[row["document_id"]] = _Row(dict(row), booking)

    def line(self, row: dict[str, Any], booking: int, day: date) -> None:
        key = (row["settlement_id"], int(row["line_no"]))
        earlier = self.lines.get(key)
        matched = earlier.matched if earlier and earlier.matched else (day if row["document_id"] else None)
        if matched is not None and earlier is None:
            matched = row["settlement_date"]  # sent with its document: matched on its own date
        self.lines[key] = _Row(dict(row), booking, matched)

    def file_name(self, day: date) -> str:
        return f"{self.siren}FEC{day:%Y%m%d}.txt"

    def write(self, folder: Path, day: date, since: date | None = None) -> Path:
        """The FEC of the fiscal year (a calendar year) up to ``day``, in ``folder``; from ``since``
        instead when given (an entity's first drop: every year since its ledger began, one file)."""
        path = folder / self.file_name(day)
        folder.mkdir(parents=True, exist_ok=True)
        rows = self.rows(day, since)
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write("\t".join(COLUMNS) + "\r\n")
            for row in rows:
                handle.write("\t".join(row.get(column, "") for column in COLUMNS) + "\r\n")
        return path

    def rows(self, day: date, since: date | None = None) -> list[dict[str, str]]:
        """The FEC's lines up to ``day``: opening entries, sales, receipts and other entries, lettered."""
        year = since or date(day.year, 1, 1)
        documents = {
            key: doc
            for key, doc in self.documents.items()
            if doc.row["status"] != "cancelled" and doc.row["issue_date"] <= day
        }
        lines = [line for line in self.lines.values() if line.row["settlement_date"] <= day]
        # what the year before left: each document's balance, the lines not yet matched
        before = [line for line in lines if line.row["settlement_date"] < year]
        settled_before: dict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))
        for line in before:
            document = line.row["document_id"]
            if document and line.matched and line.matched < year:
                cents, booking = settled_before[document]
                settled_before[document] = (cents + _cents(line.row["amount"]), booking + line.booking)
        entries: list[tuple[date, str, str, list[dict[str, str]]]] = []  # (date, journal, piece, lines)
        customer_line: dict[str, dict[str, str]] = {}  # document_id -> its 411 line
        settlement_line: dict[
            tuple[str, int], dict[str, str]
        ] = {}  # (settlement_id, line_no) -> its 411 line
        opening: list[dict[str, str]] = []
        for key, doc in documents.items():
            row, sign = doc.row, -1 if doc.row["document_type"] == "credit_note" else 1
            if row["issue_date"] < year:
                cents, booking = settled_before[key]
                left, left_booking = sign * (_cents(row["amount"]) - cents), sign * (doc.booking - booking)
                if left == 0:
                    continue
                carried = self._customer(row, left_booking, left, row["currency"], row["issue_date"])
                carried["DateRglt"] = _day(row["due_date"])
                opening.append(carried)
                customer_line[key] = carried
                continue
            entries.append((row["issue_date"], "VE", key, self._sale(row, doc.booking, sign, customer_line)))
        unmatched: list[_Row] = []
        for line in lines:
            row = line.row
            if row["settlement_date"] < year:
                if not (line.matched and line.matched < year) and row["kind"] != "credit_note":
                    unmatched.append(line)  # unapplied at the year's end: an opening credit
                continue
            if row["kind"] != "credit_note":
                unmatched.append(line)
        for line in unmatched:
            row = line.row
            if row["settlement_date"] < year:
                cents, booking = -_cents(row["amount"]), -line.booking
                credit = self._customer(row, booking, cents, row["currency"], row["settlement_date"])
                credit["PieceRef"] = f"{row['settlement_id']}-{row['line_no']}"
                credit["DateRglt"] = _day(row["settlement_date"])
                opening.append(credit)
                settlement_line[(row["settlement_id"], int(row["line_no"]))] = credit
        if opening:
            total = sum(self._signed(line) for line in opening)
            opening.append(self._general(OPENING, -total, year, "BILAN"))
            entries.append((year, "AN", "RAN", opening))
        by_entry: dict[tuple[date, str, str], list[_Row]] = defaultdict(list)
        for line in unmatched:
            row = line.row
            if row["settlement_date"] < year:
                continue
            journal = "BQ" if row["kind"] in ("payment", "reversal") else "OD"
            by_entry[(row["settlement_date"], journal, row["settlement_id"] + "/" + row["kind"])].append(line)
        for (when, journal, piece), members in by_entry.items():
            entry = []
            for line in members:
                row = line.row
                customer = self._customer(row, -line.booking, -_cents(row["amount"]), row["currency"], when)
                customer["PieceRef"] = row["settlement_id"]
                settlement_line[(row["settlement_id"], int(row["line_no"]))] = customer
                entry.append(customer)
            counter = {"payment": BANK, "reversal": BANK, "write_off": BAD_DEBT, "adjustment": BANK_CHARGES}
            total = sum(self._signed(line) for line in entry)
            entry.append(self._general(counter[members[0].row["kind"]], -total, when, piece.split("/")[0]))
            entries.append((when, journal, piece, entry))
        self._letter(documents, lines, customer_line, settlement_line, year)
        return self._numbered(entries)

    def _customer(
        self, row: dict[str, Any], booking: int, cents: int, currency: str, when: date
    ) -> dict[str, str]:
        """A line on the customer account: debit when ``booking`` is positive."""
        debtor = row["debtor_id"]
        line = {
            "CompteNum": CUSTOMERS,
            "CompteLib": "Clients",
            "CompAuxNum": debtor,
            "CompAuxLib": self.names.get(debtor, debtor),
            "PieceRef": row.get("document_id") or "",
            "PieceDate": _day(row.get("issue_date") or when),
            "EcritureLib": f"{row.get('document_type') or row.get('kind')} {debtor}",
            "Debit": _amount(booking) if booking > 0 else "0,00",
            "Credit": _amount(booking) if booking < 0 else "0,00",
        }
        if currency != self.currency:
            line |= {"Montantdevise": _amount(cents), "Idevise": currency}
        return line

    @staticmethod
    def _general(account: str, booking: int, when: date, piece: str) -> dict[str, str]:
        return {
            "CompteNum": account,
            "CompteLib": account,
            "PieceRef": piece,
            "PieceDate": _day(when),
            "EcritureLib": piece,
            "Debit": _amount(booking) if booking > 0 else "0,00",
            "Credit": _amount(booking) if booking < 0 else "0,00",
        }

    @staticmethod
    def _signed(line: dict[str, str]) -> int:
        debit, credit = (int(line[c].replace(",", "")) for c in ("Debit", "Credit"))
        return debit - credit

    def _sale(
        self, row: dict[str, Any], booking: int, sign: int, customer_line: dict[str, dict[str, str]]
    ) -> list[dict[str, str]]:
        """An invoice (or credit note): the customer's line, revenue and VAT on the other side."""
        customer = self._customer(
            row, sign * booking, sign * _cents(row["amount"]), row["currency"], row["issue_date"]
        )
        customer["DateRglt"] = _day(row["due_date"])
        customer_line[row["document_id"]] = customer
        amount = _cents(row["amount"])
        excl = _cents(row["amount_excl_tax"]) if row.get("amount_excl_tax") is not None else amount
        revenue = round(booking * excl / amount) if amount else booking
        piece = row["document_id"]
        return [
            customer,
            self._general(REVENUE, -sign * revenue, row["issue_date"], piece),
            self._general(OUTPUT_VAT, -sign * (booking - revenue), row["issue_date"], piece),
        ]

    def _letter(
        self,
        documents: dict[str, _Row],
        lines: list[_Row],
        customer_line: dict[str, dict[str, str]],
        settlement_line: dict[tuple[str, int], dict[str, str]],
        year: date,
    ) -> None:
        """Letter each document with the lines that settle it, dated when each was matched."""
        settling: dict[str, list[_Row]] = defaultdict(list)
        for line in lines:
            document = line.row["document_id"]
            if document and line.matched:
                settling[document].append(line)
        codes: dict[str, int] = defaultdict(int)
        for document, members in settling.items():
            invoice = customer_line.get(document)
            if invoice is None or documents[document].row["document_type"] == "credit_note":
                continue
            lettered: list[tuple[dict[str, str], date]] = []
            for line in members:
                row = line.row
                if line.matched is None or (row["settlement_date"] < year and line.matched < year):
                    continue  # carried in the opening balance
                if row["kind"] == "credit_note":
                    pair = self.lines.get((row["settlement_id"], 3 - int(row["line_no"])))
                    own = customer_line.get(pair.row["document_id"]) if pair else None
                    if own is not None:
                        lettered.append((own, line.matched))
                elif (
                    written := settlement_line.get((row["settlement_id"], int(row["line_no"])))
                ) is not None:
                    lettered.append((written, line.matched))
            if not lettered:
                continue
            debtor = documents[document].row["debtor_id"]
            code = _letters(codes[debtor])
            codes[debtor] += 1
            last = max(matched for _, matched in lettered)
            invoice |= {"EcritureLet": code, "DateLet": _day(last)}
            for fec_line, matched in lettered:
                fec_line |= {"EcritureLet": code, "DateLet": _day(max(matched, year))}

    def _numbered(self, entries: list[tuple[date, str, str, list[dict[str, str]]]]) -> list[dict[str, str]]:
        numbers: dict[str, int] = defaultdict(int)
        rows = []
        for when, journal, _, entry in sorted(entries, key=lambda e: (e[0], e[1], e[2])):
            numbers[journal] += 1
            for line in entry:
                rows.append(
                    {
                        "JournalCode": journal,
                        "JournalLib": JOURNALS[journal],
                        "EcritureNum": str(numbers[journal]),
                        "EcritureDate": _day(when),
                        "ValidDate": _day(when),
                    }
                    | line
                )
        return rows
