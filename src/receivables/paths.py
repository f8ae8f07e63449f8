"""Where things are: the project's own folders and the landing layout of SPEC section 2."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from receivables.contract import GROUP_FOLDER, QUARANTINE_FOLDER
from receivables.settings import settings


def project_root() -> Path:
    """The repository root (``RECEIVABLES_HOME`` overrides it, e.g. in a container)."""
    configured = settings().text("home")
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
