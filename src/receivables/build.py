"""Build the warehouse with dbt for one as-of date or a range (SPEC sections 4 to 11).

dbt runs in this process through its programmatic runner; the warehouse path
reaches the profile through ``RECEIVABLES_WAREHOUSE``. A build writes the
file, so it must never run beside another writer (see the DAG's pool).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from receivables import paths
from receivables.errors import ReceivablesError

log = logging.getLogger(__name__)


class BuildError(ReceivablesError):
    pass


def dbt_project_dir() -> Path:
    return paths.project_root() / "dbt_project"


@contextmanager
def _warehouse_env(warehouse: Path) -> Iterator[None]:
    previous = os.environ.get("RECEIVABLES_WAREHOUSE")
    os.environ["RECEIVABLES_WAREHOUSE"] = str(Path(warehouse).resolve())
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("RECEIVABLES_WAREHOUSE", None)
        else:
            os.environ["RECEIVABLES_WAREHOUSE"] = previous


def run_dbt(warehouse: Path, arguments: list[str]) -> Any:
    """Invoke dbt on the project with the warehouse's profile; raise with each failing node."""
    from dbt.cli.main import dbtRunner

    project = dbt_project_dir()
    command = [
        *arguments,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(Path(warehouse).resolve().parent / "dbt_target"),
    ]
    if not Path(warehouse).exists():
        raise BuildError(f"{warehouse}: no warehouse yet; land a night first (receivables land)")
    with _warehouse_env(warehouse):
        result = dbtRunner().invoke(command)
    if result.success:
        return result.result
    failures = []
    for node_result in getattr(result.result, "results", None) or []:
        status = str(getattr(node_result, "status", ""))
        if status in {"error", "fail", "runtime error"}:
            failures.append(f"{node_result.node.name}: {(node_result.message or status).strip()}")
    detail = "; ".join(failures) if failures else str(result.exception or "see the dbt log above")
    raise BuildError(f"dbt {arguments[0]} failed: {detail}")


def build(warehouse: Path, as_of: date, to: date | None = None, full_refresh: bool = False) -> None:
    """Seed, run and test every model for the as-of dates from ``as_of`` to ``to`` (inclusive)."""
    last = to or as_of
    if last < as_of:
        raise BuildError(f"--to {last} is before --as-of {as_of}")
    variables = json.dumps({"as_of_from": as_of.isoformat(), "as_of_to": last.isoformat()})
    arguments = ["build", "--vars", variables]
    if full_refresh:
        arguments.append("--full-refresh")
    log.info("building %s to %s into %s", as_of, last, warehouse)
    run_dbt(warehouse, arguments)


def generate_docs(warehouse: Path) -> Path:
    """``dbt docs generate`` (catalog of every table and column); returns the folder to serve."""
    variables = json.dumps({"as_of_from": "2000-01-01", "as_of_to": "2000-01-01"})
    run_dbt(warehouse, ["docs", "generate", "--vars", variables])
    return Path(warehouse).resolve().parent / "dbt_target"
