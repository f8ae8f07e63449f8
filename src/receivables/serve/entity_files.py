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
import hashlib
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from receivables.errors import ReceivablesError
from receivables.marts_catalog import OWN_ROWS, entity_rows
from receivables.registry import is_entity_code
from receivables.settings import settings

log = logging.getLogger(__name__)

ENTITIES_FOLDER = "entities"


@dataclass(frozen=True)
class EntityMart:
    """How an entity file's mart is selected from the group file attached as ``grp``.

    ``select`` names the entity as ``$entity`` and holds ``{dates}``, the
    filter on the as-of dates written (``true`` for all of them); ``sources``
    are the group marts it reads. ``every_entity`` selects the same rows
    for all entities at once, each with its ``entity_code`` first: what the
    publish fingerprints, so that each partition's fingerprint is one of the
    entity's own rows (issue 33: the file held the group's); a mart of the
    entity's own rows of one group mart needs none.
    """

    select: str
    sources: tuple[str, ...]
    every_entity: str | None = None


def _own_rows(mart: str) -> EntityMart:
    return EntityMart(f"select * from grp.marts.{mart} where entity_code = $entity and {{dates}}", (mart,))


# an entity file's weak signals: those on the debtor groups it is exposed to, its own exposure as the
# amount, no detail; {entity} is the entity's condition on the exposure ("= $entity", or none)
_SIGNALS = (
    "select {first}signals.as_of_date, signals.debtor_group_id, signals.signal, "
    "cast(null as varchar) as detail, exposure.exposure_eur as amount_eur, signals.signal_date "
    "from grp.marts.mart_weak_signals as signals "
    "inner join ("
    "  select entity_code, as_of_date, debtor_group_id, cast(sum(exposure_eur) as decimal(18, 2)) as exposure_eur "
    "  from grp.marts.mart_entity_debtor_exposure where {entity} {{dates}} group by all"
    ") as exposure using (as_of_date, debtor_group_id) "
    "where {{dates}}"
)


def _entity_mart(mart: str, rows: str) -> EntityMart:
    if rows == OWN_ROWS:
        return _own_rows(mart)
    if mart != "mart_weak_signals":  # the one mart read through its debtor groups' exposure
        raise ReceivablesError(f"{mart}: entity_rows {rows!r} is written for mart_weak_signals only")
    return EntityMart(
        _SIGNALS.format(first="", entity="entity_code = $entity and"),
        ("mart_weak_signals", "mart_entity_debtor_exposure"),
        _SIGNALS.format(first="exposure.entity_code, ", entity="").format(dates="true"),
    )


# what an entity file holds: each mart the project flags (marts_catalog, config.meta.entity_rows)
ENTITY_MARTS: dict[str, EntityMart] = {mart: _entity_mart(mart, rows) for mart, rows in entity_rows().items()}
REFERENCE_SCHEMA = "reference"


def entity_file(serving: Path, entity_code: str) -> Path:
    return Path(serving).parent / ENTITIES_FOLDER / f"{entity_code}.duckdb"


