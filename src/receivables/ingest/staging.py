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
    """Each extract's rows typed into ``<extract>.parquet``; the files of one extract (einvoice_status.csv
    and the CDAR messages, each in its own dialect) into the same one."""
    staging.mkdir(parents=True, exist_ok=True)
    by_extract: dict[str, list[ExtractFile]] = {}
    for read in files.values():
        by_extract.setdefault(read.extract.name, []).append(read)
    staged = {}
    connection = staging_connection()
    for name, reads in by_extract.items():
        selects = []
        for number, read in enumerate(reads):
            frame = read.frame if read.more is None else read.frame.join(read.more)
            connection.register(f"landed_text_{number}", frame)
            more = () if read.more is None else tuple(read.more.columns)
            selects.append(
                typed_select(
                    read.extract, read.dialect, f"landed_text_{number}", entity_code, day.isoformat(), more
                )
            )
        try:
            target = staging / f"{name}.parquet"
            union = "\nunion all by name\n".join(selects)
            connection.execute(f"copy ({union}) to '{target}' (format parquet)")
        finally:
            for number in range(len(reads)):
                connection.unregister(f"landed_text_{number}")
        staged[name] = str(target)
    return staged
