"""Per-entity serving files (SPEC section 15): a controller's SQL reaches their entity's rows only.

Beside the group's serving file, ``<serving dir>/entities/<ENTITY>.duckdb``
holds one entity's rows of the published marts, under the same schema and
table names, and the reference tables (seeds: buckets, stages, legal
parameters), which hold no entity's data. The weak signals are those on the
debtor groups the entity is exposed to, with the entity's own exposure as
the amount and no detail: the group's detail quotes other entities' figures
(docs/decisions.md, "Per-entity files"). Each file is written beside its
place and swapped in atomically, like the group file: a reader keeps the
file it opened. With ``RECEIVABLES_ENTITY_FILE_GROUP`` set, each file is
given its entity's Unix group and mode 0640 before it is swapped in, so that
only that entity's controllers read it (docs/operations.md).
"""

from __future__ import annotations

import grp
import logging
import os
from pathlib import Path
from typing import Any

from receivables.errors import ReceivablesError

log = logging.getLogger(__name__)

ENTITIES_FOLDER = "entities"

# mart: the rows of one entity (``$entity``), selected from the group file attached as ``grp``
ENTITY_MARTS: dict[str, str] = {
    "fct_open_items": "select * from grp.marts.fct_open_items where entity_code = $entity",
    "mart_aging": "select * from grp.marts.mart_aging where entity_code = $entity",
    "mart_dso": "select * from grp.marts.mart_dso where entity_code = $entity",
    "mart_entity_debtor_exposure": (
        "select * from grp.marts.mart_entity_debtor_exposure where entity_code = $entity"
    ),
    "mart_freshness": "select * from grp.marts.mart_freshness where entity_code = $entity",
    "mart_data_issues": "select * from grp.marts.mart_data_issues where entity_code = $entity",
    "mart_promises": "select * from grp.marts.mart_promises where entity_code = $entity",
    "mart_disputes": "select * from grp.marts.mart_disputes where entity_code = $entity",
    "mart_cash_forecast": "select * from grp.marts.mart_cash_forecast where entity_code = $entity",
    "mart_forecast_accuracy": "select * from grp.marts.mart_forecast_accuracy where entity_code = $entity",
    "mart_weak_signals": (
        "select signals.as_of_date, signals.debtor_group_id, signals.signal, "
        "cast(null as varchar) as detail, exposure.exposure_eur as amount_eur, signals.signal_date "
        "from grp.marts.mart_weak_signals as signals "
        "inner join ("
        "  select as_of_date, debtor_group_id, cast(sum(exposure_eur) as decimal(18, 2)) as exposure_eur "
        "  from grp.marts.mart_entity_debtor_exposure where entity_code = $entity group by all"
        ") as exposure using (as_of_date, debtor_group_id)"
    ),
}
REFERENCE_SCHEMA = "reference"


def entity_file(serving: Path, entity_code: str) -> Path:
    return Path(serving).parent / ENTITIES_FOLDER / f"{entity_code}.duckdb"


FILE_MODE = 0o640  # owner writes (the publish), the entity's group reads, nobody else


def entity_groups(codes: list[str], pattern: str | None) -> dict[str, int]:
    """Each entity's group id from ``pattern`` (``{entity}``: the code in lower case); none unset.

    Every group is looked up before a file is written: a missing one stops
    the publish with its name, and no file is swapped in.
    """
    if not pattern:
        return {}
    groups = {}
    for code in codes:
        try:
            name = pattern.format(entity=code.lower())
        except (KeyError, IndexError, ValueError) as error:
            raise ReceivablesError(
                f"RECEIVABLES_ENTITY_FILE_GROUP {pattern!r}: only {{entity}} may be named ({error})"
            ) from None
        try:
            groups[code] = grp.getgrnam(name).gr_gid
        except KeyError:
            raise ReceivablesError(
                f"entity {code}: no Unix group {name!r} (RECEIVABLES_ENTITY_FILE_GROUP {pattern!r}); "
                "create it (docs/operations.md, 'Sharing the entity files'); nothing was published"
            ) from None
    if "{entity}" not in pattern:
        log.warning("RECEIVABLES_ENTITY_FILE_GROUP names no {entity}: every entity file gets one group")
    return groups


def write_entity_files(
    serving: Path, codes: list[str] | None = None, source: Path | None = None
) -> list[Path]:
    """Write every entity's file beside ``serving``, from ``source`` (default: the serving file itself).

    Each file is written whole beside its place, then all are swapped in; the
    nightly publish passes the group file's copy before it is itself swapped
    in, so that the group and entity files of a night go out together.
    Returns the files written.
    """
    prepared = prepare_entity_files(serving, source or serving, codes)
    swap_in(prepared)
    log.info("published %d entity files beside %s", len(prepared), serving)
    return [final for _, final in prepared]


def prepare_entity_files(
    serving: Path, source: Path, codes: list[str] | None = None
) -> list[tuple[Path, Path]]:
    """Each entity's file written beside its place (``(written, place)`` pairs), not yet swapped in,
    with its entity's group when ``RECEIVABLES_ENTITY_FILE_GROUP`` is set."""
    import duckdb

    from receivables.settings import settings

    source = Path(source)
    if not source.is_file():
        raise ReceivablesError(f"{source}: no published warehouse to split per entity")
    # an in-memory connection that attaches the group file: a reader's open connection to the same
    # path, in this process and with other settings, never conflicts with it
    with duckdb.connect() as connection:
        connection.execute("attach ? as grp (read_only)", [str(source)])
        if codes is None:
            codes = [
                row[0]
                for row in connection.execute(
                    "select entity_code from grp.raw.entities order by 1"
                ).fetchall()
            ]
        references = [
            row[0]
            for row in connection.execute(
                "select table_name from duckdb_tables() where database_name = 'grp' and schema_name = ?",
                [REFERENCE_SCHEMA],
            ).fetchall()
        ]
        groups = entity_groups(codes, settings().text("entity_file_group"))
        prepared = [_write_one(connection, serving, code, references, groups.get(code)) for code in codes]
        connection.execute("detach grp")
    return prepared


def swap_in(prepared: list[tuple[Path, Path]]) -> None:
    for written, place in prepared:
        os.replace(written, place)


def _write_one(
    connection: Any, serving: Path, entity_code: str, references: list[str], group: int | None
) -> tuple[Path, Path]:
    target = entity_file(serving, entity_code)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.publishing")
    for path in (temporary, temporary.with_name(temporary.name + ".wal")):
        path.unlink(missing_ok=True)
    connection.execute("attach ? as entity_file", [str(temporary)])
    try:
        connection.execute("create schema entity_file.marts")
        for mart, select in ENTITY_MARTS.items():
            connection.execute(f"create table entity_file.marts.{mart} as {select}", {"entity": entity_code})
        connection.execute(f"create schema entity_file.{REFERENCE_SCHEMA}")
        for table in references:
            connection.execute(
                f'create table entity_file.{REFERENCE_SCHEMA}."{table}" '
                f'as select * from grp.{REFERENCE_SCHEMA}."{table}"'
            )
        connection.execute("checkpoint entity_file")
    finally:
        connection.execute("detach entity_file")
    if group is not None:
        os.chown(temporary, -1, group)
        os.chmod(temporary, FILE_MODE)
    with temporary.open("rb+") as handle:
        os.fsync(handle.fileno())
    return temporary, target
