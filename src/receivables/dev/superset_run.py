"""A local Superset and a headless browser, for the tests and the screenshots of docs/dashboards.md.

``start_server`` runs scripts/superset-entrypoint.sh (init, then web on a free
loopback port), the steps the native set-up and the containers run;
``logged_in_page`` drives Debian's Chromium through Playwright, never a
downloaded browser.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from receivables import paths

REPO = paths.project_root()
ADMIN_PASSWORD = "pw-of-this-test"

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


@dataclass(frozen=True)
class Server:
    url: str
    home: Path  # SUPERSET_HOME: where its metadata lives, for the CLI commands of a test


def start_server(home: Path, **extra: str) -> Iterator[Server]:
    """scripts/superset-entrypoint.sh init, then web on a free loopback port (SQLite metadata unless
    ``extra`` sets SUPERSET_DATABASE_URI): the steps the native set-up and the containers run."""
    port = free_port()
    environment = superset_env(
        home,
        SUPERSET_ADMIN_USER="admin",
        SUPERSET_ADMIN_PASSWORD=ADMIN_PASSWORD,
        SUPERSET_BIND=f"127.0.0.1:{port}",
        SUPERSET_WORKERS="1",
        PATH=f"{VENV}:{os.environ['PATH']}",
        **extra,
    )
    entrypoint = str(REPO / "scripts" / "superset-entrypoint.sh")
    subprocess.run(
        ["bash", entrypoint, "init"], check=True, capture_output=True, env=environment, timeout=600
    )
    server = subprocess.Popen(
        ["bash", entrypoint, "web"],
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
            raise RuntimeError("Superset did not answer /health")
        yield Server(base, home)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


@contextmanager
def logged_in_page(
    url: str, width: int = 1600, height: int = 1200, user: str = "admin", password: str = ADMIN_PASSWORD
) -> Iterator[Any]:
    """Debian's Chromium (Playwright, never a downloaded browser), logged in through the form."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            # the pages load nothing from another host: the server's content security policy
            # blocks it in the browser (a failure "csp"); anything else went out on the network
            elsewhere: list[str] = []
            server_host = urllib.parse.urlsplit(url).netloc

            def went_out(request: Any) -> None:
                parts = urllib.parse.urlsplit(request.url)
                if (
                    parts.scheme in ("http", "https")
                    and parts.netloc != server_host
                    and request.failure != "csp"
                ):
                    elsewhere.append(f"{request.url} ({request.failure or 'answered'})")

            page.on("requestfinished", went_out)
            page.on("requestfailed", went_out)
            page.goto(f"{url}/login/", wait_until="networkidle", timeout=120_000)
            page.fill("[data-test=username-input]", user)
            page.fill("[data-test=password-input]", password)
            page.click("[data-test=login-button]")
            try:
                page.wait_for_url("**/superset/welcome/**", timeout=120_000)
            except Exception as error:
                raise RuntimeError(
                    f"the login as {user} did not reach the welcome page: still on {page.url}, "
                    f"which shows: {page.inner_text('body')[:1500]!r}"
                ) from error
            yield page
            if elsewhere:
                raise RuntimeError(f"the pages sent requests to other hosts than {server_host}: {elsewhere}")
        finally:
            browser.close()
