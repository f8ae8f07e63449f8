"""The dashboards bundle on a real Superset, over a real published warehouse.

Every chart's data endpoint answers; its figures at the latest as-of date equal
the marts; a controller sees only their entity; headless Chromium renders
each dashboard with no chart error.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import expect

from conftest import REPO, group_paths, reader, receivables, run_nights
from receivables.dev.generate import GeneratorConfig, generate
from receivables.dev.sample import publish
from receivables.errors import ReceivablesError
from receivables.serve.entity_files import ENTITY_MARTS, entity_file
from receivables.serve.superset_provision import DASHBOARDS, ENTITY_DATABASE_NAME, SupersetClient, provision
from superset_support import ADMIN_PASSWORD, VENV, logged_in_page, superset_env
from test_dashboard_labels import IDENTIFIER

LATEST = date(2025, 12, 31)
MAY_BE_EMPTY = {
    "Groupes débiteurs en procédure collective et dates limites de déclaration"
}  # a small sample may have none
# those whose charts all read entity-level datasets
CONTROLLER_DASHBOARDS = ("receivables-overview", "receivables-cash-forecast")


def _one_invoice_due_before_issue(folder: Path) -> None:
    """A real ledger's odd row in FR01's last night (a warning: it lands, and mart_data_issues lists it)."""
    import csv
    import hashlib
    from datetime import datetime, timedelta

    path = folder / "invoices.csv"
    data = path.read_bytes()
    rows = list(csv.reader(data.decode("cp1252").splitlines(), delimiter=";"))
    header, first = rows[0], rows[1]
    issued = datetime.strptime(first[header.index("issue_date")], "%d/%m/%Y")
    first[header.index("due_date")] = (issued - timedelta(days=1)).strftime("%d/%m/%Y")
    terminator = "\r\n" if b"\r\n" in data else "\n"
    with path.open("w", encoding="cp1252", newline="") as handle:
        csv.writer(handle, delimiter=";", lineterminator=terminator).writerows(rows)
    manifest = folder / "_manifest.json"
    if manifest.exists():
        control = json.loads(manifest.read_text(encoding="utf-8"))
        control["files"]["invoices.csv"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        manifest.write_text(json.dumps(control), encoding="utf-8")


def _statuses_from_the_buyers_platforms(folder: Path) -> None:
    """FR01 sends its first e-invoicing statuses (SPEC section 17) in its last night: three of the night's
    invoices refused, disputed for a part, and collected, so that the lifecycle and its worklist show."""
    import csv

    rows = list(
        csv.reader((folder / "invoices.csv").read_bytes().decode("cp1252").splitlines(), delimiter=";")
    )
    header, invoices = rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    chosen = [row for row in invoices if row["document_type"] == "invoice"][:3]
    assert len(chosen) == 3, header
    statuses = [
        (chosen[0], "210", "TX_TVA_ERR", "", ""),
        (chosen[1], "207", "QTE_ERR", "MNATTC", "10,00"),
        (chosen[2], "212", "", "MEN", chosen[2]["amount"]),
    ]
    lines = ["document_id;issue_date;status_code;status_at;reason_code;amount_type;amount;currency"]
    for invoice, code, reason, kind, amount in statuses:
        currency = invoice["currency"] if amount else ""
        lines.append(
            f"{invoice['document_id']};{invoice['issue_date']};{code};{LATEST:%d/%m/%Y} 09:30;{reason};{kind};"
            f"{amount};{currency}"
        )
    (folder / "einvoice_status.csv").write_text("\r\n".join(lines) + "\r\n", encoding="cp1252")


def _a_late_payment_restates_the_last_night(landing: Path, warehouse: Path) -> None:
    """FR01's drop of 2 January holds a payment of 30 December on an open invoice: landed, the last night
    rebuilt (SPEC section 18: mart_restatements lists what changed since its publish)."""
    [(document, debtor)] = reader(warehouse)(
        "select document_id, debtor_id from marts.fct_open_items where as_of_date = ? and entity_code = 'FR01' "
        "and document_type = 'invoice' and currency = 'EUR' and open_amount > 10 order by document_id limit 1",
        LATEST,
    )
    folder = landing / "FR01" / "2026-01-02"
    folder.mkdir(parents=True)
    for name in ("debtors", "invoices", "risk_ratings"):  # nothing else changed: header-only files
        header = (landing / "FR01" / LATEST.isoformat() / f"{name}.csv").read_bytes().splitlines()[0]
        (folder / f"{name}.csv").write_bytes(header + b"\r\n")
    (folder / "payments.csv").write_text(
        "settlement_id;line_no;debtor_id;document_id;settlement_date;currency;amount;kind\r\n"
        f"FR01-LATE-1;1;{debtor};{document};30/12/2025;EUR;10,00;payment\r\n",
        encoding="cp1252",
    )
    receivables("land", "--entities", str(landing / "entities.yml"), "--landing", str(landing), "--warehouse",
                str(warehouse), "--as-of", "2026-01-02", check=True)  # fmt: skip
    receivables("build", "--warehouse", str(warehouse), "--as-of", LATEST.isoformat(), check=True)


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dashboards")
    landing, warehouse, serving = group_paths(root)
    generate(
        GeneratorConfig(
            out=landing,
            entities=2,
            start=date(2025, 9, 1),
            end=LATEST,
            seed=3,
            invoices=800,
            nightly_from=date(2025, 12, 25),  # a week of nights: the first night's forecast is measured
        )
    )
    _one_invoice_due_before_issue(landing / "FR01" / LATEST.isoformat())
    _statuses_from_the_buyers_platforms(landing / "FR01" / LATEST.isoformat())
    run_nights(landing, warehouse, "2025-12-24", "2025-12-31")
    publish(warehouse, serving, LATEST)
    _a_late_payment_restates_the_last_night(landing, warehouse)
    publish(warehouse, serving, LATEST)  # the night published again: the first publish's figures restated
    return serving


@pytest.fixture(scope="module")
def admin(superset_server, published) -> SupersetClient:
    saved = os.environ.copy()
    os.environ.update(superset_env(superset_server.home))
    try:
        provision(published, ["FR01", "DE01"], superset_server.url, "admin", ADMIN_PASSWORD)
        provision(
            published, ["FR01", "DE01"], superset_server.url, "admin", ADMIN_PASSWORD
        )  # again: updates only
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return SupersetClient(superset_server.url, "admin", ADMIN_PASSWORD)


def charts_on(slug: str) -> int:
    board = yaml.safe_load((REPO / "dashboards" / "dashboards" / f"{slug}.yaml").read_text(encoding="utf-8"))
    return sum(
        1 for item in board["position"].values() if isinstance(item, dict) and item.get("type") == "CHART"
    )


def chart_specs() -> list[dict]:
    return [yaml.safe_load(p.read_text()) for p in sorted((REPO / "dashboards" / "charts").glob("*.yaml"))]


def charts_by_name(client: SupersetClient) -> dict[str, dict]:
    return {c["slice_name"]: c for c in client.listing("chart")}


def data_at(client: SupersetClient, chart_id: int, as_of: date) -> list[dict]:
    """What the dashboard asks for: the chart's saved query with the as-of filter's value."""
    context = json.loads(client.call("GET", f"/api/v1/chart/{chart_id}")["result"]["query_context"])
    for query in context["queries"]:
        query["filters"] = [*query["filters"], {"col": "as_of_date", "op": "IN", "val": [as_of.isoformat()]}]
    return client.call("POST", "/api/v1/chart/data", context)["result"][0]["data"]


@pytest.mark.superset
def test_import_is_idempotent_and_complete(admin, published):
    assert len(admin.listing("chart")) == len(chart_specs()) == 39
    assert len(admin.listing("dataset")) == 15
    assert sorted(d["slug"] for d in admin.listing("dashboard")) == sorted(DASHBOARDS)
    databases = databases_by_name(admin)
    group = "Receivables warehouse (published, read-only)"
    files = {group: published} | {
        ENTITY_DATABASE_NAME.format(entity=code): entity_file(published, code) for code in ("FR01", "DE01")
    }
    assert sorted(databases) == sorted(files)  # one per entity, imported again without a duplicate
    for dataset in admin.listing("dataset"):  # the labels outlive the refresh of the columns
        detail = admin.call("GET", f"/api/v1/dataset/{dataset['id']}")["result"]
        unlabelled = [c["column_name"] for c in detail["columns"] if not c["verbose_name"]]
        assert detail["columns"] and not unlabelled, (dataset["table_name"], unlabelled)
    for name, database_id in databases.items():
        detail = admin.call("GET", f"/api/v1/database/{database_id}/connection")["result"]
        assert detail["sqlalchemy_uri"] == f"duckdb:///{files[name].resolve()}"
        assert detail["expose_in_sqllab"] and not detail["allow_dml"] and not detail["allow_file_upload"]
        extra = json.loads(detail["extra"])
        assert extra["engine_params"]["connect_args"] == {
            "read_only": True,
            "config": {"enable_external_access": False},
        }


@pytest.mark.superset
def test_every_chart_data_endpoint_answers(admin):
    for name, chart in charts_by_name(admin).items():
        result = admin.call("GET", f"/api/v1/chart/{chart['id']}/data/")["result"]
        assert result and result[0]["error"] is None, name
        assert result[0]["rowcount"] > 0 or name in MAY_BE_EMPTY, name


@pytest.mark.superset
def test_chart_figures_equal_the_marts(admin, published):
    charts = charts_by_name(admin)
    query = reader(published)
    [(net_encours,)] = query(
        "select sum(amount_eur) from marts.mart_aging where as_of_date = ? and not is_intercompany", LATEST
    )
    [row] = data_at(admin, charts["Encours net (EUR)"]["id"], LATEST)
    assert Decimal(str(row["net_encours_eur"])).quantize(Decimal("0.01")) == net_encours
    aging = {
        (r["entity_code"], r["aging_bucket_label"]): Decimal(str(r["net_encours_eur"])).quantize(
            Decimal("0.01")
        )
        for r in data_at(admin, charts["Balance âgée par entité (EUR)"]["id"], LATEST)
    }
    expected = dict(
        ((e, b), a)
        for e, b, a in query(  # each bucket under the seed's name, numbered in its order
            "select entity_code, bucket_order || ' · ' || label_fr, sum(amount_eur) from marts.mart_aging "
            "join reference.aging_buckets using (aging_bucket, bucket_order) "
            "where as_of_date = ? and not is_intercompany group by all",
            LATEST,
        )
    )
    assert aging == expected
    top = data_at(admin, charts["20 premiers groupes débiteurs par exposition (EUR)"]["id"], LATEST)
    mart_top = query(
        "select rank, debtor_group_id, exposure_eur from marts.mart_debtor_exposure "
        "where as_of_date = ? and rank <= 20 order by rank",
        LATEST,
    )
    assert [
        (r["rank"], r["debtor_group_id"], Decimal(str(r["exposure_eur"])).quantize(Decimal("0.01")))
        for r in top
    ] == mart_top


def create_user(home: Path, username: str, roles: list[str]) -> None:
    """A Superset user with these roles (password: <username>-pw)."""
    subprocess.run(
        [str(VENV / "superset"), "fab", "create-user", "--role", roles[0], "--username", username,
         "--firstname", username, "--lastname", "test", "--email", f"{username}@localhost",
         "--password", f"{username}-pw"],
        check=True,
        capture_output=True,
        env=superset_env(home),
        timeout=300,
    )  # fmt: skip
    if roles[1:]:
        script = (
            "import sys\nfrom superset.app import create_app\napp = create_app()\nwith app.app_context():\n"
            "    from superset import db, security_manager\n"
            "    user = security_manager.find_user(username=sys.argv[1])\n"
            "    user.roles += [security_manager.find_role(name) for name in sys.argv[2:]]\n"
            "    db.session.commit()\n"
        )
        subprocess.run(
            [str(VENV / "python"), "-c", script, username, *roles[1:]],
            check=True,
            capture_output=True,
            env=superset_env(home),
            timeout=300,
        )


# SQL Lab's refusal of a database a role may not read whole (superset_config.py); Superset answers 500
REFUSED = r"DATABASE_SECURITY_ACCESS_ERROR.*not allowed for your roles"


def sql_lab(client: SupersetClient, database_id: int, sql: str) -> list[dict]:
    answer = client.call(
        "POST",
        "/api/v1/sqllab/execute/",
        {"database_id": database_id, "sql": sql, "runAsync": False, "schema": "marts"},
    )
    return list(answer["data"])


@pytest.fixture(scope="module")
def controller(admin, superset_server) -> SupersetClient:
    """A user with the role ``Controller FR01`` and no other."""
    create_user(superset_server.home, "fr01", ["Controller FR01"])
    return SupersetClient(superset_server.url, "fr01", "fr01-pw")


def databases_by_name(client: SupersetClient) -> dict[str, int]:
    return {d["database_name"]: d["id"] for d in client.listing("database")}


@pytest.mark.superset
def test_a_controller_sees_only_their_entity(admin, controller):
    charts = charts_by_name(admin)
    rows = data_at(controller, charts["Balance âgée par entité (EUR)"]["id"], LATEST)
    assert rows and {r["entity_code"] for r in rows} == {"FR01"}
    with pytest.raises(Exception, match=r"40[34]"):
        controller.call(
            "GET", f"/api/v1/chart/{charts['20 premiers groupes débiteurs par exposition (EUR)']['id']}/data/"
        )


@pytest.mark.superset
def test_sql_lab_reads_the_published_marts_for_the_sql_role_only(admin, superset_server, published):
    [database] = [
        d for d in admin.listing("database") if d["database_name"].startswith("Receivables warehouse")
    ]
    create_user(superset_server.home, "analyst", ["Group CFO", "Receivables SQL"])
    analyst = SupersetClient(superset_server.url, "analyst", "analyst-pw")
    sql = (
        "select entity_code, sum(amount_eur) as amount_eur from marts.mart_aging "
        "where as_of_date = date '2025-12-31' group by entity_code order by entity_code"
    )
    rows = sql_lab(analyst, database["id"], sql)
    expected = reader(published)(sql)
    assert [(r["entity_code"], Decimal(str(r["amount_eur"]))) for r in rows] == expected
    with pytest.raises(Exception, match=r"(?i)dml|read-only|not allowed|only select"):
        sql_lab(analyst, database["id"], "delete from marts.mart_aging")
    create_user(superset_server.home, "de01", ["Controller DE01"])
    controller = SupersetClient(superset_server.url, "de01", "de01-pw")
    with pytest.raises(ReceivablesError, match=REFUSED):  # row-level security does not reach SQL Lab
        sql_lab(controller, database["id"], sql)


ENTITY_TABLES = sorted(ENTITY_MARTS)


@pytest.mark.superset
def test_a_controller_runs_sql_on_their_entity_database_and_reads_its_rows(admin, controller, published):
    """SQL Lab on ``Receivables FR01 only``: every table the entity file holds, FR01's rows of the group's."""
    database = databases_by_name(admin)[ENTITY_DATABASE_NAME.format(entity="FR01")]
    own = entity_file(published, "FR01")
    tables = sql_lab(
        controller, database, "select table_name from information_schema.tables where table_schema = 'marts'"
    )
    assert sorted(row["table_name"] for row in tables) == ENTITY_TABLES
    group = reader(published)
    for table in ENTITY_TABLES:
        sql = f"select count(*) as n from marts.{table}"
        [row] = sql_lab(controller, database, sql)
        assert row["n"] == reader(own)(sql)[0][0], table
    for table in sorted(set(ENTITY_TABLES) - {"mart_weak_signals"}):
        sql = f"select entity_code, count(*) as n from marts.{table} group by all order by all"
        expected = group(
            f"select entity_code, count(*) from marts.{table} where entity_code = 'FR01' group by all"
        )
        assert [(r["entity_code"], r["n"]) for r in sql_lab(controller, database, sql)] == expected, table
    sql = (
        "select aging_bucket, sum(amount_eur) as amount_eur from marts.mart_aging "
        "where as_of_date = date '2025-12-31' group by all order by all"
    )
    answer = [(r["aging_bucket"], Decimal(str(r["amount_eur"]))) for r in sql_lab(controller, database, sql)]
    assert answer and answer == group(sql.replace("group by", "and entity_code = 'FR01' group by"))


@pytest.mark.superset
def test_a_controller_cannot_run_sql_on_the_group_or_another_entity(admin, controller):
    databases = databases_by_name(admin)
    sql = "select entity_code, sum(amount_eur) from marts.mart_aging group by all"
    group = databases["Receivables warehouse (published, read-only)"]
    # the group database's datasets the controller sees, filtered, are no way into it from SQL
    for statement in (sql, "select 1 as x"):
        with pytest.raises(ReceivablesError, match=REFUSED):
            sql_lab(controller, group, statement)
    with pytest.raises(  # Superset's message, in the interface's language
        ReceivablesError,
        match=r"answered 500.*(database referenced in this query was not found|Impossible de trouver la base)",
    ):
        sql_lab(controller, databases[ENTITY_DATABASE_NAME.format(entity="DE01")], sql)  # hidden from them
    assert set(databases_by_name(controller)) <= {
        ENTITY_DATABASE_NAME.format(entity="FR01"),
        "Receivables warehouse (published, read-only)",  # listed for its datasets; its SQL is refused above
    }


NO_FILES = "disabled by configuration"  # DuckDB opened with enable_external_access = false
NO_DML = "DML_NOT_ALLOWED_ERROR"  # the database's allow_dml = false, refused by Superset before DuckDB
HOSTILE_SQL = {  # case: (statement, why it is refused)
    "attach": ("attach '/tmp/controller-attached.duckdb' as other", NO_FILES),
    "attach the group file": ("attach '{group}' as grp (read_only)", NO_FILES),
    "copy to": ("copy (select * from marts.fct_open_items) to '/tmp/controller-export.csv'", NO_FILES),
    "read a server file": ("select * from read_csv('/etc/passwd')", NO_FILES),
    "read text": ("select content from read_text('/etc/hostname')", NO_FILES),
    "install": ("install httpfs", NO_FILES),
    "load": ("load httpfs", "Loading external extensions is disabled"),
    "external access back on": ("set enable_external_access = true", "Cannot enable external access"),
    "delete": ("delete from marts.fct_open_items", NO_DML),
    "insert": ("insert into marts.mart_aging select * from marts.mart_aging", NO_DML),
    "create": ("create table marts.mine as select 1 as x", NO_DML),
    "drop": ("drop table marts.mart_aging", NO_DML),
}


@pytest.mark.superset
@pytest.mark.parametrize("case", sorted(HOSTILE_SQL))
def test_a_controllers_sql_reaches_no_file_extension_or_write(case, admin, controller, published):
    database = databases_by_name(admin)[ENTITY_DATABASE_NAME.format(entity="FR01")]
    sql, reason = HOSTILE_SQL[case]
    with pytest.raises(ReceivablesError, match=re.escape(reason)) as refusal:
        sql_lab(controller, database, sql.format(group=published))
    assert "root:" not in str(refusal.value)  # nothing of /etc/passwd in the message
    assert not Path("/tmp/controller-export.csv").exists()
    assert not Path("/tmp/controller-attached.duckdb").exists()
    sql = "select count(*) as n from marts.mart_aging"
    assert sql_lab(controller, database, sql) == [{"n": reader(entity_file(published, "FR01"))(sql)[0][0]}]


@pytest.mark.superset
def test_a_controllers_csv_export_holds_their_entity_only(admin, controller):
    chart = charts_by_name(admin)["Fraîcheur des données par entité"]
    context = json.loads(admin.call("GET", f"/api/v1/chart/{chart['id']}")["result"]["query_context"])
    context.update(result_format="csv", result_type="full")

    def exported(client: SupersetClient) -> list[dict]:
        text = client.fetch("POST", "/api/v1/chart/data", context).decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(text), delimiter=","))

    assert {row["Entité"] for row in exported(admin)} >= {"FR01", "DE01"}  # the columns' French labels
    rows = exported(controller)
    assert rows and {row["Entité"] for row in rows} == {"FR01"}


@pytest.mark.superset
def test_a_controller_cannot_reach_other_rows_by_an_ad_hoc_subquery(admin, controller):
    chart = charts_by_name(admin)["Balance âgée par entité (EUR)"]
    context = json.loads(admin.call("GET", f"/api/v1/chart/{chart['id']}")["result"]["query_context"])
    [query] = context["queries"]
    query["metrics"] = [
        {
            "expressionType": "SQL",
            "sqlExpression": "(select sum(amount_eur) from marts.mart_aging where entity_code = 'DE01')",
            "label": "other",
        }
    ]
    with pytest.raises(ReceivablesError, match=r"(?i)answered 400.*(sub-?quer|sous-requ)"):
        controller.call("POST", "/api/v1/chart/data", context)


@pytest.fixture(scope="module")
def cfo(admin, superset_server) -> str:
    """A user with the role ``Group CFO`` (password: cfo-pw)."""
    create_user(superset_server.home, "cfo", ["Group CFO"])
    return "cfo"


@pytest.mark.browser
@pytest.mark.parametrize(("user", "dashboards"), [("cfo", DASHBOARDS), ("fr01", CONTROLLER_DASHBOARDS)])
def test_headless_chromium_renders_every_dashboard(
    user, dashboards, cfo, controller, superset_server, tmp_path
):
    """As the CFO and as a controller: each dashboard they are given, every chart, no error."""
    client = SupersetClient(superset_server.url, user, f"{user}-pw")
    assert sorted(d["slug"] for d in client.listing("dashboard")) == sorted(dashboards)
    with logged_in_page(superset_server.url, user=user, password=f"{user}-pw") as page:
        failed: list[str] = []  # a chart's or a filter's data request that failed ("Network error")
        page.on(
            "response",
            lambda answer: (
                failed.append(f"{answer.status} {answer.url}")
                if answer.status >= 400 and "/api/v1/chart/data" in answer.url  # charts' and filters' values
                else None
            ),
        )
        for slug in dashboards:
            page.goto(
                f"{superset_server.url}/superset/dashboard/{slug}/?standalone=1",
                wait_until="networkidle",
                timeout=120_000,
            )
            page.wait_for_selector(".dashboard-component-chart-holder", timeout=120_000)
            page.wait_for_load_state("networkidle", timeout=120_000)
            # every chart of the dashboard shows: the grid re-renders while its required filter
            # loads, so wait for the count rather than read it once
            expect(page.locator(".dashboard-component-chart-holder")).to_have_count(
                charts_on(slug), timeout=60_000
            )
            page.wait_for_load_state("networkidle", timeout=120_000)
            page.wait_for_timeout(3000)
            # a window as tall as the dashboard before the screenshot: a full-page screenshot of a
            # taller page resizes the window, and Superset redraws its grid blank for a moment (twice
            # in CI the DOM read after it had no table); the charts are drawn again when a table's
            # header shows and every holder is there
            window = page.viewport_size
            height = page.evaluate("document.documentElement.scrollHeight")
            page.set_viewport_size({**window, "height": max(window["height"], height)})
            page.wait_for_load_state("networkidle", timeout=120_000)
            expect(page.locator("th, .ant-table-thead th").first).to_be_visible(timeout=60_000)
            expect(page.locator(".dashboard-component-chart-holder")).to_have_count(
                charts_on(slug), timeout=60_000
            )
            page.wait_for_timeout(1000)
            page.screenshot(path=str(tmp_path / f"{slug}.png"))
            assert page.locator(".alert-danger, .ant-alert-error").count() == 0, slug
            assert not failed, f"{slug}: {failed}"
            assert LATEST.isoformat() in page.content(), (
                f"{slug}: the as-of filter defaults to the latest night"
            )
            assert (tmp_path / f"{slug}.png").stat().st_size > 20_000
            headers = page.locator("th, .ant-table-thead th").all_inner_texts()
            assert headers, f"{slug}: no table header rendered"
            raw = [h for h in headers if IDENTIFIER.match(h.strip())]
            assert not raw, f"{slug}: headers shown as column names: {raw}"
            assert not re.search(r"\b\d{4}-\d{2}-\d{2} 00:00:00\b", page.inner_text("body")), (
                f"{slug}: a date shown as a timestamp"
            )


EXPECTED_METRICS = {
    # (dataset, metric): the same figure written straight on the mart, at the latest as-of date
    # (the e-invoicing lifecycle's from the open items it counts)
    (
        "mart_einvoice_lifecycle",
        "einvoice_open_eur",
    ): "select sum(open_amount_eur) from marts.fct_open_items where as_of_date = $1 and einvoice_status is not null "
    "and document_type = 'invoice'",
    # the group's figures leave intercompany out (SPEC section 4), by the mart's columns, not a chart filter
    (
        "mart_aging",
        "net_encours_eur",
    ): "select sum(amount_eur) from marts.mart_aging where as_of_date = $1 and not is_intercompany",
    (
        "mart_aging",
        "overdue_eur",
    ): "select sum(amount_eur) from marts.mart_aging where as_of_date = $1 and aging_bucket <> 'not_due' "
    "and not is_intercompany",
    (
        "mart_aging",
        "overdue_share",
    ): "select sum(amount_eur) filter (where aging_bucket <> 'not_due') / sum(amount_eur) "
    "from marts.mart_aging where as_of_date = $1 and not is_intercompany",
    ("mart_dso", "dso_countback"): "select avg(dso_countback) from marts.mart_dso where $1 is not null",
    ("mart_dso", "bpdso"): "select avg(bpdso) from marts.mart_dso where $1 is not null",
    (
        "mart_dso",
        "contractual_terms",
    ): "select avg(contractual_terms_days) from marts.mart_dso where $1 is not null",
    (
        "mart_debtor_exposure",
        "exposure_eur",
    ): "select sum(exposure_eur) from marts.mart_debtor_exposure where as_of_date = $1",
    (
        "mart_debtor_exposure",
        "insured_eur",
    ): "select sum(insured_eur) from marts.mart_debtor_exposure where as_of_date = $1",
    (
        "mart_debtor_exposure",
        "uninsured_eur",
    ): "select sum(uninsured_eur) from marts.mart_debtor_exposure where as_of_date = $1",
    (
        "mart_debtor_exposure",
        "over_limit_eur",
    ): "select sum(over_limit_eur) from marts.mart_debtor_exposure where as_of_date = $1",
    ("mart_concentration", "hhi"): "select hhi from marts.mart_concentration where as_of_date = $1",
    (
        "mart_concentration",
        "top10_share",
    ): "select top10_share from marts.mart_concentration where as_of_date = $1",
    (
        "mart_weak_signals",
        "amount_at_stake_eur",
    ): "select sum(amount_eur) from marts.mart_weak_signals where as_of_date = $1",
    (
        "mart_freshness",
        "rows_landed",
    ): "select sum(rows_landed) from marts.mart_freshness where as_of_date = $1",
    (
        "fct_open_items",
        "open_amount_eur",
    ): "select sum(open_amount_eur) from marts.fct_open_items where as_of_date = $1",
    (
        "mart_data_issues",
        "issue_items",
    ): "select sum(items) from marts.mart_data_issues where as_of_date = $1",
    (
        "mart_debtor_exposure",
        "cumulative_share",
    ): "select max(cumulative_share) from marts.mart_debtor_exposure where as_of_date = $1",
    (
        "mart_debtor_exposure",
        "cover_eur",
    ): "select sum(cover_eur) from marts.mart_debtor_exposure where as_of_date = $1",
    (
        "mart_debtor_exposure",
        "worst_risk_class",
    ): "select max(worst_risk_class) from marts.mart_debtor_exposure where as_of_date = $1",
    (
        "mart_debtor_exposure",
        "avg_days_to_pay_90d",
    ): "select avg(avg_days_to_pay_90d) from marts.mart_debtor_exposure where as_of_date = $1",
    (
        "mart_debtor_exposure",
        "avg_days_late_90d",
    ): "select avg(avg_days_late_90d) from marts.mart_debtor_exposure where as_of_date = $1",
    (
        "mart_entity_debtor_exposure",
        "exposure_eur",
    ): "select sum(exposure_eur) from marts.mart_entity_debtor_exposure where as_of_date = $1",
    (
        "mart_entity_debtor_exposure",
        "debtor_overdue_eur",
    ): "select sum(overdue_eur) from marts.mart_entity_debtor_exposure where as_of_date = $1",
    (
        "mart_cash_forecast",
        "expected_eur",
    ): "select sum(expected_eur) from marts.mart_cash_forecast where as_of_date = $1",
    (
        "mart_cash_forecast",
        "from_promises",
    ): "select sum(from_promises) from marts.mart_cash_forecast where as_of_date = $1",
    (
        "mart_cash_forecast",
        "from_behaviour",
    ): "select sum(from_behaviour) from marts.mart_cash_forecast where as_of_date = $1",
    (
        "mart_cash_forecast",
        "from_disputes",
    ): "select sum(from_disputes) from marts.mart_cash_forecast where as_of_date = $1",
    (
        "mart_cash_forecast",
        "naive_eur",
    ): "select sum(naive_eur) from marts.mart_cash_forecast where as_of_date = $1",
    # the accuracy of past forecasts: every forecast date (none is measured on the latest night)
    (
        "mart_forecast_accuracy",
        "forecast_eur",
    ): "select sum(forecast_eur) from marts.mart_forecast_accuracy where $1 is not null",
    (
        "mart_forecast_accuracy",
        "naive_eur",
    ): "select sum(naive_eur) from marts.mart_forecast_accuracy where $1 is not null",
    (
        "mart_forecast_accuracy",
        "actual_eur",
    ): "select sum(actual_eur) from marts.mart_forecast_accuracy where $1 is not null",
    (
        "mart_forecast_accuracy",
        "forecast_wape",
    ): "select sum(abs(forecast_eur - actual_eur)) / sum(actual_eur) from marts.mart_forecast_accuracy "
    "where $1 is not null",
    (
        "mart_forecast_accuracy",
        "naive_wape",
    ): "select sum(abs(naive_eur - actual_eur)) / sum(actual_eur) from marts.mart_forecast_accuracy "
    "where $1 is not null",
    (
        "mart_promises",
        "promised_eur",
    ): "select sum(promised_amount_eur) from marts.mart_promises where as_of_date = $1",
    (
        "mart_disputes",
        "disputed_eur",
    ): "select sum(disputed_amount_eur) from marts.mart_disputes where as_of_date = $1",
}
WHOLE = {"mart_dso", "mart_forecast_accuracy"}  # datasets checked over every date, not the latest


@pytest.mark.superset
def test_every_dataset_metric_equals_its_mart_column(admin, published):
    bundle = {
        (spec["table_name"], metric["metric_name"])
        for spec in (yaml.safe_load(p.read_text()) for p in (REPO / "dashboards" / "datasets").glob("*.yaml"))
        for metric in spec["metrics"]
    }
    assert bundle == set(EXPECTED_METRICS), "every metric has its independent check"
    datasets = {d["table_name"]: d["id"] for d in admin.listing("dataset")}
    query = reader(published)
    for (table, metric), sql in EXPECTED_METRICS.items():
        filters = [] if table in WHOLE else [{"col": "as_of_date", "op": "IN", "val": [LATEST.isoformat()]}]
        context = {
            "datasource": {"id": datasets[table], "type": "table"},
            "queries": [{"columns": [], "metrics": [metric], "filters": filters, "row_limit": 10}],
            "result_format": "json",
            "result_type": "full",
        }
        [row] = admin.call("POST", "/api/v1/chart/data", context)["result"][0]["data"]
        [(expected,)] = query(sql, LATEST)
        assert float(row[metric]) == pytest.approx(float(expected), rel=1e-9, abs=0.005), (table, metric)


def as_text(values: list) -> tuple[str, ...]:
    """Values as both sides print them: numbers to the cent, None as empty."""
    return tuple(
        "" if v is None else str(round(float(v), 2)) if isinstance(v, (int, float, Decimal)) else str(v)
        for v in values
    )


@pytest.mark.superset
def test_every_table_chart_shows_the_mart_rows(admin, published):
    """Raw tables list mart rows: the same rows as the mart at the latest date, with the chart's filter."""
    charts = charts_by_name(admin)
    query = reader(published)
    checked = 0
    for spec in chart_specs():
        params = spec["params"]
        if params["viz_type"] != "table" or params.get("query_mode") != "raw":
            continue
        dataset = next(
            yaml.safe_load(p.read_text())
            for p in (REPO / "dashboards" / "datasets").glob("*.yaml")
            if yaml.safe_load(p.read_text())["uuid"] == spec["dataset_uuid"]
        )
        table = dataset["table_name"]
        columns = params["all_columns"]
        where = " and ".join(f"({f['sqlExpression']})" for f in params["adhoc_filters"]) or "true"
        select = ", ".join(column_sql(dataset, c) for c in columns)
        expected = query(f"select {select} from marts.{table} where as_of_date = ? and {where}", LATEST)
        shown = data_at(admin, charts[spec["slice_name"]]["id"], LATEST)
        assert len(shown) == min(len(expected), params["row_limit"]), spec["slice_name"]
        dates = {c["column_name"] for c in dataset["columns"] if c["is_dttm"]}  # sent as epoch milliseconds
        keys = [c for c in columns if c not in dates and c not in {"reason", "detail"}]
        assert sorted(as_text([r[c] for c in keys]) for r in shown) == sorted(
            as_text([row[columns.index(c)] for c in keys]) for row in expected[: len(shown)]
        ), spec["slice_name"]
        checked += 1
    assert checked == 12


