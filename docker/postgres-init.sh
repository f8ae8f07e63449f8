#!/usr/bin/env bash
# Create the metadata databases of Airflow and Superset, each with its own user.
# Run once on an empty PostgreSQL server: by the postgres image on first start
# (docker-compose.yml mounts it into /docker-entrypoint-initdb.d), and by the
# native test of the PostgreSQL path (tests/test_postgres_metadata.py).
# Needs AIRFLOW_DB_PASSWORD and SUPERSET_DB_PASSWORD; psql connects as the
# server's superuser through the usual PG* variables.
set -euo pipefail
: "${AIRFLOW_DB_PASSWORD:?set AIRFLOW_DB_PASSWORD}" "${SUPERSET_DB_PASSWORD:?set SUPERSET_DB_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-${PGUSER:-postgres}}" --dbname "${POSTGRES_DB:-postgres}" \
    -v airflow_password="$AIRFLOW_DB_PASSWORD" -v superset_password="$SUPERSET_DB_PASSWORD" <<'SQL'
create user airflow with password :'airflow_password';
create database airflow owner airflow;
create user superset with password :'superset_password';
create database superset owner superset;
revoke all on database airflow from public;
revoke all on database superset from public;
SQL
