"""Build the warehouse with dbt for one as-of date or a range (SPEC sections 4 to 12).

dbt runs in a child process; the warehouse path reaches the profile through
``RECEIVABLES_WAREHOUSE``. A build writes the file, so it must never run
beside another writer (see the DAG's pool).

A night changes the marts together or not at all: dbt builds a copy of the
working file, which replaces the working file only when the whole build has
passed. When a data test fails on rows of the night's drops, those drops are
taken back out of the raw layer (``receivables.warehouse.isolation``) and the build
runs again without them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from receivables import paths
from receivables.errors import Failure, ReceivablesError
from receivables.nights import Nights, runs_of
from receivables.settings import VARIABLES, settings
from receivables.warehouse.isolation import (
    Drop,
    TakenOut,
    failing_entities,
    forget_replaced_rows,
    night_drops,
    take_out,
    test_failures,
)
from receivables.warehouse.store import RAW_SCHEMA, connect, ensure_raw_schema, writer_lock

log = logging.getLogger(__name__)


class BuildError(ReceivablesError):
    """A dbt run that failed; ``nodes`` are its failing nodes from run_results.json."""

    def __init__(self, message: str, nodes: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.nodes = nodes or []

    @property
    def failed_tests(self) -> list[str]:
        """The names of the data tests that failed (unit tests and models are not data)."""
        return [node["name"] for node in self.nodes if node["resource_type"] == "test"]

    @property
    def only_data_tests_failed(self) -> bool:
        return bool(self.nodes) and all(node["resource_type"] == "test" for node in self.nodes)


def dbt_project_dir() -> Path:
    return paths.project_root() / "dbt_project"


def dbt_target_dir(warehouse: Path) -> Path:
    return Path(warehouse).resolve().parent / "dbt_target"


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run_dbt(warehouse: Path, arguments: list[str], as_of: tuple[date, date]) -> None:
    """Run dbt on the project in a child process; raise with each failing node.

    A child process, because dbt-duckdb keeps its DuckDB connection for the
    life of the process, and DuckDB allows one writer: the file must be free
    again as soon as the build is over. ``as_of`` (the first and last as-of
    dates) reaches the project through the environment, not dbt vars, so that
    dbt keeps its saved parse from one night to the next (macros/parameters.sql).
    """
    if not Path(warehouse).exists():
        raise BuildError(f"{warehouse}: no warehouse yet; land a night first (receivables land)")
    project = dbt_project_dir()
    target = dbt_target_dir(warehouse)
    executable = Path(sys.executable).with_name("dbt")
    command = [
        str(executable),
        *arguments,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
    ]

    environment = os.environ | {
        # dbt's DuckDB spills to disk past it (profiles.yml), beside the file it builds
        VARIABLES["build_memory_limit"][0]: settings().build_memory_limit,
        "RECEIVABLES_WAREHOUSE": str(Path(warehouse).resolve()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "RECEIVABLES_AS_OF_FROM": as_of[0].isoformat(),
        "RECEIVABLES_AS_OF_TO": as_of[1].isoformat(),
    }
    (target / "run_results.json").unlink(missing_ok=True)
    completed = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    for line in completed.stdout.splitlines():
        log.log(logging.INFO if "Done. PASS=" in line else logging.DEBUG, "dbt: %s", ANSI.sub("", line))
    if completed.returncode == 0:
        return
    nodes = []
    results = target / "run_results.json"
    try:  # dbt may have died writing it (a full disk): then no node is named, and _why says why
        written = (
            json.loads(results.read_text(encoding="utf-8")).get("results", []) if results.exists() else []
        )
    except (OSError, ValueError):
        written = []
    for node in written:
        if node.get("status") in {"error", "fail", "runtime error"}:
            parts = node.get("unique_id", "?").split(".")  # model.project.name or test.project.name.hash
            nodes.append(
                {
                    "resource_type": parts[0],
                    "name": parts[2] if len(parts) > 2 else parts[0],
                    "status": node["status"],
                    "message": " ".join(ANSI.sub("", node.get("message") or node["status"]).split()),
                    "failures": node.get("failures"),
                    "relation_name": node.get("relation_name"),
                }
            )
    output = ANSI.sub("", completed.stdout + completed.stderr).strip().splitlines()
    detail = "; ".join(f"{n['name']}: {n['message']}" for n in nodes) or _why(output, Path(warehouse))
    raise BuildError(f"dbt {arguments[0]} failed: {detail}", nodes)


# what the operating system said, in a failed dbt's output (a traceback, a log line, DuckDB's IO Error)
OS_ERROR = re.compile(r"(\[Errno \d+\][^\r\n]*|No space left on device[^\r\n]*|IO Error:[^\r\n]*)")
LOW_DISK_BYTES = 64 * 2**20


def _why(output: list[str], warehouse: Path) -> str:
    """One line saying why dbt failed when no node did: the OS error it printed, a full disk, its last line.

    A full disk makes dbt fail while it writes its logs or its target files,
    and the last line it prints is then Python's "Arguments: ()"; the cause
    is the OS error above it, or the free space of the warehouse's disk.
    """
    for line in reversed(output):
        found = OS_ERROR.search(line)
        if found:
            return f"{found.group(1).strip()} (building {warehouse})"
    try:
        free = shutil.disk_usage(warehouse.parent).free
    except OSError:
        free = None
    if free is not None and free < LOW_DISK_BYTES:
        return f"the disk of {warehouse.parent} is full ({free // 2**20} MiB free)"
    return output[-1] if output else "no output"


def build(
    warehouse: Path,
    nights: Iterable[date],
    full_refresh: bool = False,
    unit_tests: bool = False,
    landing: Path | None = None,
) -> list[TakenOut]:
    """Seed, run and data-test every model for these as-of dates: a night, a range, a backfill's nights.

    The dates are built in runs of consecutive nights of at most
    ``RECEIVABLES_BUILD_RANGE_DATES`` (default 10) each
    (``receivables.nights.runs_of``), one dbt run each, in order: a run's
    memory grows with its dates, its time per date hardly depends on them.
    dbt builds a copy of the working file (``<warehouse>.building``) that
    replaces it only once the run has passed: a failed run leaves the
    working file as the run before it left it, never half a night. A run
    that passes clears its nights from ``raw.pending_builds``.

    With ``landing``, a data test that fails on the rows of the nights'
    drops takes those drops back out (SPEC section 12): a run of one night
    moves the drops its failing rows name to the quarantine and runs again
    without them; a run of several nights is built again one night at a
    time, so a bad drop is taken out of its own night only, as night by
    night. The drops taken out are returned. Without ``landing``, or when
    the failure names no drop of the night (a model that fails, a test on
    rows no drop of the night brought), the build raises: that is a code or
    infrastructure error.

    dbt's unit tests run only when asked (``unit_tests``; the test suite and
    CI ask): their inputs are fixtures in the project, not the night's data,
    so they can only fail when the project changes, and running them every
    night costs a night seconds (as dbt recommends, docs/decisions.md).
    """

    if not Path(warehouse).exists():
        raise BuildError(f"{warehouse}: no warehouse yet; land a night first (receivables land)")
    most = settings().build_range_dates
    runs = runs_of(nights, most)
    if not runs:
        raise BuildError("no as-of date to build")
    arguments = ["build"] if unit_tests else ["build", "--exclude-resource-type", "unit_test"]
    if full_refresh:
        arguments.append("--full-refresh")

    described = str(runs[0]) if len(runs) == 1 else f"{runs[0].first} to {runs[-1].last}"
    with writer_lock(warehouse, f"build {described}"):
        # a warehouse landed by an earlier version gains any new raw table
        with connect(warehouse) as connection:
            ensure_raw_schema(connection)
            connection.execute("checkpoint")
        if len(runs) > 1:
            log.info("building %s in %d runs of at most %d dates", described, len(runs), most)
        taken_out: list[TakenOut] = []
        for run in runs:
            # a full refresh drops the incremental marts once, in the first run; the later runs add to them
            taken_out += _build_nights(
                warehouse, arguments if run == runs[0] else _incremental(arguments), run, landing
            )
    return taken_out


def _incremental(arguments: list[str]) -> list[str]:
    return [argument for argument in arguments if argument != "--full-refresh"]


def _build_nights(warehouse: Path, arguments: list[str], run: Nights, landing: Path | None) -> list[TakenOut]:
    """A run of nights; if a data test fails on several nights' drops, those nights one at a time."""
    if len(run) == 1 or landing is None:
        return _build_run(warehouse, arguments, run, landing)
    log.info("building %s in one run", run.describe())
    try:
        return _build_run(warehouse, arguments, run, None)  # nothing taken out: raises
    except BuildError as error:
        if not error.only_data_tests_failed:
            raise
        log.warning("%s; building %s one at a time", error, run.describe())
    return [
        drop
        for night in run
        for drop in _build_run(
            warehouse, arguments if night == run.first else _incremental(arguments), Nights.of(night), landing
        )
    ]