def column_sql(dataset: dict, column: str) -> str:
    """A dataset column as SQL on its mart: a calculated column (a bucket's or class's name) by its expression."""
    calculated = {c["column_name"]: c["expression"] for c in dataset["columns"] if c["expression"]}
    return f"{calculated[column]} as {column}" if column in calculated else column


@pytest.mark.superset
def test_every_aggregated_chart_equals_the_mart(admin, published):
    """Bars, big numbers, aggregate tables (at the latest date) and trends (every date) against the marts."""
    charts = charts_by_name(admin)
    query = reader(published)
    datasets = {
        spec["uuid"]: spec
        for spec in (yaml.safe_load(p.read_text()) for p in (REPO / "dashboards" / "datasets").glob("*.yaml"))
    }
    checked = 0
    for spec in chart_specs():
        params = spec["params"]
        if params["viz_type"] == "table" and params.get("query_mode") == "raw":
            continue
        dataset = datasets[spec["dataset_uuid"]]
        expressions = {m["metric_name"]: m["expression"] for m in dataset["metrics"]}
        metrics = params.get("metrics") or [params["metric"]]
        trend = params.get("x_axis") in {"as_of_date", "month_end"}  # the as-of filter leaves trends whole
        groups = ([params["x_axis"]] if "x_axis" in params else []) + list(params.get("groupby", []))
        where = " and ".join(f"({f['sqlExpression']})" for f in params["adhoc_filters"]) or "true"
        if not trend:
            where += f" and as_of_date = '{LATEST.isoformat()}'"
        select = ", ".join(
            [*(column_sql(dataset, g) for g in groups), *(f"{expressions[m]} as {m}" for m in metrics)]
        )
        group_by = f" group by {', '.join(str(i) for i in range(1, len(groups) + 1))}" if groups else ""
        expected = query(f"select {select} from marts.{dataset['table_name']} where {where}{group_by}")
        if trend:
            shown = admin.call("GET", f"/api/v1/chart/{charts[spec['slice_name']]['id']}/data/")["result"][0][
                "data"
            ]
        else:
            shown = data_at(admin, charts[spec["slice_name"]]["id"], LATEST)
        width = len(groups)
        totals_expected = sorted(
            round(float(row[width + i] or 0), 2) for row in expected for i in range(len(metrics))
        )
        totals_shown = sorted(round(float(row[m] or 0), 2) for row in shown for m in metrics)
        assert totals_shown == totals_expected, spec["slice_name"]
        checked += 1
    assert checked == 27


