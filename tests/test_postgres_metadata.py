"""The production metadata path, natively: Airflow and Superset on a real PostgreSQL server.

The server is Debian's PostgreSQL (scripts/setup-postgres.sh), started in a
temporary folder; its databases and users come from docker/postgres-init.sh,
Airflow's from scripts/airflow-entrypoint.sh and Superset's from
scripts/superset-entrypoint.sh: the scripts docker-compose.yml runs.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from conftest import REPO
from receivables.dev.generate import GeneratorConfig, generate
from receivables.serve.superset_provision import DASHBOARDS, SupersetClient
from superset_support import ADMIN_PASSWORD, free_port, start_server

pytestmark = pytest.mark.superset

AIRFLOW_PASSWORD = "airflow-pw-of-this-test"
SUPERSET_PASSWORD = "superset-pw-of-this-test"


@dataclass(frozen=True)
class Postgres:
    port: int
    socket_dir: Path

    def url(self, user: str, password: str) -> str:
        return f"postgresql+psycopg2://{user}:{password}@127.0.0.1:{self.port}/{user}"

    def query(self, database: str, sql: str) -> list[tuple]:
        import psycopg2

        connection = psycopg2.connect(
            host=str(self.socket_dir), port=self.port, user="postgres", dbname=database
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall())
        finally:
            connection.close()


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: drop to the postgres user when we are root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not binaries:
        pytest.fail("PostgreSQL is not installed: run scripts/setup-postgres.sh")
    bin_dir = Path(binaries[-1])
    # not under pytest's folder: that one is private to root, and the server runs as postgres
    root = Path(tempfile.mkdtemp(prefix="receivables-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
        root.chmod(0o755)
    subprocess.run(
        as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                     "--auth-local=trust", "--auth-host=scram-sha-256"]),
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    port = free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
    subprocess.run(
        as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "server.log"),
                     "-w", "start"]),
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    try:
        environment = os.environ | {
            "PGHOST": str(sockets),
            "PGPORT": str(port),
            "PGUSER": "postgres",
            "AIRFLOW_DB_PASSWORD": AIRFLOW_PASSWORD,
            "SUPERSET_DB_PASSWORD": SUPERSET_PASSWORD,
        }
        subprocess.run(
            ["bash", str(REPO / "docker" / "postgres-init.sh")],
            check=True,
            capture_output=True,
            env=environment,
        )
        yield Postgres(port, sockets)
    finally:
        subprocess.run(
            as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            capture_output=True, timeout=120,
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def night(postgres, tmp_path_factory) -> Path:
    """A generated group's first night run by Airflow with its metadata on PostgreSQL; returns the serving file."""
    root = tmp_path_factory.mktemp("pg-night")
    landing = root / "landing"
    generate(
        GeneratorConfig(
            out=landing, entities=2, start=date(2025, 11, 1), end=date(2025, 12, 31), seed=4, invoices=300,
            nightly_from=date(2025, 12, 31),
        )
    )  # fmt: skip
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "RECEIVABLES_"))} | {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "AIRFLOW_HOME": str(root / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres.url("airflow", AIRFLOW_PASSWORD),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "GX_ANALYTICS_ENABLED": "false",
        "RECEIVABLES_ENTITIES": str(landing / "entities.yml"),
        "RECEIVABLES_LANDING": str(landing),
        "RECEIVABLES_WAREHOUSE": str(root / "work" / "warehouse.duckdb"),
        "RECEIVABLES_SERVING": str(root / "serving" / "warehouse.duckdb"),
    }
    entrypoint = str(REPO / "scripts" / "airflow-entrypoint.sh")
    init = subprocess.run(
        ["bash", entrypoint, "init"], capture_output=True, text=True, env=environment, timeout=900
    )
    assert init.returncode == 0, init.stderr[-3000:]
    # the history drop is 2025-12-30: the run of 2025-12-31 at 02:00 processes it
    run = subprocess.run(
        ["airflow", "dags", "test", "receivables_nightly", "2025-12-31"],
        capture_output=True, text=True, env=environment, timeout=1200,
    )  # fmt: skip
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    return root / "serving" / "warehouse.duckdb"


def test_airflow_keeps_its_runs_in_postgresql(postgres, night):
    assert night.is_file()
    runs = postgres.query("airflow", "select state from dag_run where dag_id = 'receivables_nightly'")
    assert runs == [("success",)]
    states = postgres.query(
        "airflow",
        "select task_id, state from task_instance where dag_id = 'receivables_nightly' and task_id <> 'validate'",
    )
    assert dict(states) == {
        t: "success" for t in ("plan", "load", "build", "publish", "alert", "working_copy")
    }
    batches = postgres.query(
        "airflow",
        "select rendered_map_index from task_instance where task_id = 'validate' and state = 'success'",
    )
    # the group's FX drop and two entities, in batches named by their drops
    assert sorted(code for (batch,) in batches for code in batch.split(", ")) == ["DE01", "FR01", "GROUP"]
    [(pool,)] = postgres.query("airflow", "select slots from slot_pool where pool = 'receivables_warehouse'")
    assert pool == 1
    # the airflow user owns its database only
    [(owner,)] = postgres.query(
        "postgres", "select pg_get_userbyid(datdba) from pg_database where datname = 'airflow'"
    )
    assert owner == "airflow"


def test_superset_keeps_its_dashboards_in_postgresql(postgres, night, tmp_path):
    server = start_server(tmp_path, SUPERSET_DATABASE_URI=postgres.url("superset", SUPERSET_PASSWORD))
    url = next(server).url
    try:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SUPERSET_")} | {
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "SUPERSET_URL": url,
            "SUPERSET_ADMIN_USER": "admin",
            "SUPERSET_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "SUPERSET_SECRET_KEY": "a-test-secret-of-this-run",
            "SUPERSET_DATABASE_URI": postgres.url("superset", SUPERSET_PASSWORD),
            "SUPERSET_HOME": str(tmp_path),
            "RECEIVABLES_SERVING": str(night),
            "RECEIVABLES_ENTITIES": str(night.parents[1] / "landing" / "entities.yml"),
        }
        provision = subprocess.run(
            ["bash", str(REPO / "scripts" / "superset-entrypoint.sh"), "provision"],
            capture_output=True, text=True, env=environment, timeout=1200,
        )  # fmt: skip
        assert provision.returncode == 0, (provision.stdout + provision.stderr)[-3000:]
        stored = postgres.query("superset", "select slug from dashboards order by slug")
        assert stored == [(slug,) for slug in sorted(DASHBOARDS)]
        roles = {name for (name,) in postgres.query("superset", "select name from ab_role")}
        assert {"Group CFO", "Receivables SQL", "Controller FR01", "Controller DE01"} <= roles
        client = SupersetClient(url, "admin", ADMIN_PASSWORD)
        [chart] = [
            c for c in client.listing("chart") if c["slice_name"] == "Fraîcheur des données par entité"
        ]
        started = time.monotonic()
        data = client.call("GET", f"/api/v1/chart/{chart['id']}/data/")
        assert data["result"][0]["data"], f"no rows after {time.monotonic() - started:.1f} s"
    finally:
        with pytest.raises(StopIteration):
            next(server)
