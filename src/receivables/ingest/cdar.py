"""Read e-invoicing lifecycle statuses from CDAR messages (SPEC section 17), hostile input refused.

A plateforme agréée delivers each status of an invoice's life as a CDAR
message (UN/CEFACT CrossDomainAcknowledgementAndResponse D22B). ``read_message``
parses one with defusedxml: a DTD, an entity declaration or an external
reference is refused before anything is expanded or fetched, and a file
larger than ``MAX_MESSAGE_BYTES`` is not parsed at all. A status names its
invoice by the seller's SIREN, the invoice number and the invoice's issue
date; a message naming another seller than the entity, or that is not a
CDAR, is an error of its drop (``Failure``), with the file and what was
expected.

``receivables.ingest.einvoice`` reads a drop's folder of them into rows of
the ``einvoice_status`` extract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeTree
from defusedxml import DefusedXmlException

from receivables.contract import EINVOICE_AMOUNT_TYPES, EINVOICE_STATUS_CODE
from receivables.errors import Failure

RSM = "urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NAMESPACES = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
ROOT = f"{{{RSM}}}CrossDomainAcknowledgementAndResponse"
# a status message is a few kilobytes; one far larger is not a platform's message
MAX_MESSAGE_BYTES = 1 << 20
SIREN_SCHEME, ANNUAIRE_SCHEME = "0002", "0225"  # a SIREN; an annuaire address: SIREN, then _suffix
STATUS_CODE = re.compile(EINVOICE_STATUS_CODE)


@dataclass(frozen=True)
class Status:
    """One lifecycle status of one invoice, as einvoice_status.csv writes it (SPEC section 17)."""

    document_id: str
    issue_date: date | None
    status_code: str
    status_at: datetime
    reason_code: str | None = None
    action_code: str | None = None
    amount_type: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    note: str | None = None
    message_id: str | None = None


def _find(element: Element | None, path: str) -> Element | None:
    if element is None:
        return None
    return element.find(path, NAMESPACES)


def _text(element: Element | None, path: str) -> str | None:
    found = _find(element, path)
    if found is None or found.text is None or not found.text.strip():
        return None
    return found.text.strip()


def _timestamp(element: Element | None, path: str) -> datetime | None:
    """A DateTimeString of format 102 (CCYYMMDD) or 204 (CCYYMMDDHHMMSS), whatever its attribute says."""
    text = _text(element, path)
    if text is None:
        return None
    for pattern in ("%Y%m%d%H%M%S", "%Y%m%d"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(f"expected a date written CCYYMMDD or CCYYMMDDHHMMSS, found {text!r}")


def _siren(party: Element | None) -> str | None:
    """The SIREN a party's GlobalID gives: scheme 0002, or an annuaire address (0225) starting with it."""
    if party is None:
        return None
    for identifier in party.findall("ram:GlobalID", NAMESPACES):
        scheme, value = identifier.get("schemeID"), (identifier.text or "").strip()
        if scheme == SIREN_SCHEME and re.fullmatch(r"\d{9}", value):
            return value
        if scheme == ANNUAIRE_SCHEME and re.match(r"^\d{9}(_|$)", value):
            return value[:9]
    return None


def _seller(root: Element, reference: Element) -> str | None:
    """The seller's SIREN: the referenced invoice's issuer (MDT-129), else the message's party of role SE."""
    found = _siren(_find(reference, "ram:IssuerTradeParty"))
    if found:
        return found
    document = _find(root, "rsm:ExchangedDocument")
    for role in ("ram:IssuerTradeParty", "ram:RecipientTradeParty"):
        for party in document.findall(role, NAMESPACES) if document is not None else []:
            if _text(party, "ram:RoleCode") == "SE" and _siren(party):
                return _siren(party)
    return None


