#!/usr/bin/env bash
# Install a Debian package when what it provides is missing (root only; otherwise say what to install):
#   apt-ensure.sh PACKAGE 'PATH-OR-GLOB'
set -euo pipefail
package="$1"
provides="$2"
if ! compgen -G "$provides" > /dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: $provides is missing; install Debian's $package package (apt-get install $package)" >&2
        exit 2
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" > /dev/null
fi
