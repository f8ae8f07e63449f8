"""Provision Superset from the asset bundle in dashboards/ (database, datasets, charts, dashboards).

1. The bundle is copied with the serving file's path in the database URI, plus
   one database per entity on its own file (SPEC section 15: the same settings,
   read-only, no file access, no DML), and imported with ``superset
   import-directory -o`` (overwrites by UUID: a second import updates, never
   duplicates).
2. Roles, row-level security, and SQL Lab for each entity's controllers on
   their entity's database: ``superset/provision_security.py``.
3. Over the REST API: dataset columns are read from the serving file, and each
   chart gets the query context its data endpoint runs, built from its params.

Superset runs in its own environment (.venv-superset); this module only
starts its commands and speaks HTTP to it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
import urllib.request
import uuid
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import yaml

from receivables import paths
from receivables.errors import ReceivablesError
from receivables.marts_catalog import own_rows_marts
from receivables.serve.entity_files import entity_file

log = logging.getLogger(__name__)


def bundle_dir() -> Path:
    return paths.project_root() / "dashboards"


def superset_bin(name: str) -> Path:
    return paths.project_root() / ".venv-superset" / "bin" / name


GROUP_DATABASE = "receivables.yaml"  # the group's database in the bundle, the template of the entities'
ENTITY_DATABASE_NAME = "Receivables {entity} only (published, read-only)"
DASHBOARDS = (  # the bundle's dashboards, by slug (dashboards/dashboards/<slug>.yaml)
    "receivables-overview",
    "receivables-concentration",
    "receivables-signals",
    "receivables-debtor-group",
    "receivables-cash-forecast",
)


def entity_database_uuid(entity_code: str) -> str:
    """The entity's database's UUID: the same on every import, so a second one updates it."""
    group = yaml.safe_load((bundle_dir() / "databases" / GROUP_DATABASE).read_text(encoding="utf-8"))
    return str(uuid.uuid5(uuid.UUID(group["uuid"]), entity_code))


def render_bundle(serving: Path, target: Path, entity_codes: list[str] | tuple[str, ...] = ()) -> Path:
    """The bundle with this environment's serving file in the database URI, and a database for each
    entity's file (``entities/<ENTITY>.duckdb`` beside it) with the group database's settings."""

    shutil.copytree(bundle_dir(), target, dirs_exist_ok=True)
    databases = target / "databases"
    template = (databases / GROUP_DATABASE).read_text(encoding="utf-8")
    for database in databases.glob("*.yaml"):
        text = database.read_text(encoding="utf-8").replace(
            "${RECEIVABLES_SERVING}", str(Path(serving).resolve())
        )
        database.write_text(text, encoding="utf-8")
    for code in entity_codes:
        config = yaml.safe_load(template)
        config.update(
            database_name=ENTITY_DATABASE_NAME.format(entity=code),
            sqlalchemy_uri=f"duckdb:///{entity_file(serving, code).resolve()}",
            uuid=entity_database_uuid(code),
        )
        (databases / f"entity-{code}.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return target


def query_context(params: dict[str, Any], dataset_id: int) -> dict[str, Any]:
    """What the chart's data endpoint runs: the same columns, metrics and filters as its params."""
    where = " AND ".join(
        f"({f['sqlExpression']})" for f in params.get("adhoc_filters", []) if f.get("expressionType") == "SQL"
    )
    viz = params["viz_type"]
    if viz == "table" and params.get("query_mode") == "raw":
        columns, metrics = list(params["all_columns"]), []
        orderby = [json.loads(item) for item in params.get("order_by_cols", [])]
    elif viz == "big_number_total":
        columns, metrics, orderby = [], [params["metric"]], []
    elif viz.startswith("echarts_timeseries"):
        axis: dict[str, Any] = {
            "columnType": "BASE_AXIS",
            "sqlExpression": params["x_axis"],
            "label": params["x_axis"],
            "expressionType": "SQL",
        }
        if params.get("time_grain_sqla"):
            axis["timeGrain"] = params["time_grain_sqla"]
        columns = [axis, *params.get("groupby", [])]
        metrics = list(params["metrics"])
        orderby = []
    else:  # aggregate tables, treemaps (one ``metric``), pies
        columns = list(params.get("groupby", []))
        metrics = list(params.get("metrics") or ([params["metric"]] if params.get("metric") else []))
        orderby = [[metrics[0], False]] if metrics else []
    query: dict[str, Any] = {
        "columns": columns,
        "metrics": metrics,
        "orderby": orderby,
        "row_limit": params.get("row_limit", 10000),
        "filters": [],
        "extras": {"where": where, "having": ""},
    }
    return {
        "datasource": {"id": dataset_id, "type": "table"},
        "force": False,
        "queries": [query],
        "form_data": params,
        "result_format": "json",
        "result_type": "full",
    }


