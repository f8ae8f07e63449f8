"""An independent reading of SPEC.md, in plain Python with Decimal, for end-to-end checks.

It reads the landed files itself (csv module, the registry YAML) and shares no
code with the package or the dbt models, so a figure that both agree on was
computed twice, two different ways.
"""

from __future__ import annotations

import calendar
import csv
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import yaml

CENT = Decimal("0.01")
KEYS = {
    "debtors": ("debtor_id",),
    "invoices": ("document_id",),
    "payments": ("settlement_id", "line_no"),
    "risk_ratings": ("debtor_id", "provider", "rated_at"),
}
BUCKETS = [
    ("not_due", None, 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-120", 91, 120),
    ("over_120", 121, None),
]


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def consolidated_id(registration: str | None, entity: str, debtor: str) -> str:
    text = re.sub(r"[\s.\-]", "", registration or "").upper()
    if not text:
        return f"{entity}:{debtor}"
    if re.fullmatch(r"\d{14}", text):
        return text[:9]
    if re.fullmatch(r"FR[0-9A-Z]{2}\d{9}", text):
        return text[-9:]
    return text


@dataclass
class Ledger:
    """The raw layer as the oracle sees it: per entity, rows by key, latest extract wins."""

    entities: dict[str, dict[str, str]]
    rows: dict[tuple[str, str], dict[tuple[str, ...], dict[str, str]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    fx: dict[tuple[date, str], Decimal] = field(default_factory=dict)

    @classmethod
    def read(cls, landing: Path, registry: Path, through: date) -> Ledger:
        document = yaml.safe_load(registry.read_text(encoding="utf-8"))
        entities = {e["code"]: e for e in document["entities"]}
        ledger = cls(entities=entities)
        for code, entity in entities.items():
            dialect = entity.get("csv") or {}
            for drop in sorted((landing / code).iterdir()):
                if date.fromisoformat(drop.name) > through:
                    continue
                for name, key in KEYS.items():
                    with (drop / f"{name}.csv").open(
                        encoding=dialect.get("encoding", "utf-8"), newline=""
                    ) as handle:
                        for row in csv.DictReader(handle, delimiter=dialect.get("delimiter", ",")):
                            row = {k: (v.strip() or None) for k, v in row.items()}
                            ledger.rows[(code, name)][tuple(row[k] for k in key)] = row | {
                                "_dialect": dialect
                            }
        for drop in sorted((landing / "_group").iterdir()):
            if date.fromisoformat(drop.name) > through:
                continue
            with (drop / "fx_rates.csv").open(encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    ledger.fx[(date.fromisoformat(row["rate_date"]), row["currency"])] = Decimal(
                        row["units_per_eur"]
                    )
        return ledger

    @staticmethod
    def day(row: dict, column: str) -> date | None:
        value = row[column]
        if value is None:
            return None
        return datetime.strptime(value, row["_dialect"].get("date_format", "%Y-%m-%d")).date()

    @staticmethod
    def money(row: dict, column: str) -> Decimal:
        return Decimal(row[column].replace(row["_dialect"].get("decimal", "."), "."))

    def rate(self, currency: str, on: date) -> Decimal:
        if currency == "EUR":
            return Decimal(1)
        for back in range(8):
            found = self.fx.get((on - timedelta(days=back), currency))
            if found is not None:
                return found
        raise LookupError(f"no rate for {currency} at {on}")

    def open_items(self, t: date) -> list[dict]:
        items = []
        for code in self.entities:
            debtors = {k[0]: r for k, r in self.rows[(code, "debtors")].items()}
            settled: dict[str, Decimal] = defaultdict(Decimal)
            unapplied = []
            for row in self.rows[(code, "payments")].values():
                if self.day(row, "settlement_date") > t:
                    continue
                if row["document_id"]:
                    settled[row["document_id"]] += self.money(row, "amount")
                else:
                    unapplied.append(row)
            for row in self.rows[(code, "invoices")].values():
                if row["status"] == "cancelled" or self.day(row, "issue_date") > t:
                    continue
                sign = -1 if row["document_type"] == "credit_note" else 1
                open_amount = sign * (self.money(row, "amount") - settled[row["document_id"]])
                if open_amount:
                    items.append(
                        self._item(
                            code,
                            row["document_id"],
                            debtors[row["debtor_id"]],
                            row["currency"],
                            open_amount,
                            self.day(row, "due_date"),
                            t,
                            row["disputed"] == "true",
                        )
                    )
            for row in unapplied:
                items.append(
                    self._item(
                        code,
                        f"{row['settlement_id']}#{row['line_no']}",
                        debtors[row["debtor_id"]],
                        row["currency"],
                        -self.money(row, "amount"),
                        self.day(row, "settlement_date"),
                        t,
                        False,
                    )
                )
        return items

    def _item(
        self,
        code: str,
        document: str,
        debtor: dict,
        currency: str,
        open_amount: Decimal,
        due: date,
        t: date,
        disputed: bool,
    ) -> dict:
        entity_currency = self.entities[code]["currency"]
        eur = cents(open_amount / self.rate(currency, t))
        local = (
            cents(open_amount) if currency == entity_currency else cents(eur * self.rate(entity_currency, t))
        )
        parent = (
            consolidated_id(debtor["parent_registration_id"], "", "")
            if debtor["parent_registration_id"]
            else None
        )
        company = consolidated_id(debtor["registration_id"], code, debtor["debtor_id"])
        return {
            "entity": code,
            "document": document,
            "debtor": company,
            "parent": parent,
            "currency": currency,
            "open": open_amount,
            "eur": eur,
            "local": local,
            "dpd": (t - due).days,
            "disputed": disputed,
            "intercompany": debtor["intercompany_entity"] is not None,
        }


def bucket_of(days: int) -> str:
    for name, low, high in BUCKETS:
        if (low is None or days >= low) and (high is None or days <= high):
            return name
    raise ValueError(days)


def debtor_groups(items: list[dict]) -> dict[str, str]:
    """Consolidated debtor -> group: the greatest parent named on any account, else itself."""
    parents: dict[str, str | None] = {}
    for item in items:
        current = parents.get(item["debtor"])
        if item["parent"] and (current is None or item["parent"] > current):
            parents[item["debtor"]] = item["parent"]
        else:
            parents.setdefault(item["debtor"], current)
    return {debtor: parent or debtor for debtor, parent in parents.items()}


def concentration(exposures: dict[str, Decimal]) -> dict:
    positive = sorted((v for v in exposures.values() if v > 0), reverse=True)
    total = sum(positive, Decimal(0))
    shares = [v / total for v in positive]
    cumulative, groups_for_80 = Decimal(0), None
    for rank, share in enumerate(shares, start=1):
        cumulative += share
        if groups_for_80 is None and cumulative >= Decimal("0.8"):
            groups_for_80 = rank
    return {
        "total": total,
        "hhi": sum((s * 100) ** 2 for s in shares),
        "top10": sum(shares[:10]),
        "groups_for_80": groups_for_80,
    }


def countback(
    encours: Decimal, monthly_sales: list[tuple[Decimal, int]], history_months: int | None = None
) -> Decimal | None:
    """SPEC section 7, month by month from the newest; the cap gives all the months' days.

    ``history_months``: how many of the months (newest first) hold data, the
    first month with sales the last of them. A walk that passes it with
    encours left is unknown (None, history_too_short; SPEC section 7 amended).
    """
    if encours <= 0:
        return Decimal(0)
    remainder, days = encours, Decimal(0)
    for index, (sales, month_days) in enumerate(monthly_sales):
        if history_months is not None and index >= history_months:
            return None
        if remainder <= sales:
            return days + remainder / sales * month_days
        remainder -= sales
        days += month_days
    return days


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def group_dso(ledger: Ledger, m: date, months: int = 24) -> tuple[Decimal, Decimal | None]:
    """(net encours in EUR, countback days) of the group at month end m, external debtors only.

    Balances and sales are converted per entity and currency at m's closing rate.
    The countback is None when it walks past the group's first month with sales.
    """
    items = [i for i in ledger.open_items(m) if not i["intercompany"]]
    balances: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for item in items:
        balances[(item["entity"], item["currency"])] += item["open"]
    encours = sum((cents(v / ledger.rate(c, m)) for (_, c), v in balances.items()), Decimal(0))
    monthly: list[tuple[Decimal, int]] = []
    year, month = m.year, m.month
    for _ in range(months):
        start, end = date(year, month, 1), month_end(year, month)
        sales: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for code in ledger.entities:
            debtors = {k[0]: r for k, r in ledger.rows[(code, "debtors")].items()}
            for row in ledger.rows[(code, "invoices")].values():
                issued = ledger.day(row, "issue_date")
                if row["status"] == "cancelled" or not start <= issued <= end:
                    continue
                if debtors[row["debtor_id"]]["intercompany_entity"] is not None:
                    continue
                sign = -1 if row["document_type"] == "credit_note" else 1
                sales[(code, row["currency"])] += sign * ledger.money(row, "amount")
        total = sum((cents(v / ledger.rate(c, m)) for (_, c), v in sales.items()), Decimal(0))
        monthly.append((total, end.day))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    with_sales = [index for index, (total, _) in enumerate(monthly) if total != 0]
    history_months = max(with_sales) + 1 if with_sales else 0
    # sales in the window's oldest month: the data may go back further, and the cap applies
    return encours, countback(encours, monthly, history_months if history_months < months else None)


def group_contractual_terms(ledger: Ledger, m: date) -> Decimal | None:
    """The group's contractual terms at month end m: due minus issue days of the month's external,
    not cancelled documents, weighted by their sales converted at m's closing rate."""
    weights: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    sales: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for code in ledger.entities:
        debtors = {k[0]: r for k, r in ledger.rows[(code, "debtors")].items()}
        for row in ledger.rows[(code, "invoices")].values():
            issued, due = ledger.day(row, "issue_date"), ledger.day(row, "due_date")
            if row["status"] == "cancelled" or not date(m.year, m.month, 1) <= issued <= m:
                continue
            if debtors[row["debtor_id"]]["intercompany_entity"] is not None:
                continue
            sign = -1 if row["document_type"] == "credit_note" else 1
            amount = sign * ledger.money(row, "amount")
            weights[(code, row["currency"])] += amount * (due - issued).days
            sales[(code, row["currency"])] += amount
    total = sum((cents(v / ledger.rate(c, m)) for (_, c), v in sales.items()), Decimal(0))
    weight = sum((cents(v / ledger.rate(c, m)) for (_, c), v in weights.items()), Decimal(0))
    return weight / total if total > 0 else None


def fec_open_by_debtor(ledger: Any, as_of: date) -> dict[str, int]:
    """SPEC section 16's left side, read from the rows a FEC lands as (a customer ledger's ``invoices``
    and ``payments``, text and ISO dates): each debtor's documents issued by ``as_of`` less its lines
    dated by it, a line counting on its document from its lettering's date (``matched_on``) and, before
    it, as unapplied cash (a credit note's pair as nothing); in ten-thousandths, to compare with the
    ledger's balances."""
    day = as_of.isoformat()
    open_units: dict[str, int] = defaultdict(int)
    invoices, payments = ledger.invoices, ledger.payments
    sign = {
        document: -1 if kind == "credit_note" else 1
        for document, kind in zip(invoices["document_id"], invoices["document_type"], strict=True)
    }
    for document, debtor, amount, issued in zip(
        invoices["document_id"],
        invoices["debtor_id"],
        invoices["amount"],
        invoices["issue_date"],
        strict=True,
    ):
        if issued <= day:
            open_units[debtor] += sign[document] * _units(amount)
    for line in payments.itertuples():
        if line.settlement_date > day:
            continue
        document = None if not isinstance(line.document_id, str) else line.document_id
        matched = not isinstance(line.matched_on, str) or line.matched_on <= day
        if document is None or (not matched and line.kind != "credit_note"):
            open_units[line.debtor_id] -= _units(line.amount)
        elif matched:
            open_units[line.debtor_id] -= sign[document] * _units(line.amount)
    return dict(open_units)


def _units(text: str) -> int:
    return int(Decimal(text) * 10_000)
