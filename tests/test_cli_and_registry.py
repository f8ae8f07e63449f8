"""The command line, the entity registry and the committed suites."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import DAY1, REPO, fx_drop, good_drop, write_drop
from receivables.contract import INVOICES
from receivables.errors import RegistryError
from receivables.ingest.suites import stale_suites
from receivables.registry import CsvDialect, load_registry
from receivables.warehouse.store import typed_select

RECEIVABLES = [sys.executable, "-m", "receivables.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RECEIVABLES, *args], capture_output=True, text=True, timeout=600)


@pytest.mark.unit
def test_sample_registry_loads():
    registry = load_registry(REPO / "config" / "sample_entities.yml")
    fr = registry.entity("FR01")
    assert (fr.csv.delimiter, fr.csv.decimal, fr.csv.encoding, fr.csv.date_format) == (
        ";",
        ",",
        "cp1252",
        "%d/%m/%Y",
    )
    assert registry.entity("GB01").csv.date_format == "%Y-%m-%d"
    assert registry.entity("FEC01").drops_fec and not registry.entity("FR01").drops_fec


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            "entities: [{code: FR01, name: X, country: FR, currency: EUR, csv: {delimiter: ';;'}}]",
            "entities[1] (FR01): csv.delimiter",
        ),
        (
            "entities: [{code: FR01, name: X, country: FR, currency: EUR, csv: {encoding: klingon}}]",
            "unknown csv.encoding 'klingon'",
        ),
        (
            "entities: [{code: FR01, name: X, country: FR, currency: EUR, csv: {date_format: '%d/%m/%y'}}]",
            "csv.date_format",
        ),
        ("entities: [{code: FR01, name: X, country: FR}]", "entities[1]: missing currency"),
        ("entities: [{code: fr01, name: X, country: FR, currency: EUR}]", "entity code 'fr01'"),
        ("entities: [{code: GROUP, name: X, country: FR, currency: EUR}]", "entity code 'GROUP'"),
        (
            "entities:\n - {code: FR01, name: X, country: FR, currency: EUR}\n - {code: FR01, name: Y, country: FR, currency: EUR}",
            "listed twice: FR01",
        ),
        ("group_currency: USD\nentities: []", "group_currency must be EUR"),
        ("entities: [", "not valid YAML"),
    ],
)
@pytest.mark.unit
def test_registry_errors_name_the_file_and_entry(tmp_path, yaml_text, message):
    path = tmp_path / "bad.yml"
    path.write_text(yaml_text)
    with pytest.raises(RegistryError) as error:
        load_registry(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


@pytest.mark.unit
def test_booleans_any_case_as_landed():
    """SPEC section 2: true/false/1/0, any case, through the SQL that types landed files."""
    frame = pd.DataFrame({column: pd.Series([None] * 5, dtype="str") for column in INVOICES.column_names})
    frame["disputed"] = ["TRUE", "false", "1", "0", "True"]
    select = typed_select(INVOICES, CsvDialect(), "frame", "FR01", "2026-03-02")
    with duckdb.connect() as connection:
        values = [row[0] for row in connection.execute(f"select disputed from ({select})").fetchall()]
    assert values == [True, False, True, False, True]


@pytest.mark.unit
def test_committed_suites_match_the_contract():
    assert stale_suites(REPO / "expectations") == []


@pytest.mark.unit
def test_land_command_prints_each_status(tmp_path, registry_file, landing, warehouse):
    write_drop(landing, "_group", DAY1, fx_drop())
    write_drop(landing, "FR01", DAY1, good_drop("FR01"))
    land_args = ["land", "--entities", str(registry_file), "--landing", str(landing)]
    land_args += ["--as-of", DAY1.isoformat(), "--warehouse", str(warehouse)]
    result = run(*land_args)
    assert result.returncode == 0, result.stderr
    assert "FR01 2026-03-02: ok, 10 rows" in result.stdout
    assert "DE01 2026-03-02: stale" in result.stdout
    strict = run(*land_args, "--strict")
    assert strict.returncode == 2
    assert strict.stderr.strip().splitlines()[-1] == "error: 3 drops were quarantined or missing (see above)"


@pytest.mark.unit
def test_failing_command_ends_with_one_clear_line(tmp_path):
    result = run(
        "land",
        "--entities",
        str(tmp_path / "nope.yml"),
        "--landing",
        str(tmp_path),
        "--as-of",
        "2026-03-02",
        "--warehouse",
        str(tmp_path / "w.duckdb"),
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip().splitlines()[-1] == f"error: {tmp_path / 'nope.yml'}: entity registry not found"
    )
    bad_date = run("land", "--entities", "x", "--landing", "x", "--as-of", "02/03/2026", "--warehouse", "x")
    assert bad_date.returncode == 2 and "expected a date as YYYY-MM-DD" in bad_date.stderr.splitlines()[-1]
    backwards = run("generate", "--out", str(tmp_path / "g"), "--start", "2025-02-01", "--end", "2025-01-01")
    assert backwards.returncode == 2
    assert backwards.stderr.strip().splitlines()[-1] == "error: --end 2025-01-01 is before --start 2025-02-01"


@pytest.mark.unit
def test_generate_then_land_a_range(tmp_path):
    out = tmp_path / "group"
    assert (
        run(
            "generate",
            "--out",
            str(out),
            "--entities",
            "2",
            "--start",
            "2025-03-01",
            "--end",
            "2025-03-31",
            "--invoices",
            "300",
        ).returncode
        == 0
    )
    result = run(
        "land",
        "--entities",
        str(out / "entities.yml"),
        "--landing",
        str(out),
        "--as-of",
        "2025-03-24",
        "--to",
        "2025-03-26",
        "--warehouse",
        str(tmp_path / "w.duckdb"),
        "--strict",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": ok") == 9  # 3 nights x (GROUP + 2 entities)
    assert date(2025, 3, 26).isoformat() in result.stdout


@pytest.mark.unit
def test_module_entry_point_matches_console_script():
    script = Path(sys.executable).with_name("receivables")
    assert script.exists()
    assert subprocess.run([str(script), "--help"], capture_output=True, text=True).returncode == 0


@pytest.mark.airflow
def test_bench_prints_the_figures_issue_7_asks_for(tmp_path):
    """A tiny group through every bench phase: the JSON has each figure, each a positive number."""
    import json

    from conftest import receivables

    out = tmp_path / "bench.json"
    receivables(
        "bench", "--invoices", "2000", "--entities", "2", "--years", "0.5", "--debtors", "40", "--repeat", "2",
        "--workdir", str(tmp_path / "work"), "--out", str(out), check=True,
    )  # fmt: skip
    figures = json.loads(out.read_text())
    for key in ("landing_rows_per_s", "full_build_s", "incremental_night_s", "peak_rss_mb", "warehouse_mb",
                "query_p50_ms", "query_p95_ms", "full_vs_bare_duckdb_ratio", "incremental_night_peak_rss_mb"):  # fmt: skip
        assert isinstance(figures[key], (int, float)) and figures[key] > 0, key
    assert figures["query_p50_ms"] <= figures["query_p95_ms"]
    assert len(figures["nights"]) == 3 and figures["machine"]["cpus"] >= 1
    # the night that counts is the one of median cost, its memory the highest of the three
    median = sorted(figures["nights"], key=lambda night: night["land_s"] + night["build_s"])[1]
    assert figures["incremental_night_date"] == median["date"]
    assert figures["incremental_night_rows"] == median["rows"]
    assert figures["incremental_night_peak_rss_mb"] == max(
        night["build_peak_rss_mb"] for night in figures["nights"]
    )
    # half a year ending 2025-12-31 (the 1 M group of docs/benchmarks.md is the 10 M group's last six months)
    assert figures["history_start"] == "2025-07-02"

    # the last night again on the same group: read again (by load), the same rows, the history untouched
    import duckdb

    with duckdb.connect(str(tmp_path / "work" / "warehouse.duckdb"), read_only=True) as connection:
        invoices = connection.execute("select count(*) from raw.invoices").fetchone()[0]
    replayed = tmp_path / "replay.json"
    receivables(
        "bench", "--replay-night", "--replays", "1", "--repeat", "1",
        "--workdir", str(tmp_path / "work"), "--out", str(replayed), check=True,
    )  # fmt: skip
    replay = json.loads(replayed.read_text())
    assert replay["replayed_night"] == figures["nights"][-1]["date"]
    assert replay["incremental_night_date"] == figures["nights"][-1]["date"]
    assert replay["incremental_night_rows"] == figures["nights"][-1]["rows"]
    assert replay["invoices_in_warehouse"] == invoices > 0
    for key in ("incremental_night_s", "incremental_night_peak_rss_mb", "query_p95_ms", "warehouse_mb"):
        assert isinstance(replay[key], (int, float)) and replay[key] > 0, key
    empty = receivables("bench", "--replay-night", "--workdir", str(tmp_path / "nothing"))
    assert empty.returncode != 0 and "no benchmark group to replay" in empty.stderr

    # a group whose two nights are generated, not landed (as the 10 M bench runs), then those
    # nights as an Airflow backfill, then the last night through the CLI and the DAG
    fresh = tmp_path / "history-only"
    receivables(
        "bench", "--invoices", "2000", "--entities", "2", "--years", "0.5", "--debtors", "40", "--repeat", "1",
        "--nights", "2", "--history-only", "--workdir", str(fresh), "--out", str(tmp_path / "history.json"),
        check=True,
    )  # fmt: skip
    history = json.loads((tmp_path / "history.json").read_text())
    assert (history["nights"], history["nights_left_to_land"]) == ([], 2)
    with duckdb.connect(str(fresh / "warehouse.duckdb"), read_only=True) as connection:
        assert connection.execute("select count(distinct as_of_date) from marts.mart_aging").fetchone() == (
            1,
        )
    through = tmp_path / "airflow.json"
    receivables(
        "bench", "--through-airflow", "--backfill", "2", "--workdir", str(fresh), "--out", str(through),
        check=True,
    )  # fmt: skip
    airflow = json.loads(through.read_text())
    night = airflow["airflow_night"]
    assert night["state"] == "success" and airflow["night"] == "2025-12-31"
    with duckdb.connect(str(fresh / "serving" / "warehouse.duckdb"), read_only=True) as connection:
        built = connection.execute("select count(distinct as_of_date) from marts.mart_aging").fetchone()
    assert built == (3,)  # the history's date and the backfill's two nights
    assert (
        0
        < night["tasks"]["validate"]["last_end_s"]
        < night["trigger_to_publish_s"]
        <= night["trigger_to_end_s"]
    )
    validated = sorted(code for batch in night["tasks"]["validate"]["maps"] for code in batch.split(", "))
    assert validated == sorted(["GROUP", "DE01", "FR01"])  # every drop once, batches named by their drops
    # each validation forked from a LocalExecutor worker that had imported Great Expectations
    texts = [
        log.read_text()
        for log in (fresh / "airflow" / "logs").glob(
            "dag_id=*/run_id=*/task_id=validate/map_index=*/attempt=*.log"
        )
    ]
    assert len(texts) >= 4  # one or more per run: the backfill's two nights, the DAG's two
    assert all(
        "Great Expectations: imported before this process started (preloaded)" in text for text in texts
    )
    assert airflow["cli_night_s"] > 0 and airflow["airflow_vs_cli"] > 0
    backfill = airflow["backfill"]
    assert (backfill["nights"], backfill["runs_that_built"], backfill["states"]) == (2, 1, ["success"])
    assert backfill["last_run"]["tasks"]["publish"]["state"] == ["success"]
    too_many = receivables("bench", "--through-airflow", "--backfill", "9", "--workdir", str(fresh))
    assert too_many.returncode != 0 and "fewer than --backfill 9" in too_many.stderr


@pytest.mark.unit
def test_settings_name_every_missing_variable_and_are_all_documented():
    from receivables.errors import ReceivablesError
    from receivables.settings import VARIABLES, settings

    with pytest.raises(ReceivablesError) as missing:
        settings("entities", "serving", where="Airflow", environ={"RECEIVABLES_LANDING": "/srv/landing"})
    assert str(missing.value) == (
        "set the environment variables RECEIVABLES_ENTITIES, RECEIVABLES_SERVING (see README, Airflow)"
    )
    found = settings("serving", environ={"RECEIVABLES_SERVING": "/srv/serving.duckdb"})
    assert found.reports == Path("/srv/reports") and found.max_file_bytes == 4 * 1024**3
    with pytest.raises(ReceivablesError, match="must be a number of bytes"):
        _ = settings(environ={"RECEIVABLES_MAX_FILE_BYTES": "4G"}).max_file_bytes
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert [name for name, _ in VARIABLES.values() if name not in readme] == []


@pytest.mark.unit
def test_the_pipeline_never_imports_the_development_tools():
    """The generator and the benchmark live in receivables.dev; no part of the nightly path loads them."""
    modules = [
        "receivables.cli", "receivables.ingest.landing", "receivables.ingest.validation", "receivables.warehouse.build",
        "receivables.warehouse.isolation", "receivables.nightly", "receivables.reports.schedule", "receivables.reports.files",
        "receivables.serve.sql", "receivables.serve.superset_provision", "receivables.ingest.load", "receivables.ingest.staging",
        "receivables.ingest.quarantine", "receivables.settings",
    ]  # fmt: skip
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('receivables.dev')))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
    dags = Path(__file__).parents[1] / "dags"
    assert not [p.name for p in dags.glob("*.py") if "receivables.dev" in p.read_text(encoding="utf-8")]
