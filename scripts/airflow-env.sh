# Source me: the environment of the native Airflow of this checkout.
#   source scripts/airflow-env.sh && .venv/bin/airflow dags test receivables_nightly 2025-12-31
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$_root/.venv/bin:$PATH"  # standalone starts its components as `airflow ...`
export AIRFLOW_HOME="${AIRFLOW_HOME:-$_root/var/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$_root/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-4}"
export AIRFLOW__API__PORT="${AIRFLOW__API__PORT:-8080}"
# where task processes reach the API server (Airflow's default assumes port 8080)
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="${AIRFLOW__CORE__EXECUTION_API_SERVER_URL:-http://localhost:$AIRFLOW__API__PORT/execution/}"
export GX_ANALYTICS_ENABLED=false
# The LocalExecutor's workers start from a fork server that has imported Airflow and Great
# Expectations once, and each task forks from its worker: a validation does not import Great
# Expectations again (about 4 s of CPU per task). Airflow 3.3's settings; other components keep fork.
export AIRFLOW__SCHEDULER__MP_START_METHOD="${AIRFLOW__SCHEDULER__MP_START_METHOD:-forkserver}"
export AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD="${AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD:-airflow,airflow.executors.local_executor,airflow.sdk.execution_time.task_runner,great_expectations,receivables.ingest.landing}"
export RECEIVABLES_ENTITIES="${RECEIVABLES_ENTITIES:-$_root/config/sample_entities.yml}"
export RECEIVABLES_LANDING="${RECEIVABLES_LANDING:-$_root/var/landing}"
export RECEIVABLES_WAREHOUSE="${RECEIVABLES_WAREHOUSE:-$_root/var/warehouse.duckdb}"
export RECEIVABLES_SERVING="${RECEIVABLES_SERVING:-$_root/var/serving/warehouse.duckdb}"
export RECEIVABLES_REPORT_RECIPIENTS="${RECEIVABLES_REPORT_RECIPIENTS:-$_root/config/report_recipients.yml}"
export RECEIVABLES_REPORTS="${RECEIVABLES_REPORTS:-$_root/var/reports}"
unset _root
