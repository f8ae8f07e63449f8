"""docker-compose.yml, validated without a Docker engine: structure, files, variables, volumes, no secret."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from conftest import REPO

pytestmark = pytest.mark.unit

COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Z0-9_]+)(:?[-?])?([^}]*)\}")  # $${...} is the container's own
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY$|^AIRFLOW_CONN_|SQL_ALCHEMY_CONN|DATABASE_URI")
LONG_RUNNING = {
    "postgres",
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "redis",
    "superset",
}
ONE_SHOT = {"airflow-init", "superset-init", "superset-provision"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))  # anchors and merge keys resolved


def env_example() -> dict[str, str]:
    pairs = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def test_every_service_of_the_deployment_is_there(compose):
    assert set(compose["services"]) == LONG_RUNNING | ONE_SHOT
    for name in LONG_RUNNING:
        check = compose["services"][name].get("healthcheck")
        assert check and check["test"], f"{name}: healthcheck"
    for name in ONE_SHOT:
        assert compose["services"][name]["restart"] == "no", f"{name}: a job runs once"


def test_dependencies_wait_for_health_or_completion(compose):
    services = compose["services"]
    for name, service in services.items():
        for target, rule in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            expected = "service_completed_successfully" if target in ONE_SHOT else "service_healthy"
            assert rule["condition"] == expected, f"{name} -> {target}"
    for component in (
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
    ):
        assert "airflow-init" in services[component]["depends_on"]
        assert "redis" in services[component]["depends_on"]  # the Celery broker
    assert "superset" in services["superset-provision"]["depends_on"]


def test_the_warehouse_worker_serves_the_writers_queue(compose):
    """DuckDB has one writer: the DAG's writers go to one queue, which the warehouse's worker serves."""
    import ast

    dag = ast.parse((REPO / "dags" / "receivables_nightly.py").read_text(encoding="utf-8"))
    [queue] = [
        node.value.value
        for node in dag.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "WAREHOUSE_QUEUE"
    ]
    worker = compose["services"]["airflow-worker"]
    command = worker["command"]
    assert command[0] == "celery-worker"
    assert set(command[command.index("--queues") + 1].split(",")) == {"default", queue}
    assert "/data/warehouse" in {volume.split(":")[1] for volume in worker["volumes"]}
    assert worker["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


def test_images_are_built_from_the_native_locks_and_scripts(compose):
    dockerfiles = set()
    for name, service in compose["services"].items():
        if "build" in service:
            build = service["build"]
            assert (REPO / build["context"]).is_dir(), name
            dockerfile = REPO / build["dockerfile"]
            assert dockerfile.is_file(), f"{name}: {dockerfile}"
            dockerfiles.add(dockerfile)
    texts = {path.name: path.read_text(encoding="utf-8") for path in dockerfiles}
    assert "scripts/setup-pipeline.sh" in texts["pipeline.Dockerfile"]
    assert "requirements/superset.lock" in texts["superset.Dockerfile"]
    for text in texts.values():
        for script in re.findall(r"/opt/receivables/(scripts/[\w.-]+\.sh)", text):
            assert os.access(REPO / script, os.X_OK), f"{script} must exist and be executable"
    native = {
        "start-airflow.sh": "scripts/airflow-entrypoint.sh",
        "start-superset.sh": "scripts/superset-entrypoint.sh",
    }
    for starter, entrypoint in native.items():
        assert entrypoint in (REPO / "scripts" / starter).read_text(encoding="utf-8"), starter


def test_every_command_is_a_component_of_its_entrypoint(compose):
    components = {}
    for script in ("airflow-entrypoint.sh", "superset-entrypoint.sh"):
        text = (REPO / "scripts" / script).read_text(encoding="utf-8")
        components[script] = {
            name.strip()
            for pattern in re.findall(r"^\s+([\w| -]+)\)$", text, flags=re.M)
            for name in pattern.split("|")
        }
    for name, service in compose["services"].items():
        if "build" not in service:
            continue
        script = (
            "airflow-entrypoint.sh"
            if "pipeline" in service["build"]["dockerfile"]
            else "superset-entrypoint.sh"
        )
        command = service["command"][0]  # a worker's options follow its component
        assert command in components[script], f"{name}: {command} is not a component of {script}"


def test_files_and_volumes_exist(compose):
    declared = set(compose["volumes"])
    used = set()
    for name, service in compose["services"].items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("${"):
                continue  # the operator's folder: a required variable (checked below)
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in declared, f"{name}: volume {source} not declared"
                used.add(source)
    assert declared == used, f"declared but unused: {declared - used}"
    for volume in ("landing", "quarantine", "warehouse", "serving"):
        assert volume in used
    # superset reads the published file only, never the writer's
    superset_mounts = compose["services"]["superset"]["volumes"]
    assert "serving:/data/serving:ro" in superset_mounts
    assert not [m for m in superset_mounts if m.startswith(("warehouse:", "landing:"))]


def test_every_variable_is_documented_and_every_secret_is_required():
    text = COMPOSE.read_text(encoding="utf-8")
    documented = env_example()
    referenced = {}
    for name, operator, _ in VARIABLE.findall(text):
        referenced.setdefault(name, set()).add(operator)
    assert set(referenced) == set(documented), (
        f"undocumented: {set(referenced) - set(documented)}; stale: {set(documented) - set(referenced)}"
    )
    for name, operators in referenced.items():
        if SECRET_NAME.search(name):
            assert operators == {":?"}, (
                f"{name}: a secret must be required (${{{name}:?...}}), never defaulted"
            )
            assert documented[name] == "", f".env.example must leave {name} empty"


def test_no_literal_secret_in_the_compose_file(compose):
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):
                text = str(value)
                assert VARIABLE.search(text), f"{name}.{key} holds a literal value"
                without_variables = VARIABLE.sub("", text)
                assert not re.search(r":[^/@:]+@", without_variables), f"{name}.{key}: a literal password"
    assert not re.search(
        r"(?i)(password|secret)\s*[:=]\s*['\"]?[A-Za-z0-9]{8,}", COMPOSE.read_text(encoding="utf-8")
    )


def test_the_postgres_init_script_makes_two_databases_and_users():
    script = (REPO / "docker" / "postgres-init.sh").read_text(encoding="utf-8")
    for statement in ("create user airflow", "create database airflow owner airflow",
                      "create user superset", "create database superset owner superset"):  # fmt: skip
        assert statement in script
    assert os.access(REPO / "docker" / "postgres-init.sh", os.X_OK)


def test_the_validation_can_fail(tmp_path):
    """The secret check rejects a literal password: the test is not a tautology."""
    bad = {"services": {"superset": {"environment": {"SUPERSET_SECRET_KEY": "hunter2hunter2"}}}}
    with pytest.raises(AssertionError):
        test_no_literal_secret_in_the_compose_file(bad)
    assert Path(COMPOSE).is_file()
