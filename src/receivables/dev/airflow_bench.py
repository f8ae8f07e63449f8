"""Nights through a real Airflow scheduler: what production runs, measured (figures, not timed tests).

``receivables bench --through-airflow --workdir DIR`` takes the group an
earlier ``receivables bench`` left in DIR (``--history-only``: its nights
generated, not landed) and:

1. starts Airflow natively as the main command does (``scripts/start-airflow.sh``:
   ``airflow standalone``, LocalExecutor, SQLite metadata) on a free port,
   with its own ``AIRFLOW_HOME`` in DIR, the scheduler's cron off (only the
   runs the bench asks for), and lands the group's last ``--backfill``
   nights as an Airflow backfill (one run a night, in order, one at a time:
   the nights land one by one and the last builds them all in one dbt run);
2. replays the last night through the CLI as an operator would, each
   command in a process of its own: ``receivables run`` for the night (land
   and build, Great Expectations and dbt imported), then the publish: the
   reference, the same work as a night of the DAG from trigger to publish;
3. replays the same night through the ``receivables_nightly`` DAG twice:
   the first night after the backfill and the next, as every night of a
   scheduler that stays up: trigger to publish, and each task's time.

Peak memory is the largest sum of the proportional set size (PSS) of
Airflow's process tree (scheduler, executor, task processes, dbt) sampled
every 0.2 s: the resident memory, each page shared by forked processes
counted once, in shares (a sum of RSS counts it in every process).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from receivables.dev.bench import machine
from receivables.dev.superset_run import free_port
from receivables.errors import ReceivablesError
from receivables.paths import project_root
from receivables.settings import settings

log = logging.getLogger(__name__)
logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per poll

DAG_ID = "receivables_nightly"
PARIS = ZoneInfo("Europe/Paris")


class MemoryPeak:
    """The peak of a process tree's memory, sampled in a thread, at little cost to what it measures.

    A small process counts its proportional set size (a page shared by
    forked processes counted once, in shares: Airflow's workers share what
    their fork server imported). Reading it walks the process's page tables
    under its memory lock, which costs a process of many gigabytes (a dbt
    build) about a second per reading and stalls its allocations: a process
    above ``RESIDENT_ONLY_MB`` counts its resident set size instead (read in
    constant time, never below its proportional size: its memory is its
    own). The sampler also waits at least ``QUIET_SHARE`` times as long as
    its last reading took. Reading every process's proportional size five
    times a second took a fifth of a core with Airflow idle (ten processes),
    from the two cores it measured; this takes under a tenth.
    """

    RESIDENT_ONLY_MB = 512
    QUIET_SHARE = 9

    def __init__(self, root_pid: int, every_s: float = 1.0) -> None:
        self.root_pid, self.every_s = root_pid, every_s
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> MemoryPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def reset(self) -> None:
        self.peak_mb = 0.0

    def _sample(self) -> None:
        import psutil

        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                root = psutil.Process(self.root_pid)
                tree = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = 0
            for process in tree:
                try:
                    resident = process.memory_info().rss
                    total += (
                        resident
                        if resident > self.RESIDENT_ONLY_MB * 2**20
                        else process.memory_full_info().pss
                    )
                except psutil.Error:
                    continue
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self._stop.wait(max(self.every_s, self.QUIET_SHARE * (time.perf_counter() - started)))


class Airflow:
    """A native Airflow of this checkout (scripts/start-airflow.sh), its REST API, and its end."""

    def __init__(self, workdir: Path, environment: dict[str, str]) -> None:
        self.root = project_root()
        self.home = workdir / "airflow"
        self.port = free_port()
        self.environment = {
            **os.environ,
            **environment,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # the bench's runs only
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",  # loopback, the bench's own home
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        }
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Airflow:
        import shutil

        shutil.rmtree(self.home, ignore_errors=True)
        started = subprocess.run(
            ["bash", str(self.root / "scripts" / "start-airflow.sh")],
            capture_output=True,
            text=True,
            env=self.environment,
            timeout=600,
        )
        if started.returncode != 0:
            raise ReceivablesError(f"Airflow did not start: {(started.stdout + started.stderr)[-3000:]}")
        self.pid = int((self.home / "standalone.pid").read_text())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            os.killpg(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(60):
            try:
                os.killpg(self.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.5)
        os.killpg(self.pid, signal.SIGKILL)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        import httpx

        answer = httpx.request(method, f"{self.url}/api/v2{path}", json=body, timeout=60)
        if answer.status_code >= 400:
            raise ReceivablesError(
                f"Airflow {method} {path} answered {answer.status_code}: {answer.text[:2000]}"
            )
        return answer.json()

    def call_retrying_locks(self, method: str, path: str, body: dict[str, Any], tries: int = 20) -> Any:
        """A call that SQLite metadata may refuse while the scheduler writes (backfill creation
        answers 503 "Database is locked"), tried again every 3 s."""
        for attempt in range(tries):
            try:
                return self.call(method, path, body)
            except ReceivablesError as error:
                if "Database is locked" not in str(error) or attempt == tries - 1:
                    raise
                log.info("%s %s: the metadata database is locked; trying again in 3 s", method, path)
                time.sleep(3)
        raise AssertionError("unreachable")

    def wait_for_dag(self, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                self.call("GET", f"/dags/{DAG_ID}")
                break
            except ReceivablesError:
                time.sleep(1)
        else:
            raise ReceivablesError(f"Airflow did not parse {DAG_ID} within {timeout_s:.0f} s")
        self.call("PATCH", f"/dags/{DAG_ID}", {"is_paused": False})

    def wait_for_run(self, run_id: str, timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            run = self.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")
            if run["state"] in ("success", "failed"):
                return dict(run)
            time.sleep(0.25)
        raise ReceivablesError(f"the run {run_id} did not end within {timeout_s:.0f} s")

    def task_instances(self, run_id: str) -> list[dict[str, Any]]:
        answer = self.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances?limit=1000")
        return list(answer["task_instances"])


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def run_figures(run: dict[str, Any], instances: list[dict[str, Any]]) -> dict[str, Any]:
    """A run's times from Airflow's own records: queued to publish's end, and each task."""
    queued = _when(run["queued_at"])
    tasks: dict[str, dict[str, Any]] = {}
    for instance in instances:
        if not instance.get("start_date") or not instance.get("end_date"):
            continue
        start, end = _when(instance["start_date"]), _when(instance["end_date"])
        task = tasks.setdefault(
            instance["task_id"], {"first_start_s": None, "last_end_s": 0.0, "task_s": [], "state": set()}
        )
        begun = round((start - queued).total_seconds(), 2)
        task["first_start_s"] = begun if task["first_start_s"] is None else min(task["first_start_s"], begun)
        task["last_end_s"] = max(task["last_end_s"], round((end - queued).total_seconds(), 2))
        task["task_s"].append(round((end - start).total_seconds(), 2))
        task["state"].add(instance["state"])
        if instance.get("rendered_map_index"):
            task.setdefault("maps", []).append(instance["rendered_map_index"])
    for task in tasks.values():
        task["state"] = sorted(task["state"])
    publish = tasks.get("publish", {})
    return {
        "state": run["state"],
        "trigger_to_publish_s": publish.get("last_end_s"),
        "trigger_to_end_s": round((_when(run["end_date"]) - queued).total_seconds(), 2),
        # from when the scheduler started the run (a backfill queues all its runs at once)
        "start_to_end_s": round((_when(run["end_date"]) - _when(run["start_date"])).total_seconds(), 2),
        "tasks": tasks,
    }


