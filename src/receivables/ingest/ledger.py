"""A FEC's customer lines as the warehouse's documents and settlement lines (SPEC section 16).

``customer_ledger`` turns the typed lines of ``receivables.ingest.fec`` into
the rows of the invoices, payments and debtors extracts, as text in the
default dialect (ISO dates, decimal point), each row numbered with the FEC
line it comes from, so that landing validates and stages them like any
drop's and every failure names the FEC's line.

- A customer line is a line on a customer account (the registry's prefixes);
  its debtor is CompAuxNum, else CompteNum.
- What it is follows from the other lines of its entry: a loss on bad debts
  (654, 6714) makes a write-off, revenue (7) or output VAT (4457) a sale, a
  bank, cash or cheque account (512, 53, 511) a receipt; an opening entry
  (journal AN, ANO, RAN, OUV, or dated the file's first day with equity or
  opening-balance accounts and no income or expense) gives documents.
- Lettering is the allocation: within a group (CompteNum, CompAuxNum,
  EcritureLet, joined across a transfer between customer accounts), the
  credits settle the debits, oldest due date first, each from the date its
  match was made (``matched_on``: the credit's DateLet, else the group's
  latest DateLet, else the group's latest entry; never before the document
  it settles was issued).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from receivables.errors import WARNING, Failure
from receivables.ingest.fec import UNITS, format_units
from receivables.ingest.suites import ROW_COLUMN
from receivables.registry import Entity

REVENUE_ACCOUNTS = ("7", "4457")
BANK_ACCOUNTS = ("512", "53", "511")
LOSS_ACCOUNTS = ("654", "6714")
OPENING_BALANCE_ACCOUNTS = ("1", "89")  # equity, bilan d'ouverture
INCOME_OR_EXPENSE = ("6", "7")
OPENING_JOURNALS = frozenset({"AN", "ANO", "RAN", "OUV", "A-N", "ANX"})
MAX_WARNINGS_LISTED = 50
# the extract whose row a FEC's warning names (its line is a row of several: landing.py)
WARNED_EXTRACTS = {
    "registration_id_missing": "debtors",
    "opening_balance_aggregated": "invoices",
    "lettering_partial": "invoices",
}

# the raw-layer columns of a FEC's rows that an extract does not have (receivables.warehouse.store)
DUE_DATE_SOURCE = "due_date_source"  # fec (DateRglt), terms (debtors.csv), default (the registry's)
MATCHED_ON = "matched_on"  # the lettering's date: before it, the line is unapplied cash


@dataclass(frozen=True)
class KnownDebtor:
    """What debtors.csv says of a debtor that a FEC needs: its terms, and whether it is identified."""

    payment_terms_days: int | None
    registered: bool


@dataclass
class CustomerLedger:
    """The rows a FEC gives, as text frames of the extracts' columns plus ROW_COLUMN (the FEC line)."""

    invoices: pd.DataFrame
    payments: pd.DataFrame
    debtors: pd.DataFrame  # debtors the FEC names and debtors.csv does not
    warnings: list[Failure] = field(default_factory=list)
    first_entry_date: date | None = None
    last_entry_date: date | None = None


INVOICE_COLUMNS = [
    "document_id", "document_type", "debtor_id", "issue_date", "due_date", "currency", "amount",
    "amount_excl_tax", "disputed", "status", ROW_COLUMN, DUE_DATE_SOURCE,
]  # fmt: skip
PAYMENT_COLUMNS = [
    "settlement_id", "line_no", "debtor_id", "document_id", "settlement_date", "currency", "amount", "kind",
    ROW_COLUMN, MATCHED_ON,
]  # fmt: skip
DEBTOR_COLUMNS = ["debtor_id", "name", "country", ROW_COLUMN]
# emit(credit, line_no, document_id, units, kind, matched day): one settlement line of a credit
Emit = Callable[[Any, int, "str | None", int, str, int], None]


def _starts(accounts: pd.Series, prefixes: tuple[str, ...]) -> pd.Series:
    return accounts.str.startswith(prefixes).fillna(False).astype(bool)


