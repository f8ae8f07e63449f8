"""The sample group's e-invoicing platform (SPEC section 17): the lifecycle of each invoice issued
since the reform, and the CDAR messages a plateforme agréée delivers for it.

``lifecycle`` tells what the buyer's platform says of one invoice, consistent
with what the ledger does with it (when it is paid, disputed, cancelled):
most invoices are approved (205) and, once paid, collected (212); a few are
disputed with a reason (207, then approved when the dispute ends), refused
(210), rejected by the platform (213, rare), factored (225), or announced
paid (211) before the money comes. ``write_message`` writes one status as a
CDAR D22B message of the shape ``receivables.ingest.cdar`` reads.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from xml.etree import ElementTree

from receivables.ingest.cdar import NAMESPACES, QDT, RAM, RSM, UDT

REFORM_DAY = date(2026, 9, 1)  # invoices issued from this day go through the platforms
# MDT-113 reasons a buyer gives, with how often (the seed einvoice_reasons maps them)
DISPUTE_REASON_CODES = (("QTE_ERR", 4), ("PU_ERR", 3), ("LIVR_INCOMP", 3), ("QUALITE_ERR", 2), ("CMD_ERR", 2),
                        ("DOUBLON", 1), ("AUTRE", 1))  # fmt: skip
REFUSAL_REASON_CODES = ("TX_TVA_ERR", "MONTANTTOTAL_ERR", "CMD_ERR", "DOUBLON")
BUYER_SIREN = "200000008"  # the buyers' platforms are not simulated one by one: one buyer party


@dataclass(frozen=True)
class LifecycleStatus:
    """One status of one invoice, as einvoice_status.csv writes it."""

    document_id: str
    issue_date: date
    status_code: str
    status_at: datetime
    reason_code: str | None = None
    amount_type: str | None = None
    amount: int | None = None  # cents
    currency: str | None = None

    def row(self) -> dict[str, object]:
        return {
            "document_id": self.document_id,
            "issue_date": self.issue_date,
            "status_code": self.status_code,
            "status_at": self.status_at,
            "reason_code": self.reason_code,
            "action_code": None,
            "amount_type": self.amount_type,
            "amount": self.amount,
            "currency": self.currency,
            "note": None,
        }


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(7, 19), rng.randint(0, 59), rng.randint(0, 59)))


def lifecycle(
    rng: random.Random,
    invoice: dict[str, object],
    cancel_day: date | None,
    dispute_day: date | None,
    pay_day: date | None,
    remaining: int,
) -> list[LifecycleStatus]:
    """The statuses the buyer's platform sends for one invoice (none before the reform)."""
    issued = invoice["issue_date"]
    assert isinstance(issued, date)
    if issued < REFORM_DAY:
        return []
    document, currency = str(invoice["document_id"]), str(invoice["currency"])

    def status(day: date, code: str, **more: object) -> LifecycleStatus:
        return LifecycleStatus(document, issued, code, _at(day, rng), **more)  # type: ignore[arg-type]

    deposited = status(issued, "200")
    taken = replace(
        deposited, status_code="204", status_at=deposited.status_at + timedelta(hours=rng.randint(1, 48))
    )
    statuses = [deposited, taken]
    draw = rng.random()
    if draw < 0.003:  # the platform rejects it: never legally issued
        return [status(issued, "213", reason_code="NON_CONFORME")]
    if cancel_day is not None or draw < 0.02:  # refused by the buyer (a cancelled invoice was refused first)
        refused = cancel_day or issued + timedelta(days=rng.randint(3, 8))
        return [*statuses, status(refused, "210", reason_code=rng.choice(REFUSAL_REASON_CODES))]
    if draw < 0.05:  # factored a few days after issue
        statuses.append(status(issued + timedelta(days=rng.randint(1, 5)), "225"))
    if dispute_day is not None:
        codes, weights = zip(*DISPUTE_REASON_CODES, strict=True)
        disputed = None if rng.random() < 0.5 else max(100, remaining // rng.choice((2, 4, 10)))
        statuses.append(
            status(dispute_day, "207", reason_code=rng.choices(codes, weights)[0],
                   amount_type="MNATTC" if disputed else None, amount=disputed,
                   currency=currency if disputed else None)
        )  # fmt: skip
        if pay_day is not None:
            statuses.append(status(max(dispute_day + timedelta(days=1), pay_day - timedelta(days=10)), "205"))
    elif rng.random() < 0.9:
        statuses.append(status(issued + timedelta(days=rng.randint(2, 10)), "205"))
    if pay_day is None:
        return statuses
    if rng.random() < 0.3 and pay_day - timedelta(days=3) > issued:
        statuses.append(status(pay_day - timedelta(days=rng.randint(2, 3)), "211"))
    if rng.random() < 0.85:
        statuses.append(
            status(pay_day + timedelta(days=rng.randint(0, 1)), "212", amount_type="MEN", amount=remaining,
                   currency=currency)
        )  # fmt: skip
    return statuses


def message_name(status: LifecycleStatus) -> str:
    return f"{status.document_id}_{status.status_code}_{status.status_at:%Y%m%d%H%M%S}.xml"


def write_message(folder: Path, status: LifecycleStatus, seller: str) -> Path:
    """One status as the CDAR message the seller's platform delivers (UN/CEFACT D22B, guideline CDV)."""
    for prefix, uri in NAMESPACES.items():
        ElementTree.register_namespace(prefix, uri)

    def element(parent: ElementTree.Element, namespace: str, tag: str, text: str | None = None,
                **attributes: str) -> ElementTree.Element:  # fmt: skip
        child = ElementTree.SubElement(parent, f"{{{namespace}}}{tag}", attributes)
        child.text = text
        return child

    def stamp(parent: ElementTree.Element, namespace: str, tag: str, value: datetime, fmt: str) -> None:
        holder = element(parent, RAM, tag)
        pattern = "%Y%m%d%H%M%S" if fmt == "204" else "%Y%m%d"
        element(holder, namespace, "DateTimeString", value.strftime(pattern), format=fmt)

    root = ElementTree.Element(f"{{{RSM}}}CrossDomainAcknowledgementAndResponse")
    context = element(root, RSM, "ExchangedDocumentContext")
    guideline = element(context, RAM, "GuidelineSpecifiedDocumentContextParameter")
    element(guideline, RAM, "ID", "urn.cpro.gouv.fr:1p0:CDV:invoice")
    document = element(root, RSM, "ExchangedDocument")
    element(document, RAM, "ID", f"{status.status_code}-{status.document_id}-{status.status_at:%Y%m%d%H%M%S}")
    stamp(document, UDT, "IssueDateTime", status.status_at, "204")
    for role, siren in (("BY", BUYER_SIREN), ("SE", seller)):
        party = element(document, RAM, "IssuerTradeParty" if role == "BY" else "RecipientTradeParty")
        element(party, RAM, "GlobalID", siren, schemeID="0002")
        element(party, RAM, "RoleCode", role)
    acknowledgement = element(root, RSM, "AcknowledgementDocument")
    element(acknowledgement, RAM, "MultipleReferencesIndicator", "false")
    element(acknowledgement, RAM, "TypeCode", "305" if status.status_code in {"200", "213"} else "23")
    stamp(acknowledgement, UDT, "IssueDateTime", status.status_at, "204")
    reference = element(acknowledgement, RAM, "ReferenceReferencedDocument")
    element(reference, RAM, "IssuerAssignedID", status.document_id)
    element(reference, RAM, "ProcessConditionCode", status.status_code)
    stamp(reference, QDT, "FormattedIssueDateTime", datetime.combine(status.issue_date, time()), "102")
    issuer = element(reference, RAM, "IssuerTradeParty")
    element(issuer, RAM, "GlobalID", seller, schemeID="0002")
    if status.reason_code or status.amount is not None:
        detail = element(reference, RAM, "SpecifiedDocumentStatus")
        if status.reason_code:
            element(detail, RAM, "ReasonCode", status.reason_code)
        if status.amount is not None:
            characteristic = element(detail, RAM, "SpecifiedDocumentCharacteristic")
            element(characteristic, RAM, "TypeCode", status.amount_type)
            whole, cents = divmod(status.amount, 100)
            element(
                characteristic,
                RAM,
                "ValueAmount",
                f"{whole}.{cents:02d}",
                currencyID=status.currency or "EUR",
            )
    path = folder / message_name(status)
    folder.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path
