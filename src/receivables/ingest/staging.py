"""Staging: a validated drop's text values, typed as the raw tables hold them, written as Parquet.

Validation workers stage in parallel (an in-memory DuckDB per process); the
single writer (``receivables.ingest.load``) reads the Parquet files into the
warehouse. Staging never opens the warehouse.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import duckdb

from receivables.ingest.drops import ExtractFile
from receivables.warehouse.store import typed_select

_staging_connections: dict[int, duckdb.DuckDBPyConnection] = {}


def staging_connection() -> duckdb.DuckDBPyConnection:
    """This process's in-memory DuckDB (opening one costs more than staging a drop's files).

    Kept per process id: a worker forked from a process that has one opens its own.
    """
    pid = os.getpid()
    if pid not in _staging_connections:
        _staging_connections[pid] = duckdb.connect()
    return _staging_connections[pid]


def stage(files: dict[str, ExtractFile], staging: Path, entity_code: str, day: date) -> dict[str, str]:
    staging.mkdir(parents=True, exist_ok=True)
    staged = {}
    connection = staging_connection()
    for name, read in files.items():
        frame = read.frame if read.more is None else read.frame.join(read.more)
        connection.register("landed_text", frame)
        try:
            target = staging / f"{name}.parquet"
            more = () if read.more is None else tuple(read.more.columns)
            select = typed_select(
                read.extract, read.dialect, "landed_text", entity_code, day.isoformat(), more
            )
            connection.execute(f"copy ({select}) to '{target}' (format parquet)")
        finally:
            connection.unregister("landed_text")
        staged[name] = str(target)
    return staged