def nightly_dates(landing: Path) -> list[date]:
    """The nights of the group after its history drop: the dates of the group's FX drops but the first."""
    days = sorted(
        date.fromisoformat(folder.name) for folder in (landing / "_group").iterdir() if folder.is_dir()
    )
    return days[1:]


def cli_night_with_publish(environment: dict[str, str], day: date) -> dict[str, Any]:
    """The night as an operator runs it without Airflow: ``receivables run``, the publish, the working copy."""
    import sys

    env = {**os.environ, **environment}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "receivables.cli", "run", "--entities", environment["RECEIVABLES_ENTITIES"],
         "--landing", environment["RECEIVABLES_LANDING"], "--warehouse", environment["RECEIVABLES_WAREHOUSE"],
         "--as-of", day.isoformat()],
        check=True, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    ran = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "receivables.cli", "publish", "--warehouse", environment["RECEIVABLES_WAREHOUSE"],
         "--serving", environment["RECEIVABLES_SERVING"], "--as-of", day.isoformat()],
        check=True, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    published = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "from receivables import nightly; nightly.working_copy(nightly.settings())"],
        check=True, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return {
        "run_s": round(ran - started, 2),
        "publish_s": round(published - ran, 2),
        "run_and_publish_s": round(published - started, 2),
        # after the publish, as the DAG's working_copy task: not on the way to the figures
        "working_copy_s": round(time.perf_counter() - published, 2),
    }


def airflow_night(airflow: Airflow, memory: MemoryPeak, day: date, run_id: str) -> dict[str, Any]:
    """One night through the scheduler, triggered as an operator does: its figures from Airflow's records."""
    memory.reset()
    run = airflow.call(
        "POST",
        f"/dags/{DAG_ID}/dagRuns",
        {"dag_run_id": run_id, "logical_date": None, "conf": {"as_of_date": day.isoformat()}},
    )
    ended = airflow.wait_for_run(run["dag_run_id"], timeout_s=3600)
    night = run_figures(ended, airflow.task_instances(ended["dag_run_id"]))
    night["peak_rss_mb"] = round(memory.peak_mb)
    if ended["state"] != "success":
        raise ReceivablesError(f"the Airflow night failed: {json.dumps(night)[:3000]}")
    return night


