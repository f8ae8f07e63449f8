#!/usr/bin/env bash
# Start Superset natively (gunicorn, SQLite metadata) and leave it serving, with
# scripts/superset-entrypoint.sh's steps, the same the containers run.
# The first run writes .env (not committed) with the URL, the admin account and
# a generated secret key; later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-superset.sh

if [ ! -f .env ]; then
    secret=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))')
    password=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))')
    umask 077
    cat > .env <<ENV
SUPERSET_URL=http://localhost:8088
SUPERSET_ADMIN_USER=admin
SUPERSET_ADMIN_PASSWORD=$password
SUPERSET_SECRET_KEY=$secret
ENV
fi
source scripts/superset-env.sh
mkdir -p "$SUPERSET_HOME"
port="${SUPERSET_URL##*:}"

if [ -f "$SUPERSET_HOME/gunicorn.pid" ] && kill -0 "$(cat "$SUPERSET_HOME/gunicorn.pid")" 2>/dev/null; then
    kill -- "-$(cat "$SUPERSET_HOME/gunicorn.pid")" 2>/dev/null || true
    sleep 2
fi
PATH="$PWD/.venv-superset/bin:$PATH" bash scripts/superset-entrypoint.sh init > "$SUPERSET_HOME/init.log" 2>&1
PATH="$PWD/.venv-superset/bin:$PATH" SUPERSET_BIND="127.0.0.1:$port" \
    setsid bash scripts/superset-entrypoint.sh web > "$SUPERSET_HOME/gunicorn.log" 2>&1 < /dev/null &
echo $! > "$SUPERSET_HOME/gunicorn.pid"
for _ in $(seq 1 60); do
    if curl -fs "$SUPERSET_URL/health" > /dev/null 2>&1; then
        echo "Superset: $SUPERSET_URL  (user $SUPERSET_ADMIN_USER, password in .env)"
        echo "stop it:  kill -- -\$(cat $SUPERSET_HOME/gunicorn.pid)"
        exit 0
    fi
    sleep 2
done
tail -20 "$SUPERSET_HOME/gunicorn.log" >&2
echo "error: Superset did not answer at $SUPERSET_URL within 2 minutes (log: $SUPERSET_HOME/gunicorn.log)" >&2
exit 2
