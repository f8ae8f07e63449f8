#!/usr/bin/env bash
# Debian's PostgreSQL server binaries, for the test of the metadata-on-PostgreSQL path
# (tests/test_postgres_metadata.py starts its own server in a temporary folder).
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/pg_ctl > /dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: PostgreSQL is missing; install Debian's postgresql package (apt-get install postgresql)" >&2
        exit 2
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql > /dev/null
fi
echo "postgresql ready: $(ls -d /usr/lib/postgresql/*/bin | tail -1)"