def airflow_backfill(airflow: Airflow, memory: MemoryPeak, first: date, last: date) -> dict[str, Any]:
    """The nights from ``first`` to ``last`` as one Airflow backfill, one run at a time."""
    memory.reset()
    requested = time.time()
    night_run = datetime.min.time()  # the night of D runs at 02:00 in Paris on D + 1
    created = airflow.call_retrying_locks(
        "POST",
        "/backfills",
        {
            "dag_id": DAG_ID,
            "from_date": datetime.combine(first + timedelta(days=1), night_run, PARIS).isoformat(),
            "to_date": datetime.combine(last + timedelta(days=1), night_run, PARIS)
            .replace(hour=12)
            .isoformat(),
            "max_active_runs": 1,
            "reprocess_behavior": "completed",
        },
    )
    # the bench's Airflow is new: every backfill run is this backfill's
    runs = airflow.call("GET", f"/dags/{DAG_ID}/dagRuns?limit=1000&run_type=backfill")["dag_runs"]
    log.info("backfill %s: %d runs", created.get("id"), len(runs))
    ends = [
        airflow.wait_for_run(r["dag_run_id"], timeout_s=7200)
        for r in sorted(runs, key=lambda r: r["logical_date"])
    ]
    finished = max(_when(r["end_date"]) for r in ends)
    figures = [run_figures(r, airflow.task_instances(r["dag_run_id"])) for r in ends]
    built = [f for f in figures if f["tasks"].get("publish", {}).get("state") == ["success"]]
    deferred = [f for f in figures if f not in built]
    return {
        "nights": len(ends),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "states": sorted({r["state"] for r in ends}),
        "wall_s": round(finished.timestamp() - requested, 1),
        "runs_that_built": len(built),
        "deferred_run_median_s": sorted(f["start_to_end_s"] for f in deferred)[len(deferred) // 2]
        if deferred
        else None,
        "last_run": built[-1] if built else None,
        "peak_rss_mb": round(memory.peak_mb),
    }


def airflow_bench(workdir: Path, backfill: int = 30) -> dict[str, Any]:
    """The last night of a bench group through the CLI and through Airflow, then a backfill of its last nights."""
    workdir = Path(workdir).resolve()
    landing, warehouse = workdir / "landing", workdir / "warehouse.duckdb"
    if not warehouse.exists() or not (landing / "entities.yml").exists():
        raise ReceivablesError(f"{workdir}: no benchmark group; run receivables bench first")
    nights = nightly_dates(landing)
    if len(nights) < backfill:
        raise ReceivablesError(
            f"{workdir}: the group has {len(nights)} nights after its history, fewer than --backfill {backfill}; "
            f"generate it with receivables bench --nights {backfill}"
        )
    last = nights[-1]
    environment = {
        "RECEIVABLES_ENTITIES": str(landing / "entities.yml"),
        "RECEIVABLES_LANDING": str(landing),
        "RECEIVABLES_WAREHOUSE": str(warehouse),
        "RECEIVABLES_SERVING": str(workdir / "serving" / "warehouse.duckdb"),
        "RECEIVABLES_ALERT_TO": "",
    }
    with Airflow(workdir, environment) as airflow, MemoryPeak(airflow.pid) as memory:
        airflow.wait_for_dag()
        # first, so that a group benched with --history-only has its nights, and every night
        # after it is measured with the as-of dates of a month in the marts
        backfilled = airflow_backfill(airflow, memory, nights[-backfill], last)
        cli_night = cli_night_with_publish(environment, last)  # the scheduler idle, as at night
        first_night = airflow_night(airflow, memory, last, f"bench-night-{last}-first")
        night = airflow_night(airflow, memory, last, f"bench-night-{last}-next")
    result = {
        "night": last.isoformat(),
        "cli_night_s": cli_night["run_and_publish_s"],
        "cli_night": cli_night,
        "airflow_night": night,
        "airflow_first_night_after_the_backfill": first_night,
        "airflow_vs_cli": round(float(night["trigger_to_publish_s"]) / cli_night["run_and_publish_s"], 2),
        "backfill": backfilled,
        "validation_batches": os.environ.get("RECEIVABLES_VALIDATION_BATCHES") or os.cpu_count(),
        # the bounds the builds ran under (receivables.settings), as the figures depend on them
        "build_range_dates": settings().build_range_dates,
        "build_memory_limit": settings().build_memory_limit,
        "machine": machine(),
    }
    log.info("%s", json.dumps(result))
    return result
