#!/usr/bin/env bash
# Debian's Chromium for the browser tests (never a browser download by a test tool).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/apt-ensure.sh chromium /usr/bin/chromium
echo "browser ready: $(/usr/bin/chromium --version 2>/dev/null)"
