#!/usr/bin/env bash
# Debian's PostgreSQL server binaries, for the test of the metadata-on-PostgreSQL path
# (tests/test_postgres_metadata.py starts its own server in a temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/apt-ensure.sh postgresql '/usr/lib/postgresql/*/bin/pg_ctl'
echo "postgresql ready: $(ls -d /usr/lib/postgresql/*/bin | tail -1)"
