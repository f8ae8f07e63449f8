"""Scheduled reports: who gets which report, when, and the mail (dags/receivables_reports.py).

Settings come from the environment, read when a step runs:
``RECEIVABLES_SERVING`` (the published warehouse the reports read),
``RECEIVABLES_REPORTS`` (where the files are kept; default ``reports/`` beside
the serving file), ``RECEIVABLES_REPORT_RECIPIENTS`` (the recipient lists,
YAML) and ``RECEIVABLES_ENTITIES`` (the registry, to check those lists).

The recipient file::

    group: [daf@example.com]          # the CFO: the group report
    entities:                         # each entity's controllers: their entity only
      FR01: [controle.fr01@example.com]
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from receivables import mail
from receivables.errors import ReceivablesError
from receivables.nightly import alert
from receivables.registry import load_registry
from receivables.reports.changes import is_report_day
from receivables.reports.data import read_report
from receivables.reports.files import fr_value, write_report
from receivables.reports.model import GROUP
from receivables.settings import VARIABLES, Settings
from receivables.settings import settings as read_settings

log = logging.getLogger(__name__)

ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


@dataclass(frozen=True)
class Recipients:
    group: tuple[str, ...]
    entities: dict[str, tuple[str, ...]]

    def of(self, scope: str) -> tuple[str, ...]:
        return self.group if scope == GROUP else self.entities.get(scope, ())


def load_recipients(path: Path, entity_codes: list[str]) -> Recipients:
    """Read and check the recipient file; an error names the file and the key at fault."""
    import yaml

    if not path.is_file():
        raise ReceivablesError(f"{path}: no such recipient file (set {VARIABLES['recipients'][0]})")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ReceivablesError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise ReceivablesError(f"{path}: expected a mapping with the keys group and entities")
    unknown = set(document) - {"group", "entities"}
    if unknown:
        raise ReceivablesError(
            f"{path}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; use group, entities"
        )

    def address_list(value: Any, where: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ReceivablesError(f"{path}: {where}: expected a list of addresses")
        for item in value:
            if not ADDRESS.match(item.strip()):
                raise ReceivablesError(f"{path}: {where}: {item!r} is not a mail address")
        return tuple(item.strip() for item in value)

    entities = document.get("entities") or {}
    if not isinstance(entities, dict):
        raise ReceivablesError(f"{path}: entities: expected a mapping of entity code to addresses")
    strangers = sorted(str(code) for code in entities if code not in entity_codes)
    if strangers:
        raise ReceivablesError(
            f"{path}: entities: {', '.join(strangers)} not in the registry ({', '.join(entity_codes)})"
        )
    return Recipients(
        group=address_list(document.get("group"), "group"),
        entities={str(code): address_list(value, f"entities.{code}") for code, value in entities.items()},
    )


def as_of_of_run(chosen: str | None, triggering_events: Any, asset: Any) -> str:
    """The as-of date a reports run serves: the as_of_date param, else the latest date the
    triggering publishes carried (the asset events' extra)."""
    if chosen:
        return str(chosen)
    events = list(triggering_events.get(asset, [])) if triggering_events is not None else []
    published = [event.extra.get("as_of_date") for event in events if event.extra.get("as_of_date")]
    if not published:
        raise ReceivablesError(
            "no as-of date: trigger with the as_of_date param, or let receivables_nightly publish"
        )
    return str(max(published))


def settings() -> Settings:
    """The reports' settings (receivables.settings), each checked before a report is written."""
    return read_settings("serving", "recipients", "entities", where="Reports by mail")


def _recipients(config: Settings) -> Recipients:
    return load_recipients(config.recipients, list(load_registry(config.entities).codes))


def due_reports(as_of: date, force: bool = False) -> list[str]:
    """The scopes to send for ``as_of``: the group, then each entity that has recipients."""
    if not (force or is_report_day(as_of)):
        log.info("%s is neither a Sunday nor a month end: no report tonight", as_of)
        return []
    config = settings()
    recipients = _recipients(config)
    scopes = ([GROUP] if recipients.group else []) + [code for code, to in recipients.entities.items() if to]
    log.info("reports due for %s: %s", as_of, ", ".join(scopes) or "none (no recipients)")
    return scopes


def send_report(scope: str, as_of: date) -> str:
    """Write the scope's workbook and PDF from the published warehouse and mail them."""
    config = settings()
    to = _recipients(config).of(scope)
    if not to:
        raise ReceivablesError(f"{config.recipients}: no recipients for {scope}")
    report = read_report(config.serving, as_of, None if scope == GROUP else scope)
    files = write_report(report, config.reports / as_of.isoformat() / scope)
    subject = f"[receivables] Créances {report.scope_name} au {as_of.strftime('%d/%m/%Y')}"
    mail.send(to, subject, mail_body(report), files)
    log.info("sent %s to %s", ", ".join(path.name for path in files), ", ".join(to))
    return subject


def mail_body(report: Any) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td><td style='text-align:right'>{html.escape(fr_value(value, kind))}</td></tr>"
        for label, value, kind in report.headline
    )
    return (
        f"<p>Créances clients, {html.escape(report.scope_name)}, arrêté au "
        f"{report.as_of.strftime('%d/%m/%Y')}.</p><table>{rows}</table>"
        "<p>Détail dans le classeur Excel joint ; graphiques dans le PDF. "
        "Les mêmes chiffres sont sur les tableaux de bord.</p>"
    )


def report_failed(scope: str, as_of: str, error: object) -> str:
    """Tell the operators that a report was not sent after its retries (the nightly run is not affected)."""
    subject = f"[receivables] {as_of}: report {scope} not sent"
    body = (
        f"<p>The {html.escape(scope)} report for {html.escape(as_of)} failed after its retries:</p>"
        f"<pre>{html.escape(str(error))}</pre><p>Rerun the task in the receivables_reports DAG.</p>"
    )
    return alert(subject, body)
