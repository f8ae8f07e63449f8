"""What the dbt project says of its published marts, read from ``models/marts/_marts.yml``.

One place for what the rest of the product needs to know of a mart beyond
its SQL:

- which rows an entity's people may read (``config.meta.entity_rows`` of a
  mart), read by the entity files, Superset's row-level security and the tests;
- how the users read the codes a column holds (``config.meta.labels`` of a
  column: code to French label), read by the reports, the dashboards'
  generator (the datasets' ``*_label`` columns) and dbt itself (the macro
  ``value_label``, for text the marts write);
- how the users read a column, whichever mart holds it (``column_labels``),
  and the number formats of the figures (``number_formats``): the marts'
  ``+meta`` in ``dbt_project.yml``, one label per name.

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
from typing import Any

import yaml

from receivables import paths
from receivables.errors import ReceivablesError

OWN_ROWS, EXPOSED_DEBTOR_GROUPS = "own", "exposed_debtor_groups"
# the e-invoicing statuses (fct_open_items.einvoice_status, SPEC section 17) whose open invoices the
# worklists of the dashboards and the reports show: partly approved, disputed or suspended by the buyer,
# refused, collected (an open item the platform says is paid), rejected by the platform, cancelled
EINVOICE_WORKLIST_STATUSES = ("206", "207", "208", "210", "212", "213", "220")
ENTITY_ROWS = (OWN_ROWS, EXPOSED_DEBTOR_GROUPS)


def marts_yaml() -> Path:
    return paths.project_root() / "dbt_project" / "models" / "marts" / "_marts.yml"


@cache
def _models() -> list[dict[str, Any]]:
    return list(yaml.safe_load(marts_yaml().read_text(encoding="utf-8"))["models"])


def _meta(node: dict[str, Any]) -> dict[str, Any]:
    return dict((node.get("config") or {}).get("meta") or {})


@cache
def entity_rows() -> dict[str, str]:
    """Each mart an entity's people may read, and which of its rows (``own`` or ``exposed_debtor_groups``)."""
    path = marts_yaml()
    found = {}
    for model in _models():
        value = _meta(model).get("entity_rows")
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


@cache
def labelled_columns() -> dict[tuple[str, str], dict[str, str]]:
    """Each (mart, column) whose codes have French labels, and its labels (code to label, in order)."""
    return {
        (model["name"], column["name"]): {
            str(code): str(label) for code, label in _meta(column)["labels"].items()
        }
        for model in _models()
        for column in model.get("columns") or []
        if "labels" in _meta(column)
    }


@cache
def value_labels() -> dict[str, dict[str, str]]:
    """The labels of each labelled column's codes, by column name (a name labelled twice must agree)."""
    path = marts_yaml()
    found: dict[str, dict[str, str]] = {}
    for (mart, column), labels in labelled_columns().items():
        if found.setdefault(column, labels) != labels:
            raise ReceivablesError(f"{path}: {mart}.{column}: labels differ from another mart's {column}")
    return found


def dbt_project_yaml() -> Path:
    return paths.project_root() / "dbt_project" / "dbt_project.yml"


@cache
def _marts_meta() -> dict[str, Any]:
    project = yaml.safe_load(dbt_project_yaml().read_text(encoding="utf-8"))
    return dict(project["models"]["receivables"]["marts"].get("+meta") or {})


def column_labels() -> dict[str, str]:
    """Each column name of the marts (and the dashboards' calculated columns) as the users read it."""
    return {str(column): str(label) for column, label in _marts_meta()["column_labels"].items()}


def number_formats() -> dict[str, str]:
    """The d3 number formats of the figures, by kind: ``eur``, ``share``, ``days``, ``count``."""
    return {str(kind): str(pattern) for kind, pattern in _marts_meta()["number_formats"].items()}


def column_label(column: str) -> str:
    """A column as the users read it; a column without a label is the project's error, named."""
    labels = column_labels()
    if column not in labels:
        raise ReceivablesError(
            f"{dbt_project_yaml()}: the marts' +meta.column_labels has no label for {column!r}"
        )
    return labels[column]