def published_entity_file(serving: Path, entity_code: str) -> Path:
    """The published file of the entity a user names: a registry code, never a path (``sql --entity``)."""
    if not is_entity_code(entity_code):
        raise ReceivablesError(
            f"--entity {entity_code!r}: not an entity code (2-16 upper-case letters and digits, "
            "as in the entity registry)"
        )
    path = entity_file(serving, entity_code)
    if not path.is_file():
        published = sorted(p.stem for p in path.parent.glob("*.duckdb") if is_entity_code(p.stem))
        raise ReceivablesError(
            f"no published file for entity {entity_code!r} (published: {', '.join(published) or 'none'})"
        )
    return path


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

    Each file is written beside its place (last night's file with what
    changed written again), then all are swapped in; the
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
    with its entity's group when ``RECEIVABLES_ENTITY_FILE_GROUP`` is set.

    A night changes few as-of dates, so an entity's file is last night's,
    copied, with only what changed written again: each mart's rows of an
    entity at an as-of date are a partition, fingerprinted in the group
    file (rows and a sum of row hashes); the partitions whose fingerprint
    differs from the one the file recorded are deleted and selected again,
    those gone from the group file deleted. A mart whose columns or
    selection changed, or a file without fingerprints or unreadable, is
    written whole (docs/decisions.md, "Per-entity files", point 7).
    """
    import duckdb

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
        partitions = GroupPartitions.read(connection)
        prepared = [
            _write_one(connection, serving, code, references, groups.get(code), partitions) for code in codes
        ]
        connection.execute("detach grp")
    return prepared


def swap_in(prepared: list[tuple[Path, Path]]) -> None:
    for written, place in prepared:
        os.replace(written, place)


# in each entity file: what the publish wrote (partitions and fingerprints), so the next one writes
# only what changed
PUBLISH_SCHEMA = "publish"
Partition = date | None  # an as-of date, or None: the whole mart (a mart without as_of_date)


@dataclass
class GroupPartitions:
    """The group file's marts: their shape, and each entity file mart's fingerprint per (entity, as-of date)."""

    shapes: dict[str, str]  # of each source mart
    fingerprints: dict[str, dict[tuple[str | None, Partition], str]]  # of each entity file mart

    @classmethod
    def read(cls, connection: Any) -> GroupPartitions:
        """One pass over each mart an entity file's mart is fingerprinted on (the publish's only full scans).

        A mart of the entity's own rows of one group mart is fingerprinted on
        that group mart (a row hashes the same wherever it is read); one with
        ``every_entity`` on that select, each row without its entity code.
        """
        shapes: dict[str, str] = {}
        dated: dict[str, bool] = {}
        for mart in sorted({source for spec in ENTITY_MARTS.values() for source in spec.sources}):
            columns = connection.execute(
                "select column_name, data_type from duckdb_columns() "
                "where database_name = 'grp' and schema_name = 'marts' and table_name = ? order by column_index",
                [mart],
            ).fetchall()
            if not columns:
                raise ReceivablesError(f"{mart}: not in the published warehouse; build it before publishing")
            shapes[mart] = ",".join(f"{name} {kind}" for name, kind in columns)
            dated[mart] = "as_of_date" in {name for name, _ in columns}
        fingerprints = {}
        for mart, spec in ENTITY_MARTS.items():
            if spec.every_entity is None:
                [source] = spec.sources
                day = "as_of_date" if dated[source] else "null"
                fingerprints[mart] = _fingerprints(connection, f"grp.marts.{source}", "entity_code", day, "m")
                continue
            selected = [
                column[0] for column in connection.execute(f"{spec.every_entity} limit 0").description
            ]
            own = [name for name in selected if name != "entity_code"]
            row = "struct_pack(" + ", ".join(f'"{name}" := m."{name}"' for name in own) + ")"
            day = "m.as_of_date" if "as_of_date" in own else "null"
            fingerprints[mart] = _fingerprints(
                connection, f"({spec.every_entity})", "m.entity_code", day, row
            )
        return cls(shapes, fingerprints)

    def shape(self, mart: str) -> str:
        spec = ENTITY_MARTS[mart]
        text = spec.select + "".join(f"|{source}: {self.shapes[source]}" for source in spec.sources)
        return hashlib.sha256(text.encode()).hexdigest()

    def of_entity(self, mart: str, entity_code: str) -> dict[Partition, str]:
        """The fingerprint of each partition of ``mart`` in ``entity_code``'s file: of its own rows.

        A row's hash does not depend on where it is read, so the fingerprint
        recorded in the file can be computed again from the file's own rows
        and tells nothing of any other entity's (tests/test_entity_files.py).
        """
        return {
            partition: fingerprint
            for (code, partition), fingerprint in self.fingerprints[mart].items()
            if code == entity_code
        }


def _fingerprints(
    connection: Any, rows: str, entity: str, day: str, row: str
) -> dict[tuple[str | None, Partition], str]:
    """Each (entity, as-of date) partition of ``rows`` (aliased ``m``): its count and sum of ``row`` hashes."""
    return {
        (code, partition): fingerprint
        for code, partition, fingerprint in connection.execute(
            f"select {entity}, {day}, count(*) || ':' || sum(hash({row})) from {rows} as m group by all"
        ).fetchall()
    }


def _write_one(
    connection: Any,
    serving: Path,
    entity_code: str,
    references: list[str],
    group: int | None,
    partitions: GroupPartitions,
) -> tuple[Path, Path]:
    import duckdb

    target = entity_file(serving, entity_code)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.publishing")
    for path in (temporary, temporary.with_name(temporary.name + ".wal")):
        path.unlink(missing_ok=True)
    if target.is_file():
        shutil.copyfile(target, temporary)  # last night's file: only what changed is written again
    try:
        connection.execute("attach ? as entity_file", [str(temporary)])
    except duckdb.Error as error:
        log.warning("%s: not readable (%s); written whole", target, error)
        temporary.unlink()
        connection.execute("attach ? as entity_file", [str(temporary)])
    try:
        recorded = _recorded(connection)
        connection.execute("create schema if not exists entity_file.marts")
        shapes: list[tuple[str, str]] = []
        written: list[tuple[str, Partition, str]] = []
        for mart in ENTITY_MARTS:
            shape, wanted = partitions.shape(mart), partitions.of_entity(mart, entity_code)
            known, fingerprints = recorded.get(mart, ("", {}))
            _write_mart(connection, entity_code, mart, wanted, fingerprints if known == shape else None)
            shapes.append((mart, shape))
            written += [(mart, partition, fingerprint) for partition, fingerprint in wanted.items()]
        for (mart,) in connection.execute(
            "select table_name from duckdb_tables() where database_name = 'entity_file' and schema_name = 'marts'"
        ).fetchall():
            if mart not in ENTITY_MARTS:  # a mart an earlier version published
                connection.execute(f"drop table entity_file.marts.{mart}")
        connection.execute(f"drop schema if exists entity_file.{REFERENCE_SCHEMA} cascade")
        connection.execute(f"create schema entity_file.{REFERENCE_SCHEMA}")
        for table in references:
            connection.execute(
                f'create table entity_file.{REFERENCE_SCHEMA}."{table}" '
                f'as select * from grp.{REFERENCE_SCHEMA}."{table}"'
            )
        connection.execute(f"drop schema if exists entity_file.{PUBLISH_SCHEMA} cascade")
        connection.execute(f"create schema entity_file.{PUBLISH_SCHEMA}")
        connection.execute(
            f"create table entity_file.{PUBLISH_SCHEMA}.marts (mart varchar primary key, shape varchar not null)"
        )
        connection.executemany(f"insert into entity_file.{PUBLISH_SCHEMA}.marts values (?, ?)", shapes)
        connection.execute(
            f"create table entity_file.{PUBLISH_SCHEMA}.partitions "
            "(mart varchar not null, as_of_date date, fingerprint varchar not null)"
        )
        connection.execute(  # one statement: a row per partition, hundreds
            f"insert into entity_file.{PUBLISH_SCHEMA}.partitions "
            "select unnest($marts), unnest($dates), unnest($fingerprints)",
            {
                "marts": [mart for mart, _, _ in written],
                "dates": [partition for _, partition, _ in written],
                "fingerprints": [fingerprint for _, _, fingerprint in written],
            },
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


def _recorded(connection: Any) -> dict[str, tuple[str, dict[Partition, str]]]:
    """What the copied file's publish wrote: each mart's shape and each partition's fingerprint."""
    present = connection.execute(
        "select count(*) from duckdb_tables() "
        "where database_name = 'entity_file' and schema_name = ? and table_name in ('marts', 'partitions')",
        [PUBLISH_SCHEMA],
    ).fetchone()
    if not present or present[0] != 2:
        return {}
    recorded: dict[str, tuple[str, dict[Partition, str]]] = {
        mart: (shape, {})
        for mart, shape in connection.execute(
            f"select mart, shape from entity_file.{PUBLISH_SCHEMA}.marts"
        ).fetchall()
    }
    for mart, partition, fingerprint in connection.execute(
        f"select mart, as_of_date, fingerprint from entity_file.{PUBLISH_SCHEMA}.partitions"
    ).fetchall():
        if mart in recorded:
            recorded[mart][1][partition] = fingerprint
    return recorded


