"""Trust nothing at the boundary (issue 18): links, special files, manifests, cut files, encodings and far dates."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path

import pytest
import yaml

from conftest import DAY1, DAY2, good_drop, reader, write_drop
from receivables.contract import DATE_HORIZON_YEARS, DISPUTE_REASONS
from receivables.ingest.landing import OK, QUARANTINED
from test_isolation import build_night, land_night, reason_of
from test_landing import ENTITIES, write_good_night


def rules(landing: Path, entity: str) -> set[str]:
    return {f["rule"] for f in reason_of(landing, entity, DAY1)["failures"]}


@pytest.mark.unit
def test_a_linked_drop_folder_is_refused_and_nothing_is_written_through_it(
    registry_file, landing, warehouse, query
):
    write_good_night(landing)
    de01 = landing / "DE01" / DAY1.isoformat()
    for path in de01.iterdir():
        path.unlink()
    de01.rmdir()
    gb01 = landing / "GB01" / DAY1.isoformat()
    de01.symlink_to(gb01, target_is_directory=True)  # DE01's drop would be GB01's rows again
    before = sorted(p.name for p in gb01.iterdir())

    outcomes = land_night(registry_file, landing, warehouse, DAY1)
    assert outcomes["DE01"].status == QUARANTINED and "symlink" in rules(landing, "DE01")
    assert outcomes["GB01"].status == OK
    assert sorted(p.name for p in gb01.iterdir()) == before  # no reason.json written through the link
    quarantined = landing / "_quarantine" / "DE01" / DAY1.isoformat()
    assert (quarantined / "drop.symlink").is_symlink() and (quarantined / "reason.json").is_file()
    assert query("select count(*) from raw.invoices where entity_code = 'DE01'") == [(0,)]
    assert query("select count(*) from raw.invoices where entity_code = 'GB01'") == [(3,)]


@pytest.mark.unit
def test_a_linked_file_is_refused(registry_file, landing, warehouse, tmp_path):
    write_good_night(landing, manifest=False)
    secret = tmp_path / "secret.txt"
    secret.write_text("SUPERSET_SECRET_KEY=not-for-you\n", encoding="utf-8")
    invoices = landing / "FR01" / DAY1.isoformat() / "invoices.csv"
    invoices.unlink()
    invoices.symlink_to(secret)
    outcomes = land_night(registry_file, landing, warehouse, DAY1)
    assert outcomes["FR01"].status == QUARANTINED and "symlink" in rules(landing, "FR01")
    reason = (landing / "_quarantine" / "FR01" / DAY1.isoformat() / "reason.json").read_text(encoding="utf-8")
    assert "not-for-you" not in reason
    assert all(outcomes[e].status == OK for e in ENTITIES if e != "FR01")


@pytest.mark.unit
@pytest.mark.parametrize("name", ["/dev/zero", "/etc/hostname", "../../GB01/2026-03-02/invoices.csv"])
def test_a_manifest_naming_a_path_is_refused_without_reading_it(name, registry_file, landing, warehouse):
    write_good_night(landing)
    (landing / "FR01" / DAY1.isoformat() / "_manifest.json").write_text(
        json.dumps({"files": {name: {"rows": 1}}}), encoding="utf-8"
    )
    outcomes = land_night(registry_file, landing, warehouse, DAY1)
    assert outcomes["FR01"].status == QUARANTINED
    failures = reason_of(landing, "FR01", DAY1)["failures"]
    assert [(f["file"], f["rule"], f["found"]) for f in failures] == [
        ("_manifest.json", "manifest_file", name)
    ]


@pytest.mark.unit
def test_a_pipe_or_an_oversized_file_is_refused(registry_file, landing, warehouse, monkeypatch):
    write_good_night(landing, manifest=False)
    payments = landing / "US01" / DAY1.isoformat() / "payments.csv"
    payments.unlink()
    os.mkfifo(payments)  # reading it would wait forever
    monkeypatch.setenv("RECEIVABLES_MAX_FILE_BYTES", "250")
    outcomes = land_night(registry_file, landing, warehouse, DAY1)
    assert outcomes["US01"].status == QUARANTINED and "not_a_file" in rules(landing, "US01")
    # every other drop has files over 250 bytes (its debtors and invoices); the FX file is smaller
    for entity in ("FR01", "DE01", "GB01"):
        assert outcomes[entity].status == QUARANTINED and "file_too_large" in rules(landing, entity), entity


@pytest.mark.unit
def test_a_linked_quarantine_folder_is_never_written_through(registry_file, landing, warehouse, tmp_path):
    write_good_night(landing)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (landing / "_quarantine").mkdir()
    (landing / "_quarantine" / "FR01").symlink_to(elsewhere, target_is_directory=True)
    bad = good_drop("FR01")
    bad["invoices"][0]["currency"] = "EURO"
    write_drop(landing, "FR01", DAY1, bad, manifest=True)
    outcome = land_night(registry_file, landing, warehouse, DAY1)["FR01"]
    assert outcome.status == QUARANTINED and "symbolic link" in outcome.reason
    assert list(elsewhere.iterdir()) == []
    assert (landing / "FR01" / DAY1.isoformat() / "invoices.csv").is_file()  # left where it was, not loaded


@pytest.mark.unit
def test_a_file_cut_mid_row_without_a_manifest_is_truncated(registry_file, landing, warehouse, query):
    write_good_night(landing, manifest=False)
    invoices = landing / "US01" / DAY1.isoformat() / "invoices.csv"
    data = invoices.read_bytes()
    invoices.write_bytes(data[: data.rindex(b"100.00") + 2])  # the last row's amount cut to "10"
    outcomes = land_night(registry_file, landing, warehouse, DAY1)
    assert outcomes["US01"].status == QUARANTINED
    failures = reason_of(landing, "US01", DAY1)["failures"]
    assert [(f["file"], f["row"]) for f in failures if f["rule"] == "truncated"] == [("invoices.csv", 4)]
    assert query("select count(*) from raw.invoices where entity_code = 'US01'") == [(0,)]


@pytest.mark.unit
def test_a_manifest_vouches_for_a_file_without_a_final_line_break(registry_file, landing, warehouse):
    write_good_night(landing)
    folder = landing / "GB01" / DAY1.isoformat()
    invoices = folder / "invoices.csv"
    invoices.write_bytes(invoices.read_bytes().rstrip(b"\r\n"))  # whole rows, no line break at the end
    manifest = json.loads((folder / "_manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["invoices.csv"]["sha256"] = hashlib.sha256(invoices.read_bytes()).hexdigest()
    (folder / "_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert land_night(registry_file, landing, warehouse, DAY1)["GB01"].status == OK


@pytest.mark.unit
def test_utf8_sent_for_a_cp1252_entity_is_named_row_by_row_and_read_as_utf8(
    registry_file, landing, warehouse, query, tmp_path
):
    write_good_night(landing, manifest=False)
    debtors = landing / "FR01" / DAY1.isoformat() / "debtors.csv"
    debtors.write_bytes(debtors.read_bytes().decode("cp1252").encode("utf-8"))  # Lefèvre, Müller in UTF-8
    outcome = land_night(registry_file, landing, warehouse, DAY1)["FR01"]
    assert outcome.status == OK  # a warning by default: the rows land, each listed
    assert query(
        "select file_name, row_number, rule from raw.landing_warnings where entity_code = 'FR01' order by 2"
    ) == [("debtors.csv", 2, "encoding_mismatch"), ("debtors.csv", 3, "encoding_mismatch")]
    # issue 33, item 11: read as the UTF-8 it is, the names land right (they landed as Lefèvre)
    assert query("select name from raw.debtors where entity_code = 'FR01' order by debtor_id") == [
        ("Boulangerie Lefèvre & Fils",),
        ("Müller Bau GmbH",),
    ]

    # an entity whose registry says so has such a drop quarantined
    strict = tmp_path / "strict.yml"
    strict.write_text(
        registry_file.read_text(encoding="utf-8").replace(
            'date_format: "%d/%m/%Y"}', 'date_format: "%d/%m/%Y", encoding_mismatch: error}', 1
        ),
        encoding="utf-8",
    )
    write_drop(landing, "FR01", DAY2, good_drop("FR01"))
    debtors = landing / "FR01" / DAY2.isoformat() / "debtors.csv"
    debtors.write_bytes(debtors.read_bytes().decode("cp1252").encode("utf-8"))
    assert land_night(strict, landing, warehouse, DAY2)["FR01"].status == QUARANTINED
    assert {f["rule"] for f in reason_of(landing, "FR01", DAY2)["failures"]} == {"encoding_mismatch"}


@pytest.mark.unit
def test_the_date_horizon_is_one_figure_for_landing_and_models():
    project = yaml.safe_load(
        (Path(__file__).parents[1] / "dbt_project" / "dbt_project.yml").read_text("utf-8")
    )
    assert project["vars"]["date_horizon_years"] == DATE_HORIZON_YEARS


@pytest.mark.unit
def test_dispute_reasons_are_one_list_for_landing_and_models():
    """The reasons a drop may give (contract) are those the seed labels, in its order."""
    import csv

    seed = Path(__file__).parents[1] / "dbt_project" / "seeds" / "dispute_reasons.csv"
    with seed.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(row["dispute_reason"] for row in rows) == DISPUTE_REASONS
    assert all(row["label_fr"] for row in rows)


@pytest.mark.unit
def test_the_generator_keeps_promises_by_the_seeds_grace_days():
    import csv

    from receivables.dev.generate import PROMISE_GRACE_DAYS

    seed = Path(__file__).parents[1] / "dbt_project" / "seeds" / "collection_parameters.csv"
    with seed.open(encoding="utf-8") as handle:
        parameters = {row["parameter"]: row["value"] for row in csv.DictReader(handle)}
    assert int(parameters["promise_grace_days"]) == PROMISE_GRACE_DAYS


@pytest.mark.dbt
def test_far_dates_are_warnings_and_cost_each_model_a_document_s_share_of_rows(
    registry_file, landing, warehouse, tmp_path
):
    """An ERP's 9999-12-31 ("no due date") and 1900-01-15 ("no date"): listed, landed, and cheap.

    Every model of the warehouse holds as many rows, give or take the
    document's own few, as it does when the same documents carry ordinary
    dates: no month end per month up to 9999 or since 1900.
    """
    control_landing, control = tmp_path / "control-landing", tmp_path / "control.duckdb"
    for folder, far in ((landing, True), (control_landing, False)):
        write_good_night(folder)
        drop = good_drop("GB01", "GBP")
        if far:
            drop["invoices"][0].update(issue_date=date(1900, 1, 15), due_date=date(1900, 2, 14))  # F-1
            drop["invoices"][1].update(due_date=date(9999, 12, 31))  # F-2, issued 2026-02-01
        write_drop(folder, "GB01", DAY1, drop, manifest=True)
    assert "GB01 2026-03-02: ok" in build_night(registry_file, landing, warehouse, DAY1)
    build_night(registry_file, control_landing, control, DAY1)

    query, controlled = reader(warehouse), reader(control)
    assert query(
        "select file_name, row_number, column_name, severity from marts.mart_data_issues "
        "where kind = 'far_date' order by all"
    ) == [
        ("invoices.csv", 2, "due_date", "warning"),
        ("invoices.csv", 2, "issue_date", "warning"),
        ("invoices.csv", 3, "due_date", "warning"),
    ]
    tables = "select table_schema, table_name from information_schema.tables where table_schema in ('intermediate', 'marts')"
    counted = {}
    for schema, table in query(tables):
        statement = f"select count(*) from {schema}.{table}"
        counted[table] = (query(statement)[0][0], controlled(statement)[0][0])
    assert {t: n for t, n in counted.items() if abs(n[0] - n[1]) > 3} == {}, counted
    # the DSO months of the far-dated documents: F-2 has its issue month only, F-1 its two 1900
    # month ends and its settlement's
    assert query(
        "select document_id, month_end from intermediate.int_dso_document_months "
        "where entity_code = 'GB01' and document_id in ('F-1', 'F-2') order by all"
    ) == [
        ("F-1", date(1900, 1, 31)),
        ("F-1", date(1900, 2, 28)),
        ("F-1", date(2026, 2, 28)),
        ("F-2", date(2026, 2, 28)),
    ]
    # DSO history starts with the first document issued within the horizon; F-1 still counts in the encours
    dso = "select month_end, entity_code, net_encours from marts.mart_dso where entity_code in ('GB01', 'GROUP')"
    assert query(dso + " order by all") == controlled(dso + " order by all") != []
    assert query("select min(month_end) from marts.mart_dso") == [(date(2026, 1, 31),)]
    assert query("select count(*) from marts.mart_dso where status = 'missing_fx_rate'") == [(0,)]
