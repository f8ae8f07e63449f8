"""Benchmarks that print figures (never timed tests)."""

from __future__ import annotations

import json
import logging
import resource
import shutil
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from receivables.generate import GeneratorConfig, generate
from receivables.landing import OK, land
from receivables.registry import load_registry

log = logging.getLogger(__name__)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_landing(invoices: int, workdir: Path, entities: int = 4, seed: int = 7) -> dict[str, Any]:
    """Generate a group of ``invoices`` invoices over two years, land its history drop and 3 nights."""
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
        seconds = time.perf_counter() - started
        rows = sum(o.rows for o in outcomes)
        if any(o.status != OK for o in outcomes):
            raise RuntimeError(f"benchmark drop not landed: {[o.describe() for o in outcomes]}")
        nights.append({"date": day.isoformat(), "rows": rows, "seconds": round(seconds, 2)})
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
        "history_drop_s": history["seconds"],
        "landing_rows_per_s": round(int(history["rows"]) / float(history["seconds"])),
        "nightly_drops": nights[1:],
        "peak_rss_mb": round(peak_rss_mb()),
        "warehouse_mb": round(warehouse.stat().st_size / 2**20, 1),
    }
    log.info("%s", json.dumps(result))
    return result
