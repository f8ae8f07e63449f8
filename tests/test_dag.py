"""Airflow: DagBag and policy checks, and real `dag.test()` runs over a generated group."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from datetime import date, timedelta
from decimal import Decimal
from email import message_from_bytes
from pathlib import Path

import duckdb
import pendulum
import pytest

from conftest import REPO, marts_snapshot, reader
from receivables.dev.generate import GeneratorConfig, generate
from receivables.registry import load_registry

pytestmark = pytest.mark.airflow

DAGS = REPO / "dags"


class Mailbox:
    """A real SMTP server on loopback that keeps every message it receives."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self.lock = threading.Lock()
        outer = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address in refuse:
                    return "550 5.1.1 mailbox unavailable"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                with outer.lock:
                    outer.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        with socket.socket() as probe:  # a free loopback port
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> Mailbox:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow")
    environment = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    }
    saved = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)
    subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
        timeout=600,
    )
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def load_dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_dagbag_imports_cleanly(airflow_home):
    bag = load_dagbag()
    assert bag.import_errors == {}
    assert {"receivables_nightly", "receivables_reports"} <= set(bag.dags)


def test_policy_over_every_dag(airflow_home):
    for dag_id, dag in load_dagbag().dags.items():
        assert dag.doc_md and len(dag.doc_md) > 200, (
            f"{dag_id}: the docstring is the operator's documentation"
        )
        assert dag.start_date is not None and dag.start_date < pendulum.datetime(2026, 1, 1), (
            f"{dag_id}: static start date"
        )
        assert dag.catchup is False, f"{dag_id}: catchup chosen on purpose"
        assert dag.max_active_runs == 1, f"{dag_id}: one run at a time (one DuckDB writer)"
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag_id}.{task.task_id}: retries"
            if dag_id == "receivables_nightly":
                # retries are for transient failures: short, so the next night never waits queued
                # behind a run that can only fail again; a failed task mails the operators
                assert not task.retry_exponential_backoff, f"{dag_id}.{task.task_id}: no backoff"
                assert task.retries * task.retry_delay <= timedelta(minutes=5), f"{dag_id}.{task.task_id}"
                assert task.on_failure_callback, f"{dag_id}.{task.task_id}: a failure mails the operators"
            else:
                assert task.retry_exponential_backoff, f"{dag_id}.{task.task_id}: retries back off"
        writers = [t for t in dag.tasks if t.task_id in {"load", "build", "publish", "working_copy"}]
        assert all(t.pool == "receivables_warehouse" for t in writers), f"{dag_id}: one writer at a time"
        # on Celery, the writers run on the worker of the warehouse's host only
        assert all(t.queue == "receivables_warehouse" for t in writers), f"{dag_id}: the writers' queue"
        others = [t for t in dag.tasks if t not in writers]
        assert all(t.queue == "default" for t in others), f"{dag_id}: anything else on any worker"
        assert bool(writers) == (dag_id == "receivables_nightly"), f"{dag_id}: only the nightly job writes"


def test_no_work_at_import():
    """Parsing the DAG file imports neither GX, dbt, DuckDB nor pandas, and reads no setting."""
    for dag_file in ("receivables_nightly.py", "receivables_reports.py"):
        assert_no_work_at_import(DAGS / dag_file)


