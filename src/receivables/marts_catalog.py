"""What the dbt project says of its published marts, read from ``models/marts/_marts.yml``.

One place for what the rest of the product needs to know of a mart beyond
its SQL: which rows an entity's people may read (``config.meta.entity_rows``),
read by the entity files, Superset's row-level security and the tests.

``entity_rows``:
- ``own``: the rows whose ``entity_code`` is the entity's: its entity file holds them, and Superset
  filters the dataset to them for the entity's controllers;
- ``exposed_debtor_groups``: the weak signals of the debtor groups the entity is exposed to, with
  the entity's own exposure as the amount and no detail (its entity file only: the group's signals
  name other entities' figures, so Superset gives the dataset to the group's roles only);
- absent: a group-level mart, for the group's roles only.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from receivables import paths
from receivables.errors import ReceivablesError

OWN_ROWS, EXPOSED_DEBTOR_GROUPS = "own", "exposed_debtor_groups"
ENTITY_ROWS = (OWN_ROWS, EXPOSED_DEBTOR_GROUPS)


def marts_yaml() -> Path:
    return paths.project_root() / "dbt_project" / "models" / "marts" / "_marts.yml"


@cache
def entity_rows() -> dict[str, str]:
    """Each mart an entity's people may read, and which of its rows (``own`` or ``exposed_debtor_groups``)."""
    path = marts_yaml()
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = {}
    for model in document["models"]:
        value = ((model.get("config") or {}).get("meta") or {}).get("entity_rows")
        if value is None:
            continue
        if value not in ENTITY_ROWS:
            raise ReceivablesError(
                f"{path}: {model['name']}: config.meta.entity_rows must be one of {', '.join(ENTITY_ROWS)}, "
                f"found {value!r}"
            )
        found[model["name"]] = value
    return found


def own_rows_marts() -> list[str]:
    """The marts whose rows an entity's controllers read filtered to their entity (row-level security)."""
    return sorted(mart for mart, rows in entity_rows().items() if rows == OWN_ROWS)
