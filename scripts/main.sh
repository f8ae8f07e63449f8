#!/usr/bin/env bash
# The main job of the README: install, generate the sample group, run its nights
# (land, validate, build the warehouse), generate the dbt docs.
set -euo pipefail
cd "$(dirname "$0")/.."
export GX_ANALYTICS_ENABLED=false

bash scripts/setup-pipeline.sh

var="${RECEIVABLES_VAR:-$PWD/var}"
landing="$var/landing"
warehouse="$var/warehouse.duckdb"
registry="config/sample_entities.yml"
mkdir -p "$var"

echo "== generating the sample group into $landing"
rm -rf "$landing" "$warehouse" "$warehouse.wal" "$warehouse.staging"
.venv/bin/receivables generate --out "$landing" --entities 4 --start 2025-01-01 --end 2025-12-31 \
    --invoices 20000 --seed 42 > "$var/generate-summary.json"
cmp -s "$landing/entities.yml" "$registry" || {
    echo "error: $registry differs from the generated registry; regenerate it" >&2; exit 2; }

history_day=$(.venv/bin/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["history_drop"])' "$var/generate-summary.json")
echo "== running every night from $history_day to 2025-12-31 (land, validate, build) into $warehouse"
.venv/bin/receivables run --entities "$registry" --landing "$landing" \
    --as-of "$history_day" --to 2025-12-31 --warehouse "$warehouse"
.venv/bin/receivables build --warehouse "$warehouse" --as-of 2025-12-31 --docs
RECEIVABLES_WAREHOUSE="$warehouse" RECEIVABLES_SERVING="$var/serving/warehouse.duckdb" \
    RECEIVABLES_ENTITIES="$registry" RECEIVABLES_LANDING="$landing" \
    .venv/bin/python -c 'from receivables import nightly; print("published", nightly.publish())'

echo "== writing the month-end reports of 2025-12-31 (the group's and FR01's) into $var/reports"
for scope in GROUP FR01; do
    entity_option=(); [ "$scope" = GROUP ] || entity_option=(--entity "$scope")
    .venv/bin/receivables report --warehouse "$var/serving/warehouse.duckdb" --as-of 2025-12-31 \
        --out "$var/reports/2025-12-31/$scope" "${entity_option[@]}"
done

echo "== starting Airflow (the nightly DAG receivables_nightly, 02:00 Europe/Paris)"
RECEIVABLES_WAREHOUSE="$warehouse" RECEIVABLES_SERVING="$var/serving/warehouse.duckdb" \
    RECEIVABLES_LANDING="$landing" bash scripts/start-airflow.sh

echo "== starting Superset (its own environment .venv-superset; URL and admin account in .env)"
bash scripts/start-superset.sh
source scripts/superset-env.sh
PATH="$PWD/.venv/bin:$PATH" RECEIVABLES_SERVING="$var/serving/warehouse.duckdb" RECEIVABLES_ENTITIES="$registry" \
    bash scripts/superset-entrypoint.sh provision
for slug in receivables-overview receivables-concentration receivables-signals; do
    echo "   dashboard: $SUPERSET_URL/superset/dashboard/$slug/"
done

echo "== done: warehouse $warehouse"
echo "   marts:    .venv/bin/python -c \"import duckdb; print(duckdb.connect('$warehouse', read_only=True).sql('from marts.mart_concentration'))\""
echo "   dbt docs: $var/dbt_target/static_index.html (one page; or serve: .venv/bin/python -m http.server -d $var/dbt_target 8081)"
echo "   SQL:      .venv/bin/receivables sql   (read-only on the published warehouse; docs/sql-access.md)"