def _write_mart(
    connection: Any,
    entity_code: str,
    mart: str,
    wanted: dict[Partition, str],
    recorded: dict[Partition, str] | None,
) -> None:
    """Write ``mart`` into the attached entity file: the partitions that changed, or whole."""
    spec = ENTITY_MARTS[mart]
    table = f"entity_file.marts.{mart}"
    exists = connection.execute(
        "select count(*) from duckdb_tables() "
        "where database_name = 'entity_file' and schema_name = 'marts' and table_name = ?",
        [mart],
    ).fetchone()
    if recorded is None or not exists or not exists[0]:
        connection.execute(f"drop table if exists {table}")
        connection.execute(
            f"create table {table} as {spec.select.format(dates='true')}", {"entity": entity_code}
        )
        return
    changed = sorted((p for p, fingerprint in wanted.items() if recorded.get(p) != fingerprint), key=str)
    gone = [p for p in recorded if p not in wanted]
    if not changed and not gone:
        return
    if None in changed or None in gone:  # a mart without as-of dates: all of it
        connection.execute(f"delete from {table}")
        connection.execute(f"insert into {table} {spec.select.format(dates='true')}", {"entity": entity_code})
        return
    connection.execute(
        f"delete from {table} where list_contains($days, as_of_date)", {"days": changed + gone}
    )
    if changed:
        dates = "(as_of_date between $first and $last and list_contains($days, as_of_date))"
        connection.execute(
            f"insert into {table} {spec.select.format(dates=dates)}",
            {"entity": entity_code, "first": changed[0], "last": changed[-1], "days": changed},
        )