@pytest.mark.superset
def test_a_debtor_group_picked_shows_exactly_its_documents(admin, published):
    """The debtor group page's documents, for the group its filter picks, are fct_open_items' rows of it."""
    charts = charts_by_name(admin)
    query = reader(published)
    groups = query(
        "select debtor_group_id, debtor_group_name from marts.mart_debtor_exposure where as_of_date = ? "
        "order by rank limit 3",
        LATEST,
    )
    documents = charts["Pièces ouvertes du groupe débiteur"]["id"]
    for group, name in groups:
        context = json.loads(admin.call("GET", f"/api/v1/chart/{documents}")["result"]["query_context"])
        for item in context["queries"]:
            item["filters"] = [
                {"col": "as_of_date", "op": "IN", "val": [LATEST.isoformat()]},
                # what the page's filter sends: the group as it lists it, by its name and id
                {"col": "debtor_group_label", "op": "IN", "val": [f"{name} ({group})"]},
            ]
        shown = admin.call("POST", "/api/v1/chart/data", context)["result"][0]["data"]
        expected = query(
            "select entity_code, document_id, open_amount_eur, days_past_due from marts.fct_open_items "
            "where as_of_date = ? and debtor_group_id = ? order by all",
            LATEST,
            group,
        )
        assert expected
        assert sorted(
            (r["entity_code"], r["document_id"], Decimal(str(r["open_amount_eur"])), r["days_past_due"])
            for r in shown
        ) == [(e, d, Decimal(str(a)), p) for e, d, a, p in expected]


