#!/usr/bin/env bash
# One Airflow component of the receivables deployment. The native set-up
# (scripts/start-airflow.sh) and the containers (docker-compose.yml) both run it:
#   airflow-entrypoint.sh init            migrate the metadata database, create the writer pool
#   airflow-entrypoint.sh api-server | scheduler | dag-processor | triggerer | standalone
#   airflow-entrypoint.sh celery-worker [--queues default,receivables_warehouse] [options]
#                                         a Celery worker (CeleryExecutor): the warehouse's host
#                                         serves the writers' queue receivables_warehouse
# It runs the `airflow` found on PATH: .venv/bin natively (scripts/airflow-env.sh),
# the image's /opt/receivables/.venv/bin in a container. The metadata database is
# AIRFLOW__DATABASE__SQL_ALCHEMY_CONN (SQLite under AIRFLOW_HOME when unset).
set -euo pipefail
component="${1:-}"
case "$component" in
    init)
        airflow db migrate
        airflow pools set receivables_warehouse 1 "DuckDB has one writer"
        ;;
    api-server | scheduler | dag-processor | triggerer | standalone)
        exec airflow "$component"
        ;;
    celery-worker)
        shift
        # Airflow's Celery configuration, with Great Expectations imported once before the pool forks
        export AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS="${AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS:-receivables.celery_config.CELERY_CONFIG}"
        exec airflow celery worker "$@"
        ;;
    *)
        echo "usage: airflow-entrypoint.sh init|api-server|scheduler|dag-processor|triggerer|standalone|celery-worker" >&2
        exit 2
        ;;
esac
