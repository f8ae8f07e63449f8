"""Figures as reported (SPEC section 18): what each publish published, kept so that it can be read again.

A build after a late or restated drop rebuilds the dates it touches: right
for the ledger, but the figures of a date already published change. Each
publish therefore records, in the working warehouse before it is served:

- ``raw.publish_log``: the as-of date, when, the highest load it included
  (the landing batches: ``raw.landing_log`` up to that ``load_id``) and
  where its marts are kept;
- ``raw.reported_figures``: the headline figures of each entity and of the
  group as published (``intermediate.int_reported_figures`` of that date),
  which every later build compares with (``marts.mart_restatements``);

and keeps the marts' rows of that as-of date in Parquet under
``<serving dir>/as_reported/<as_of>/<published_at>/`` with ``publish.json``
(the record: every landing batch up to ``loaded_through`` is in, and each
entity's latest is named). Retention: every month end's
snapshots are kept, and those of the last ``KEEP_NIGHTS`` as-of dates;
older nightly ones are pruned by the publish.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from receivables.errors import ReceivablesError
from receivables.warehouse.store import RAW_SCHEMA

AS_REPORTED = "as_reported"
KEEP_NIGHTS = 35  # nightly as-of dates kept besides every month end
STAMP = "%Y%m%dT%H%M%S"
PUBLISH_FILE = "publish.json"
# the marts keyed by another date than as_of_date: the rows a date's publish showed
SERIES = {"mart_dso": "month_end"}


def snapshot_dir(serving: Path, as_of: date, published_at: datetime) -> Path:
    return Path(serving).parent / AS_REPORTED / as_of.isoformat() / published_at.strftime(STAMP)


def record(connection: duckdb.DuckDBPyConnection, serving: Path, as_of: date, published_at: datetime) -> Path:
    """Record the publish of ``as_of`` in the working warehouse and keep its marts; the snapshot's folder.

    ``connection`` writes the working warehouse (the publish holds its
    writer lock). The as-of date must have been built by the last build: its
    headline figures are read from the intermediate layer, which holds the
    last build's dates only.
    """
    figures = connection.execute(
        "select entity_code, figure, figure_value from intermediate.int_reported_figures where as_of_date = ?",
        [as_of],
    ).fetchall()
    if not figures:
        raise ReceivablesError(
            f"{as_of} was not built by the last build: build it (receivables build --as-of {as_of}) before "
            "publishing it"
        )
    [(loaded_through,)] = connection.execute(
        f"select coalesce(max(load_id), 0) from {RAW_SCHEMA}.landing_log"
    ).fetchall()
    folder = snapshot_dir(serving, as_of, published_at)
    _write_snapshot(connection, folder, as_of)
    # the landing batches included, each entity's latest (every batch up to loaded_through is in)
    batches = connection.execute(
        f"select entity_code, max(extract_date), arg_max(status, extract_date), arg_max(load_id, extract_date) "
        f"from {RAW_SCHEMA}.landing_log where load_id <= ? group by entity_code order by entity_code",
        [loaded_through],
    ).fetchall()
    (folder / PUBLISH_FILE).write_text(
        json.dumps(
            {
                "as_of_date": as_of.isoformat(),
                "published_at": published_at.isoformat(timespec="seconds"),
                "loaded_through": loaded_through,
                "latest_batches": [
                    {"entity_code": e, "extract_date": d.isoformat(), "status": s, "load_id": i}
                    for e, d, s, i in batches
                ],
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    connection.execute(
        f"insert into {RAW_SCHEMA}.publish_log values (?, ?, ?, ?)",
        [published_at, as_of, loaded_through, str(folder)],
    )
    connection.executemany(
        f"insert into {RAW_SCHEMA}.reported_figures values (?, ?, ?, ?, ?)",
        [[published_at, as_of, entity, figure, value] for entity, figure, value in figures],
    )
    return folder


def _write_snapshot(connection: duckdb.DuckDBPyConnection, folder: Path, as_of: date) -> None:
    """Each mart's rows of the as-of date (a series' rows up to it), one Parquet file each."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = connection.execute(
        "select table_name, list(column_name) from information_schema.columns where table_schema = 'marts' "
        "group by table_name order by table_name"
    ).fetchall()
    for table, columns in tables:
        key = "as_of_date" if "as_of_date" in columns else SERIES.get(table)
        if key is None:
            continue
        condition = f"{key} = ?" if key == "as_of_date" else f"{key} <= ?"
        target = folder / f"{table}.parquet"
        connection.execute(
            f"copy (select * from marts.{table} where {condition}) to '{target}' (format parquet)", [as_of]
        )


def prune(serving: Path, keep_nights: int = KEEP_NIGHTS) -> list[Path]:
    """Remove the snapshots of nightly as-of dates older than the last ``keep_nights``; month ends stay."""
    root = Path(serving).parent / AS_REPORTED
    if not root.is_dir():
        return []
    dated = sorted(
        (day, path) for path in root.iterdir() if path.is_dir() and (day := _as_of(path.name)) is not None
    )
    kept = {day for day, _ in dated[-keep_nights:]}
    removed = []
    for day, path in dated:
        if day not in kept and (day + timedelta(days=1)).day != 1:
            shutil.rmtree(path)
            removed.append(path)
    return removed


def _as_of(name: str) -> date | None:
    try:
        return date.fromisoformat(name)
    except ValueError:
        return None