def read_message(
    path: Path, siren: str, entity: str, shown: str | None = None
) -> tuple[list[Status], list[Failure]]:
    """The statuses of one CDAR message for the entity of SIREN ``siren``, or why it cannot be read.

    ``shown``: the file's name in failures (``einvoice/<name>``).
    """
    name = shown or path.name

    def failure(rule: str, message: str, found: str | None = None) -> tuple[list[Status], list[Failure]]:
        return [], [Failure(entity, name, rule, message, found=found)]

    size = path.stat().st_size
    if size > MAX_MESSAGE_BYTES:
        return failure(
            "cdar_too_large",
            f"expected a CDAR status message of at most {MAX_MESSAGE_BYTES:,} bytes (a status is a few "
            "kilobytes): it was not read",
            f"{size:,} bytes",
        )
    try:
        root = SafeTree.fromstring(
            path.read_bytes(), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as refused:
        return failure(
            "cdar_unsafe",
            "expected an XML message without a DTD, entity declarations or external references: "
            "refused before anything was expanded or fetched",
            type(refused).__name__,
        )
    except SafeTree.ParseError as broken:
        return failure("cdar_xml", "expected a well-formed XML message", str(broken))
    if root.tag != ROOT:
        return failure(
            "cdar_not_cdar",
            "expected a CDAR message (CrossDomainAcknowledgementAndResponse, UN/CEFACT D22B)",
            root.tag[:120],
        )
    acknowledgement = _find(root, "rsm:AcknowledgementDocument")
    references = (
        acknowledgement.findall("ram:ReferenceReferencedDocument", NAMESPACES)
        if acknowledgement is not None
        else []
    )
    if not references:
        return failure(
            "cdar_not_cdar", "expected the invoice the status is about (ReferenceReferencedDocument)"
        )
    statuses: list[Status] = []
    try:
        for reference in references:
            seller = _seller(root, reference)
            if seller is None:
                return failure("cdar_seller", "expected the seller's SIREN (MDT-129, scheme 0002 or 0225)")
            if seller != siren:
                return failure(
                    "cdar_seller",
                    f"expected a status of an invoice of this entity (SIREN {siren}): it names another seller",
                    seller,
                )
            statuses.append(_status(root, acknowledgement, reference))
    except ValueError as wrong:
        return failure("cdar_value", f"expected the status's values as CDAR writes them ({wrong})")
    return statuses, []


def _status(root: Element, acknowledgement: Element | None, reference: Element) -> Status:
    document_id = _text(reference, "ram:IssuerAssignedID")
    if document_id is None:
        raise ValueError("the invoice number, IssuerAssignedID, is missing")
    code = _text(reference, "ram:ProcessConditionCode")
    if code is None or not STATUS_CODE.match(code):
        raise ValueError(f"ProcessConditionCode must be a status code of 3 digits, found {code!r}")
    # when the status was given: the message's IssueDateTime (the "status issued" of the platforms'
    # samples), else the acknowledgement's, else the reference's ReceiptDateTime (docs/decisions.md)
    status_at = (
        _timestamp(_find(root, "rsm:ExchangedDocument"), "ram:IssueDateTime/udt:DateTimeString")
        or _timestamp(acknowledgement, "ram:IssueDateTime/udt:DateTimeString")
        or _timestamp(reference, "ram:ReceiptDateTime/udt:DateTimeString")
    )
    if status_at is None:
        raise ValueError("no date says when the status was given (ReceiptDateTime or IssueDateTime)")
    issued = _timestamp(reference, "ram:FormattedIssueDateTime/qdt:DateTimeString")
    reason = action = note = None
    amount_type = amount = currency = None
    characteristics: dict[str, Any] = {}
    for status in reference.findall("ram:SpecifiedDocumentStatus", NAMESPACES):
        reason = reason or _text(status, "ram:ReasonCode")
        action = action or _text(status, "ram:RequestedActionCode")
        note = note or _text(status, "ram:IncludedNote/ram:Content") or _text(status, "ram:Reason")
        for characteristic in status.findall("ram:SpecifiedDocumentCharacteristic", NAMESPACES):
            kind = _text(characteristic, "ram:TypeCode")
            value = _find(characteristic, "ram:ValueAmount")
            if (
                kind in EINVOICE_AMOUNT_TYPES
                and value is not None
                and value.text
                and kind not in characteristics
            ):
                try:
                    characteristics[kind] = (Decimal(value.text.strip()), value.get("currencyID"))
                except InvalidOperation as wrong:
                    raise ValueError(f"ValueAmount of {kind} is not an amount: {value.text!r}") from wrong
    for kind in EINVOICE_AMOUNT_TYPES:
        if kind in characteristics:
            amount_type, (amount, currency) = kind, characteristics[kind]
            break
    return Status(
        document_id=document_id,
        issue_date=issued.date() if issued else None,
        status_code=code,
        status_at=status_at,
        reason_code=reason,
        action_code=action,
        amount_type=amount_type,
        amount=amount,
        currency=currency,
        note=note,
        message_id=_text(_find(root, "rsm:ExchangedDocument"), "ram:ID"),
    )
