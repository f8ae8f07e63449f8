#!/usr/bin/env bash
# Debian's Chromium for the browser tests (never a browser download by a test tool).
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: /usr/bin/chromium is missing; install Debian's chromium package (apt-get install chromium)" >&2
        exit 2
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
fi
echo "browser ready: $(/usr/bin/chromium --version 2>/dev/null)"
