#!/usr/bin/env bash
# Debian's Redis server, the Celery broker of the scale-out test (tests/test_celery.py starts its
# own server on a free loopback port, in a temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/apt-ensure.sh redis-server /usr/bin/redis-server
echo "redis ready: $(/usr/bin/redis-server --version | cut -d' ' -f3)"
