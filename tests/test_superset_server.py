"""Superset in its own pinned environment: a real server starts, logs in, and guards its secret."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import REPO
from superset_support import CONFIG, VENV, logged_in_page, superset_env


@pytest.mark.superset
def test_pins_keep_superset_apart_from_airflow():
    lock = (REPO / "requirements" / "superset.lock").read_text()
    assert "apache-superset==6.1.0" in lock and "sqlalchemy==1.4." in lock and "flask-caching==2.3.1" in lock
    pipeline = (REPO / "requirements" / "pipeline.lock").read_text()
    assert "sqlalchemy==2." in pipeline and "apache-superset" not in pipeline


@pytest.mark.superset
@pytest.mark.parametrize("secret", ["", "CHANGE_ME"])
def test_production_refuses_a_default_secret(tmp_path, secret):
    environment = superset_env(tmp_path, SUPERSET_ENV="production")
    environment["SUPERSET_SECRET_KEY"] = secret
    result = subprocess.run(
        [str(VENV / "python"), str(CONFIG)], capture_output=True, text=True, env=environment
    )
    assert result.returncode != 0
    assert "SUPERSET_SECRET_KEY must be set to a secret of your own in production" in result.stderr


@pytest.mark.superset
def test_a_real_server_logs_in_over_the_api(superset_server):
    request = urllib.request.Request(
        f"{superset_server.url}/api/v1/security/login",
        data=json.dumps({"username": "admin", "password": "pw-of-this-test", "provider": "db"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.load(response)["access_token"]


@pytest.mark.browser
def test_headless_chromium_logs_in_and_takes_a_screenshot(superset_server, tmp_path):
    """Debian's Chromium driven by Playwright, as the dashboard tests are."""
    screenshot = tmp_path / "superset-welcome.png"
    with logged_in_page(superset_server.url, 1400, 900) as page:
        page.wait_for_load_state("networkidle", timeout=120_000)
        assert page.locator(".alert-danger").count() == 0
        page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000


@pytest.mark.superset
def test_an_anonymous_event_log_leaves_the_session_alone(superset_server):
    """The login page's unload beacon, answered after the login itself, must not replace the new
    session with the anonymous one (superset_config.FLASK_APP_MUTATOR): no cookie in its answer."""
    import http.cookiejar

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{superset_server.url}/login/", timeout=30).read()
    assert any(cookie.name == "session" for cookie in jar), "the login page starts an anonymous session"
    beacon = urllib.request.Request(
        f"{superset_server.url}/superset/log/?explode=events",
        data=b"events=[]",
        headers={"Content-Type": "text/plain"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(beacon, timeout=30)
    assert refused.value.code == 401
    assert refused.value.headers.get_all("Set-Cookie") is None


@pytest.mark.superset
def test_pages_name_no_other_host_in_their_security_policy(superset_server):
    with urllib.request.urlopen(f"{superset_server.url}/login/", timeout=30) as response:
        policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "connect-src 'self';" in policy
    assert "scarf" not in policy and "https://" not in policy
