#!/usr/bin/env bash
# Create or update .venv-superset from requirements/superset.lock. Superset pins
# SQLAlchemy 1.4 and pandas 2, Airflow needs SQLAlchemy 2: two environments.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-pipeline.sh > /dev/null  # provides uv
python_bin="${RECEIVABLES_PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x .venv-superset/bin/python ]; then
    "$python_bin" -m venv .venv-superset
fi
.venv/bin/uv pip sync --quiet --compile-bytecode --python .venv-superset/bin/python requirements/superset.lock  # see setup-pipeline.sh
echo "superset environment ready: .venv-superset ($(.venv-superset/bin/python --version))"
