# Source me: Superset's environment for this checkout, from .env (written by start-superset.sh).
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -f "$_root/.env" ]; then
    set -a; source "$_root/.env"; set +a
fi
export SUPERSET_CONFIG_PATH="$_root/superset/superset_config.py"
export SUPERSET_HOME="${SUPERSET_HOME:-$_root/var/superset}"
export FLASK_APP=superset
unset _root
