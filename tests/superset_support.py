"""Superset for the tests: its environment, a real server, a logged-in REST session, a browser
(receivables.dev.superset_run, shared with scripts/dashboard_screenshots.py)."""

from receivables.dev.superset_run import (
    ADMIN_PASSWORD,
    CHROMIUM_FLAGS,
    CONFIG,
    VENV,
    Server,
    free_port,
    logged_in_page,
    start_server,
    superset_env,
)

__all__ = [
    "ADMIN_PASSWORD",
    "CHROMIUM_FLAGS",
    "CONFIG",
    "VENV",
    "Server",
    "free_port",
    "logged_in_page",
    "start_server",
    "superset_env",
]
