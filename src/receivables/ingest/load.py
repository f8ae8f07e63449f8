"""The load: the single writer of the warehouse's raw layer (SPEC section 3).

``load_outcomes`` upserts every drop staged by the night's validation
(``receivables.ingest.staging``) and records each entity's landing status, the
registry and the rows that warn, in one transaction.
"""

from __future__ import annotations

import logging
import shutil
from datetime import date
from pathlib import Path

from receivables.contract import EXTRACTS_BY_NAME
from receivables.ingest.outcome import DropOutcome
from receivables.registry import Registry
from receivables.warehouse.store import (
    connect,
    ensure_raw_schema,
    raw_table,
    record_entities,
    record_landing,
    record_warnings,
    snapshot_sql,
    upsert_sql,
    writer_lock,
)

log = logging.getLogger(__name__)


def load_outcomes(warehouse: Path, outcomes: list[DropOutcome], registry: Registry) -> None:
    """The single writer: upsert every staged drop, record every status and the registry, in one transaction."""
    Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
    with writer_lock(warehouse, f"load of {len(outcomes)} drops"), connect(warehouse) as connection:
        ensure_raw_schema(connection)
        connection.execute("begin transaction")
        try:
            # one upsert per extract for all the night's drops: each upsert probes the whole raw
            # table, so its cost grows with history, not with the number of entities
            staged_by_extract: dict[str, list[str]] = {}
            for outcome in outcomes:
                for name, parquet in outcome.staged.items():
                    staged_by_extract.setdefault(name, []).append(parquet)
            for name, parquets in sorted(staged_by_extract.items()):
                extract = EXTRACTS_BY_NAME[name]
                files = ", ".join(f"'{parquet}'" for parquet in parquets)
                key = ", ".join(("entity_code", *extract.key))
                connection.execute(
                    f"create or replace temp table staged as select * from read_parquet([{files}], union_by_name = true) "
                    f"qualify row_number() over (partition by {key} order by extract_date desc) = 1"
                )
                for outcome in outcomes:  # an entity's FEC: its whole ledger, earlier rows not in it gone
                    if name in outcome.snapshot and name in outcome.staged:
                        for statement in snapshot_sql(
                            extract,
                            "staged",
                            outcome.entity_code,
                            outcome.extract_date,
                            outcome.snapshot_from,
                        ):
                            connection.execute(statement)
                for statement in upsert_sql(extract, "staged"):
                    connection.execute(statement)
                log.debug("upserted %d drops into %s", len(parquets), raw_table(extract))
            night = min((date.fromisoformat(o.extract_date) for o in outcomes), default=date.today())
            for code in record_entities(connection, registry, night):
                log.warning(
                    "entity %s is no longer in %s: kept in the warehouse with its history, retired on %s "
                    "(declare retired_on: in the registry to date it; docs/operations.md)",
                    code, registry.source, night,
                )  # fmt: skip
            record_landing(
                connection,
                [
                    (
                        o.entity_code,
                        o.extract_date,
                        o.status,
                        o.rows,
                        o.failure_count,
                        o.reason,
                        o.with_manifest,
                    )
                    for o in outcomes
                ],
            )
            for o in outcomes:
                record_warnings(connection, o.entity_code, o.extract_date, o.warnings)
            connection.execute("commit")
        except Exception:
            connection.execute("rollback")
            raise
    for outcome in outcomes:
        for parquet in outcome.staged.values():
            Path(parquet).unlink(missing_ok=True)
        if outcome.staged:
            shutil.rmtree(Path(next(iter(outcome.staged.values()))).parent, ignore_errors=True)
