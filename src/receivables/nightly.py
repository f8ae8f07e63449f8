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
from datetime import date
from typing import Any

from receivables.errors import ReceivablesError
from receivables.settings import VARIABLES, Settings
from receivables.settings import settings as read_settings

log = logging.getLogger(__name__)

GROUP_DROP = "GROUP"  # the group's FX drop, validated like an entity's
# the published warehouse as an Airflow asset: publish updates it, the reports DAG runs on it
SERVING_ASSET = "receivables_serving_warehouse"


def settings() -> Settings:
    """The nightly run's settings (receivables.settings), each checked before the night starts."""
    return read_settings("entities", "landing", "warehouse", "serving", where="Airflow")


def drop_batches(as_of: date) -> list[list[str]]:
    """What tonight's validation fans out over: the drops in batches about equal in bytes.

    The batches of ``receivables run`` (``landing.batches``): at least
    as many as the validation slots when there are as many drops
    (``RECEIVABLES_VALIDATION_BATCHES``, else this machine's cores), a history
    drop alone. A mapped task validates a batch in one process, so Great
    Expectations is imported and each suite run once per batch, not once per
    entity; each drop is still judged, staged or quarantined alone.
    """
    from receivables.ingest.landing import batches, drop_bytes, night_codes
    from receivables.registry import load_registry

    config = settings()
    codes = [GROUP_DROP, *night_codes(load_registry(config.entities), config.landing, as_of)]
    sizes = [drop_bytes(config.landing, None if code == GROUP_DROP else code, as_of) for code in codes]
    return [[codes[index] for index in run] for run in batches(sizes, validation_slots())]


def validation_slots() -> int:
    """How many batches a night is split into at least (the validations that can run at once)."""
    return read_settings().count("validation_batches", os.cpu_count() or 1, "batches")


def batch_label(codes: list[str], width: int = 120) -> str:
    """A batch as its mapped task shows it in Airflow: the drops it validates, "GROUP, FR01, DE01"."""
    label = ", ".join(codes)
    if len(label) <= width:
        return label
    shown: list[str] = []
    for code in codes:
        rest = f" (+{len(codes) - len(shown) - 1} more)"
        if len(", ".join([*shown, code])) + len(rest) > width:
            break
        shown.append(code)
    return f"{', '.join(shown)} (+{len(codes) - len(shown)} more)"


def validate(codes: list[str], as_of: date) -> list[dict[str, Any]]:
    """Validate a batch of drops and stage (or quarantine) each; reads the warehouse only.

    One outcome per drop, in the batch's order: each entity keeps its own
    status, which the load records in ``raw.landing_log``.
    """
    from receivables.ingest.landing import validate_drops
    from receivables.registry import load_registry

    config = settings()
    registry = load_registry(config.entities)
    entities = [None if code == GROUP_DROP else code for code in codes]
    outcomes = validate_drops(registry, entities, config.landing, as_of, config.warehouse)
    for outcome in outcomes:
        log.info("%s", outcome.describe())
    return [outcome.to_json() for outcome in outcomes]


def load(batches: list[list[dict[str, Any]]]) -> list[str]:
    """The single writer: upsert the staged drops of every batch and record each drop's status."""
    from receivables.ingest.load import load_outcomes
    from receivables.ingest.outcome import DropOutcome
    from receivables.registry import load_registry

    config = settings()
    parsed = [DropOutcome.from_json(outcome) for batch in batches for outcome in batch]
    load_outcomes(config.warehouse, parsed, load_registry(config.entities))
    return [outcome.describe() for outcome in parsed]


def build(as_of: date, defer: bool = False) -> list[str]:
    """Build the night and the nights left to it; the as-of dates built, in order.

    With ``defer`` (a run of this DAG is queued after this one: a backfill,
    a catch-up), the night is only recorded in ``raw.pending_builds`` and
    nothing is built: the next run that builds takes it along, so a backfill
    of thirty nights lands each night and runs dbt three times. The dates
    are built in runs of consecutive dates, at most
    ``RECEIVABLES_BUILD_RANGE_DATES`` each (default 10), one dbt run each,
    where the rules allow: a data test that fails on a run of several nights builds those
    nights one at a time instead, so a bad drop is taken out of its own
    night only (SPEC section 12), as night by night. The drops a failing
    data test took back out are quarantined, not fatal.
    """
    from receivables.warehouse.store import RAW_SCHEMA, connect, ensure_raw_schema

    config = settings()
    if not config.warehouse.exists():  # never an empty file made here: the load makes the warehouse
        raise ReceivablesError(f"{config.warehouse}: no warehouse yet; land a night first")
    with connect(config.warehouse) as connection:
        ensure_raw_schema(connection)
        if defer:
            connection.execute(
                f"insert or replace into {RAW_SCHEMA}.pending_builds values (?, current_timestamp)", [as_of]
            )
            log.info("%s landed; its build is left to the run queued after this one", as_of)
            return []
        pending = [
            day
            for (day,) in connection.execute(f"select as_of_date from {RAW_SCHEMA}.pending_builds").fetchall()
        ]
    from receivables.warehouse.build import consecutive_runs

    days = sorted({as_of, *pending})
    # runs of consecutive nights, of at most RECEIVABLES_BUILD_RANGE_DATES each (a backfill's thirty: three)
    for first, last in consecutive_runs(days, config.build_range_dates):
        _build_range(config, first, last)
        with connect(config.warehouse) as connection:  # a later run that fails leaves only its nights pending
            connection.execute(
                f"delete from {RAW_SCHEMA}.pending_builds where as_of_date between ? and ?", [first, last]
            )
    return [day.isoformat() for day in days]


