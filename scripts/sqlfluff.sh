#!/usr/bin/env bash
# SQL lint of the dbt project (dbt templater, DuckDB dialect: dbt_project/.sqlfluff):
#   scripts/sqlfluff.sh                 every model, macro and test
#   scripts/sqlfluff.sh FILE...         these files (paths from the repository root, as pre-commit gives them)
#   scripts/sqlfluff.sh --changed       the SQL files changed since the last commit, and new ones
# The templater compiles the project, which needs a warehouse path and as-of dates, never read.
set -euo pipefail
cd "$(dirname "$0")/.."
files=()
if [ "${1:-}" = "--changed" ]; then
    mapfile -t files < <(
        { git diff --name-only HEAD -- dbt_project; git ls-files --others --exclude-standard dbt_project; } |
            grep -E '^dbt_project/(models|macros|tests)/.*\.sql$' | sort -u
    )
    if [ "${#files[@]}" -eq 0 ]; then
        echo "sqlfluff: no SQL file changed since the last commit"
        exit 0
    fi
elif [ "$#" -gt 0 ]; then
    files=("$@")
fi
targets=()
for file in "${files[@]}"; do
    if [ -f "$file" ]; then  # a deleted file has nothing to lint
        targets+=("${file#dbt_project/}")
    fi
done
if [ "${#files[@]}" -eq 0 ]; then
    targets=(models macros tests)
elif [ "${#targets[@]}" -eq 0 ]; then
    exit 0
fi
lint_dir="$(mktemp -d)"
trap 'rm -rf "$lint_dir"' EXIT
cd dbt_project
RECEIVABLES_WAREHOUSE="$lint_dir/lint.duckdb" RECEIVABLES_AS_OF_FROM=2026-01-01 RECEIVABLES_AS_OF_TO=2026-01-01 \
    ../.venv/bin/sqlfluff lint "${targets[@]}" --processes 2
