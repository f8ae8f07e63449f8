"""Superset settings for the receivables dashboards, from the environment (.env).

SUPERSET_SECRET_KEY signs sessions; in production (SUPERSET_ENV=production)
Superset refuses to start without one of its own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from superset.errors import ErrorLevel, SupersetError, SupersetErrorType
from superset.exceptions import SupersetSecurityException
from superset.security import SupersetSecurityManager

_HOME = Path(os.environ.get("SUPERSET_HOME", Path(__file__).resolve().parents[1] / "var" / "superset"))
_HOME.mkdir(parents=True, exist_ok=True)

_DEFAULT_SECRETS = {"", "CHANGE_ME", "change-me", "thisISaSECRET_1234", "\\2dEDC7d3d1a4d5cdb1e6aa5ad5ab6"}
SECRET_KEY = os.environ.get("SUPERSET_SECRET_KEY", "")
if os.environ.get("SUPERSET_ENV", "development") == "production" and SECRET_KEY in _DEFAULT_SECRETS:
    raise RuntimeError("SUPERSET_SECRET_KEY must be set to a secret of your own in production")
if not SECRET_KEY:
    raise RuntimeError("set SUPERSET_SECRET_KEY (scripts/start-superset.sh writes one into .env)")
if os.environ.get("SUPERSET_PREVIOUS_SECRET_KEY"):  # only while rotating (docs/operations.md)
    PREVIOUS_SECRET_KEY = os.environ["SUPERSET_PREVIOUS_SECRET_KEY"]

SQLALCHEMY_DATABASE_URI = os.environ.get("SUPERSET_DATABASE_URI", f"sqlite:///{_HOME / 'superset.db'}")
DATA_DIR = str(_HOME)

# Dashboards read the published DuckDB file only, read-only, with no file access from SQL.
PREVENT_UNSAFE_DB_CONNECTIONS = False
# DASHBOARD_RBAC: a dashboard shows to the roles provision_security.py gives it (a controller sees
# the entity-level ones only, never a chart they cannot read)
FEATURE_FLAGS = {
    "DASHBOARD_NATIVE_FILTERS": True,
    "ENABLE_TEMPLATE_PROCESSING": False,
    "DASHBOARD_RBAC": True,
}
ROW_LEVEL_SECURITY = True

# The interface in French, the users' language, English on a click (the flag in the menu bar).
# The login page fetches its language pack before anyone is logged in: provision_security.py
# lets the anonymous role read that file and nothing else (upstream issue #38178).
BABEL_DEFAULT_LOCALE = "fr"
LANGUAGES = {"fr": {"flag": "fr", "name": "Français"}, "en": {"flag": "us", "name": "English"}}

WTF_CSRF_ENABLED = True
# A content security policy that names no host but the server's own: the pages load nothing from
# elsewhere, and the telemetry pixel the 6.1 front end draws on every page (a request to
# apachesuperset.gateway.scarf.sh, compiled in) is blocked by the browser before it leaves.
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,  # TLS ends at the reverse proxy (docs/operations.md)
    "session_cookie_secure": False,
}
TALISMAN_DEV_CONFIG = TALISMAN_CONFIG
ENABLE_PROXY_FIX = False
SUPERSET_WEBSERVER_TIMEOUT = 120
CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
DATA_CACHE_CONFIG = CACHE_CONFIG
D3_FORMAT = {"decimal": ",", "thousands": "\u202f", "grouping": [3], "currency": ["", "\u00a0€"]}


class ReceivablesSecurityManager(SupersetSecurityManager):
    """SQL Lab runs only on a database the user may read whole (its ``database_access``).

    Superset also lets SQL Lab read a table of a database through a dataset's
    ``datasource_access``; row-level security does not reach SQL Lab, so a
    controller who sees the group's datasets filtered to their entity would
    read every entity's rows in SQL. Their SQL goes to their entity's own
    database instead (SPEC section 15; superset/provision_security.py).
    """

    def raise_for_access(self, *args: Any, **kwargs: Any) -> None:
        from superset.models.sql_lab import Query

        query, database = kwargs.get("query"), kwargs.get("database")
        if (kwargs.get("sql") and database is not None) or isinstance(query, Query):
            database = query.database if isinstance(query, Query) else database
            if database is None or not self.can_access_database(database):  # no database: refused too
                name = database.database_name if database is not None else "no database"
                raise SupersetSecurityException(
                    SupersetError(
                        error_type=SupersetErrorType.DATABASE_SECURITY_ACCESS_ERROR,
                        message=(
                            f"SQL on {name} is not allowed for your roles: "
                            "a controller's SQL runs on their entity's database"
                        ),
                        level=ErrorLevel.ERROR,
                    )
                )
        super().raise_for_access(*args, **kwargs)


CUSTOM_SECURITY_MANAGER = ReceivablesSecurityManager


def _write_date_literals() -> None:
    """A filter on a DATE column compiles: its value is written ``DATE 'YYYY-MM-DD'``.

    Superset 6.1's DuckDB engine spec writes a literal for strings and
    timestamps only (``convert_dttm`` returns None for a DATE), so a native
    filter's chosen date, sent as epoch milliseconds, compiled to nothing
    ("Cannot compile Column object until its 'name' is assigned"). The
    dashboards' as-of filter is on the marts' DATE column ``as_of_date``
    (docs/decisions.md, "Dashboards", point 1).
    """
    from sqlalchemy import types
    from superset.db_engine_specs.duckdb import DuckDBEngineSpec

    written = DuckDBEngineSpec.convert_dttm.__func__
    if getattr(written, "writes_dates", False):  # an app made again in the same process: patched once
        return

    def convert_dttm(
        cls: Any, target_type: str, dttm: Any, db_extra: dict[str, Any] | None = None
    ) -> str | None:
        column_type = cls.get_sqla_column_type(target_type)
        if isinstance(column_type, types.Date) and not isinstance(column_type, types.DateTime):
            return f"DATE '{dttm.date().isoformat()}'"
        return written(cls, target_type, dttm, db_extra)

    convert_dttm.writes_dates = True  # type: ignore[attr-defined]
    DuckDBEngineSpec.convert_dttm = classmethod(convert_dttm)


def FLASK_APP_MUTATOR(app: Any) -> None:
    """An anonymous page's event log is refused without touching its session; DATE literals are written.

    The login page sends its event log as it unloads, while the login form's POST
    is under way, with the anonymous session cookie. Superset answers it with a
    redirect to the login page that flashes "access denied" into that session,
    and sets its cookie. When that answer arrives after the login's, it replaces
    the new session: the user lands on the login page again, logged out. Seen on
    the first login after a start. The log of a logged-in user is untouched.
    """
    from flask import Response, request, session

    _write_date_literals()

    @app.before_request
    def _refuse_an_anonymous_event_log() -> Response | None:
        # read from the session, not through flask_login.current_user, whose anonymous load
        # marks the session modified and would set the very cookie this avoids
        anonymous = "_user_id" not in session and "Authorization" not in request.headers
        if request.method == "POST" and request.path == "/superset/log/" and anonymous:
            return Response(status=401)
        return None