def _build_range(config: Settings, first: date, last: date) -> None:
    from datetime import timedelta

    from receivables.warehouse.build import BuildError
    from receivables.warehouse.build import build as build_warehouse

    if first == last:
        taken_out = build_warehouse(config.warehouse, first, landing=config.landing)
    else:
        log.info("building the %d nights from %s to %s in one run", (last - first).days + 1, first, last)
        try:
            taken_out = build_warehouse(config.warehouse, first, to=last)  # nothing taken out: raises
        except BuildError as error:
            if not error.only_data_tests_failed:
                raise
            log.warning("%s; building the nights from %s to %s one at a time", error, first, last)
            taken_out = [
                drop
                for offset in range((last - first).days + 1)
                for drop in build_warehouse(
                    config.warehouse, first + timedelta(days=offset), landing=config.landing
                )
            ]
    for drop in taken_out:
        log.warning("%s", drop.describe())


def publish() -> str:
    """Swap the built night in at the serving path, atomically, then each entity's file beside it
    (``receivables.serve.entity_files``).

    The build has ended (its process is gone), so the file is closed; a
    checkpoint folds any write-ahead log in, then a hard link to it beside
    the serving file is renamed over it: the night is served without copying
    the whole file on the way. The working file and the served night are then
    one file until ``working_copy`` gives the working file its own copy
    again (and any writer does first: ``receivables.warehouse.store.own_copy``).
    Where the serving path is on another file system, or takes no links,
    the file is copied instead. A reader with an open connection keeps
    reading the file it opened; its next connection sees the new night.
    """
    from receivables.warehouse.store import connect, copy_durably

    config = settings()
    with connect(config.warehouse) as connection:
        connection.execute("checkpoint")
    config.serving.parent.mkdir(parents=True, exist_ok=True)
    temporary = config.serving.with_name(f".{config.serving.name}.publishing")
    temporary.unlink(missing_ok=True)
    try:
        os.link(config.warehouse, temporary)
    except OSError as error:  # another file system (a volume of its own), or no hard links
        log.info("%s cannot be linked at %s (%s): copying it", config.warehouse, temporary, error)
        copy_durably(config.warehouse, temporary)
    from receivables.serve.entity_files import prepare_entity_files, swap_in

    # each entity's rows, beside the group's (SPEC section 15), written before any file is swapped
    entity_files = prepare_entity_files(config.serving, temporary)
    os.replace(temporary, config.serving)
    swap_in(entity_files)
    log.info("published %s to %s, and %d entity files", config.warehouse, config.serving, len(entity_files))
    return str(config.serving)


def working_copy() -> bool:
    """After the publish: the working file gets its own copy again, off the path to the morning's figures.

    Whether a copy was made (none when the publish had to copy, or a writer
    already did). The next night's load would make it anyway
    (``receivables.warehouse.store.own_copy``); made here, it is not on that
    night's way to its figures.
    """
    from receivables.warehouse.store import own_copy, writer_lock

    warehouse = settings().warehouse
    with writer_lock(warehouse, "the working file's own copy"):
        copied = own_copy(warehouse)
    log.info("the working file %s its own copy", "has now" if copied else "already had")
    return copied


def freshness(as_of: date) -> list[dict[str, Any]]:
    """The entities that are not fresh for ``as_of``, read from the published warehouse."""
    from receivables.warehouse.store import open_published

    with open_published(settings().serving) as connection:
        rows = connection.execute(
            "select entity_code, status, reason, last_good_extract_date from marts.mart_freshness "
            "where as_of_date = ? and status in ('stale', 'quarantined') order by entity_code",
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
