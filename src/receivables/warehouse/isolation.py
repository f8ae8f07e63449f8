"""Take a night's drops back out of the raw layer when a data test names their rows (SPEC section 12).

Landing checks every rule one entity's rows can break, but a data test can
still fail during the build (a rule that needs several nights, a test added
later). The rows a failing test returns carry their ``entity_code``: those
entities' drops of the night are taken back out exactly as if they had been
quarantined on landing. Their rows leave the raw tables, the rows they
replaced come back (``raw.<extract>__replaced``), their folders move to
``_quarantine`` with a ``reason.json`` naming the test and the rows, and
``raw.landing_log`` marks them quarantined. The build then runs again
without them; the other entities' figures are published.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from receivables import paths
from receivables.contract import ALL_EXTRACTS
from receivables.errors import Failure
from receivables.ingest.outcome import QUARANTINED
from receivables.ingest.quarantine import UnsafeQuarantine, quarantine_drop
from receivables.warehouse.store import (
    GROUP_ENTITY,
    RAW_SCHEMA,
    connect,
    ensure_raw_schema,
    raw_table,
    replaced_table,
)

log = logging.getLogger(__name__)

MAX_ROWS_PER_TEST = 50  # failing rows listed per test in reason.json; the count is always given
ENTITY_COLUMN = "entity_code"


@dataclass(frozen=True)
class Drop:
    entity_code: str
    extract_date: date


@dataclass
class TakenOut:
    """A drop of the night taken back out of the raw layer, and why."""

    entity_code: str
    extract_date: str
    reason: str

    def describe(self) -> str:
        return f"{self.entity_code} {self.extract_date}: quarantined by the build ({self.reason})"


def night_drops(connection: duckdb.DuckDBPyConnection, as_of: date, last: date) -> list[Drop]:
    """The drops landed since the last successful build (all of the as-of dates' with no build yet)."""
    [(built_through,)] = connection.execute(
        f"select max(loaded_through) from {RAW_SCHEMA}.build_log"
    ).fetchall()
    if built_through is None:  # no build recorded yet (or a warehouse of an earlier version)
        condition, parameters = "extract_date between ? and ?", [as_of, last]
    else:
        condition, parameters = "load_id > ?", [built_through]
    rows = connection.execute(
        f"select entity_code, extract_date from {RAW_SCHEMA}.landing_log "
        f"where status = 'ok' and {condition} order by extract_date desc, entity_code",
        parameters,
    ).fetchall()
    return [Drop(code, day) for code, day in rows]


def failing_entities(rows: list[dict[str, Any]], relation: str) -> set[str]:
    """The entities a failing test's rows belong to: their entity_code, or GROUP for FX rates."""
    if rows and ENTITY_COLUMN in rows[0]:
        return {str(row[ENTITY_COLUMN]) for row in rows if row[ENTITY_COLUMN] is not None}
    if "fx_rates" in relation:
        return {GROUP_ENTITY}
    return set()


def test_failures(
    test: str, rows: list[dict[str, Any]], count: int, entity: str, as_of: date
) -> list[Failure]:
    """The failing rows of one test that belong to one entity, as reason.json lists failures."""
    mine = [row for row in rows if row.get(ENTITY_COLUMN, GROUP_ENTITY) in (entity, None)] or rows
    message = f"expected no row to fail the data test {test} (build of {as_of.isoformat()})"
    failures = [
        Failure(
            entity,
            test,
            "data_test",
            message,
            found=json.dumps(row, default=str, ensure_ascii=False, sort_keys=True),
        )
        for row in mine[:MAX_ROWS_PER_TEST]
    ]
    if count > MAX_ROWS_PER_TEST:
        failures.append(
            Failure(entity, test, "data_test", f"{message}: {count} rows fail in all", items=count)
        )
    return failures


def take_out(warehouse: Path, landing: Path, drops: dict[Drop, list[Failure]], as_of: date) -> list[TakenOut]:
    """Take these drops back out of the raw layer and move them to the quarantine, in one transaction.

    Later drops first: a row a later drop of the night replaced may itself
    come from an earlier drop being taken out, which then removes it too.
    """

    ordered = sorted(drops, key=lambda d: (d.extract_date, d.entity_code), reverse=True)
    taken: list[TakenOut] = []
    with connect(warehouse) as connection:
        ensure_raw_schema(connection)
        connection.execute("begin transaction")
        try:
            for drop in ordered:
                failures = drops[drop]
                reason = f"taken out by the build of {as_of.isoformat()}: " + failures[0].describe()
                _restore_raw_layer(connection, drop)
                connection.execute(
                    f"update {RAW_SCHEMA}.landing_log set status = ?, rows_landed = 0, failure_count = ?, "
                    "reason = ? where entity_code = ? and extract_date = ?",
                    [QUARANTINED, len(failures), reason, drop.entity_code, drop.extract_date],
                )
                taken.append(TakenOut(drop.entity_code, drop.extract_date.isoformat(), reason))
            connection.execute("commit")
        except Exception:
            connection.execute("rollback")
            raise
    for drop in ordered:
        entity = None if drop.entity_code == GROUP_ENTITY else drop.entity_code
        folder = paths.drop_dir(landing, entity, drop.extract_date)
        target = paths.quarantine_dir(landing, entity, drop.extract_date)
        try:
            final = quarantine_drop(folder, target, drops[drop], drop.entity_code, drop.extract_date)
        except UnsafeQuarantine as unsafe:  # taken out of the raw layer all the same
            log.error("%s %s taken out of the night: %s", drop.entity_code, drop.extract_date, unsafe)
            continue
        log.warning(
            "%s %s taken out of the night and quarantined to %s", drop.entity_code, drop.extract_date, final
        )
    return taken


def _restore_raw_layer(connection: duckdb.DuckDBPyConnection, drop: Drop) -> None:
    """The raw layer as it was before the drop: its rows out, the rows it replaced back."""
    where = [drop.entity_code, drop.extract_date]
    for extract in ALL_EXTRACTS:
        table, replaced = raw_table(extract), replaced_table(extract)
        key = ", ".join(("entity_code", *extract.key))
        matches = " and ".join(
            f"current.{column} = earlier.{column}" for column in ("entity_code", *extract.key)
        )
        connection.execute(f"delete from {table} where entity_code = ? and extract_date = ?", where)
        # the version each key had before the drop (an earlier landing of the same drop is not one)
        connection.execute(
            f"insert into {table} by name "
            f"select * exclude (replaced_by_extract_date) from {replaced} as earlier "
            "where entity_code = ? and replaced_by_extract_date = ? and extract_date <> ? "
            f"and not exists (select 1 from {table} as current where {matches}) "
            f"qualify row_number() over (partition by {key} order by extract_date desc) = 1",
            [*where, drop.extract_date],
        )
        connection.execute(
            f"delete from {replaced} where entity_code = ? and replaced_by_extract_date = ?", where
        )
    for table in (
        "settlement_line_moves",
        "debtor_intercompany_changes",
        "landing_warnings",
        "document_removals",
    ):
        connection.execute(
            f"delete from {RAW_SCHEMA}.{table} where entity_code = ? and extract_date = ?", where
        )


def forget_replaced_rows(connection: duckdb.DuckDBPyConnection, as_of: date, last: date) -> None:
    """After a successful build: the replaced rows are no longer needed; the build is recorded."""
    for extract in ALL_EXTRACTS:
        connection.execute(f"delete from {replaced_table(extract)}")
    connection.execute(
        f"insert into {RAW_SCHEMA}.build_log "
        f"select ?, ?, coalesce(max(load_id), 0), current_timestamp from {RAW_SCHEMA}.landing_log",
        [as_of, last],
    )
