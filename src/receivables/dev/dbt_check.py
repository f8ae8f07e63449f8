"""dbt's checks that need no data: the project parses, every node runs on empty inputs, the unit tests pass.

A developer's loop (``bash scripts/test.sh --fast``) and CI run it before
pytest. ``dbt parse`` first, for a clear error when a file does not parse,
and the layer rule over its manifest (``receivables.dev.dbt_layers``);
then ``dbt build --empty`` on a warehouse holding only the raw tables: every
seed, model and data test runs with no rows (what fails to compile or to
execute on DuckDB fails here, in seconds), and the unit tests run on their
own fixture rows (the SPEC's worked examples, dbt_project/models/*/_*.yml).
A night never runs the unit tests (receivables.warehouse.build): they can only fail
when the project changes, which is what this check is for.

Usage: python -m receivables.dev.dbt_check [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from receivables import paths
from receivables.dev.dbt_layers import breaches
from receivables.warehouse.build import BuildError, dbt_target_dir, run_dbt
from receivables.warehouse.store import connect, ensure_raw_schema

log = logging.getLogger(__name__)

# a fixed date: the models read the as-of dates only when they execute, and the inputs are empty
CHECK_DATE = date(2026, 1, 1)


def check(workdir: Path) -> Counter[tuple[str, str]]:
    """Parse, then build everything with ``--empty`` on a new warehouse under ``workdir``.

    dbt's saved parse stays in ``workdir/dbt_target`` from one check to the
    next (the warehouse path is the same each time, so dbt keeps it).
    Returns how many nodes of each (resource type, status) ran; raises
    BuildError naming each failing node.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    warehouse = workdir / "empty.duckdb"
    for stale in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        stale.unlink(missing_ok=True)
    with connect(warehouse) as connection:
        ensure_raw_schema(connection)
    dates = (CHECK_DATE, CHECK_DATE)
    run_dbt(warehouse, ["parse"], dates)
    manifest = json.loads((dbt_target_dir(warehouse) / "manifest.json").read_text(encoding="utf-8"))
    found = breaches(manifest)
    if found:
        raise BuildError(
            "the dbt graph breaks its layers (receivables.dev.dbt_layers):\n  " + "\n  ".join(found)
        )
    run_dbt(warehouse, ["build", "--empty"], dates)
    results = json.loads((dbt_target_dir(warehouse) / "run_results.json").read_text(encoding="utf-8"))
    return Counter((r["unique_id"].split(".")[0], r["status"]) for r in results["results"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workdir", type=Path, default=paths.project_root() / "var" / "dbt_check")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        ran = check(args.workdir)
    except BuildError as error:
        print(f"dbt check failed: {error}", file=sys.stderr)
        return 1
    unit_tests = ran[("unit_test", "pass")]
    if unit_tests == 0:
        print("dbt check failed: no unit test ran", file=sys.stderr)
        return 1
    counts = ", ".join(f"{count} {kind} {status}" for (kind, status), count in sorted(ran.items()))
    print(f"dbt check passed: the project parses; on empty inputs {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
