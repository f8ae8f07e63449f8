#!/usr/bin/env bash
# The test command of the README: installs what it needs, then runs every check.
set -euo pipefail
cd "$(dirname "$0")/.."
export GX_ANALYTICS_ENABLED=false

bash scripts/setup-pipeline.sh
bash scripts/setup-superset.sh
bash scripts/setup-browser.sh
bash scripts/setup-postgres.sh
bash scripts/setup-redis.sh
# every Python file of the repository: the package, tests, DAGs, scripts, Superset's configuration
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# SQL lint of the dbt project (dbt templater, DuckDB dialect: dbt_project/.sqlfluff); the templater
# compiles the project, which needs a warehouse path and as-of dates, never read
lint_dir="$(mktemp -d)"
(cd dbt_project && RECEIVABLES_WAREHOUSE="$lint_dir/lint.duckdb" RECEIVABLES_AS_OF_FROM=2026-01-01 \
    RECEIVABLES_AS_OF_TO=2026-01-01 ../.venv/bin/sqlfluff lint models macros tests --processes 2)
rm -rf "$lint_dir"
.venv/bin/receivables expectations --check
.venv/bin/python -m pytest "$@"
