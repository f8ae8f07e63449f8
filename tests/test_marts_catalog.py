"""Which rows of which mart an entity's people read is said once, in the marts' dbt YAML.

The entity files, Superset's row-level security and these tests read
``config.meta.entity_rows`` (receivables.marts_catalog); none keeps a list.
"""

from __future__ import annotations

import pytest
import yaml

from conftest import REPO
from receivables import marts_catalog
from receivables.entity_files import ENTITY_MARTS
from receivables.errors import ReceivablesError


@pytest.mark.unit
def test_the_entity_files_hold_the_flagged_marts_and_superset_filters_the_own_rows_ones():
    flagged = marts_catalog.entity_rows()
    assert sorted(ENTITY_MARTS) == sorted(flagged)
    assert flagged["mart_weak_signals"] == marts_catalog.EXPOSED_DEBTOR_GROUPS
    assert "mart_weak_signals" not in marts_catalog.own_rows_marts()
    assert "fct_open_items" in marts_catalog.own_rows_marts()
    # group-level marts are flagged for no entity
    assert not {"mart_concentration", "mart_debtor_exposure"} & set(flagged)
    sql_files = {path.stem for path in (REPO / "dbt_project" / "models" / "marts").glob("*.sql")}
    assert set(flagged) <= sql_files
    # the provisioning script keeps no list of its own
    script = (REPO / "superset" / "provision_security.py").read_text(encoding="utf-8")
    assert not [mart for mart in flagged if f'"{mart}"' in script]


@pytest.mark.unit
def test_an_unknown_entity_rows_value_is_an_error_naming_the_mart(tmp_path, monkeypatch):
    document = yaml.safe_load(marts_catalog.marts_yaml().read_text(encoding="utf-8"))
    document["models"][0]["config"] = {"meta": {"entity_rows": "everything"}}
    path = tmp_path / "_marts.yml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    monkeypatch.setattr(marts_catalog, "marts_yaml", lambda: path)
    marts_catalog.entity_rows.cache_clear()
    try:
        with pytest.raises(
            ReceivablesError, match=r"_marts.yml: fct_open_items: config.meta.entity_rows must be one of"
        ):
            marts_catalog.entity_rows()
    finally:
        marts_catalog.entity_rows.cache_clear()