def _build_run(warehouse: Path, arguments: list[str], run: Nights, landing: Path | None) -> list[TakenOut]:
    """One dbt run for these nights, on a copy that replaces the working file once it passes."""
    as_of, last = run.first, run.last
    taken_out: list[TakenOut] = []
    while True:
        log.info("building %s to %s into %s", as_of, last, warehouse)
        building = _working_copy(warehouse)
        try:
            run_dbt(building, arguments, (as_of, last))
        except BuildError as error:
            if landing is None or not error.only_data_tests_failed:
                _discard(building)
                raise
            drops = _drops_to_take_out(building, warehouse, error, as_of, last)
            _discard(building)
            if not drops:
                raise BuildError(
                    f"{error} (the failing rows belong to no drop of the night: nothing to take out)",
                    error.nodes,
                ) from error

            taken_out += take_out(warehouse, landing, drops, as_of)
            continue
        _replace_working_file(building, warehouse, as_of, last)
        return taken_out


def _working_copy(warehouse: Path) -> Path:
    """A copy of the working file for dbt to build (the working file is checkpointed: no WAL)."""
    building = Path(warehouse).with_name(Path(warehouse).name + ".building")
    _discard(building)
    shutil.copyfile(warehouse, building)
    return building


def _discard(building: Path) -> None:
    for path in (building, building.with_name(building.name + ".wal")):
        path.unlink(missing_ok=True)