class SupersetClient:
    """A logged-in session on Superset's REST API (JWT plus CSRF token)."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url.rstrip("/")
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        token = self.call(
            "POST", "/api/v1/security/login", {"username": username, "password": password, "provider": "db"}
        )
        self.headers = {"Authorization": f"Bearer {token['access_token']}", "Referer": self.url}
        self.headers["X-CSRFToken"] = self.call("GET", "/api/v1/security/csrf_token/")["result"]

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return json.loads(self.fetch(method, path, body))

    def fetch(self, method: str, path: str, body: Any = None) -> bytes:
        """The answer's body as it came (a CSV export, say); an error status raises."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for key, value in getattr(self, "headers", {}).items():
            request.add_header(key, value)
        try:
            with self.opener.open(request, timeout=120) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:500]
            raise ReceivablesError(f"Superset {method} {path} answered {error.code}: {detail}") from error

    def listing(self, resource: str) -> list[dict[str, Any]]:
        query = "(page_size:1000)"
        return list(self.call("GET", f"/api/v1/{resource}/?q={query}")["result"])


def provision(
    serving: Path, entity_codes: list[str], url: str, username: str, password: str
) -> dict[str, int]:
    environment = os.environ | {
        "SUPERSET_CONFIG_PATH": str(paths.project_root() / "superset" / "superset_config.py")
    }
    with tempfile.TemporaryDirectory() as folder:
        rendered = render_bundle(serving, Path(folder) / "bundle", entity_codes)
        subprocess.run(
            [str(superset_bin("superset")), "import-directory", str(rendered), "-o"],
            check=True,
            capture_output=True,
            env=environment,
            timeout=600,
        )
    script = paths.project_root() / "superset" / "provision_security.py"
    subprocess.run(
        [
            str(superset_bin("python")),
            str(script),
            f"--entity-datasets={','.join(own_rows_marts())}",
            *(f"{c}={entity_database_uuid(c)}" for c in entity_codes),
        ],
        check=True,
        capture_output=True,
        env=environment,
        timeout=600,
    )

    client = SupersetClient(url, username, password)
    bundle_datasets = {
        yaml.safe_load(p.read_text())["uuid"] for p in (bundle_dir() / "datasets").glob("*.yaml")
    }
    datasets = {}
    for dataset in client.listing("dataset"):
        detail = client.call("GET", f"/api/v1/dataset/{dataset['id']}")["result"]
        if detail.get("uuid") in bundle_datasets:
            client.call("PUT", f"/api/v1/dataset/{dataset['id']}/refresh")
            datasets[detail["uuid"]] = dataset["id"]
    charts = 0
    for path in sorted((bundle_dir() / "charts").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        [chart] = [c for c in client.listing("chart") if c["slice_name"] == spec["slice_name"]]
        context = query_context(spec["params"], datasets[spec["dataset_uuid"]])
        client.call(
            "PUT",
            f"/api/v1/chart/{chart['id']}",
            {"query_context": json.dumps(context), "query_context_generation": True},
        )
        charts += 1
    log.info("provisioned %d datasets and %d charts", len(datasets), charts)
    return {"datasets": len(datasets), "charts": charts}
