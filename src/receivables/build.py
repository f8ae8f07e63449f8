"""Build the warehouse with dbt for one as-of date or a range (SPEC sections 4 to 11).

dbt runs in this process through its programmatic runner; the warehouse path
reaches the profile through ``RECEIVABLES_WAREHOUSE``. A build writes the
file, so it must never run beside another writer (see the DAG's pool).
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from receivables import paths
from receivables.errors import ReceivablesError

log = logging.getLogger(__name__)


class BuildError(ReceivablesError):
    pass


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
    failures = []
    results = target / "run_results.json"
    if results.exists():
        for node in json.loads(results.read_text(encoding="utf-8")).get("results", []):
            if node.get("status") in {"error", "fail", "runtime error"}:
                parts = node.get("unique_id", "?").split(".")  # model.project.name or test.project.name.hash
                name = parts[2] if len(parts) > 2 else parts[0]
                message = " ".join(ANSI.sub("", node.get("message") or node["status"]).split())
                failures.append(f"{name}: {message}")
    output = ANSI.sub("", completed.stdout + completed.stderr).strip().splitlines()
    detail = "; ".join(failures) or (output[-1] if output else "no output")
    raise BuildError(f"dbt {arguments[0]} failed: {detail}")


def build(
    warehouse: Path,
    as_of: date,
    to: date | None = None,
    full_refresh: bool = False,
    unit_tests: bool = False,
) -> None:
    """Seed, run and data-test every model for the as-of dates from ``as_of`` to ``to`` (inclusive).

    dbt's unit tests run only when asked (``unit_tests``; the test suite and
    CI ask): their inputs are fixtures in the project, not the night's data,
    so they can only fail when the project changes, and running them every
    night costs a night seconds (as dbt recommends, docs/decisions.md).
    """
    last = to or as_of
    if last < as_of:
        raise BuildError(f"--to {last} is before --as-of {as_of}")
    arguments = ["build"] if unit_tests else ["build", "--exclude-resource-type", "unit_test"]
    if full_refresh:
        arguments.append("--full-refresh")
    if Path(warehouse).exists():  # a warehouse landed by an earlier version gains any new raw table
        from receivables.warehouse import connect, ensure_raw_schema

        with connect(warehouse) as connection:
            ensure_raw_schema(connection)
    log.info("building %s to %s into %s", as_of, last, warehouse)
    run_dbt(warehouse, arguments, (as_of, last))


def generate_docs(warehouse: Path) -> Path:
    """``dbt docs generate --static``: the site to serve, and ``static_index.html``, one file to open."""
    placeholder = date(2000, 1, 1)  # docs show the SQL of the models, not of a night
    run_dbt(warehouse, ["docs", "generate", "--static"], (placeholder, placeholder))
    return dbt_target_dir(warehouse)
