"""Scale-out: a night of the nightly DAG on two Celery workers, through a real Redis broker.

Airflow runs as in production (scripts/airflow-entrypoint.sh: api-server,
scheduler, dag-processor, and two `celery-worker`s), on loopback: worker A is
the warehouse's host, worker B another machine's (the default queue only, two
slots). Worker A serves the writers' queue alone here: which worker takes a
task of a queue both serve depends on which is free at that instant (a worker
still closing its last task is not), so a test where A also served the default
queue could see A validate both batches. Each worker has a home of its own, so
the task logs it writes tell which worker ran which task. Redis is Debian's
`redis-server` (scripts/setup-redis.sh), started here on a free port.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from conftest import REPO, group_paths, reader, run_nights
from receivables.dev.generate import GeneratorConfig, generate
from receivables.dev.superset_run import free_port

pytestmark = pytest.mark.airflow

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
WRITERS = {"load", "build", "publish", "working_copy"}


def wait_until(check, what: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout_s:.0f} s")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    wait_until(lambda: redis.Redis(port=port).ping(), "redis-server answers")
    yield f"redis://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=30)


class Component:
    """One Airflow component in a process group of its own, stopped with it."""

    def __init__(self, name: str, arguments: list[str], environment: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                ["bash", str(REPO / "scripts" / "airflow-entrypoint.sh"), *arguments],
                env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def ready(self) -> bool:
        """A Celery worker's "ready" line; a component that ended fails the test with its log."""
        log = self.log.read_bytes()
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} ended: {log[-3000:].decode(errors='replace')}")
        return b" ready." in log

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


def test_a_night_runs_on_two_celery_workers_with_the_writers_on_one(redis_url, tmp_path):
    root = tmp_path
    landing, warehouse, serving = group_paths(root)
    generate(
        GeneratorConfig(
            out=landing, entities=3, start=date(2025, 10, 1), end=date(2025, 12, 31), seed=5,
            invoices=1200, nightly_from=date(2025, 12, 31),
        )
    )  # fmt: skip
    run_nights(landing, warehouse, "2025-12-30")  # the history, landed by the CLI
    port = free_port()
    common = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": f"{redis_url}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"{redis_url}/1",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{root / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__API_AUTH__JWT_SECRET": "a-secret-of-this-test-shared-by-every-component",
        "GX_ANALYTICS_ENABLED": "false",
        "RECEIVABLES_ENTITIES": str(landing / "entities.yml"),
        "RECEIVABLES_LANDING": str(landing),
        "RECEIVABLES_WAREHOUSE": str(warehouse),
        "RECEIVABLES_SERVING": str(serving),
        "RECEIVABLES_VALIDATION_BATCHES": "2",
        "RECEIVABLES_ALERT_TO": "",
    }
    homes = {name: root / name for name in ("central", "worker-a", "worker-b")}
    for home in homes.values():
        home.mkdir()
    central = {**common, "AIRFLOW_HOME": str(homes["central"])}
    init = subprocess.run(
        ["bash", str(REPO / "scripts" / "airflow-entrypoint.sh"), "init"],
        env=central, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert init.returncode == 0, init.stderr[-3000:]
    components = [
        Component(name, [name], central, homes["central"] / f"{name}.log")
        for name in ("api-server", "scheduler", "dag-processor")
    ]
    # worker A on the warehouse's host: the writers' queue; worker B, two slots: the default queue
    for name, queues, slots in (("worker-a", "receivables_warehouse", "1"), ("worker-b", "default", "2")):
        environment = {
            **common,
            "AIRFLOW_HOME": str(homes[name]),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": slots,
        }
        components.append(
            Component(
                name,
                ["celery-worker", "--queues", queues, "--celery-hostname", f"{name}@%h", "--skip-serve-logs"],
                environment,
                homes[name] / "worker.log",
            )
        )
    api = f"http://127.0.0.1:{port}/api/v2"
    try:
        for worker in components[-2:]:  # both consume before anything is queued
            wait_until(lambda worker=worker: worker.ready(), f"{worker.name} ready")
        wait_until(lambda: httpx.get(f"{api}/dags/receivables_nightly").status_code == 200, "the DAG parsed")
        httpx.patch(f"{api}/dags/receivables_nightly", json={"is_paused": False}).raise_for_status()
        run = httpx.post(
            f"{api}/dags/receivables_nightly/dagRuns",
            json={"dag_run_id": "celery-night", "logical_date": None, "conf": {"as_of_date": "2025-12-31"}},
        )
        run.raise_for_status()
        wait_until(
            lambda: (
                httpx.get(f"{api}/dags/receivables_nightly/dagRuns/celery-night").json()["state"]
                in ("success", "failed")
            ),
            "the night ended",
            timeout_s=900,
        )
        state = httpx.get(f"{api}/dags/receivables_nightly/dagRuns/celery-night").json()["state"]
        instances = httpx.get(f"{api}/dags/receivables_nightly/dagRuns/celery-night/taskInstances").json()
    finally:
        for component in reversed(components):
            component.stop()
    logs = "\n".join(path.read_text(errors="replace")[-3000:] for path in root.glob("*/*.log"))
    assert state == "success", ({i["task_id"]: i["state"] for i in instances["task_instances"]}, logs[-6000:])

    def ran_on(task_id: str) -> set[str]:
        """The workers whose own logs hold the task's log."""
        return {
            name
            for name in ("worker-a", "worker-b")
            if list(
                (homes[name] / "logs").glob(
                    f"dag_id=receivables_nightly/run_id=celery-night/task_id={task_id}/**/*.log"
                )
            )
        }

    for writer in WRITERS:
        assert ran_on(writer) == {"worker-a"}, writer  # the one writer, on the warehouse's host
    for other in ("plan", "validate", "alert"):
        assert ran_on(other) == {"worker-b"}, other  # off the warehouse's host
    batches = [i for i in instances["task_instances"] if i["task_id"] == "validate"]
    assert len(batches) == 2
    # worker B imported Great Expectations once, before its pool forked (receivables.celery_config)
    validations = [
        path.read_text()
        for path in (homes["worker-b"] / "logs").glob(
            "dag_id=receivables_nightly/run_id=celery-night/task_id=validate/**/*.log"
        )
    ]
    assert len(validations) == 2
    assert all("Great Expectations: imported before this process started" in text for text in validations)
    query = reader(serving)
    assert query("select entity_code, status from marts.mart_freshness where as_of_date = '2025-12-31' order by 1") == [
        ("DE01", "ok"), ("FR01", "ok"), ("GB01", "ok"), ("GROUP", "ok")
    ]  # fmt: skip
