"""Which rows of which mart an entity's people read is said once, in the marts' dbt YAML.

The entity files, Superset's row-level security and these tests read
``config.meta.entity_rows`` (receivables.marts_catalog); none keeps a list.
"""

from __future__ import annotations

import pytest
import yaml

from conftest import REPO
from receivables import marts_catalog
from receivables.errors import ReceivablesError
from receivables.serve.entity_files import ENTITY_MARTS


@pytest.fixture
def marts_yaml_as(tmp_path, monkeypatch):
    """Read the catalog from a changed copy of the marts' YAML; the caches cleared before and after."""
    caches = (
        marts_catalog._models,
        marts_catalog.entity_rows,
        marts_catalog.labelled_columns,
        marts_catalog.value_labels,
    )

    def use(document):
        path = tmp_path / "_marts.yml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        monkeypatch.setattr(marts_catalog, "marts_yaml", lambda: path)
        for cached in caches:
            cached.cache_clear()

    yield use
    for cached in caches:
        cached.cache_clear()


def marts_document():
    return yaml.safe_load(marts_catalog.marts_yaml().read_text(encoding="utf-8"))


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
def test_an_unknown_entity_rows_value_is_an_error_naming_the_mart(marts_yaml_as):
    document = marts_document()
    document["models"][0]["config"] = {"meta": {"entity_rows": "everything"}}
    marts_yaml_as(document)
    with pytest.raises(
        ReceivablesError, match=r"_marts.yml: fct_open_items: config.meta.entity_rows must be one of"
    ):
        marts_catalog.entity_rows()


@pytest.mark.unit
def test_a_code_s_french_label_is_written_once_in_the_marts_yaml():
    labels = marts_catalog.value_labels()
    assert labels["insolvency_status"]["receivership"] == "Redressement judiciaire"
    from receivables.reports.model import INSOLVENCY_LABELS, SIGNAL_LABELS

    assert labels["insolvency_status"] == INSOLVENCY_LABELS and labels["signal"] == SIGNAL_LABELS
    written = [
        path.relative_to(REPO)
        for folder in ("src", "scripts", "superset", "dbt_project/models", "dbt_project/seeds")
        for path in (REPO / folder).rglob("*")
        if path.suffix in {".py", ".sql", ".csv"}
        and any(
            f"'{label}'" in path.read_text(encoding="utf-8")
            or f'"{label}"' in path.read_text(encoding="utf-8")
            for label in ("Redressement judiciaire", "Promesse de paiement non tenue", "non reçu")
        )
    ]
    assert written == []


@pytest.mark.unit
def test_two_marts_that_label_one_column_differently_are_an_error(marts_yaml_as):
    document = marts_document()
    exposure = next(m for m in document["models"] if m["name"] == "mart_entity_debtor_exposure")
    exposure.setdefault("columns", []).append(
        {"name": "insolvency_status", "config": {"meta": {"labels": {"receivership": "RJ"}}}}
    )
    marts_yaml_as(document)
    with pytest.raises(
        ReceivablesError, match=r"mart_entity_debtor_exposure.insolvency_status: labels differ"
    ):
        marts_catalog.value_labels()


@pytest.mark.unit
def test_a_column_is_read_by_one_label_and_the_figures_by_the_project_s_formats():
    """The marts' +meta in dbt_project.yml: one label per column name, the d3 formats by kind."""
    labels = marts_catalog.column_labels()
    assert labels["as_of_date"] == "Date d'arrêté" and labels["open_amount_eur"] == "Reste dû (EUR)"
    assert len(set(labels)) == len(labels) > 100
    assert marts_catalog.number_formats() == {"eur": "$,.2f", "share": ".1%", "days": ",.1f", "count": ",.0f"}
    with pytest.raises(
        ReceivablesError, match=r"dbt_project.yml: the marts' \+meta.column_labels has no label for 'nope'"
    ):
        marts_catalog.column_label("nope")


@pytest.mark.unit
def test_the_bundle_generator_does_nothing_on_import(monkeypatch):
    """Its functions read the warehouse and write files only when called (``main``)."""
    import importlib.util

    import duckdb

    monkeypatch.setattr(
        duckdb, "connect", lambda *a, **k: pytest.fail("the generator opened DuckDB on import")
    )
    spec = importlib.util.spec_from_file_location(
        "bundle_generator", REPO / "scripts" / "generate_dashboards_bundle.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(module.main) and callable(module.write_bundle)
    assert {chart[2] for chart in module.charts()} <= set(module.DATASET_METRICS)  # a chart's dataset exists
