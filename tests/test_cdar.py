"""CDAR lifecycle messages (SPEC section 17, issue 36, first part): the public samples read as their
README says, and hostile or foreign messages refused without reading anything outside the file."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from conftest import DATASETS
from receivables.ingest.cdar import MAX_MESSAGE_BYTES, read_message

MESSAGES = DATASETS / "einvoice_lifecycle" / "cdar"
SELLER = "100000009"  # VENDEUR, the samples' seller

# file: (status, invoice date, status issued, reason, action, amount type, amount, currency), from the README
EXPECTED = {
    "status-200-deposee.xml": ("200", date(2025, 7, 1), datetime(2025, 7, 1, 15, 10), None, None, None, None, None),
    "cdv-202-recipients-0225-globalid.xml": ("202", date(2026, 8, 20), datetime(2026, 8, 20, 7, 10, 19), None, None,
                                             None, None, None),
    "status-204-prise-en-charge.xml": ("204", date(2025, 7, 1), datetime(2025, 7, 1, 15, 10), None, None, None, None,
                                       None),
    "cdv-204-issuer-0225-globalid.xml": ("204", date(2026, 8, 20), datetime(2026, 8, 20, 9, 10, 33), None, None, None,
                                         None, None),
    "status-205-approuvee.xml": ("205", date(2025, 7, 1), datetime(2025, 7, 1, 15, 10), None, None, None, None, None),
    "status-206-approuvee-partiellement.xml": ("206", date(2025, 7, 1), datetime(2025, 7, 1, 15, 10), "AUTRE", "NIN",
                                               None, None, None),
    "status-208-suspendue.xml": ("208", date(2025, 7, 1), datetime(2025, 7, 1, 15, 10), "JUSTIF_ABS", "NIN", None,
                                 None, None),
    "status-210-refusee.xml": ("210", date(2025, 7, 1), datetime(2025, 7, 1, 15, 10), "TX_TVA_ERR", "NIN", None, None,
                               None),
    "payment-212-encaissee.xml": ("212", date(2025, 7, 1), datetime(2025, 7, 2), None, None, "MEN", Decimal("500.00"),
                                  "EUR"),
}  # fmt: skip


@pytest.mark.unit
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_public_message_gives_its_status_reason_and_amounts(name):
    statuses, failures = read_message(MESSAGES / name, SELLER, "FR01")

    assert failures == []
    [status] = statuses
    assert status.document_id == "F202500003"
    got = (status.status_code, status.issue_date, status.status_at, status.reason_code, status.action_code,
           status.amount_type, status.amount, status.currency)  # fmt: skip
    assert got == EXPECTED[name]


@pytest.mark.unit
def test_a_message_of_another_seller_is_refused_naming_it():
    _, [failure] = read_message(MESSAGES / "status-205-approuvee.xml", "552100554", "FR01", "einvoice/m.xml")
    assert (failure.rule, failure.found, failure.file) == ("cdar_seller", SELLER, "einvoice/m.xml")


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rsm:CrossDomainAcknowledgementAndResponse xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100">&lol3;</rsm:CrossDomainAcknowledgementAndResponse>
"""


@pytest.mark.unit
def test_hostile_messages_are_refused_and_nothing_outside_the_file_is_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("DO NOT READ", encoding="utf-8")
    external = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<rsm:CrossDomainAcknowledgementAndResponse xmlns:rsm="urn:un:unece:uncefact:data:standard:'
        'CrossDomainAcknowledgementAndResponse:100">&x;</rsm:CrossDomainAcknowledgementAndResponse>'
    )
    cases = {"bomb.xml": BOMB, "external.xml": external, "invoice.xml": "<Invoice><ID>F1</ID></Invoice>",
             "broken.xml": "<rsm:Cross"}  # fmt: skip
    rules = {}
    for name, text in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        statuses, [failure] = read_message(tmp_path / name, SELLER, "FR01")
        assert statuses == [] and "DO NOT READ" not in (failure.found or "") + failure.message
        rules[name] = failure.rule
    huge = tmp_path / "huge.xml"
    huge.write_bytes((MESSAGES / "status-205-approuvee.xml").read_bytes() + b" " * (50 * 2**20))
    _, [failure] = read_message(huge, SELLER, "FR01")

    assert rules == {"bomb.xml": "cdar_unsafe", "external.xml": "cdar_unsafe", "invoice.xml": "cdar_not_cdar",
                     "broken.xml": "cdar_xml"}  # fmt: skip
    assert failure.rule == "cdar_too_large" and huge.stat().st_size > MAX_MESSAGE_BYTES