def assert_no_work_at_import(dag_file: Path) -> None:
    code = (
        "import runpy, sys; runpy.run_path(sys.argv[1]); "
        "heavy = [m for m in ('great_expectations', 'dbt', 'duckdb', 'pandas', 'receivables.ingest.landing', "
        "'openpyxl', 'matplotlib') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RECEIVABLES_")}
    result = subprocess.run(
        [sys.executable, "-c", code, str(dag_file)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == ""


@pytest.fixture(scope="module")
def group(tmp_path_factory, airflow_home):
    root = tmp_path_factory.mktemp("nightly")
    landing = root / "landing"
    generate(
        GeneratorConfig(
            out=landing,
            entities=3,
            start=date(2025, 10, 1),
            end=date(2025, 12, 31),
            seed=9,
            invoices=1500,
            nightly_from=date(2025, 12, 30),
        )
    )
    # night 2025-12-30: DE01 re-sends a truncated invoices file (its manifest says otherwise)
    invoices = landing / "DE01" / "2025-12-30" / "invoices.csv"
    invoices.write_bytes(b"".join(invoices.read_bytes().splitlines(keepends=True)[:-1]))
    return root


def run_night(dag, root: Path, mailbox: Mailbox, day: date, **settings: str):
    """The nightly run at 02:00 on the day after ``day`` (``settings`` override the environment)."""
    os.environ.update(
        {
            "RECEIVABLES_ENTITIES": str(root / "landing" / "entities.yml"),
            "RECEIVABLES_LANDING": str(root / "landing"),
            "RECEIVABLES_WAREHOUSE": str(root / "work" / "warehouse.duckdb"),
            "RECEIVABLES_SERVING": str(root / "serving" / "warehouse.duckdb"),
            "RECEIVABLES_ALERT_TO": "credit.manager@example.com",
            "RECEIVABLES_ALERT_FROM": "receivables@example.com",
            "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(
                {
                    "conn_type": "smtp",
                    "host": "127.0.0.1",
                    "port": mailbox.port,
                    "extra": {"disable_ssl": True, "disable_tls": True},
                }
            ),
        }
        | settings
    )
    logical = pendulum.datetime(day.year, day.month, day.day, 2, tz="Europe/Paris").add(days=1)
    run = dag.test(logical_date=logical)
    states = {(ti.task_id, ti.map_index): ti.state for ti in run.get_task_instances()}
    return run, states


def test_three_nights_one_bad_drop_then_a_rerun(group, airflow_home):
    dag = load_dagbag().dags["receivables_nightly"]
    serving = group / "serving" / "warehouse.duckdb"
    with Mailbox() as mailbox:
        for day in (date(2025, 12, 29), date(2025, 12, 30), date(2025, 12, 31)):
            run, states = run_night(dag, group, mailbox, day, RECEIVABLES_VALIDATION_BATCHES="2")
            assert run.state == "success", states
            assert set(states.values()) == {"success"}, states
            # the drops validated in two batches, each task named by its drops, each drop once
            batches = [
                ti.rendered_map_index.split(", ")
                for ti in run.get_task_instances()
                if ti.task_id == "validate"
            ]
            assert len(batches) == 2, batches
            assert sorted(code for batch in batches for code in batch) == ["DE01", "FR01", "GB01", "GROUP"]
        query = reader(serving)
        assert query(
            "select as_of_date, entity_code, status from marts.mart_freshness "
            "where status <> 'ok' order by all"
        ) == [(date(2025, 12, 30), "DE01", "quarantined")]
        reason = json.loads(
            (group / "landing" / "_quarantine" / "DE01" / "2025-12-30" / "reason.json").read_text()
        )
        assert {f["rule"] for f in reason["failures"]} >= {"manifest_rows", "manifest_sha256"}
        assert query(
            "select last_good_extract_date from marts.mart_freshness "
            "where as_of_date = '2025-12-30' and entity_code = 'DE01'"
        ) == [(date(2025, 12, 29),)]
        # each drop of a batch has its own status in the landing log
        assert query(
            "select entity_code, status from raw.landing_log where extract_date = '2025-12-30' order by all"
        ) == [("DE01", "quarantined"), ("FR01", "ok"), ("GB01", "ok"), ("GROUP", "ok")]
        # the others landed that night, and DE01 came back the night after
        assert query("select count(distinct as_of_date) from marts.mart_concentration") == [(3,)]
        # the night published each entity's file beside the group's (SPEC section 15)
        entities = sorted(p.name for p in (serving.parent / "entities").glob("*.duckdb"))
        assert entities == [f"{code}.duckdb" for code in ("DE01", "FR01", "GB01")]
        assert reader(serving.parent / "entities" / "DE01.duckdb")(
            "select status from marts.mart_freshness where as_of_date = '2025-12-31'"
        ) == [("ok",)]
        assert query(
            "select status from marts.mart_freshness where as_of_date = '2025-12-31' and entity_code = 'DE01'"
        ) == [("ok",)]
        subjects = [m["Subject"] for m in mailbox.messages]
        assert subjects == ["[receivables] 2025-12-30: 1 drop(s) not landed"]
        body = "".join(
            part.get_payload(decode=True).decode()
            for part in mailbox.messages[0].walk()
            if part.get_content_type() == "text/html"
        )
        assert "<td>DE01</td><td>quarantined</td><td>2025-12-29</td>" in body
        assert mailbox.messages[0]["To"] == "credit.manager@example.com"

        before = marts_snapshot(serving)
        run, states = run_night(dag, group, mailbox, date(2025, 12, 31))
        assert run.state == "success"
        assert marts_snapshot(serving) == before


def _delete_run(run_id: str) -> None:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        session.execute(delete(DagRun).where(DagRun.run_id == run_id))


def test_a_night_followed_by_a_queued_run_leaves_its_build_to_it(group, airflow_home):
    """A backfill's or catch-up's nights: each lands, the last builds them all in one dbt run and publishes."""
    dag = load_dagbag().dags["receivables_nightly"]
    serving = group / "serving" / "warehouse.duckdb"
    working = group / "work" / "warehouse.duckdb"
    with Mailbox() as mailbox:
        run_night(dag, group, mailbox, date(2025, 12, 31))
        published = serving.stat().st_mtime_ns
        # a run queued behind the replay of 2025-12-30, as a backfill queues its next nights
        trigger = subprocess.run(
            [str(Path(sys.executable).with_name("airflow")), "dags", "trigger", "receivables_nightly",
             "--run-id", "queued-next-night"],
            capture_output=True, text=True, env=os.environ.copy(), timeout=300,
        )  # fmt: skip
        assert trigger.returncode == 0, trigger.stderr[-2000:]
        run, states = run_night(dag, group, mailbox, date(2025, 12, 30))
        assert run.state == "success", states
        assert states[("build", -1)] == "success"
        assert states[("publish", -1)] == states[("alert", -1)] == "skipped"
        assert serving.stat().st_mtime_ns == published  # nothing published
        assert reader(working)("select as_of_date from raw.pending_builds") == [(date(2025, 12, 30),)]
        _delete_run("queued-next-night")  # it is the night of 2025-12-31, run now

        run, states = run_night(dag, group, mailbox, date(2025, 12, 31))
        assert run.state == "success", states
        assert set(states.values()) == {"success"}, states
        query = reader(working)
        assert query("select count(*) from raw.pending_builds") == [(0,)]
        assert query("select as_of_from, as_of_to from raw.build_log order by built_at desc limit 1") == [
            (date(2025, 12, 30), date(2025, 12, 31))  # one dbt run for both nights
        ]
        # each night's entities not landed are mailed: DE01's drop of 2025-12-30 is bad again
        assert [m["Subject"] for m in mailbox.messages] == ["[receivables] 2025-12-30: 1 drop(s) not landed"]
        # the figures a replay of each night gives, one at a time: each date is computed with
        # everything landed, a range as a replay (docs/decisions.md, "The nightly DAG at scale")
        built_together = marts_snapshot(serving)
        for day in (date(2025, 12, 30), date(2025, 12, 31)):
            run_night(dag, group, mailbox, day)
        one_by_one = marts_snapshot(serving)
        differences = {
            mart: (
                sorted(set(rows) - set(built_together[mart]))[:3],
                sorted(set(built_together[mart]) - set(rows))[:3],
            )
            for mart, rows in one_by_one.items()
            if rows != built_together[mart]
        }
        assert not differences, differences


def attachments(message) -> dict[str, bytes]:
    return {
        part.get_filename(): part.get_payload(decode=True) for part in message.walk() if part.get_filename()
    }


def test_reports_follow_a_month_end_publish(group, airflow_home, tmp_path):
    """The CFO gets the group, a controller their entity only; a refused mailbox retries, then alerts."""
    from io import BytesIO

    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session
    from openpyxl import load_workbook
    from pypdf import PdfReader

    with create_session() as session:
        published = [event.extra for event in session.query(AssetEvent).all()]
    assert {"as_of_date": "2025-12-31"} in published  # what triggers receivables_reports in production

    recipients = tmp_path / "recipients.yml"
    recipients.write_text(
        "group: [daf@example.com]\n"
        "entities:\n  FR01: [controle.fr01@example.com]\n  DE01: [absent.de01@example.com]\n"
    )
    dag = load_dagbag().dags["receivables_reports"]
    send = dag.get_task("send")
    send.retries, send.retry_delay, send.retry_exponential_backoff = 1, timedelta(0), False
    serving = group / "serving" / "warehouse.duckdb"
    with Mailbox(refuse=("absent.de01@example.com",)) as mailbox:
        os.environ.update(
            RECEIVABLES_ENTITIES=str(group / "landing" / "entities.yml"),
            RECEIVABLES_SERVING=str(serving),
            RECEIVABLES_REPORTS=str(tmp_path / "reports"),
            RECEIVABLES_REPORT_RECIPIENTS=str(recipients),
            RECEIVABLES_ALERT_TO="ops@example.com",
            AIRFLOW_CONN_SMTP_DEFAULT=json.dumps(
                {"conn_type": "smtp", "host": "127.0.0.1", "port": mailbox.port,
                 "extra": {"disable_ssl": True, "disable_tls": True}}
            ),
        )  # fmt: skip
        quiet = dag.test(run_conf={"as_of_date": "2025-12-30"})  # a Tuesday: nothing to send
        assert quiet.state == "success" and mailbox.messages == []

        run = dag.test(run_conf={"as_of_date": "2025-12-31"})
        states = {(ti.task_id, ti.rendered_map_index): ti.state for ti in run.get_task_instances()}
        assert states == {
            ("due", None): "success",
            ("send", "GROUP"): "success",
            ("send", "FR01"): "success",
            ("send", "DE01"): "failed",
        }
        tries = {
            ti.rendered_map_index: ti.try_number for ti in run.get_task_instances() if ti.task_id == "send"
        }
        assert tries["DE01"] == 2 and tries["FR01"] == 1  # the refused send was retried once
        assert run.state == "failed"  # this run only: the night was published before
        by_recipient = {message["To"]: message for message in mailbox.messages}
    assert set(by_recipient) == {"daf@example.com", "controle.fr01@example.com", "ops@example.com"}
    assert by_recipient["ops@example.com"]["Subject"] == "[receivables] 2025-12-31: report DE01 not sent"

    query = reader(serving)
    cfo = attachments(by_recipient["daf@example.com"])
    assert set(cfo) == {"receivables-GROUP-2025-12-31.xlsx", "receivables-GROUP-2025-12-31.pdf"}
    aging = list(load_workbook(BytesIO(cfo["receivables-GROUP-2025-12-31.xlsx"]))["Balance âgée"].values)
    group_row = dict(zip(aging[0], aging[-1], strict=True))
    [(external,)] = query(
        "select sum(amount_eur) from marts.mart_aging where as_of_date = '2025-12-31' and not is_intercompany"
    )
    assert group_row["Entité"] == "GROUP" and Decimal(str(group_row["Total EUR"])) == external

    controller = attachments(by_recipient["controle.fr01@example.com"])
    assert set(controller) == {"receivables-FR01-2025-12-31.xlsx", "receivables-FR01-2025-12-31.pdf"}
    workbook = load_workbook(BytesIO(controller["receivables-FR01-2025-12-31.xlsx"]))
    cells = [str(v) for sheet in workbook for row in sheet.iter_rows(values_only=True) for v in row if v]
    text = "\n".join(
        page.extract_text()
        for page in PdfReader(BytesIO(controller["receivables-FR01-2025-12-31.pdf"])).pages
    )
    others = [
        v
        for row in query("select entity_code, entity_name from raw.entities where entity_code <> 'FR01'")
        for v in row
    ]
    for other in others:
        assert not any(other in cell for cell in cells) and other not in text, other
    aging = list(workbook["Balance âgée"].values)
    [(fr01_local,)] = query(
        "select sum(amount_entity_currency) from marts.mart_aging where as_of_date = '2025-12-31' and entity_code = 'FR01'"
    )
    assert (
        sum(Decimal(str(dict(zip(aging[0], row, strict=True))["Total"])) for row in aging[1:]) == fr01_local
    )


def test_reader_keeps_working_across_a_publish(group, airflow_home):
    from receivables import nightly
    from receivables.warehouse.store import connect

    serving = group / "serving" / "warehouse.duckdb"
    working = group / "work" / "warehouse.duckdb"
    os.environ.update(RECEIVABLES_WAREHOUSE=str(working), RECEIVABLES_SERVING=str(serving))
    reader_connection = duckdb.connect(str(serving), read_only=True)
    try:
        before = reader_connection.execute("select count(*) from marts.fct_open_items").fetchall()
        with connect(working) as writer:  # the night's writers (load, build): never the served file
            writer.execute("delete from marts.fct_open_items where document_type = 'credit_note'")
        assert reader_connection.execute("select count(*) from marts.fct_open_items").fetchall() == before
        [(night,)] = reader(working)("select max(as_of_date) from intermediate.int_as_of_dates")
        nightly.publish(nightly.settings(), night)
        assert reader_connection.execute("select count(*) from marts.fct_open_items").fetchall() == before
    finally:
        reader_connection.close()
    fresh = reader(serving)("select count(*) from marts.fct_open_items where document_type = 'credit_note'")
    assert fresh == [(0,)]
    # served without a copy: the working file is the served one until working_copy gives it its own
    assert serving.stat().st_ino == working.stat().st_ino
    assert nightly.working_copy(nightly.settings()) and not nightly.working_copy(nightly.settings())
    assert serving.stat().st_ino != working.stat().st_ino and serving.stat().st_nlink == 1
    with connect(working) as writer:
        writer.execute("delete from marts.fct_open_items where entity_code = 'FR01'")
    assert reader(serving)("select count(*) from marts.fct_open_items where entity_code = 'FR01'") != [(0,)]
    assert not list(serving.parent.glob(".*publishing"))
    assert not list((serving.parent / "entities").glob(".*publishing"))
    entity = reader(serving.parent / "entities" / "FR01.duckdb")
    assert entity("select count(*) from marts.fct_open_items where document_type = 'credit_note'") == [(0,)]


def test_a_failed_build_publishes_nothing(group, airflow_home, tmp_path):
    from receivables import nightly
    from receivables.errors import ReceivablesError
    from receivables.nights import Nights

    dag = load_dagbag().dags["receivables_nightly"]
    publish = dag.get_task("publish")
    assert publish.upstream_task_ids == {"build"} and publish.trigger_rule == "all_success"
    serving = group / "serving" / "warehouse.duckdb"
    published = serving.stat().st_mtime_ns
    os.environ.update(
        RECEIVABLES_WAREHOUSE=str(tmp_path / "missing.duckdb"), RECEIVABLES_SERVING=str(serving)
    )
    with pytest.raises(ReceivablesError):
        nightly.build(nightly.settings(), Nights.of(date(2025, 12, 31)))
    assert serving.stat().st_mtime_ns == published


def test_a_publish_event_gives_the_reports_their_date():
    """What the scheduler hands an asset-triggered reports run, through Airflow's own accessor."""
    from datetime import UTC, datetime

    from airflow.sdk import Asset
    from airflow.sdk.execution_time.comms import AssetEventDagRunReferenceResult
    from airflow.sdk.execution_time.context import TriggeringAssetEventsAccessor

    from receivables.errors import ReceivablesError
    from receivables.reports.schedule import as_of_of_run
    from receivables.settings import SERVING_ASSET

    def event(as_of: str) -> AssetEventDagRunReferenceResult:
        return AssetEventDagRunReferenceResult(
            asset={"name": SERVING_ASSET, "uri": SERVING_ASSET, "extra": {}},
            extra={"as_of_date": as_of},
            source_task_id="publish", source_dag_id="receivables_nightly", source_run_id="scheduled",
            source_map_index=-1, source_aliases=[], timestamp=datetime.now(UTC),
        )  # fmt: skip

    serving = Asset(SERVING_ASSET)
    two_nights = TriggeringAssetEventsAccessor.build([event("2025-12-30"), event("2025-12-31")])
    assert as_of_of_run(None, two_nights, serving) == "2025-12-31"
    assert as_of_of_run("2025-11-30", two_nights, serving) == "2025-11-30"  # the param wins
    with pytest.raises(ReceivablesError, match="no as-of date"):
        as_of_of_run(None, TriggeringAssetEventsAccessor.build([]), serving)


def _entity_drop(
    landing: Path, code: str, source_day: str, day: str, rows: dict[str, list[list[str]]]
) -> None:
    """A drop for ``day`` in the entity's own dialect: the history drop's headers, these rows."""
    import csv

    registry = load_registry(landing / "entities.yml")
    dialect = registry.entity(code).csv
    folder = landing / code / day
    folder.mkdir(parents=True)
    for name in ("debtors", "invoices", "payments", "risk_ratings"):
        with (landing / code / source_day / f"{name}.csv").open(
            encoding=dialect.encoding, newline=""
        ) as handle:
            header = next(csv.reader(handle, delimiter=dialect.delimiter))
        with (folder / f"{name}.csv").open("w", encoding=dialect.encoding, newline="") as handle:
            writer = csv.writer(handle, delimiter=dialect.delimiter)
            writer.writerow(header)
            writer.writerows(rows.get(name, []))


def _history_rows(landing: Path, code: str, name: str) -> list[dict[str, str]]:
    import csv

    dialect = load_registry(landing / "entities.yml").entity(code).csv
    with (landing / code / "2025-12-29" / f"{name}.csv").open(
        encoding=dialect.encoding, newline=""
    ) as handle:
        return list(csv.DictReader(handle, delimiter=dialect.delimiter))


def test_bad_data_of_two_entities_and_no_rates_never_stop_the_night(group, airflow_home):
    """SPEC section 12 through the scheduler's own code path: FR01 sends a currency without a
    rate (quarantined on landing), DE01 re-sends a settled invoice in another currency (taken out
    by the build's data test), GB01 pays a document it never sent (quarantined on landing), the FX
    file does not arrive (no rate for the date): the night succeeds, publishes, names each entity,
    and mails the operators."""
    landing, day = group / "landing", "2026-01-12"  # the last rate, of 2025-12-31, is too old by then
    fr01 = _history_rows(landing, "FR01", "invoices")[0]
    fr01 |= {"document_id": "XXX-1", "currency": "XXX"}
    # and a line in another currency than the document it settles
    fr01_line = next(row for row in _history_rows(landing, "FR01", "payments") if row["document_id"])
    fr01_line |= {"settlement_id": "P-USD", "currency": "USD" if fr01_line["currency"] != "USD" else "GBP"}
    _entity_drop(
        landing,
        "FR01",
        "2025-12-29",
        day,
        {"invoices": [list(fr01.values())], "payments": [list(fr01_line.values())]},
    )
    settled = {row["document_id"] for row in _history_rows(landing, "DE01", "payments") if row["document_id"]}
    de01 = next(row for row in _history_rows(landing, "DE01", "invoices") if row["document_id"] in settled)
    de01["currency"] = "GBP" if de01["currency"] != "GBP" else "EUR"
    _entity_drop(landing, "DE01", "2025-12-29", day, {"invoices": [list(de01.values())]})
    gb01 = _history_rows(landing, "GB01", "payments")[0] | {"settlement_id": "P-404", "document_id": "F-404"}
    _entity_drop(landing, "GB01", "2025-12-29", day, {"payments": [list(gb01.values())]})

    dag = load_dagbag().dags["receivables_nightly"]
    serving = group / "serving" / "warehouse.duckdb"
    with Mailbox() as mailbox:
        run, states = run_night(dag, group, mailbox, date(2026, 1, 12))
        assert run.state == "success", states
        assert set(states.values()) == {"success"}, states
        query = reader(serving)
        freshness = dict(
            query("select entity_code, status from marts.mart_freshness where as_of_date = date '2026-01-12'")
        )
        assert freshness == {
            "FR01": "quarantined",
            "DE01": "quarantined",
            "GB01": "quarantined",
            "GROUP": "stale",
        }
        reasons = dict(
            query("select entity_code, reason from marts.mart_freshness where as_of_date = date '2026-01-12'")
        )
        assert "currency_without_rate" in reasons["FR01"]
        fr01_rules = {
            f["rule"]
            for f in json.loads((landing / "_quarantine" / "FR01" / day / "reason.json").read_text())[
                "failures"
            ]
        }
        assert {"currency_without_rate", "settlement_matches_document"} <= fr01_rules
        assert "payments.csv row 2 column document_id" in reasons["GB01"] and "[reference]" in reasons["GB01"]
        assert (
            reasons["DE01"].startswith("taken out by the build of 2026-01-12")
            and "payment_matches_document" in reasons["DE01"]
        )
        assert (landing / "_quarantine" / "DE01" / day / "reason.json").exists()
        # DE01 is back at its last good data; the GBP items cannot be converted and are listed
        assert query(
            "select currency from raw.invoices where entity_code = 'DE01' and document_id = ?",
            de01["document_id"],
        ) != [("XXX",)]
        kinds = {
            row[0]
            for row in query("select kind from marts.mart_data_issues where as_of_date = date '2026-01-12'")
        }
        assert "missing_fx_rate" in kinds
        assert (
            query("select count(*) from marts.fct_open_items where as_of_date = date '2026-01-12'")[0][0] > 0
        )
        subjects = [m["Subject"] for m in mailbox.messages]
        assert subjects == ["[receivables] 2026-01-12: 4 drop(s) not landed"]


def test_a_code_error_fails_the_run_at_once_and_mails_the_operators(group, airflow_home, tmp_path):
    dag = load_dagbag().dags["receivables_nightly"]
    with Mailbox() as mailbox:
        missing = str(tmp_path / "no-such-registry.yml")
        run, _ = run_night(dag, group, mailbox, date(2026, 1, 3), RECEIVABLES_ENTITIES=missing)
        tries = {ti.task_id: (ti.state, ti.try_number) for ti in run.get_task_instances()}
    assert run.state == "failed"
    assert tries["plan"] == ("failed", 1)  # no retry: the same registry fails the same way
    subjects = [m["Subject"] for m in mailbox.messages]
    assert subjects == ["[receivables] 2026-01-03: the nightly run failed in plan"]
    assert mailbox.messages[0]["To"] == "credit.manager@example.com"


def test_a_night_with_no_drop_and_no_rates_publishes(group, airflow_home):
    """What a newcomer's first click does (unpausing the DAG long after the sample's last day):
    nothing arrives, not even the FX file; the night publishes, every entity stale, and the rates
    it lacks are listed."""
    dag = load_dagbag().dags["receivables_nightly"]
    with Mailbox() as mailbox:
        run, states = run_night(dag, group, mailbox, date(2026, 2, 27))
    assert run.state == "success", states
    query = reader(group / "serving" / "warehouse.duckdb")
    assert query("select distinct status from marts.mart_freshness where as_of_date = date '2026-02-27'") == [
        ("stale",)
    ]
    issues = query(
        "select kind, entity_code, detail from marts.mart_data_issues where as_of_date = date '2026-02-27' order by all"
    )
    kinds = {kind for kind, _, _ in issues}
    assert {"missing_fx_rate", "dso_missing_fx_rate"} <= kinds, issues
    assert any("aucun cours de change pour GBP au 27/02/2026" in detail for _, _, detail in issues), issues
    # the month ends without a rate have no DSO, and say why
    assert query(
        "select status, dso_countback from marts.mart_dso where entity_code = 'GROUP' and month_end = date '2026-01-31'"
    ) == [("missing_fx_rate", None)]
    assert [m["Subject"] for m in mailbox.messages] == ["[receivables] 2026-02-27: 4 drop(s) not landed"]
