"""The pipeline: a night's steps, called by the nightly DAG (one task each) and by ``receivables run``.

A run processes ``Nights`` (``receivables.nights``): one as-of date, or a
range, computed once by its caller and passed to every step. The steps:
``plan`` (the night's drops in batches), ``validate`` (a batch: stage or
quarantine each drop), ``load`` (the single writer), ``build`` (dbt, the
nights in runs), ``publish`` (the serving file and each entity's), then
``not_landed`` and ``send_alert``. ``land`` is plan, validate and load in one
process pool, as ``receivables run`` and the tests land a night; ``run`` is
the whole pipeline over a range outside Airflow.

The settings (``receivables.settings.Settings``) are passed too: the DAG
reads them from its environment when a step runs (``settings()``), never at
import; the CLI builds them from its options.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from receivables import mail
from receivables.errors import ReceivablesError
from receivables.ingest.landing import land as land_night
from receivables.ingest.landing import plan as plan_batches
from receivables.ingest.landing import validate_drops
from receivables.ingest.load import load_outcomes
from receivables.ingest.outcome import DropOutcome
from receivables.nights import Nights
from receivables.registry import load_registry
from receivables.serve.as_reported import prune as prune_snapshots
from receivables.serve.as_reported import record as record_publish
from receivables.serve.entity_files import prepare_entity_files, swap_in
from receivables.settings import VARIABLES, Settings
from receivables.settings import settings as read_settings
from receivables.warehouse.build import build as build_warehouse
from receivables.warehouse.isolation import TakenOut
from receivables.warehouse.store import (
    RAW_SCHEMA,
    connect,
    copy_durably,
    ensure_raw_schema,
    open_published,
    own_copy,
    writer_lock,
)

log = logging.getLogger(__name__)

GROUP_DROP = "GROUP"  # the group's FX drop, validated like an entity's


def settings() -> Settings:
    """The nightly run's settings (receivables.settings), each checked before the night starts."""
    return read_settings("entities", "landing", "warehouse", "serving", where="Airflow")


def plan(config: Settings, night: date) -> list[list[str]]:
    """What a night's validation fans out over: its drops in batches about equal in bytes.

    The batches of ``land`` (``receivables.ingest.landing.plan``): at least
    as many as the validation slots when there are as many drops
    (``RECEIVABLES_VALIDATION_BATCHES``, else this machine's cores), a history
    drop alone. A mapped task validates a batch in one process, so Great
    Expectations is imported and each suite run once per batch, not once per
    entity; each drop is still judged, staged or quarantined alone.
    """

    batches = plan_batches(load_registry(config.entities), config.landing, night, validation_slots(config))
    return [[code or GROUP_DROP for code in batch] for batch in batches]


def validation_slots(config: Settings | None = None) -> int:
    """How many batches a night is split into at least (the validations that can run at once)."""
    return (config or read_settings()).count("validation_batches", os.cpu_count() or 1, "batches")


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


def validate(config: Settings, codes: list[str], night: date) -> list[dict[str, Any]]:
    """Validate a batch of drops and stage (or quarantine) each; reads the warehouse only.

    One outcome per drop, in the batch's order, as JSON (an XCom): each
    entity keeps its own status, which the load records in ``raw.landing_log``.
    """

    registry = load_registry(config.entities)
    entities = [None if code == GROUP_DROP else code for code in codes]
    outcomes = validate_drops(registry, entities, config.landing, night, config.warehouse)
    for outcome in outcomes:
        log.info("%s", outcome.describe())
    return [outcome.to_json() for outcome in outcomes]


def load(config: Settings, batches: list[list[dict[str, Any]]]) -> list[str]:
    """The single writer: upsert the staged drops of every batch and record each drop's status."""
    parsed = [DropOutcome.from_json(outcome) for batch in batches for outcome in batch]
    load_outcomes(config.warehouse, parsed, load_registry(config.entities))
    return [outcome.describe() for outcome in parsed]


def land(config: Settings, night: date) -> list[str]:
    """Plan, validate and load a night in this process and its forks (``receivables.ingest.landing.land``)."""
    outcomes = land_night(load_registry(config.entities), config.landing, night, config.warehouse)
    return [outcome.describe() for outcome in outcomes]


@dataclass(frozen=True)
class Built:
    """What a build step did: the as-of dates built, in order, and the drops a failing data test took out."""

    nights: list[date]
    taken_out: list[TakenOut]


def build(config: Settings, nights: Nights, defer: bool = False) -> Built:
    """Build these nights and the nights left to them.

    With ``defer`` (a run of the DAG is queued after this one: a backfill,
    a catch-up), the nights are only recorded in ``raw.pending_builds`` and
    nothing is built: the next run that builds takes them along, so a
    backfill of thirty nights lands each night and runs dbt three times
    (``receivables.warehouse.build.build`` splits the dates into runs and
    says what a failing data test does to a run). The drops a failing data
    test took back out are quarantined, not fatal.
    """
    if not config.warehouse.exists():  # never an empty file made here: the load makes the warehouse
        raise ReceivablesError(f"{config.warehouse}: no warehouse yet; land a night first")
    with connect(config.warehouse) as connection:
        ensure_raw_schema(connection)
        if defer:
            connection.executemany(
                f"insert or replace into {RAW_SCHEMA}.pending_builds values (?, current_timestamp)",
                [[night] for night in nights],
            )
            log.info("%s landed; its build is left to the run queued after this one", nights.describe())
            return Built([], [])
        pending = [
            day
            for (day,) in connection.execute(f"select as_of_date from {RAW_SCHEMA}.pending_builds").fetchall()
        ]
    days = sorted({*nights, *pending})
    taken_out = build_warehouse(config.warehouse, days, landing=config.landing)
    for drop in taken_out:
        log.warning("%s", drop.describe())
    return Built(days, taken_out)


