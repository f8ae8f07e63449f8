"""Benchmarks that print figures (never timed tests): generation, landing, warehouse build."""

from __future__ import annotations

import json
import logging
import resource
import shutil
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from receivables.build import build
from receivables.generate import GeneratorConfig, generate
from receivables.landing import OK, land
from receivables.registry import load_registry

log = logging.getLogger(__name__)


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory so far of this process, or of its largest finished child (KiB on Linux)."""
    return resource.getrusage(who).ru_maxrss / 1024


def bench(invoices: int, workdir: Path, entities: int = 4, seed: int = 7) -> dict[str, Any]:
    """Generate ``invoices`` invoices over two years; land and build the history drop, then 3 nights."""
    workdir = Path(workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    landing = workdir / "landing"
    warehouse = workdir / "warehouse.duckdb"
    end = date(2025, 12, 31)
    config = GeneratorConfig(
        out=landing,
        entities=entities,
        start=date(2024, 1, 1),
        end=end,
        seed=seed,
        invoices=invoices,
        nightly_from=end - timedelta(days=2),
    )
    started = time.perf_counter()
    summary = generate(config)
    generate_s = time.perf_counter() - started
    rss_after_generate = peak_rss_mb()
    registry = load_registry(landing / "entities.yml")

    nights: list[dict[str, Any]] = []
    day = date.fromisoformat(summary["history_drop"])
    while day <= end:
        started = time.perf_counter()
        outcomes = land(registry, landing, day, warehouse)
        landed = time.perf_counter()
        build(warehouse, day)
        built = time.perf_counter()
        rows = sum(o.rows for o in outcomes)
        if any(o.status != OK for o in outcomes):
            raise RuntimeError(f"benchmark drop not landed: {[o.describe() for o in outcomes]}")
        nights.append(
            {
                "date": day.isoformat(),
                "rows": rows,
                "land_s": round(landed - started, 2),
                "build_s": round(built - landed, 2),
            }
        )
        day += timedelta(days=1)
    history = nights[0]
    result = {
        "invoices_requested": invoices,
        "entities": entities,
        "generated_rows": {
            k: v for k, v in summary.items() if k in ("debtors", "invoices", "payments", "risk_ratings")
        },
        "generate_s": round(generate_s, 1),
        "generate_rows_per_s": round(
            sum(summary[k] for k in ("debtors", "invoices", "payments", "risk_ratings")) / generate_s
        ),
        "generate_peak_rss_mb": round(rss_after_generate),
        "history_drop_rows": history["rows"],
        "history_drop_s": history["land_s"],
        "landing_rows_per_s": round(int(history["rows"]) / float(history["land_s"])),
        "full_build_s": history["build_s"],
        "nights": nights[1:],
        "peak_rss_mb": round(peak_rss_mb()),
        "dbt_peak_rss_mb": round(peak_rss_mb(resource.RUSAGE_CHILDREN)),
        "warehouse_mb": round(warehouse.stat().st_size / 2**20, 1),
    }
    log.info("%s", json.dumps(result))
    return result
