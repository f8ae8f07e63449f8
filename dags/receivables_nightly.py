"""
### receivables_nightly

The nightly job of the group receivables warehouse (README, Airflow).

At 02:00 Europe/Paris it processes the business day that just ended (the
day its data interval starts; `airflow dags test receivables_nightly D`
processes D - 1, and the `as_of_date` param chooses any date; `plan` computes
it once and passes it to every task): every entity's drop and the group's FX
drop are validated in parallel, in batches about equal in bytes, at least one per
validation slot (`RECEIVABLES_VALIDATION_BATCHES`, default the cores; mapped
`validate`, read-only, each task named by its drops and returning each
drop's own outcome), the staged drops are
loaded into the working warehouse by a single writer (`load`), dbt builds
the marts (`build`), a consistent copy is swapped in at the serving path
(`publish`, a hard link to the built file: no copy on the way; it updates
the asset `receivables_serving_warehouse` and so triggers
`receivables_reports`), the entities that did not land are mailed (`alert`)
and the working file gets its own copy again (`working_copy`).

No entity's data fails the run (SPEC section 12): a quarantined or missing
drop, a missing FX rate or a data test failing on one entity's rows leaves
that entity at its last good data, shown as stale or quarantined in
`marts.mart_freshness` (the missing figures in `marts.mart_data_issues`),
and the other entities publish. A data test that fails on the night's drops
takes them back out and `build` runs again without them. Only a code or
infrastructure error fails the run; every failed task mails the operators
(`on_failure_callback`), and `alert` mails the entities not landed. Errors
that cannot pass on a second try (the project's own errors) fail at once;
the others (a lost connection, a full disk freed) are retried twice, a
minute apart.
Writers (`load`, `build`, `publish`, `working_copy`) share the one-slot pool
`receivables_warehouse`, and one run at a time is allowed: DuckDB has one
writer. On Celery workers, the writers go to the queue
`receivables_warehouse`, which one worker on the warehouse's host serves;
validations and reports go to the default queue, served by every worker.
Reruns of a date are idempotent; catch up missed nights with a backfill
(`airflow backfill create --dag-id receivables_nightly --from-date ...
--to-date ... --max-active-runs 1`): while a run of this DAG is queued after
it, a night is validated and loaded but its build is left to the next
(`build` records it, `publish` and `alert` are skipped), so the last night
of a backfill builds them all in one dbt run, publishes once and mails each
night's entities not landed.

Configuration (environment): `RECEIVABLES_ENTITIES`, `RECEIVABLES_LANDING`,
`RECEIVABLES_WAREHOUSE`, `RECEIVABLES_SERVING`; alerts: `RECEIVABLES_ALERT_TO`
(comma-separated), `RECEIVABLES_ALERT_FROM`, through the SMTP connection
`RECEIVABLES_SMTP_CONN_ID` (default `smtp_default`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from airflow.timetables.trigger import CronTriggerTimetable

from receivables.errors import ReceivablesError
from receivables.nights import Nights
from receivables.settings import SERVING_ASSET

WAREHOUSE_POOL = "receivables_warehouse"
# the writers' queue: with Celery, one worker on the warehouse's host serves it (docs/operations.md);
# the LocalExecutor has no queues
WAREHOUSE_QUEUE = "receivables_warehouse"
SERVING = Asset(SERVING_ASSET)
PARIS = "Europe/Paris"


def _night(context: Any = None) -> str:
    """The business date of this run: the as_of_date param, else the day its data interval starts, in Paris.

    Read once, by ``plan``, which hands it to every task; the failure mail reads it again when ``plan``
    itself failed."""
    context = context or get_current_context()
    chosen = context["params"].get("as_of_date")
    if chosen:
        return date.fromisoformat(str(chosen)).isoformat()
    return pendulum.instance(context["data_interval_start"]).in_timezone(PARIS).date().isoformat()


@contextmanager
def _no_retry() -> Iterator[None]:
    """The project's own errors (a bad registry, a build that names no drop) fail the same way again."""
    try:
        yield
    except ReceivablesError as error:
        raise AirflowFailException(str(error)) from error


