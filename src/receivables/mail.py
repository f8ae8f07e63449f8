"""Mail through Airflow's SMTP connection (``RECEIVABLES_SMTP_CONN_ID``, default ``smtp_default``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

SMTP_CONN_ID = "RECEIVABLES_SMTP_CONN_ID"
SENDER = "RECEIVABLES_ALERT_FROM"


def addresses(text: str) -> list[str]:
    """A comma-separated list of addresses, blanks dropped."""
    return [address.strip() for address in text.split(",") if address.strip()]


def send(to: Sequence[str], subject: str, html: str, files: Sequence[Path] = ()) -> None:
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=os.environ.get(SMTP_CONN_ID, "smtp_default")) as hook:
        hook.send_email_smtp(
            to=list(to),
            subject=subject,
            html_content=html,
            from_email=os.environ.get(SENDER),
            files=[str(path) for path in files] or None,
        )
