"""The raw layer of the DuckDB warehouse (SPEC section 11): tables, upserts, lookups.

Only the load step writes here, in one transaction per night, so a failed
load leaves the warehouse as it was. DuckDB has one writer: callers that run
in parallel (validation) only open the file read-only.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from receivables.contract import ALL_EXTRACTS, CONTROL_CHARACTERS, MONEY_SQL, ColumnType, Extract
from receivables.errors import ReceivablesError
from receivables.registry import CsvDialect, Registry
from receivables.settings import settings

RAW_SCHEMA = "raw"
GROUP_ENTITY = "GROUP"  # entity_code of group-level extracts (fx_rates) and group figures

LANDING_LOG_DDL = f"""
create table if not exists {RAW_SCHEMA}.landing_log (
    entity_code varchar not null,
    extract_date date not null,
    status varchar not null,
    rows_landed bigint not null,
    failure_count integer not null,
    reason varchar,
    load_id bigint default 0
)
"""
# A warehouse landed before load_id existed gains it (0: loaded before any incremental model's mark).
LANDING_LOG_LOAD_ID = (
    f"alter table {RAW_SCHEMA}.landing_log add column if not exists load_id bigint default 0"
)
# whether the drop carried _manifest.json (null: no drop, or landed before this column)
LANDING_LOG_WITH_MANIFEST = (
    f"alter table {RAW_SCHEMA}.landing_log add column if not exists with_manifest boolean"
)


def raw_table(extract: Extract) -> str:
    return f"{RAW_SCHEMA}.{extract.name}"


# Columns of a raw table that no extract file carries: what a FEC says of its rows (SPEC section 16),
# and the CDAR message each e-invoicing status was read from (section 17).
# A document's due_date_source (fec: DateRglt, terms: debtors.csv, default: the registry's terms;
# null: the extract gave the due date) and a settlement line's matched_on (the lettering's date:
# before it the line settles no document and is unapplied cash; null: it settles from its own date).
RAW_ONLY_COLUMNS: dict[str, dict[str, str]] = {
    "invoices": {"due_date_source": "varchar"},
    "payments": {"matched_on": "date"},
    # the CDAR message a status was read from (einvoice/<name>; null: einvoice_status.csv)
    "einvoice_status": {"source_file": "varchar"},
}


def raw_table_ddl(extract: Extract, table: str | None = None, more: tuple[str, ...] = ()) -> str:
    """The raw table of an extract (or another table of its rows, with ``more`` columns after them)."""
    columns = ",\n    ".join(
        [
            "entity_code varchar not null",
            *(
                f"{column.name} {column.duckdb_type}{' not null' if column.required else ''}"
                for column in extract.columns
            ),
            "extract_date date not null",
            *(f"{name} {sql}" for name, sql in RAW_ONLY_COLUMNS.get(extract.name, {}).items()),
            *more,
        ]
    )
    return f"create table if not exists {table or raw_table(extract)} (\n    {columns}\n)"


def raw_only_columns_ddl(extract: Extract) -> list[str]:
    """The raw-only columns added to a warehouse landed before them (and to its replaced rows)."""
    return [
        f"alter table {table} add column if not exists {name} {sql}"
        for table in (raw_table(extract), replaced_table(extract))
        for name, sql in RAW_ONLY_COLUMNS.get(extract.name, {}).items()
    ]


ENTITIES_DDL = f"""
create table if not exists {RAW_SCHEMA}.entities (
    entity_code varchar not null,
    entity_name varchar not null,
    country varchar not null,
    currency varchar not null
)
"""
# the day an entity left the group (docs/operations.md, "Retiring an entity"); added to earlier warehouses
ENTITIES_RETIRED_ON = f"alter table {RAW_SCHEMA}.entities add column if not exists retired_on date"
# its SIREN and whether its VAT is due on collection (SPEC section 17); added to earlier warehouses
ENTITIES_EINVOICING = (
    f"alter table {RAW_SCHEMA}.entities add column if not exists siren varchar",
    f"alter table {RAW_SCHEMA}.entities add column if not exists vat_on_receipts boolean default false",
)


# A settlement line re-sent against another document (or none) leaves its former
# document to recompute: the warehouse keeps only the latest version of each line.
LINE_MOVES_DDL = f"""
create table if not exists {RAW_SCHEMA}.settlement_line_moves (
    entity_code varchar not null,
    settlement_id varchar not null,
    line_no integer not null,
    previous_document_id varchar not null,
    extract_date date not null
)
"""


# A debtor re-sent with another intercompany entity (a group company now, or no longer one)
# moves its documents in or out of the DSO: the build recomputes them (int_dso_document_months).
DEBTOR_CHANGES_DDL = f"""
create table if not exists {RAW_SCHEMA}.debtor_intercompany_changes (
    entity_code varchar not null,
    debtor_id varchar not null,
    previous_intercompany_entity varchar,
    extract_date date not null
)
"""


# Documents an entity's snapshot (a FEC, SPEC section 16) no longer holds: gone from raw.invoices,
# and from the models kept per document by the next build (macro remove_documents_gone).
DOCUMENT_REMOVALS_DDL = f"""
create table if not exists {RAW_SCHEMA}.document_removals (
    entity_code varchar not null,
    document_id varchar not null,
    extract_date date not null
)
"""


# Rows that broke a warning rule (SPEC section 12): landed, and listed in marts.mart_data_issues.
# One row per row of a file (or per rule and file for the rows past the 50 listed: items).
LANDING_WARNINGS_DDL = f"""
create table if not exists {RAW_SCHEMA}.landing_warnings (
    entity_code varchar not null,
    extract_date date not null,
    file_name varchar not null,
    row_number integer,
    column_name varchar,
    rule varchar not null,
    message varchar not null,
    found varchar,
    document_key varchar,
    amount {MONEY_SQL},
    currency varchar,
    items integer not null
)
"""


def replaced_table(extract: Extract) -> str:
    """Rows that the night's drops replaced, kept until a build succeeds (SPEC section 12).

    A drop that a failing data test takes back out of the raw layer leaves
    its entity exactly at its last good data: the rows it replaced come back
    from here.
    """
    return f"{RAW_SCHEMA}.{extract.name}__replaced"


def replaced_table_ddl(extract: Extract) -> str:
    return raw_table_ddl(extract, replaced_table(extract), ("replaced_by_extract_date date not null",))


# One row per successful build: the highest load it read. The drops loaded after it are the
# night's, those a failing data test may take back out (receivables.warehouse.isolation).
BUILD_LOG_DDL = f"""
create table if not exists {RAW_SCHEMA}.build_log (
    as_of_from date not null,
    as_of_to date not null,
    loaded_through bigint not null,
    built_at timestamp not null
)
"""

# What each publish published (SPEC section 18, "as reported"): the as-of date, when, the highest load
# it included (the landing batches: raw.landing_log's rows up to that load_id), and where its marts are
# kept in Parquet; and the headline figures of each scope as published (intermediate.int_reported_figures
# then), which the builds after it compare with (marts.mart_restatements). Written by the publish.
PUBLISH_LOG_DDL = f"""
create table if not exists {RAW_SCHEMA}.publish_log (
    published_at timestamp not null,
    as_of_date date not null,
    loaded_through bigint not null,
    snapshot_dir varchar
)
"""
REPORTED_FIGURES_DDL = f"""
create table if not exists {RAW_SCHEMA}.reported_figures (
    published_at timestamp not null,
    as_of_date date not null,
    entity_code varchar not null,
    figure varchar not null,
    value decimal(18, 2)
)
"""

# The nights landed whose build was left to a run queued after them (a backfill, a catch-up: the
# nightly DAG builds them in one dbt run with the last, receivables.nightly.build).
PENDING_BUILDS_DDL = f"""
create table if not exists {RAW_SCHEMA}.pending_builds (
    as_of_date date primary key,
    deferred_at timestamp not null
)
"""


def ensure_raw_schema(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute(f"create schema if not exists {RAW_SCHEMA}")
    for extract in ALL_EXTRACTS:
        connection.execute(raw_table_ddl(extract))
    connection.execute(LANDING_LOG_DDL)
    connection.execute(LANDING_LOG_LOAD_ID)
    connection.execute(LANDING_LOG_WITH_MANIFEST)
    connection.execute(ENTITIES_DDL)
    connection.execute(ENTITIES_RETIRED_ON)
    for statement in ENTITIES_EINVOICING:
        connection.execute(statement)
    connection.execute(LINE_MOVES_DDL)
    connection.execute(DEBTOR_CHANGES_DDL)
    connection.execute(LANDING_WARNINGS_DDL)
    connection.execute(BUILD_LOG_DDL)
    connection.execute(PENDING_BUILDS_DDL)
    connection.execute(PUBLISH_LOG_DDL)
    connection.execute(REPORTED_FIGURES_DDL)
    for extract in ALL_EXTRACTS:
        connection.execute(replaced_table_ddl(extract))
        for statement in raw_only_columns_ddl(extract):
            connection.execute(statement)
    connection.execute(DOCUMENT_REMOVALS_DDL)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def typed_select(
    extract: Extract,
    dialect: CsvDialect,
    source: str,
    entity_code: str,
    extract_date: str,
    more: tuple[str, ...] = (),
) -> str:
    """SQL turning a text frame of ``extract`` (already validated) into raw-table rows.

    ``more``: raw-only columns the frame also holds (``RAW_ONLY_COLUMNS``), ISO dates or text.
    """
    expressions = [f"{_sql_literal(entity_code)} as entity_code"]
    for column in extract.columns:
        name = f'"{column.name}"'
        if column.type is ColumnType.DATE:
            expression = f"cast(strptime({name}, {_sql_literal(dialect.date_format)}) as date)"
        elif column.type is ColumnType.TIMESTAMP:
            formats = ", ".join(_sql_literal(f) for f in dialect.timestamp_formats)
            expression = f"cast(strptime({name}, [{formats}]) as timestamp)"
        elif column.type is ColumnType.DECIMAL:
            expression = (
                f"cast(replace({name}, {_sql_literal(dialect.decimal)}, '.') as {column.duckdb_type})"
            )
        elif column.type is ColumnType.INTEGER:
            expression = f"cast({name} as integer)"
        elif column.type is ColumnType.BOOL:
            expression = f"(lower({name}) in ('true', '1'))"
        else:  # a control character lands as a space (a warning of landing names its row)
            expression = (
                f"regexp_replace(cast({name} as varchar), {_sql_literal(CONTROL_CHARACTERS)}, ' ', 'g')"
            )
        if column.default is not None:
            default = f"cast({_sql_literal(column.default)} as {column.duckdb_type})"
            expression = f"coalesce({expression}, {default})"
        expressions.append(f"{expression} as {column.name}")
    expressions.append(f"date {_sql_literal(extract_date)} as extract_date")
    for name in more:
        expressions.append(f'cast("{name}" as {RAW_ONLY_COLUMNS[extract.name][name]}) as {name}')
    return "select\n    " + ",\n    ".join(expressions) + f"\nfrom {source}"


def upsert_sql(extract: Extract, source: str) -> list[str]:
    """Replace rows of the same key unless the warehouse holds a later extract of them.

    The raw table is scanned once, for the rows that share a key with ``source``
    (``matched``, with their row ids); the delete, the insert and the records
    of what moved (settlement lines, debtors' group companies) read only
    those. Joining each statement with the whole table instead costs a scan of
    millions of rows per statement.
    """
    table = raw_table(extract)
    keys = ("entity_code", *extract.key)
    key_match = " and ".join(f"t.{k} = s.{k}" for k in keys)
    # the columns whose change a later step must see: a line's document, a debtor's group company
    watched = {"payments": "document_id", "debtors": "intercompany_entity"}.get(extract.name)
    compared = f", t.{watched} as warehouse_{watched}, s.{watched} as staged_{watched}" if watched else ""
    statements = [
        f"create or replace temp table matched as "
        f"select t.rowid as warehouse_row, {', '.join(f's.{k}' for k in keys)}, "
        f"t.extract_date as warehouse_extract_date, s.extract_date as staged_extract_date{compared} "
        f"from {table} as t join {source} as s on {key_match}"
    ]
    if watched:
        replaced_and_changed = (
            f"from matched where warehouse_extract_date <= staged_extract_date "
            f"and warehouse_{watched} is distinct from staged_{watched}"
        )
        if extract.name == "payments":  # the document a replaced line leaves
            statements.append(
                f"insert into {RAW_SCHEMA}.settlement_line_moves "
                f"select entity_code, settlement_id, line_no, warehouse_document_id, staged_extract_date "
                f"{replaced_and_changed} and warehouse_document_id is not null"
            )
        else:  # a debtor that became a group company, or is no longer one
            statements.append(
                f"insert into {RAW_SCHEMA}.debtor_intercompany_changes "
                f"select entity_code, debtor_id, warehouse_intercompany_entity, staged_extract_date "
                f"{replaced_and_changed}"
            )
    return [
        *statements,
        # what the drop replaces stays at hand until the night's build succeeds (replaced_table)
        f"insert into {replaced_table(extract)} by name "
        f"select t.*, m.staged_extract_date as replaced_by_extract_date from {table} as t "
        f"join matched as m on t.rowid = m.warehouse_row where m.warehouse_extract_date <= m.staged_extract_date",
        f"delete from {table} where rowid in "
        f"(select warehouse_row from matched where warehouse_extract_date <= staged_extract_date)",
        f"insert into {table} by name select s.* from {source} as s where not exists "
        f"(select 1 from matched as t where {key_match} and t.warehouse_extract_date > t.staged_extract_date)",
        "drop table matched",
    ]


def snapshot_sql(
    extract: Extract, source: str, entity_code: str, extract_date: str, since: str | None = None
) -> list[str]:
    """Replace one entity's rows of ``extract`` by those of ``source`` whole (SPEC section 16: a FEC).

    Run before ``upsert_sql``, invoices before payments: the entity's rows
    whose keys ``source`` does not hold leave the raw table (kept in the
    replaced rows until the night's build succeeds, as any replaced row), and
    a document's leaving is recorded for the models kept per document. A
    snapshot older than the entity's rows already landed changes nothing: its
    rows leave ``source``. ``since``, the first day the snapshot covers (a
    FEC's fiscal year): a document closed before it (cancelled, or settled in
    full by lines that settle it before that day) stays, with its lines: a
    FEC holds one fiscal year, and last year's paid invoices remain the
    history that the DSO and payment behaviour read (docs/decisions.md).
    """
    table, entity, day = raw_table(extract), _sql_literal(entity_code), _sql_literal(extract_date)
    keys = ("entity_code", *extract.key)
    absent = (
        f"t.entity_code = {entity} and t.extract_date <= date {day} and not exists "
        f"(select 1 from {source} as s where " + " and ".join(f"s.{k} = t.{k}" for k in keys) + ")"
    )
    if since is not None and extract.name == "invoices":
        first = f"date {_sql_literal(since)}"
        absent += (
            f" and not (t.issue_date < {first} and (t.status = 'cancelled' or exists (select 1 from ("
            f"select sum(p.amount) as total, max(greatest(p.settlement_date, coalesce(p.matched_on, "
            f"p.settlement_date))) as last from {RAW_SCHEMA}.payments as p where p.entity_code = t.entity_code "
            f"and p.document_id = t.document_id) as lines where lines.total = t.amount and lines.last < {first})))"
        )
    elif since is not None and extract.name == "payments":  # the lines of the documents kept above
        absent += (
            f" and not coalesce(t.document_id in (select document_id from {RAW_SCHEMA}.invoices "
            f"where entity_code = {entity} and extract_date < date {day}), false)"
        )
    later = f"exists (select 1 from {table} where entity_code = {entity} and extract_date > date {day})"
    absent += f" and not {later}"
    statements = [
        f"delete from {source} where entity_code = {entity} and {later}",
        f"insert into {replaced_table(extract)} by name "
        f"select t.*, date {day} as replaced_by_extract_date from {table} as t where {absent}",
    ]
    if extract.name == "invoices":
        statements.append(
            f"insert into {RAW_SCHEMA}.document_removals "
            f"select t.entity_code, t.document_id, date {day} from {table} as t where {absent}"
        )
    statements.append(f"delete from {table} as t where {absent}")
    return statements


# One writer at a time (a load, a build, the working file's own copy): an exclusive lock on
# <warehouse>.lock, which the kernel drops when its process ends however it ends. A second writer
# waits for it RECEIVABLES_WRITER_WAIT seconds, then stops naming the one that holds it; it never
# touches the first one's files (issue 33: a `build` during a `run` deleted the run's build copy).
_held: dict[Path, tuple[Any, int]] = {}  # this process's locks: reentrant (a build's take-out loads)


@contextmanager
def writer_lock(warehouse: Path, what: str) -> Iterator[None]:
    """Hold the warehouse's writer lock while the block writes; ``what`` says who holds it."""
    key = Path(warehouse).resolve()
    if key in _held:
        handle, depth = _held[key]
        _held[key] = (handle, depth + 1)
        try:
            yield
        finally:
            _held[key] = (handle, _held[key][1] - 1)
        return
    key.parent.mkdir(parents=True, exist_ok=True)
    lock = key.with_name(key.name + ".lock")
    handle = lock.open("a+", encoding="utf-8")
    deadline = time.monotonic() + settings().writer_wait
    try:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise WriterBusy(
                        f"{warehouse}: another writer holds it ({holder}); try again when it ends"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{what}, pid {os.getpid()}, since {datetime.now().isoformat(timespec='seconds')}\n")
        handle.flush()
        _held[key] = (handle, 1)
        try:
            yield
        finally:
            del _held[key]
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


class WriterBusy(ReceivablesError):
    """Another writer held the warehouse's lock longer than a writer waits."""


def open_working(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """The working warehouse file, as its writers (load, build) and their read-only checks open it.

    A writer never writes a file that the serving path shares (``own_copy``).
    A published file is opened with ``open_published`` only.
    """
    if not read_only:
        own_copy(path)
    return duckdb.connect(str(path), read_only=read_only)


def own_copy(path: Path) -> bool:
    """Give the working file its own copy when another name shares it; whether a copy was made.

    The publish hard-links the built working file at the serving path
    (``receivables.nightly.publish``): the night is served without a copy of
    the whole file on the way. Readers open that inode; a write to it would
    change the served night under them, so the working file is copied to a
    file of its own, renamed over its name, before anything writes it (the
    nightly DAG's ``working_copy`` task does it right after the publish).
    A file no other name shares is left as it is.
    """
    path = Path(path)
    if not path.exists() or path.stat().st_nlink == 1:
        return False
    copy = path.with_name(f".{path.name}.own")
    copy_durably(path, copy)
    os.replace(copy, path)
    return True


def copy_durably(source: Path, target: Path) -> None:
    """A whole copy of ``source`` at ``target``, on disk before it is renamed anywhere."""
    shutil.copyfile(source, target)
    with Path(target).open("rb+") as handle:
        os.fsync(handle.fileno())


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_working(path, read_only=read_only)
    try:
        yield connection
    finally:
        connection.close()


# A published file is only ever read: no file outside it, no extension, no setting changed. DuckDB
# refuses to turn external access back on while the database is open, and the configuration is
# locked, so no statement a reader types can undo this.
PUBLISHED_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


def open_published(path: Path) -> duckdb.DuckDBPyConnection:
    """The one way to open a published warehouse (serving or entity file): read-only, nothing outside it.

    COPY ... TO, ATTACH, read_csv and read_text on any path, INSTALL and
    LOAD are refused; so is any write. The working file's writer (load,
    build) is the only connection that writes.
    """
    return duckdb.connect(str(path), read_only=True, config=dict(PUBLISHED_CONFIG))


@contextmanager
def read_only(path: Path) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A read-only connection to the warehouse, or None when nothing has been landed yet."""
    if not Path(path).exists():
        yield None
        return
    with connect(path, read_only=True) as connection:
        yield connection


def known_values(
    connection: duckdb.DuckDBPyConnection | None,
    extract: Extract,
    column: str,
    entity_code: str,
    wanted: set[str],
) -> set[str]:
    """Those of ``wanted`` already in the warehouse as ``column`` of one entity.

    ``connection`` is read-only and shared by every lookup of a drop, or of
    a validation worker's drops: opening a warehouse of millions of rows costs
    more than one lookup.
    """
    if not wanted or connection is None:
        return set()
    try:
        rows = connection.execute(
            f"select distinct {column} from {raw_table(extract)} "
            f"where entity_code = ? and {column} in (select unnest(?))",
            [entity_code, sorted(wanted)],
        ).fetchall()
    except duckdb.CatalogException:  # a warehouse landed before this extract existed
        return set()
    return {row[0] for row in rows}


def document_columns(
    connection: duckdb.DuckDBPyConnection | None,
    entity_code: str,
    document_ids: set[str],
    columns: tuple[str, ...],
) -> pd.DataFrame:
    """``columns`` of the documents of one entity already in the warehouse (document_id first)."""
    selected = ", ".join(("document_id", *columns))
    if not document_ids or connection is None:
        return pd.DataFrame(columns=["document_id", *columns])
    return connection.execute(
        f"select {selected} from {RAW_SCHEMA}.invoices "
        "where entity_code = ? and document_id in (select unnest(?))",
        [entity_code, sorted(document_ids)],
    ).df()


def lowest_rates(connection: duckdb.DuckDBPyConnection | None) -> dict[str, Decimal]:
    """Each currency of the FX history with its lowest units_per_eur (EUR is 1)."""
    rates = {"EUR": Decimal(1)}
    if connection is None:
        return rates
    try:
        rows = connection.execute(
            f"select currency, min(units_per_eur) from {RAW_SCHEMA}.fx_rates group by currency"
        ).fetchall()
    except duckdb.CatalogException:  # nothing landed yet
        return rates
    return rates | {currency: Decimal(rate) for currency, rate in rows}


def record_landing(connection: duckdb.DuckDBPyConnection, rows: Iterable[tuple[Any, ...]]) -> None:
    """Each entity's landing status for its date, under one new load_id for the whole load.

    load_id rises with every load; incremental models keep the highest one they
    have read (loaded_through), so a build reads exactly the drops loaded since,
    whatever their extract dates, and a drop landed again is read again.
    """
    [(load_id,)] = connection.execute(
        f"select coalesce(max(load_id), 0) + 1 from {RAW_SCHEMA}.landing_log"
    ).fetchall()
    for entity_code, extract_date, status, rows_landed, failure_count, reason, with_manifest in rows:
        connection.execute(
            f"delete from {RAW_SCHEMA}.landing_log where entity_code = ? and extract_date = ?",
            [entity_code, extract_date],
        )
        connection.execute(
            f"insert into {RAW_SCHEMA}.landing_log (entity_code, extract_date, status, rows_landed, "
            "failure_count, reason, load_id, with_manifest) values (?, ?, ?, ?, ?, ?, ?, ?)",
            [entity_code, extract_date, status, rows_landed, failure_count, reason, load_id, with_manifest],
        )


def record_warnings(
    connection: duckdb.DuckDBPyConnection, entity_code: str, extract_date: str, warnings: list[dict[str, Any]]
) -> None:
    """The warnings of one entity's drop of one date, replacing those of an earlier landing of it."""
    connection.execute(
        f"delete from {RAW_SCHEMA}.landing_warnings where entity_code = ? and extract_date = ?",
        [entity_code, extract_date],
    )
    if warnings:
        connection.executemany(
            f"insert into {RAW_SCHEMA}.landing_warnings values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    entity_code,
                    extract_date,
                    w["file"],
                    w["row"],
                    w["column"],
                    w["rule"],
                    w["message"],
                    w["found"],
                    w["key"],
                    w["amount"],
                    w["currency"],
                    w["items"],
                ]
                for w in warnings
            ],
        )


def record_entities(connection: duckdb.DuckDBPyConnection, registry: Registry, night: date) -> list[str]:
    """The registry in force, and every entity it no longer lists: codes, names, currencies, retired_on.

    An entity taken out of the registry is kept, retired on ``night``
    unless already retired (its history must still resolve: intercompany
    debtors naming it, the raw layer the marts reconcile with). Returns the
    codes retired so, for the run to say.
    """
    listed = {e.code for e in registry.entities}
    kept = connection.execute(
        f"select entity_code, entity_name, country, currency, retired_on, siren, vat_on_receipts "
        f"from {RAW_SCHEMA}.entities order by entity_code"
    ).fetchall()
    dropped = [row for row in kept if row[0] not in listed]
    connection.execute(f"delete from {RAW_SCHEMA}.entities")
    connection.executemany(
        f"insert into {RAW_SCHEMA}.entities (entity_code, entity_name, country, currency, retired_on, siren, "
        "vat_on_receipts) values (?, ?, ?, ?, ?, ?, ?)",
        [
            [e.code, e.name, e.country, e.currency, e.retired_on, e.siren, e.vat_on_receipts]
            for e in registry.entities
        ]
        + [
            [code, name, country, currency, retired_on or night, siren, vat]
            for code, name, country, currency, retired_on, siren, vat in dropped
        ],
    )
    return [row[0] for row in dropped if row[4] is None]
