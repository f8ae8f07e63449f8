#!/usr/bin/env bash
# The test command of the README: installs what it needs, then runs every check.
set -euo pipefail
cd "$(dirname "$0")/.."
export GX_ANALYTICS_ENABLED=false

bash scripts/setup-pipeline.sh
bash scripts/setup-superset.sh
bash scripts/setup-browser.sh
bash scripts/setup-postgres.sh
# every Python file of the repository: the package, tests, DAGs, scripts, Superset's configuration
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/receivables expectations --check
.venv/bin/python -m pytest "$@"