def publish(config: Settings, as_of: date) -> str:
    """Publish the built night ``as_of``: record it, then swap it in at the serving path, atomically,
    then each entity's file beside it (``receivables.serve.entity_files``); prune old snapshots.

    The publish is recorded in the working file first (``raw.publish_log``,
    ``raw.reported_figures``), with the marts of ``as_of`` kept in Parquet
    beside the serving file (SPEC section 18, as reported:
    ``receivables.serve.as_reported``), so that the served file carries its
    own record. The build has ended (its process is gone), so the file is
    closed; a checkpoint folds any write-ahead log in, then a hard link to it
    beside the serving file is renamed over it: the night is served without
    copying the whole file on the way. The working file and the served night
    are then one file until ``working_copy`` gives the working file its own
    copy again (and any writer does first:
    ``receivables.warehouse.store.own_copy``). Where the serving path is on
    another file system, or takes no links, the file is copied instead. A
    reader with an open connection keeps reading the file it opened; its next
    connection sees the new night.
    """

    published_at = datetime.now().replace(microsecond=0)
    with writer_lock(config.warehouse, f"the publish of {as_of}"):
        with connect(config.warehouse) as connection:
            ensure_raw_schema(connection)
            snapshot = record_publish(connection, config.serving, as_of, published_at)
            connection.execute("checkpoint")
        config.serving.parent.mkdir(parents=True, exist_ok=True)
        temporary = config.serving.with_name(f".{config.serving.name}.publishing")
        temporary.unlink(missing_ok=True)
        try:
            os.link(config.warehouse, temporary)
        except OSError as error:  # another file system (a volume of its own), or no hard links
            log.info("%s cannot be linked at %s (%s): copying it", config.warehouse, temporary, error)
            copy_durably(config.warehouse, temporary)
    # each entity's rows, beside the group's (SPEC section 15), written before any file is swapped
    entity_files = prepare_entity_files(config.serving, temporary)
    os.replace(temporary, config.serving)
    swap_in(entity_files)
    pruned = prune_snapshots(config.serving)
    log.info(
        "published %s (%s) to %s, and %d entity files; its marts kept in %s (%d older nightly snapshots pruned)",
        config.warehouse, as_of, config.serving, len(entity_files), snapshot, len(pruned),
    )  # fmt: skip
    return str(config.serving)


def working_copy(config: Settings) -> bool:
    """After the publish: the working file gets its own copy again, off the path to the morning's figures.

    Whether a copy was made (none when the publish had to copy, or a writer
    already did). The next night's load would make it anyway
    (``receivables.warehouse.store.own_copy``); made here, it is not on that
    night's way to its figures.
    """

    with writer_lock(config.warehouse, "the working file's own copy"):
        copied = own_copy(config.warehouse)
    log.info("the working file %s its own copy", "has now" if copied else "already had")
    return copied


def not_landed(config: Settings, night: date) -> list[dict[str, Any]]:
    """The entities that are not fresh for ``night``, read from the published warehouse."""
    with open_published(config.serving) as connection:
        rows = connection.execute(
            "select entity_code, status, reason, last_good_extract_date from marts.mart_freshness "
            "where as_of_date = ? and status in ('stale', 'quarantined') order by entity_code",
            [night],
        ).fetchall()
    return [
        {"entity_code": code, "status": status, "reason": reason, "last_good_extract_date": str(last_good)}
        for code, status, reason, last_good in rows
    ]


def run(config: Settings, nights: Nights) -> Iterator[str]:
    """The pipeline outside Airflow: night after night, each landed then built, as the nightly DAG runs.

    Each night is landed (validated against the warehouse as the nights
    before it left it) and built before the next, so each date's figures are
    those its night published; then, with a serving file set, the warehouse
    is published once, and the entities not landed of each night listed.
    (A backfill of the DAG builds its nights together instead:
    docs/decisions.md, "The nightly DAG at scale".) Yields what it did, a line each.
    """
    for night in nights:
        yield from land(config, night)
        built = build(config, Nights.of(night))
        yield from (drop.describe() for drop in built.taken_out)
        yield from (f"built {day}" for day in built.nights)
    if config.text("serving") is None:
        return
    yield f"published {publish(config, nights.last)}"
    working_copy(config)
    for night in nights:
        for problem in not_landed(config, night):
            yield f"{night}: {problem['entity_code']} {problem['status']}: {problem['reason']}"


def alert_text(problems: list[dict[str, Any]], night: date) -> tuple[str, str]:
    subject = f"[receivables] {night}: {len(problems)} drop(s) not landed"
    rows = "".join(
        f"<tr><td>{p['entity_code']}</td><td>{p['status']}</td><td>{p['last_good_extract_date']}</td>"
        f"<td>{p['reason']}</td></tr>"
        for p in problems
    )
    body = (
        f"<p>Night of {night}: the other entities landed; these keep their last good data.</p>"
        "<table><tr><th>entity</th><th>status</th><th>last good extract</th><th>reason</th></tr>"
        f"{rows}</table>"
    )
    return subject, body


def send_alert(problems: list[dict[str, Any]], night: date) -> str:
    """Mail the stale and quarantined entities through Airflow's SMTP connection."""
    if not problems:
        return "every drop landed"
    return alert(*alert_text(problems, night))


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
    recipients = mail.addresses(read_settings().alert_to)
    if not recipients:
        log.warning("%s (no %s set, no mail sent)", subject, VARIABLES["alert_to"][0])
        return subject
    mail.send(recipients, subject, body)
    log.info("alert sent to %s: %s", ", ".join(recipients), subject)
    return subject
