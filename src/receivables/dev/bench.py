"""Benchmarks that print figures (never timed tests): generation, landing, builds, serving queries.

``receivables bench --invoices N --out FILE.json`` generates a group, lands
and builds its history drop (the full build), lands and builds each later
night (the one of median cost is the incremental night that counts, as in
a replay), publishes the serving copy and runs the dashboards' kind of
queries on it. It compares the full build with the floor: one hand-written
DuckDB query computing aging per entity from the same raw tables.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from receivables.dev.generate import GeneratorConfig, generate
from receivables.errors import ReceivablesError
from receivables.ingest.landing import OK, land
from receivables.nights import Nights
from receivables.registry import load_registry
from receivables.warehouse.build import build
from receivables.warehouse.store import connect, open_published

log = logging.getLogger(__name__)

END = date(2025, 12, 31)
NIGHTS = 3  # nightly drops after the history drop; the median one is the measured incremental night

# What the dashboards ask of the serving file, at the latest as-of date ($1) unless a trend.
CHART_QUERIES = {
    "net_encours": "select sum(amount_eur) from marts.mart_aging where as_of_date = $1 and not is_intercompany",
    "aging_by_entity": "select entity_code, aging_bucket, sum(amount_eur) from marts.mart_aging "
    "where as_of_date = $1 group by all order by all",
    "overdue_by_dunning_stage": "select dunning_stage, sum(open_amount_eur) from marts.fct_open_items "
    "where as_of_date = $1 and dunning_stage is not null group by all order by all",
    "top20_debtor_groups": "select debtor_group_id, debtor_group_name, exposure_eur, share, cumulative_share, "
    "worst_risk_class, insured_eur, uninsured_eur from marts.mart_debtor_exposure "
    "where as_of_date = $1 order by exposure_eur desc limit 20",
    "exposure_by_risk_class": "select worst_risk_class, sum(exposure_eur) from marts.mart_debtor_exposure "
    "where as_of_date = $1 group by all order by all",
    "insolvencies": "select debtor_group_id, insolvency_status, insolvency_claim_deadline, exposure_eur "
    "from marts.mart_debtor_exposure where as_of_date = $1 and insolvency_status <> 'none'",
    "hhi_over_time": "select as_of_date, hhi, top10_share from marts.mart_concentration order by as_of_date",
    "dso_trend": "select month_end, entity_code, dso_countback, bpdso from marts.mart_dso order by all",
    "weak_signals": "select debtor_group_id, signal, signal_date, amount_eur from marts.mart_weak_signals "
    "where as_of_date = $1 order by amount_eur desc nulls last limit 100",
    "freshness": "select entity_code, status, last_good_extract_date from marts.mart_freshness "
    "where as_of_date = $1 order by entity_code",
    "debtor_drilldown": "select document_id, due_date, days_past_due, open_amount_eur from marts.fct_open_items "
    "where as_of_date = $1 and consolidated_debtor_id = (select consolidated_debtor_id from "
    "marts.mart_aging where as_of_date = $1 group by all order by sum(amount_eur) desc limit 1)",
}

# The floor: aging per entity at one date straight from the raw tables (fixed buckets, no FX, no tests).
BARE_AGING = """
with settled as (
    select entity_code, document_id, sum(amount) as settled
    from raw.payments
    where settlement_date <= $1 and document_id is not null
    group by all
),
open_items as (
    select
        invoices.entity_code,
        case when invoices.document_type = 'credit_note' then -1 else 1 end
            * (invoices.amount - coalesce(settled.settled, 0)) as open_amount,
        $1 - invoices.due_date as days_past_due,
    from raw.invoices
    left join settled using (entity_code, document_id)
    where invoices.issue_date <= $1 and coalesce(invoices.status, 'open') <> 'cancelled'
)
select
    entity_code,
    case
        when days_past_due <= 0 then 'not_due' when days_past_due <= 30 then '1-30'
        when days_past_due <= 60 then '31-60' when days_past_due <= 90 then '61-90'
        when days_past_due <= 120 then '91-120' else 'over_120'
    end as aging_bucket,
    sum(open_amount) as amount,
from open_items
where open_amount <> 0
group by all
"""


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory so far of this process, or of its largest finished child (KiB on Linux)."""
    return resource.getrusage(who).ru_maxrss / 1024


