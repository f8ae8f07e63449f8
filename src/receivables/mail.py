"""Mail through Airflow's SMTP connection (``RECEIVABLES_SMTP_CONN_ID``, default ``smtp_default``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from receivables.settings import settings


def addresses(text: str) -> list[str]:
    """A comma-separated list of addresses, blanks dropped."""
    return [address.strip() for address in text.split(",") if address.strip()]


def send(to: Sequence[str], subject: str, html: str, files: Sequence[Path] = ()) -> None:
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    config = settings()
    with SmtpHook(smtp_conn_id=config.smtp_conn_id) as hook:
        hook.send_email_smtp(
            to=list(to),
            subject=subject,
            html_content=html,
            from_email=config.text("alert_from"),
            files=[str(path) for path in files] or None,
        )
