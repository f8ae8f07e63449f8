#!/usr/bin/env bash
# Start Airflow natively (standalone: api-server, scheduler, dag-processor, triggerer),
# SQLite metadata, no example DAGs; leave it serving and print its address. The
# steps are scripts/airflow-entrypoint.sh's, the same the containers run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/airflow-env.sh
mkdir -p "$AIRFLOW_HOME"

if [ -f "$AIRFLOW_HOME/standalone.pid" ] && kill -0 "$(cat "$AIRFLOW_HOME/standalone.pid")" 2>/dev/null; then
    echo "Airflow already running (process group $(cat "$AIRFLOW_HOME/standalone.pid"))"
else
    bash scripts/airflow-entrypoint.sh init > "$AIRFLOW_HOME/migrate.log" 2>&1
    setsid bash scripts/airflow-entrypoint.sh standalone > "$AIRFLOW_HOME/standalone.log" 2>&1 < /dev/null &
    echo $! > "$AIRFLOW_HOME/standalone.pid"
    healthy=""
    for _ in $(seq 1 90); do
        if curl -fs "http://localhost:$AIRFLOW__API__PORT/api/v2/monitor/health" > /dev/null 2>&1; then
            healthy=yes; break
        fi
        sleep 2
    done
    if [ -z "$healthy" ]; then
        tail -20 "$AIRFLOW_HOME/standalone.log" >&2
        echo "error: Airflow did not answer on port $AIRFLOW__API__PORT within 3 minutes (log: $AIRFLOW_HOME/standalone.log)" >&2
        exit 2
    fi
fi
password_file="$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"
echo "Airflow UI: http://localhost:$AIRFLOW__API__PORT  (user admin, password in $password_file)"
echo "stop it:    kill -- -\$(cat $AIRFLOW_HOME/standalone.pid)"