def _replace_working_file(building: Path, warehouse: Path, as_of: date, last: date) -> None:
    """The built copy becomes the working file, atomically; the night's replaced rows are dropped."""
    with connect(building) as connection:
        forget_replaced_rows(connection, as_of, last)
        connection.execute(
            f"delete from {RAW_SCHEMA}.pending_builds where as_of_date between ? and ?", [as_of, last]
        )
        connection.execute("checkpoint")
        [(used, free)] = connection.execute(
            "select used_blocks, free_blocks from pragma_database_size()"
        ).fetchall()
    if free > used * SPARSE_SHARE:
        building = _compacted(building, used, free)
    os.replace(building, warehouse)


# DuckDB reuses a file's free blocks but never gives them back: a build that rewrote much (the first
# build of a long history, a range of dates) leaves the file larger than its data, and every night
# copies the whole file twice (the build's copy, the publish). A night's own free blocks are a few
# per cent of the file; past this share of the used blocks, the built file is written again, compact.
SPARSE_SHARE = 0.5


def _compacted(building: Path, used: int, free: int) -> Path:
    """The built file written again with its data only (``COPY FROM DATABASE``); the sparse one goes."""
    import duckdb

    compact = building.with_name(building.name + ".compact")
    _discard(compact)
    log.info("%s: %d free blocks for %d used: writing it compact", building, free, used)
    with duckdb.connect() as connection:
        connection.execute("attach ? as built (read_only)", [str(building)])
        connection.execute("attach ? as compact", [str(compact)])
        connection.execute("copy from database built to compact")
        connection.execute("detach compact")
    _discard(building)
    return compact


def _drops_to_take_out(
    building: Path, warehouse: Path, error: BuildError, as_of: date, last: date
) -> dict[Drop, list[Failure]]:
    """The night's drops that the failing tests' rows belong to, with the failures to report.

    The failing tests run again on the failed copy with dbt's
    ``--store-failures``, which keeps their rows in tables to read.
    """

    try:
        run_dbt(building, ["test", "--select", *error.failed_tests, "--store-failures"], (as_of, last))
    except BuildError as again:
        stored = again.nodes
    else:
        return {}  # the tests pass on a second run: nothing names a drop

    drops: dict[Drop, list[Failure]] = {}
    with connect(building, read_only=True) as connection:
        rows_by_test: dict[str, tuple[list[dict[str, Any]], int, str]] = {}
        for node in stored:
            if node["resource_type"] != "test" or not node.get("relation_name"):
                continue
            frame = connection.execute(f"select * from {node['relation_name']} limit 1000").df()
            rows = [{key: _plain(value) for key, value in row.items()} for row in frame.to_dict("records")]
            rows_by_test[node["name"]] = (rows, int(node.get("failures") or len(rows)), node["relation_name"])
    with connect(warehouse, read_only=True) as connection:
        night = night_drops(connection, as_of, last)
    for test, (rows, count, relation) in rows_by_test.items():
        entities = failing_entities(rows, relation)
        for drop in night:
            if drop.entity_code in entities:
                drops.setdefault(drop, []).extend(test_failures(test, rows, count, drop.entity_code, as_of))
    return drops


def _plain(value: Any) -> Any:
    """A value of a failing row as JSON can carry it (pandas' missing values are None)."""
    try:
        import pandas as pd

        if value is pd.NaT or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
            return None
    except (TypeError, ValueError):
        pass
    return value


def generate_docs(warehouse: Path) -> Path:
    """``dbt docs generate --static``: the site to serve, and ``static_index.html``, one file to open."""
    placeholder = date(2000, 1, 1)  # docs show the SQL of the models, not of a night
    run_dbt(warehouse, ["docs", "generate", "--static"], (placeholder, placeholder))
    return dbt_target_dir(warehouse)
