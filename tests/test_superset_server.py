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
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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


@pytest.fixture(scope="module")
def superset_server(tmp_path_factory):
    """A real Superset: migrated SQLite metadata, an admin, gunicorn on a free loopback port."""
    home = tmp_path_factory.mktemp("superset")
    environment = superset_env(home)
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
            "--threads",
            "4",
            "--worker-class",
            "gthread",
            "--bind",
            f"127.0.0.1:{port}",
            "superset.app:create_app()",
        ],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("Superset did not answer /health")
        yield base
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def test_a_real_server_logs_in_over_the_api(superset_server):
    request = urllib.request.Request(
        f"{superset_server}/api/v1/security/login",
        data=json.dumps({"username": "admin", "password": "pw-of-this-test", "provider": "db"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.load(response)["access_token"]


def test_headless_chromium_logs_in_and_takes_a_screenshot(superset_server, tmp_path):
    """Debian's Chromium driven by Playwright, as the dashboard tests will be."""
    from playwright.sync_api import sync_playwright

    screenshot = tmp_path / "superset-welcome.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{superset_server}/login/", wait_until="networkidle", timeout=120_000)
            page.fill("[data-test=username-input]", "admin")
            page.fill("[data-test=password-input]", "pw-of-this-test")
            page.click("[data-test=login-button]")
            page.wait_for_url("**/superset/welcome/**", timeout=120_000)
            page.wait_for_load_state("networkidle", timeout=120_000)
            assert page.locator(".alert-danger").count() == 0
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert screenshot.stat().st_size > 10_000
