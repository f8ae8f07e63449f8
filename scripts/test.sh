#!/usr/bin/env bash
# The test command of the README. Installs what it needs, then runs every check:
#   bash scripts/test.sh            the full suite, every real part (CI: .ci/run)
#   bash scripts/test.sh --fast     a developer's loop before each commit, about two minutes: the
#                                   linters, the suite check, dbt parse and unit tests on empty
#                                   inputs, and the tests marked `unit` (no warehouse build, no
#                                   Airflow, no Superset, no browser), on both cores
# Further arguments go to pytest (e.g. `-m dbt`, `-k aging`, a test file).
set -euo pipefail
cd "$(dirname "$0")/.."
export GX_ANALYTICS_ENABLED=false

fast=false
if [ "${1:-}" = "--fast" ]; then
    fast=true
    shift
fi
started=$SECONDS
step() { printf '\n== %s (%d s)\n' "$1" "$((SECONDS - started))"; }

step "environments"
bash scripts/setup-pipeline.sh
if ! $fast; then
    bash scripts/setup-superset.sh
    bash scripts/setup-browser.sh
    bash scripts/setup-postgres.sh
    bash scripts/setup-redis.sh
fi

step "dbt parse and unit tests (beside the linters), ruff, mypy, sqlfluff, suites"
# dbt's check on empty inputs (receivables.dev.dbt_check) runs beside the linters, its output after
# them; the fast tier keeps dbt's saved parse under var/ from one run to the next, CI starts afresh
dbt_check_dir="var/dbt_check"
$fast || dbt_check_dir="$(mktemp -d)"
dbt_check_log="$(mktemp)"
.venv/bin/python -m receivables.dev.dbt_check --workdir "$dbt_check_dir" > "$dbt_check_log" 2>&1 &
dbt_check=$!
trap 'kill "$dbt_check" 2> /dev/null || true' EXIT
# every Python file of the repository: the package, tests, DAGs, scripts, Superset's configuration
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# the fast tier lints the SQL files changed since the last commit, the full suite every file
if $fast; then
    bash scripts/sqlfluff.sh --changed
else
    bash scripts/sqlfluff.sh
fi
.venv/bin/receivables expectations --check
dbt_status=0
wait "$dbt_check" || dbt_status=$?
cat "$dbt_check_log"
rm -f "$dbt_check_log"
[ "$dbt_status" -eq 0 ]

step "pytest"
status=0
if $fast; then
    .venv/bin/python -m pytest -m unit -n 2 --dist loadgroup --no-loadscope-reorder "$@" || status=$?
else
    # both cores: tests sharing a built group or a server run on one worker (tests/layers.py)
    .venv/bin/python -m pytest -n 2 --dist loadgroup --no-loadscope-reorder "$@" || status=$?
fi
step "done"
exit "$status"
