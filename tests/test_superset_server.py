"""Superset in its own pinned environment: a real server starts, logs in, and guards its secret."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO

VENV = REPO / ".venv-superset" / "bin"
CONFIG = REPO / "superset" / "superset_config.py"


def superset_env(home: Path, **extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SUPERSET_", "AIRFLOW"))}
    environment.update(
        SUPERSET_CONFIG_PATH=str(CONFIG),
        SUPERSET_HOME=str(home),
        FLASK_APP="superset",
        SUPERSET_SECRET_KEY="a-test-secret-of-this-run",
        **extra,
    )
    return environment


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_pins_keep_superset_apart_from_airflow():
    lock = (REPO / "requirements" / "superset.lock").read_text()
    assert "apache-superset==6.1.0" in lock and "sqlalchemy==1.4." in lock and "flask-caching==2.3.1" in lock
    pipeline = (REPO / "requirements" / "pipeline.lock").read_text()
    assert "sqlalchemy==2." in pipeline and "apache-superset" not in pipeline


@pytest.mark.parametrize("secret", ["", "CHANGE_ME"])
def test_production_refuses_a_default_secret(tmp_path, secret):
    environment = superset_env(tmp_path, SUPERSET_ENV="production")
    environment["SUPERSET_SECRET_KEY"] = secret
    result = subprocess.run(
        [str(VENV / "python"), str(CONFIG)], capture_output=True, text=True, env=environment
    )
    assert result.returncode != 0
    assert "SUPERSET_SECRET_KEY must be set to a secret of your own in production" in result.stderr


def test_a_real_server_starts_and_logs_in(tmp_path):
    environment = superset_env(tmp_path)
    superset = str(VENV / "superset")
    for command in (
        ["db", "upgrade"],
        [
            "fab",
            "create-admin",
            "--username",
            "admin",
            "--firstname",
            "A",
            "--lastname",
            "D",
            "--email",
            "admin@localhost",
            "--password",
            "pw-of-this-test",
        ],
        ["init"],
    ):
        subprocess.run([superset, *command], check=True, capture_output=True, env=environment, timeout=600)
    port = free_port()
    server = subprocess.Popen(
        [
            str(VENV / "gunicorn"),
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "superset.app:create_app()",
        ],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(90):
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("Superset did not answer /health")
        request = urllib.request.Request(
            f"{base}/api/v1/security/login",
            data=json.dumps({"username": "admin", "password": "pw-of-this-test", "provider": "db"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.load(response)["access_token"]
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
