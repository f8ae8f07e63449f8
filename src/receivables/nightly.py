"""The nightly job's steps, one function per Airflow task (dags/receivables_nightly.py).

Settings come from the environment, read when a step runs, never at import:
``RECEIVABLES_ENTITIES`` (registry YAML), ``RECEIVABLES_LANDING`` (landing
folder), ``RECEIVABLES_WAREHOUSE`` (the working DuckDB file, written only by
the load and build steps) and ``RECEIVABLES_SERVING`` (the published,
read-only copy every reader uses).
"""

from __future__ import annotations

import html
import logging
import os
import shutil
from datetime import date
from typing import Any

from receivables.settings import VARIABLES, Settings
from receivables.settings import settings as read_settings

log = logging.getLogger(__name__)

GROUP_DROP = "GROUP"  # the group's FX drop, validated like an entity's
# the published warehouse as an Airflow asset: publish updates it, the reports DAG runs on it
SERVING_ASSET = "receivables_serving_warehouse"


def settings() -> Settings:
    """The nightly run's settings (receivables.settings), each checked before the night starts."""
    return read_settings("entities", "landing", "warehouse", "serving", where="Airflow")


def drop_codes() -> list[str]:
    """What tonight's validation fans out over: the group's FX drop and every entity."""
    from receivables.registry import load_registry

    return [GROUP_DROP, *load_registry(settings().entities).codes]


def validate(code: str, as_of: date) -> dict[str, Any]:
    """Validate one drop and stage it (or quarantine it); reads the warehouse only."""
    from receivables.landing import validate_drop
    from receivables.registry import load_registry

    config = settings()
    registry = load_registry(config.entities)
    entity = None if code == GROUP_DROP else code
    outcome = validate_drop(registry, entity, config.landing, as_of, config.warehouse)
    log.info("%s", outcome.describe())
    return outcome.to_json()


def load(outcomes: list[dict[str, Any]]) -> list[str]:
    """The single writer: upsert the staged drops and record every status."""
    from receivables.landing import DropOutcome
    from receivables.load import load_outcomes
    from receivables.registry import load_registry

    config = settings()
    parsed = [DropOutcome.from_json(outcome) for outcome in outcomes]
    load_outcomes(config.warehouse, parsed, load_registry(config.entities))
    return [outcome.describe() for outcome in parsed]


def build(as_of: date) -> list[str]:
    """Build the night; the drops a failing data test took back out are quarantined, not fatal."""
    from receivables.build import build as build_warehouse

    config = settings()
    taken_out = build_warehouse(config.warehouse, as_of, landing=config.landing)
    for drop in taken_out:
        log.warning("%s", drop.describe())
    return [drop.describe() for drop in taken_out]


def publish() -> str:
    """Swap a consistent copy of the working file in at the serving path, atomically, then
    each entity's file beside it (``receivables.entity_files``).

    The build has ended (its process is gone), so the file is closed; a
    checkpoint folds any write-ahead log in, then a copy beside the serving
    file is renamed over it. A reader with an open connection keeps reading
    the file it opened; its next connection sees the new night.
    """
    from receivables.warehouse import connect

    config = settings()
    with connect(config.warehouse) as connection:
        connection.execute("checkpoint")
    config.serving.parent.mkdir(parents=True, exist_ok=True)
    temporary = config.serving.with_name(f".{config.serving.name}.publishing")
    shutil.copyfile(config.warehouse, temporary)
    with temporary.open("rb+") as handle:
        os.fsync(handle.fileno())
    from receivables.entity_files import prepare_entity_files, swap_in

    # each entity's rows, beside the group's (SPEC section 15), written before any file is swapped
    entity_files = prepare_entity_files(config.serving, temporary)
    os.replace(temporary, config.serving)
    swap_in(entity_files)
    log.info("published %s to %s, and %d entity files", config.warehouse, config.serving, len(entity_files))
    return str(config.serving)


def freshness(as_of: date) -> list[dict[str, Any]]:
    """The entities that are not fresh for ``as_of``, read from the published warehouse."""
    from receivables.warehouse import open_published

    with open_published(settings().serving) as connection:
        rows = connection.execute(
            "select entity_code, status, reason, last_good_extract_date from marts.mart_freshness "
            "where as_of_date = ? and status <> 'ok' order by entity_code",
            [as_of],
        ).fetchall()
    return [
        {"entity_code": code, "status": status, "reason": reason, "last_good_extract_date": str(last_good)}
        for code, status, reason, last_good in rows
    ]


def alert_text(problems: list[dict[str, Any]], as_of: date) -> tuple[str, str]:
    subject = f"[receivables] {as_of}: {len(problems)} drop(s) not landed"
    rows = "".join(
        f"<tr><td>{p['entity_code']}</td><td>{p['status']}</td><td>{p['last_good_extract_date']}</td>"
        f"<td>{p['reason']}</td></tr>"
        for p in problems
    )
    body = (
        f"<p>Night of {as_of}: the other entities landed; these keep their last good data.</p>"
        "<table><tr><th>entity</th><th>status</th><th>last good extract</th><th>reason</th></tr>"
        f"{rows}</table>"
    )
    return subject, body


def send_alert(problems: list[dict[str, Any]], as_of: date) -> str:
    """Mail the stale and quarantined entities through Airflow's SMTP connection."""
    if not problems:
        return "every drop landed"
    return alert(*alert_text(problems, as_of))


def failure_alert(task_id: str, as_of: str, error: BaseException | str | None) -> str:
    """Mail the operators that a task of the night failed: the night published nothing new."""
    subject = f"[receivables] {as_of}: the nightly run failed in {task_id}"
    detail = html.escape(
        f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    )
    body = (
        f"<p>Night of {html.escape(as_of)}: task <b>{html.escape(task_id)}</b> failed. The serving "
        "warehouse still holds the last published night; the working file is as the last task that "
        "succeeded left it. See docs/operations.md, what a failure looks like and how to replay.</p>"
        f"<pre>{detail}</pre>"
    )
    try:
        return alert(subject, body)
    except Exception:  # a failure alert that cannot be sent must not hide the failure itself
        log.exception("could not send the failure alert: %s", subject)
        return subject


def alert(subject: str, body: str) -> str:
    """Mail the operators (``RECEIVABLES_ALERT_TO``); with none set, log the alert only."""
    from receivables import mail

    recipients = mail.addresses(read_settings().alert_to)
    if not recipients:
        log.warning("%s (no %s set, no mail sent)", subject, VARIABLES["alert_to"][0])
        return subject
    mail.send(recipients, subject, body)
    log.info("alert sent to %s: %s", ", ".join(recipients), subject)
    return subject