def _mail_failure(context: Any) -> None:
    """Every failed task mails the operators, whichever it is."""
    from receivables import nightly

    planned = context["ti"].xcom_pull(task_ids="plan", key="night")
    nightly.failure_alert(context["ti"].task_id, planned or _night(context), context.get("exception"))


@dag(
    dag_id="receivables_nightly",
    # the 02:00 run of day D+1 covers [D 02:00, D+1 02:00): its as-of date is D
    schedule=CronTriggerTimetable("0 2 * * *", timezone=PARIS, interval=timedelta(days=1)),
    start_date=pendulum.datetime(2025, 1, 1, tz=PARIS),
    catchup=False,  # missed nights are caught up on purpose, with a backfill
    max_active_runs=1,
    default_args={
        # for transient failures only: a data problem never fails a task, a code error fails for good
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "on_failure_callback": _mail_failure,
    },
    params={
        "as_of_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Business date to process; default: the day before the run (its data interval start).",
        )
    },
    tags=["receivables"],
    doc_md=__doc__,
)
def receivables_nightly() -> None:
    @task
    def plan() -> list[list[str]]:
        from receivables import nightly

        night = _night()
        # the night, computed here only: every task below reads this XCom (the failure mail too)
        get_current_context()["ti"].xcom_push(key="night", value=night)
        with _no_retry():
            return nightly.plan(nightly.settings(), date.fromisoformat(night))

    # a batch of drops per task, named by its drops ("GROUP, FR01, DE01"); one outcome per drop
    @task(map_index_template="{{ drop_batch }}")
    def validate(night: str, codes: list[str]) -> list[dict]:
        from receivables import nightly

        get_current_context()["drop_batch"] = nightly.batch_label(codes)  # type: ignore[typeddict-unknown-key]
        with _no_retry():
            return nightly.validate(nightly.settings(), codes, date.fromisoformat(night))

    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE)
    def load(batches: list[list[dict]]) -> list[str]:
        from receivables import nightly

        with _no_retry():
            return nightly.load(nightly.settings(), list(batches))

    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE)
    def build(night: str, loaded: list[str]) -> list[str]:
        from receivables import nightly

        # a run queued after this one (a backfill's next night, a catch-up) builds this night with its own
        context = get_current_context()
        queued = context["ti"].get_dr_count(dag_id=context["dag"].dag_id, states=["queued"])
        with _no_retry():
            built = nightly.build(nightly.settings(), Nights.of(date.fromisoformat(night)), defer=queued > 0)
        return [day.isoformat() for day in built.nights]

    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE, outlets=[SERVING])
    def publish(built: list[str]) -> list[str]:
        from receivables import nightly

        if not built:  # skipped: no event, no reports; the run that builds this night publishes it
            raise AirflowSkipException("this night is built and published by the run queued after it")
        with _no_retry():
            nightly.publish(nightly.settings(), date.fromisoformat(built[-1]))
        # the reports DAG runs on this event and reads the date it carries (the last night built)
        get_current_context()["outlet_events"][SERVING].extra = {"as_of_date": built[-1]}
        return built

    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE)
    def working_copy(built: list[str]) -> bool:
        from receivables import nightly

        # the publish served the working file itself: it gets its own copy again before any writer
        return nightly.working_copy(nightly.settings())

    @task
    def alert(built: list[str]) -> list[str]:
        from receivables import nightly

        config = nightly.settings()
        return [
            nightly.send_alert(nightly.not_landed(config, day), day) for day in map(date.fromisoformat, built)
        ]

    batches = plan()
    night = batches["night"]  # type: ignore[index]  # the XCom plan pushed under the key "night"
    outcomes = validate.partial(night=night).expand(codes=batches)
    published = publish(build(night, load(outcomes)))
    alert(published)
    working_copy(published)


receivables_nightly()
