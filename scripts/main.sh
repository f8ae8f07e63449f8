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

# The sample group ends on the night that the nightly DAG's latest run covers (the day before,
# Paris time, once 02:00 has passed), and spans the year before it: the dashboards, the reports
# and Airflow show a current night, and the run Airflow starts when the DAG is unpaused finds its
# drops. Same seed every time; the tests keep their fixed dates.
end=$(.venv/bin/python -c 'from datetime import datetime, timedelta; from zoneinfo import ZoneInfo
print((datetime.now(ZoneInfo("Europe/Paris")) - timedelta(hours=2)).date() - timedelta(days=1))')
start=$(.venv/bin/python -c 'import sys; from datetime import date, timedelta
print(date.fromisoformat(sys.argv[1]) - timedelta(days=364))' "$end")

echo "== generating the sample group ($start to $end) into $landing"
rm -rf "$landing" "$warehouse" "$warehouse.wal" "$warehouse.staging"
.venv/bin/receivables generate --out "$landing" --entities 4 --fec-entities 1 --start "$start" --end "$end" \
    --invoices 20000 --seed 42 > "$var/generate-summary.json"
cmp -s "$landing/entities.yml" "$registry" || {
    echo "error: $registry differs from the generated registry; regenerate it" >&2; exit 2; }

history_day=$(.venv/bin/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["history_drop"])' "$var/generate-summary.json")
echo "== running every night from $history_day to $end (land, validate, build) into $warehouse"
.venv/bin/receivables run --entities "$registry" --landing "$landing" \
    --as-of "$history_day" --to "$end" --warehouse "$warehouse"
.venv/bin/receivables build --warehouse "$warehouse" --as-of "$end" --docs
echo "== publishing $end to $var/serving (the group's file, each entity's, the figures as reported)"
.venv/bin/receivables publish --warehouse "$warehouse" --serving "$var/serving/warehouse.duckdb" --as-of "$end"

echo "== writing the reports of $end (the group's and FR01's) into $var/reports"
for scope in GROUP FR01; do
    entity_option=(); [ "$scope" = GROUP ] || entity_option=(--entity "$scope")
    .venv/bin/receivables report --warehouse "$var/serving/warehouse.duckdb" --as-of "$end" \
        --out "$var/reports/$end/$scope" "${entity_option[@]}"
done

echo "== starting Airflow (the nightly DAG receivables_nightly, 02:00 Europe/Paris)"
RECEIVABLES_WAREHOUSE="$warehouse" RECEIVABLES_SERVING="$var/serving/warehouse.duckdb" \
    RECEIVABLES_LANDING="$landing" bash scripts/start-airflow.sh

echo "== starting Superset (its own environment .venv-superset; URL and admin account in .env)"
bash scripts/start-superset.sh
source scripts/superset-env.sh
PATH="$PWD/.venv/bin:$PATH" RECEIVABLES_SERVING="$var/serving/warehouse.duckdb" RECEIVABLES_ENTITIES="$registry" \
    bash scripts/superset-entrypoint.sh provision
for slug in receivables-overview receivables-concentration receivables-signals receivables-debtor-group \
    receivables-cash-forecast; do
    echo "   dashboard: $SUPERSET_URL/superset/dashboard/$slug/"
done

echo "== done: warehouse $warehouse"
echo "   marts:    .venv/bin/python -c \"import duckdb; print(duckdb.connect('$warehouse', read_only=True).sql('from marts.mart_concentration'))\""
echo "   dbt docs: $var/dbt_target/static_index.html (one page; or serve: .venv/bin/python -m http.server -d $var/dbt_target 8081)"
echo "   SQL:      .venv/bin/receivables sql   (read-only on the published warehouse; docs/sql-access.md)"
