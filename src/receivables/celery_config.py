"""Celery's configuration for Airflow's workers: Airflow's own, and Great Expectations imported once per worker.

A Celery worker's pool processes fork from its main process, and each task
forks from a pool process: importing Great Expectations in the main process
before the pool starts (Celery's ``worker_init``) spares every validation
its import (about 4 s of CPU). ``scripts/airflow-entrypoint.sh celery-worker``
names this module in ``AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS``; the
scheduler, which sends the tasks, keeps Airflow's configuration and never
imports Great Expectations. The LocalExecutor's workers get the same from
Airflow's fork server (``scripts/airflow-env.sh``).
"""

from __future__ import annotations

import os
from typing import Any

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
from celery.signals import worker_init

CELERY_CONFIG: dict[str, Any] = dict(DEFAULT_CELERY_CONFIG)


@worker_init.connect
def import_great_expectations(**_: Any) -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations  # noqa: F401
