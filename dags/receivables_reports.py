"""
### receivables_reports

Scheduled reports of the group receivables warehouse (README, Reports).

Runs each time `receivables_nightly` publishes the warehouse (the asset
`receivables_serving_warehouse`) and sends reports for the as-of date that
night published, when that date is a Sunday (they arrive on Monday morning)
or a month end; on other nights it sends nothing. The `as_of_date` param
chooses a date and `force` sends whatever the day.

Each report is an Excel workbook (aged balance, top debtors with cover and
risk class, weak signals, DSO, freshness) and a PDF with charts, read from
the published marts only. The CFO's list gets the group report; each
entity's controllers get their entity's report only. One mapped `send` task
per report: a failed send retries, then mails the operators
(`RECEIVABLES_ALERT_TO`) and fails this run only; the nightly run has already
published and is never held up.

Configuration (environment): `RECEIVABLES_SERVING`, `RECEIVABLES_ENTITIES`,
`RECEIVABLES_REPORT_RECIPIENTS` (YAML: `group`, `entities`),
`RECEIVABLES_REPORTS` (where the files are kept), `RECEIVABLES_ALERT_FROM`
and the SMTP connection `RECEIVABLES_SMTP_CONN_ID` (default `smtp_default`).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task

from receivables.settings import SERVING_ASSET

SERVING = Asset(SERVING_ASSET)


def _as_of() -> str:
    """The as_of_date param, else the as-of date of the latest publish that triggered this run."""
    from receivables.reports.schedule import as_of_of_run

    context = get_current_context()
    return as_of_of_run(context["params"].get("as_of_date"), context.get("triggering_asset_events"), SERVING)


def _report_failed(context) -> None:
    from receivables.reports import schedule as reports

    reports.report_failed(
        str(context.get("report_scope") or context["ti"].map_index),
        str(context.get("report_as_of") or context["params"].get("as_of_date")),
        context.get("exception"),
    )


@dag(
    dag_id="receivables_reports",
    schedule=[SERVING],
    start_date=pendulum.datetime(2025, 1, 1, tz="Europe/Paris"),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
    },
    params={
        "as_of_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="As-of date to report; default: the one the triggering publish carries.",
        ),
        "force": Param(
            False, type="boolean", description="Send even when the date is neither a Sunday nor a month end."
        ),
    },
    tags=["receivables"],
    doc_md=__doc__,
)
def receivables_reports() -> None:
    @task
    def due() -> list[dict]:
        from datetime import date

        from receivables.reports import schedule as reports

        as_of = _as_of()
        force = bool(get_current_context()["params"].get("force"))
        return [
            {"scope": scope, "as_of": as_of}
            for scope in reports.due_reports(date.fromisoformat(as_of), force)
        ]

    @task(map_index_template="{{ report_scope }}", on_failure_callback=_report_failed)
    def send(job: dict) -> str:
        from datetime import date

        from receivables.reports import schedule as reports

        context = get_current_context()
        context["report_scope"] = job["scope"]  # type: ignore[typeddict-unknown-key]
        context["report_as_of"] = job["as_of"]  # type: ignore[typeddict-unknown-key]
        return reports.send_report(job["scope"], date.fromisoformat(job["as_of"]))

    send.expand(job=due())


receivables_reports()
