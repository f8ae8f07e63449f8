#!/usr/bin/env bash
# One step of the receivables Superset. The native set-up (scripts/start-superset.sh)
# and the containers (docker-compose.yml) both run it:
#   superset-entrypoint.sh init       migrate the metadata database, create or update the admin, roles
#   superset-entrypoint.sh web        serve with gunicorn on SUPERSET_BIND (default 127.0.0.1:8088)
#   superset-entrypoint.sh provision  import the dashboards bundle, roles and row-level security
#                                     (Superset must be serving at SUPERSET_URL)
# It runs the `superset` and `gunicorn` found on PATH (.venv-superset/bin natively and in
# the image). Settings: superset/superset_config.py (SUPERSET_SECRET_KEY, SUPERSET_DATABASE_URI).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export SUPERSET_CONFIG_PATH="${SUPERSET_CONFIG_PATH:-$root/superset/superset_config.py}"
export FLASK_APP=superset
component="${1:-}"
: "${SUPERSET_ADMIN_USER:?set SUPERSET_ADMIN_USER}"
case "$component" in
    init)
        : "${SUPERSET_ADMIN_PASSWORD:?set SUPERSET_ADMIN_PASSWORD}"
        superset db upgrade
        # creates the admin once; afterwards keeps its password equal to the configured one
        superset fab create-admin --username "$SUPERSET_ADMIN_USER" --firstname Group --lastname Admin \
            --email "$SUPERSET_ADMIN_USER@localhost" --password "$SUPERSET_ADMIN_PASSWORD"
        superset fab reset-password --username "$SUPERSET_ADMIN_USER" --password "$SUPERSET_ADMIN_PASSWORD"
        superset init
        ;;
    web)
        exec gunicorn --workers "${SUPERSET_WORKERS:-2}" --worker-class gthread --threads 4 --timeout 120 \
            --bind "${SUPERSET_BIND:-127.0.0.1:8088}" "superset.app:create_app()"
        ;;
    provision)
        : "${RECEIVABLES_SERVING:?set RECEIVABLES_SERVING}" "${RECEIVABLES_ENTITIES:?set RECEIVABLES_ENTITIES}"
        exec python -m receivables.cli superset-provision --serving "$RECEIVABLES_SERVING" \
            --entities "$RECEIVABLES_ENTITIES"
        ;;
    *)
        echo "usage: superset-entrypoint.sh init|web|provision" >&2
        exit 2
        ;;
esac