@pytest.mark.browser
def test_the_top_20_leads_to_the_debtor_groups_page(admin, cfo, superset_server, published):
    """Click a group in the top 20: its page opens with it picked and lists its documents."""
    # a name with "&" if the top 20 has one: it must not end the link's URL parameter
    [(group, name, documents)] = reader(published)(
        "select e.debtor_group_id, e.debtor_group_name, count(o.document_id) from marts.mart_debtor_exposure e "
        "join marts.fct_open_items o using (as_of_date, debtor_group_id) where e.as_of_date = ? and e.rank <= 20 "
        "group by e.debtor_group_id, e.debtor_group_name, e.rank "
        "order by e.debtor_group_name like '%&%' desc, e.rank limit 1",
        LATEST,
    )
    with logged_in_page(superset_server.url, user=cfo, password=f"{cfo}-pw") as page:
        page.goto(
            f"{superset_server.url}/superset/dashboard/receivables-concentration/?standalone=1",
            wait_until="networkidle",
            timeout=120_000,
        )
        page.get_by_role("link", name=name).first.click()
        page.wait_for_url("**/receivables-debtor-group/**", timeout=120_000)
        page.wait_for_selector(".dashboard-component-chart-holder", timeout=120_000)
        page.wait_for_load_state("networkidle", timeout=120_000)
        page.wait_for_timeout(3000)
        assert page.locator(".alert-danger, .ant-alert-error").count() == 0
        table = page.locator(
            ".dashboard-component-chart-holder", has_text="Pièces ouvertes du groupe débiteur"
        )
        assert table.locator("tbody tr").count() == documents  # every open document of the group, no other
        # the picker shows the group by its name and id
        assert page.get_by_text(f"{name} ({group})", exact=True).count() >= 1


@pytest.mark.browser
def test_the_interface_speaks_french_from_the_login_page_on(admin, cfo, superset_server):
    """BABEL_DEFAULT_LOCALE fr: the language pack answers before login (upstream #38178), the menus are French."""
    import urllib.request

    with urllib.request.urlopen(f"{superset_server.url}/superset/language_pack/fr/", timeout=30) as answer:
        pack = json.load(answer)
    assert pack["locale_data"]["superset"][""]["lang"] == "fr"
    with logged_in_page(superset_server.url, user=cfo, password=f"{cfo}-pw") as page:
        page.wait_for_load_state("networkidle", timeout=120_000)
        menu = page.inner_text("body")
        assert "Tableaux de bord" in menu and "Dashboards" not in menu