def _entry_kinds(lines: pd.DataFrame, first_date: pd.Timestamp) -> pd.Series:
    """Each entry's kind (opening, write_off, sale, receipt, other), indexed by entry number."""
    account = lines["account"]
    flags = pd.DataFrame(
        {
            "entry": lines["entry"],
            "revenue": _starts(account, REVENUE_ACCOUNTS),
            "bank": _starts(account, BANK_ACCOUNTS),
            "loss": _starts(account, LOSS_ACCOUNTS),
            "opening_accounts": _starts(account, OPENING_BALANCE_ACCOUNTS),
            "income_or_expense": _starts(account, INCOME_OR_EXPENSE),
            "opening_journal": lines["journal"].str.upper().isin(OPENING_JOURNALS),
            "first_day": lines["EcritureDate"] == first_date,
        }
    ).groupby("entry")
    any_of = flags.any()
    opening = any_of["opening_journal"] | (
        flags["first_day"].all() & any_of["opening_accounts"] & ~any_of["income_or_expense"]
    )
    kinds = np.select(
        [opening, any_of["loss"], any_of["revenue"], any_of["bank"]],
        ["opening", "write_off", "sale", "receipt"],
        "other",
    )
    return pd.Series(kinds, index=any_of.index)


def _iso(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%Y-%m-%d").where(values.notna(), None)


def _amount_texts(units: pd.Series) -> pd.Series:
    """Ten-thousandths as decimal texts with two decimals at least (format_units, for a column at once)."""
    missing = units.isna().to_numpy()
    values = units.fillna(0).to_numpy(dtype="int64")
    magnitude = np.abs(values)
    whole = (magnitude // UNITS).astype(str)
    fraction = pd.Series(magnitude % UNITS).astype(str).str.zfill(4)
    cents_only = magnitude % 100 == 0
    decimals = np.where(cents_only, fraction.str[:2], fraction.str.rstrip("0")).astype(str)
    text = np.char.add(np.char.add(np.where(values < 0, "-", ""), whole), np.char.add(".", decimals))
    written = pd.Series(text, index=units.index, dtype=object)
    return written.mask(pd.Series(missing, index=units.index), None)


class _Groups:
    """Lettering groups, joined when a transfer between customer accounts carries an item across."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, group: int) -> int:
        root = group
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(group, group) != root:
            self.parent[group], group = root, self.parent[group]
        return root

    def join(self, groups: list[int]) -> None:
        roots = sorted({self.find(g) for g in groups})
        for other in roots[1:]:
            self.parent[other] = roots[0]


def customer_ledger(
    lines: pd.DataFrame, entity: Entity, file_name: str, known: dict[str, KnownDebtor]
) -> CustomerLedger:
    """The documents, settlement lines and new debtors of a FEC's customer lines (SPEC section 16)."""
    if lines.empty:
        empty = CustomerLedger(
            pd.DataFrame(columns=INVOICE_COLUMNS), pd.DataFrame(columns=PAYMENT_COLUMNS),
            pd.DataFrame(columns=DEBTOR_COLUMNS),
        )  # fmt: skip
        return empty
    lines = lines.copy()
    lines["entry"] = lines.groupby(["journal", "number"], sort=False).ngroup()
    first_date = lines["EcritureDate"].min()
    kinds = _entry_kinds(lines, first_date)
    customer = lines[_starts(lines["account"], entity.fec.customer_accounts)].copy()
    customer["kind"] = customer["entry"].map(kinds)
    customer["debtor_id"] = customer["aux"].fillna(customer["account"])
    customer["debtor_name"] = (
        customer["aux_label"].fillna(customer["account_label"]).fillna(customer["debtor_id"])
    )
    customer["debit"] = customer["net"] > 0
    warnings: list[Failure] = []

    debtors = _debtors(customer, entity, file_name, known, warnings)
    customer = customer[customer["net"] != 0]
    customer["transfer"] = _transfers(customer)
    # the amount in the document's currency: Montantdevise in Idevise for a line in another currency
    foreign = (
        customer["currency"].notna()
        & (customer["currency"] != entity.currency)
        & customer["currency_amount"].notna()
        & (customer["currency_amount"] > 0)
    ).astype(bool)
    customer["doc_currency"] = customer["currency"].where(foreign, entity.currency)
    customer["units"] = customer["currency_amount"].where(foreign, customer["net"].abs()).astype("int64")
    is_document = customer["kind"].isin(["opening", "sale"]) | (
        customer["kind"].isin(["write_off", "other"]) & customer["debit"]
    )
    customer["role"] = np.where(
        customer["transfer"], "transfer", np.where(is_document, "document", "settlement")
    )
    documents = _documents(
        customer[customer["role"] == "document"], lines, entity, known, first_date, file_name, warnings
    )
    customer = customer.join(documents[["document_id", "_due", "issue_date"]], how="left")
    payments = _allocate(customer, entity.code, file_name, warnings)
    return CustomerLedger(
        invoices=documents[INVOICE_COLUMNS].reset_index(drop=True),
        payments=payments,
        debtors=debtors,
        warnings=warnings,
        first_entry_date=first_date.date(),
        last_entry_date=lines["EcritureDate"].max().date(),
    )


def _debtors(
    customer: pd.DataFrame,
    entity: Entity,
    file_name: str,
    known: dict[str, KnownDebtor],
    warnings: list[Failure],
) -> pd.DataFrame:
    """A debtors row for each debtor of the FEC that debtors.csv does not give, and its warning."""
    named = customer.drop_duplicates("debtor_id")
    unknown = named[~named["debtor_id"].isin(list(known))]
    listed = unknown.head(MAX_WARNINGS_LISTED)
    message = (
        "expected the debtor in debtors.csv with its registration id (SIREN, SIRET, VAT number or LEI): "
        "a FEC carries none, so it lands as its own consolidated debtor"
    )
    for line, debtor in zip(listed["line"], listed["debtor_id"], strict=True):
        warnings.append(
            Failure(
                entity.code, file_name, "registration_id_missing", message,
                row=int(line), column="CompAuxNum", found=debtor, severity=WARNING,
            )
        )  # fmt: skip
    if len(unknown) > len(listed):
        more = len(unknown) - len(listed)
        warnings.append(
            Failure(
                entity.code, file_name, "registration_id_missing", f"{message}: {more} more debtors",
                column="CompAuxNum", severity=WARNING, items=more,
            )
        )  # fmt: skip
    return pd.DataFrame(
        {
            "debtor_id": unknown["debtor_id"],
            "name": unknown["debtor_name"],
            "country": entity.country,
            ROW_COLUMN: unknown["line"],
        }
    ).reset_index(drop=True)


def _transfers(customer: pd.DataFrame) -> pd.Series:
    """Lines moving a debtor's item between customer accounts (411 to 416) in an entry of no other kind:
    the debtor's lines of the entry sit on two accounts or more and net to zero. They move nothing."""
    other = customer[customer["kind"] == "other"]
    by_debtor = other.groupby(["entry", "debtor_id"], sort=False).agg(
        accounts=("account", "nunique"), net=("net", "sum")
    )
    moving = by_debtor[(by_debtor["accounts"] > 1) & (by_debtor["net"] == 0)].index
    keys = pd.MultiIndex.from_frame(customer[["entry", "debtor_id"]])
    return pd.Series(keys.isin(moving), index=customer.index)


def _documents(
    lines: pd.DataFrame,
    all_lines: pd.DataFrame,
    entity: Entity,
    known: dict[str, KnownDebtor],
    first_date: pd.Timestamp,
    file_name: str,
    warnings: list[Failure],
) -> pd.DataFrame:
    """The invoices and credit notes of the customer lines that are documents, with their due dates."""
    documents = lines.copy()
    # an opening line with no piece of its own: the same PieceRef for several debtors, or none
    refs_debtors = documents.groupby(["entry", "piece_ref"])["debtor_id"].transform("nunique")
    aggregated = (documents["kind"] == "opening") & (documents["piece_ref"].isna() | (refs_debtors > 1))
    ref_count = documents.groupby("piece_ref")["piece_ref"].transform("size")
    unique_ref = documents["piece_ref"].notna() & (ref_count == 1) & ~aggregated
    fallback = documents["journal"] + "-" + documents["number"] + "-" + documents["line"].astype(str)
    documents["document_id"] = documents["piece_ref"].where(unique_ref, fallback)
    documents["document_type"] = np.where(documents["debit"], "invoice", "credit_note")
    issue = documents["PieceDate"].fillna(documents["EcritureDate"]).mask(aggregated, first_date)
    terms = documents["debtor_id"].map(
        {debtor: k.payment_terms_days for debtor, k in known.items() if k.payment_terms_days is not None}
    )
    fec_due = documents["DateRglt"] if "DateRglt" in documents else pd.Series(pd.NaT, index=documents.index)
    days = terms.fillna(entity.fec.default_terms_days).astype("int64")
    documents["due_date"] = fec_due.where(fec_due.notna(), issue + pd.to_timedelta(days, unit="D"))
    documents[DUE_DATE_SOURCE] = np.where(fec_due.notna(), "fec", np.where(terms.notna(), "terms", "default"))
    documents["issue_date"] = issue
    # HT: the revenue lines of a sale entry with one customer line, in the booking currency
    sale = all_lines[_starts(all_lines["account"], ("7",))].groupby("entry")["net"].sum().abs()
    customer_lines = lines.groupby("entry")["line"].transform("size")
    excl = (
        documents["entry"]
        .map(sale)
        .where(
            (documents["kind"] == "sale")
            & (customer_lines == 1)
            & (documents["doc_currency"] == entity.currency)
        )
    )
    documents["amount_excl_tax"] = _amount_texts(excl.where(excl <= documents["units"]))
    for line, ref, units in zip(
        documents.loc[aggregated, "line"].head(MAX_WARNINGS_LISTED),
        documents.loc[aggregated, "piece_ref"],
        documents.loc[aggregated, "units"],
        strict=False,
    ):
        warnings.append(
            Failure(
                entity.code, file_name, "opening_balance_aggregated",
                "expected an opening entry per open document: this customer's opening balance is one line, "
                f"landed as a document dated the file's first day ({first_date.date()}); its true age is unknown",
                row=int(line), column="PieceRef", found=f"{ref or ''} {format_units(units)}".strip(), severity=WARNING,
            )
        )  # fmt: skip
    documents["currency"] = documents["doc_currency"]
    documents["amount"] = _amount_texts(documents["units"])
    documents["_due"] = documents["due_date"]  # kept as a date for the allocation's order
    documents["issue_date"] = _iso(documents["issue_date"])
    documents["due_date"] = _iso(documents["due_date"])
    documents["disputed"] = None
    documents["status"] = None
    documents[ROW_COLUMN] = documents["line"]
    return documents


class Member(NamedTuple):
    """A customer line as the allocation reads it: dates as day numbers (days since 1970-01-01)."""

    group: int
    settlement_id: str
    line: int
    debtor_id: str
    day: int
    letter_day: int  # DateLet, or NO_DAY
    currency: str
    units: int
    kind: str
    role: str
    debit: bool
    document_id: str | None
    due: int
    issue: int


NO_DAY = -(10**9)
SETTLEMENT_KINDS = {"receipt": "payment", "write_off": "write_off", "other": "adjustment"}


def _days(values: pd.Series) -> np.ndarray:
    """Dates as day numbers, NO_DAY where missing."""
    array = values.to_numpy(dtype="datetime64[D]")
    return np.where(np.isnat(array), NO_DAY, array.astype("int64"))


def _allocate(
    customer: pd.DataFrame, entity_code: str, file_name: str, warnings: list[Failure]
) -> pd.DataFrame:
    """The settlement lines: the lettering groups' allocations, and every unmatched credit as it stands."""
    lettered = customer["letter"].notna().to_numpy()
    keys = customer.loc[lettered, ["account", "aux", "letter"]].fillna("")
    group_ids = np.full(len(customer), -1, dtype=np.int64)
    group_ids[lettered] = keys.groupby(["account", "aux", "letter"], sort=False).ngroup().to_numpy()
    moving = customer["transfer"].to_numpy() & lettered
    if moving.any():  # a transfer joins the groups it belongs to (411's and 416's)
        groups = _Groups()
        linked = pd.Series(group_ids[moving]).groupby(
            [customer["entry"].to_numpy()[moving], customer["debtor_id"].to_numpy()[moving]]
        )
        for _, members in linked:
            groups.join(list(members))
        roots = np.arange(group_ids.max() + 1)
        for group in list(groups.parent):
            roots[group] = groups.find(group)
        group_ids = np.where(group_ids >= 0, roots[np.maximum(group_ids, 0)], -1)
    customer = customer.assign(
        group=group_ids,
        settlement_id=customer["journal"] + "-" + customer["number"] + "-" + customer["line"].astype(str),
    )
    payments = [_lone(customer[(group_ids < 0) & (customer["role"] == "settlement").to_numpy()])]

    grouped = customer[group_ids >= 0]
    totals = grouped.groupby("group")["net"].sum()
    partial = totals[totals != 0]
    if len(partial):
        firsts = grouped[grouped["group"].isin(partial.index)].drop_duplicates("group").set_index("group")
        for group, net in partial.head(MAX_WARNINGS_LISTED).items():
            first = firsts.loc[group]
            warnings.append(
                Failure(
                    entity_code, file_name, "lettering_partial",
                    "expected a lettering group to sum to zero: it was matched in part, and what it leaves is "
                    "open on its newest debit (or unapplied when its credits exceed its debits)",
                    row=int(first["line"]), column="EcritureLet",
                    found=f"{first['letter']} on {first['account']} {first['debtor_id']}: {format_units(net)}",
                    severity=WARNING,
                )
            )  # fmt: skip
        if len(partial) > MAX_WARNINGS_LISTED:
            more = len(partial) - MAX_WARNINGS_LISTED
            warnings.append(
                Failure(
                    entity_code, file_name, "lettering_partial",
                    f"expected a lettering group to sum to zero: {more} more groups matched in part",
                    column="EcritureLet", severity=WARNING, items=more,
                )
            )  # fmt: skip
    grouped = grouped[grouped["role"] != "transfer"]
    members = _members(grouped)
    order = sorted(range(len(members)), key=lambda i: (members[i].group, members[i].day, members[i].line))
    rows: list[tuple[Any, ...]] = []

    def emit(
        credit: Member, line_no: int, document_id: str | None, units: int, kind: str, matched: int
    ) -> None:
        rows.append(
            (credit.settlement_id, line_no, credit.debtor_id, document_id, credit.day, credit.currency, units,
             kind, credit.line, matched)
        )  # fmt: skip

    ordered = [members[i] for i in order]
    for _, in_group in itertools.groupby(ordered, key=lambda member: member.group):
        _allocate_group(list(in_group), emit)
    allocated = pd.DataFrame.from_records(rows, columns=PAYMENT_COLUMNS)
    allocated["settlement_date"] = _dates_of(allocated["settlement_date"])
    allocated[MATCHED_ON] = _dates_of(allocated[MATCHED_ON])
    allocated["amount"] = _amount_texts(allocated["amount"])
    payments.append(allocated)
    result = (
        pd.concat([frame for frame in payments if len(frame)], ignore_index=True)
        if any(len(frame) for frame in payments)
        else pd.DataFrame(columns=PAYMENT_COLUMNS)
    )
    result["line_no"] = result["line_no"].astype(str)
    return result[PAYMENT_COLUMNS]


def _members(grouped: pd.DataFrame) -> list[Member]:
    columns = [
        grouped["group"].tolist(),
        grouped["settlement_id"].tolist(),
        grouped["line"].tolist(),
        grouped["debtor_id"].tolist(),
        _days(grouped["EcritureDate"]).tolist(),
        _days(grouped["DateLet"]).tolist(),
        grouped["doc_currency"].tolist(),
        grouped["units"].tolist(),
        grouped["kind"].tolist(),
        grouped["role"].tolist(),
        grouped["debit"].tolist(),
        grouped["document_id"].where(grouped["document_id"].notna(), None).tolist(),
        _days(grouped["_due"]).tolist(),
        _days(pd.to_datetime(grouped["issue_date"])).tolist(),
    ]
    return list(map(Member._make, zip(*columns, strict=True)))


def _dates_of(days: pd.Series) -> pd.Series:
    """ISO dates of day numbers (None for NO_DAY)."""
    values = days.to_numpy(dtype="int64")
    dates = pd.Series(values.astype("datetime64[D]"), index=days.index)
    return _iso(dates.where(values != NO_DAY))


def _lone(lone: pd.DataFrame) -> pd.DataFrame:
    """Unlettered settlement lines: unapplied cash of their own dates (a bounced payment negative)."""
    debit = lone["debit"].to_numpy()
    units = lone["units"].to_numpy(dtype="int64")
    return pd.DataFrame(
        {
            "settlement_id": lone["settlement_id"],
            "line_no": 1,
            "debtor_id": lone["debtor_id"],
            "document_id": None,
            "settlement_date": _iso(lone["EcritureDate"]),
            "currency": lone["doc_currency"],
            "amount": _amount_texts(pd.Series(np.where(debit, -units, units), index=lone.index)),
            "kind": np.where(debit, "reversal", lone["kind"].map(SETTLEMENT_KINDS)),
            ROW_COLUMN: lone["line"],
            MATCHED_ON: None,
        }
    )


def _unapplied(emit: Emit, credit: Member, line_no: int, units: int) -> None:
    """What a credit (or a reversal) of a group leaves: unapplied cash of its own date."""
    if credit.debit:  # a receipt's debit: a bounced payment, raising what the debtor owes
        emit(credit, line_no, None, -units, "reversal", NO_DAY)
    else:
        emit(credit, line_no, None, units, SETTLEMENT_KINDS[credit.kind], NO_DAY)


def _allocate_group(members: list[Member], emit: Emit) -> None:
    """One lettering group: its credits, in date order, settle its debits, oldest due date first.

    A reversal (a receipt's debit) takes back what the latest applications
    settled. What the credits leave unapplied is unapplied cash (a credit
    note stays an open credit document); what the debits keep is open.
    Lines in another currency than the group's debits settle nothing. Each
    application settles from its match: the credit's own DateLet, else the
    group's latest, else the group's latest line; never before the
    document it settles was issued.
    """
    letter_days = [m.letter_day for m in members if m.letter_day != NO_DAY]
    group_day = max(letter_days) if letter_days else max(m.day for m in members)
    debits = sorted(
        (m for m in members if m.role == "document" and m.debit), key=lambda m: (m.due, m.issue, m.line)
    )
    currency = debits[0].currency if debits else None
    remaining = [m.units for m in debits]
    position = 0
    applied: list[list[int]] = []  # [debit index, units] in the order applied, for reversals to take back
    for credit in members:
        if credit.role == "document" and credit.debit:
            continue
        matched = credit.letter_day if credit.letter_day != NO_DAY else group_day
        if currency is None or credit.currency != currency:
            if credit.role == "settlement":
                _unapplied(emit, credit, 1, credit.units)
            continue
        line_no = 0
        if credit.role == "settlement" and credit.debit:  # a reversal
            left = credit.units
            while left and applied:
                index, units = applied[-1]
                back = min(left, units)
                line_no += 1
                debit = debits[index]
                emit(credit, line_no, debit.document_id, -back, "reversal", max(matched, debit.issue))
                remaining[index] += back
                position = min(position, index)
                left -= back
                applied[-1][1] -= back
                if applied[-1][1] == 0:
                    applied.pop()
            if left:
                _unapplied(emit, credit, line_no + 1, left)
            continue
        left = credit.units
        while left and position < len(remaining):
            take = min(left, remaining[position])
            if take:
                debit = debits[position]
                on = max(matched, debit.issue, credit.issue if credit.role == "document" else NO_DAY)
                if credit.role == "document":  # a credit note: one line on the invoice, one on itself
                    emit(credit, line_no + 1, debit.document_id, take, "credit_note", on)
                    emit(credit, line_no + 2, credit.document_id, take, "credit_note", on)
                    line_no += 2
                else:
                    line_no += 1
                    emit(credit, line_no, debit.document_id, take, SETTLEMENT_KINDS[credit.kind], on)
                remaining[position] -= take
                left -= take
                applied.append([position, take])
            if remaining[position] == 0:
                position += 1
        if left and credit.role == "settlement":
            _unapplied(emit, credit, line_no + 1, left)
