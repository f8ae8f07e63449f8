"""Where things are: the project's own folders and the landing layout of SPEC section 2."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from receivables.contract import GROUP_FOLDER, QUARANTINE_FOLDER


def project_root() -> Path:
    """The repository root (``RECEIVABLES_HOME`` overrides it, e.g. in a container)."""
    configured = os.environ.get("RECEIVABLES_HOME")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2]


def expectations_dir() -> Path:
    return project_root() / "expectations"


def seeds_dir() -> Path:
    return project_root() / "dbt_project" / "seeds"


def drop_dir(landing: Path, entity_code: str | None, day: date) -> Path:
    """``<landing>/<ENTITY>/<date>``, or ``<landing>/_group/<date>`` when entity_code is None."""
    return Path(landing) / (entity_code or GROUP_FOLDER) / day.isoformat()


def quarantine_dir(landing: Path, entity_code: str | None, day: date) -> Path:
    return Path(landing) / QUARANTINE_FOLDER / (entity_code or GROUP_FOLDER) / day.isoformat()


def staging_dir(warehouse: Path) -> Path:
    """Validated, typed drops wait here (Parquet) for the single warehouse writer."""
    warehouse = Path(warehouse)
    return warehouse.with_name(warehouse.name + ".staging")


def from_environment(variables: dict[str, str], where: str) -> dict[str, Path]:
    """Read each setting's path from its environment variable; name every one that is missing."""
    from receivables.errors import ReceivablesError

    missing = [variable for variable in variables.values() if not os.environ.get(variable)]
    if missing:
        raise ReceivablesError(f"set the environment variables {', '.join(missing)} (see README, {where})")
    return {field: Path(os.environ[variable]) for field, variable in variables.items()}