def machine() -> dict[str, Any]:
    import duckdb

    memory_kib = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        memory_kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(memory_kib / 2**20, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def _build_in_own_process(warehouse: Path, day: date) -> float:
    """Build in a fresh process; return the peak memory of its dbt child (this night's alone), MB."""
    code = (
        "import resource, sys; from pathlib import Path; "
        "from receivables.nights import Nights; from receivables.warehouse.build import build; "
        "build(Path(sys.argv[1]), Nights.parse(sys.argv[2])); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code, str(warehouse), day.isoformat()],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark build of {day} failed: {completed.stderr[-2000:]}")
    return float(completed.stdout.strip().splitlines()[-1])


def _timed_land_and_build(
    registry: Any, landing: Path, warehouse: Path, day: date, own_process: bool = False
) -> dict[str, Any]:
    started = time.perf_counter()
    outcomes = land(registry, landing, day, warehouse)
    landed = time.perf_counter()
    if any(o.status != OK for o in outcomes):
        raise RuntimeError(f"benchmark drop not landed: {[o.describe() for o in outcomes]}")
    peak = None
    if own_process:
        peak = _build_in_own_process(warehouse, day)
    else:
        build(warehouse, Nights.of(day))
    built = time.perf_counter()
    return {
        "date": day.isoformat(),
        "rows": sum(o.rows for o in outcomes),
        "land_s": round(landed - started, 2),
        "build_s": round(built - landed, 2),
        **({"build_peak_rss_mb": round(peak)} if peak is not None else {}),
    }


def query_latencies(serving: Path, as_of: date, repeat: int) -> dict[str, Any]:
    """Each chart query ``repeat`` times on a fresh read-only connection, as a dashboard load does."""
    timings: dict[str, list[float]] = {name: [] for name in CHART_QUERIES}
    for _ in range(repeat):
        with open_published(serving) as connection:
            for name, sql in CHART_QUERIES.items():
                started = time.perf_counter()
                connection.execute(sql, [as_of] if "$1" in sql else []).fetchall()
                timings[name].append((time.perf_counter() - started) * 1000)
    every = sorted(t for values in timings.values() for t in values)
    return {
        "query_p50_ms": round(statistics.median(every), 1),
        "query_p95_ms": round(every[min(len(every) - 1, int(0.95 * len(every)))], 1),
        "query_max_ms_by_chart": {name: round(max(values), 1) for name, values in timings.items()},
    }


def published_query_latencies(workdir: Path, warehouse: Path, as_of: date, repeat: int) -> dict[str, Any]:
    """Publish the warehouse to the bench's serving copy, then time the chart queries on it."""
    serving = workdir / "serving" / "warehouse.duckdb"
    serving.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(warehouse, serving)
    return query_latencies(serving, as_of, repeat)


def night_s(night: dict[str, Any]) -> float:
    return round(float(night["land_s"]) + float(night["build_s"]), 2)


def median_night(nights: list[dict[str, Any]]) -> dict[str, Any]:
    """The night of median cost: one night's time on the benchmark machine varies by a tenth."""
    return sorted(nights, key=night_s)[len(nights) // 2]


def incremental_night(night: dict[str, Any]) -> dict[str, Any]:
    """The figures of the night that counts (peak memory apart: the highest of the nights)."""
    return {
        "incremental_night_date": night["date"],
        "incremental_night_rows": night["rows"],
        "incremental_night_land_s": night["land_s"],
        "incremental_night_build_s": night["build_s"],
        "incremental_night_s": night_s(night),
    }


def bare_aging_s(warehouse: Path, as_of: date) -> float:
    with connect(warehouse, read_only=True) as connection:
        started = time.perf_counter()
        connection.execute(BARE_AGING, [as_of]).fetchall()
        return time.perf_counter() - started


def history_start(years: float) -> date:
    """The first day of ``years`` years of history ending on END: whole years start on 1 January."""
    if years <= 0:
        raise ValueError(f"--years must be positive, found {years}")
    if float(years).is_integer():
        return date(END.year - int(years) + 1, 1, 1)
    return END - timedelta(days=round(years * 365.25) - 1)


def bench(
    invoices: int,
    workdir: Path,
    entities: int = 4,
    seed: int = 7,
    years: float = 2,
    repeat: int = 5,
    debtors: int | None = None,
    night_count: int = NIGHTS,
    history_only: bool = False,
) -> dict[str, Any]:
    """Generate ``invoices`` invoices over ``years`` years, then land, build, publish and query them.

    With ``history_only``, the nights' drops are generated and left in the
    landing folder, not landed: ``receivables bench --through-airflow``
    lands and builds them as an Airflow backfill (at 10 M invoices, thirty
    nights through the CLI first would cost half an hour more).
    """
    if night_count < 1:
        raise ReceivablesError(f"--nights must be at least 1, found {night_count}")
    workdir = Path(workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    landing, warehouse = workdir / "landing", workdir / "warehouse.duckdb"
    config = GeneratorConfig(
        out=landing,
        entities=entities,
        start=history_start(years),
        end=END,
        seed=seed,
        invoices=invoices,
        companies=debtors,
        nightly_from=END - timedelta(days=night_count - 1),
    )
    started = time.perf_counter()
    summary = generate(config)
    generate_s = time.perf_counter() - started
    generated = {k: summary[k] for k in ("debtors", "invoices", "payments", "risk_ratings")}
    rss_after_generate = peak_rss_mb()
    registry = load_registry(landing / "entities.yml")

    history_day = date.fromisoformat(summary["history_drop"])
    history = _timed_land_and_build(registry, landing, warehouse, history_day)
    bare_s = bare_aging_s(warehouse, history_day)
    nights = [
        _timed_land_and_build(
            registry, landing, warehouse, history_day + timedelta(days=offset), own_process=True
        )
        for offset in range(1, 0 if history_only else night_count + 1)
    ]
    queried = date.fromisoformat(nights[-1]["date"]) if nights else history_day

    queries = published_query_latencies(workdir, warehouse, queried, repeat)
    result = {
        "invoices_requested": invoices,
        "entities": entities,
        "years": years,
        "history_start": config.start.isoformat(),
        "generated_rows": generated,
        "generate_s": round(generate_s, 1),
        "generate_rows_per_s": round(sum(generated.values()) / generate_s),
        "generate_peak_rss_mb": round(rss_after_generate),
        "history_drop_rows": history["rows"],
        "history_drop_land_s": history["land_s"],
        "landing_rows_per_s": round(int(history["rows"]) / float(history["land_s"])),
        "full_build_s": history["build_s"],
        "bare_duckdb_aging_s": round(bare_s, 3),
        "full_vs_bare_duckdb_ratio": round(float(history["build_s"]) / bare_s, 1),
        "nights": nights,
        **(
            {
                **incremental_night(median_night(nights)),
                "incremental_night_peak_rss_mb": max(night["build_peak_rss_mb"] for night in nights),
            }
            if nights
            else {"nights_left_to_land": night_count}
        ),
        **queries,
        "landing_peak_rss_mb": round(peak_rss_mb()),
        "dbt_peak_rss_mb": round(peak_rss_mb(resource.RUSAGE_CHILDREN)),
        "peak_rss_mb": round(max(peak_rss_mb(), peak_rss_mb(resource.RUSAGE_CHILDREN))),
        "warehouse_mb": round(warehouse.stat().st_size / 2**20, 1),
        "machine": machine(),
    }
    log.info("%s", json.dumps(result))
    return result


def replay_last_night(workdir: Path, times: int = 3, repeat: int = 5) -> dict[str, Any]:
    """Land and build again, ``times`` times, the last night of the group an earlier bench left in ``workdir``.

    A night landed again is read again by the next build (the incremental
    models read drops by load, not by date), so each replay costs what that
    night costs, on top of the same history, without generating and landing
    the history again (an hour at 10 M invoices on the benchmark machine).
    It measures the code of now on the group of then.
    """

    workdir = Path(workdir)
    landing, warehouse = workdir / "landing", workdir / "warehouse.duckdb"
    if not warehouse.exists() or not (landing / "entities.yml").exists():
        raise ReceivablesError(f"{workdir}: no benchmark group to replay; run receivables bench first")
    registry = load_registry(landing / "entities.yml")
    with connect(warehouse, read_only=True) as connection:
        history = connection.execute("select count(*) from raw.invoices").fetchone()
    import great_expectations  # noqa: F401  (imported once per bench, as in the full bench's nights)

    nights = []
    for _ in range(times):
        # dbt keeps its saved parse from one night to the next (the dates are not dbt vars), so a
        # replay of the same date parses what a new night parses: nothing
        nights.append(_timed_land_and_build(registry, landing, warehouse, END, own_process=True))
    median = median_night(nights)
    result = {
        "replayed_night": END.isoformat(),
        "invoices_in_warehouse": int(history[0]) if history else 0,
        "nights": nights,
        **incremental_night(median),
        "incremental_night_peak_rss_mb": max(night["build_peak_rss_mb"] for night in nights),
        **published_query_latencies(workdir, warehouse, END, repeat),
        "warehouse_mb": round(warehouse.stat().st_size / 2**20, 1),
        "machine": machine(),
    }
    log.info("%s", json.dumps(result))
    return result
