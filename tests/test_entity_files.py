"""Per-entity serving files (SPEC section 15, issue 20): an entity's rows, and nothing else, by any route."""

from __future__ import annotations

import grp
import hashlib
import os
import re
import shutil
import stat
from pathlib import Path

import duckdb
import pytest

from conftest import receivables
from receivables.entity_files import ENTITY_MARTS, entity_file, write_entity_files
from receivables.errors import ReceivablesError
from test_sql_access import HOSTILE

ENTITIES = ("DE01", "FR01", "GB01")


@pytest.fixture(scope="module")
def published(reported_group, tmp_path_factory) -> Path:
    """The reported group's file as the serving file, with its entity files beside it."""
    serving = tmp_path_factory.mktemp("serving") / "warehouse.duckdb"
    shutil.copyfile(reported_group, serving)
    written = write_entity_files(serving)
    assert sorted(p.name for p in written) == [f"{code}.duckdb" for code in ENTITIES]
    return serving


def rows(path: Path, sql: str, *parameters: object) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql, list(parameters)).fetchall()


@pytest.mark.parametrize("entity", ENTITIES)
def test_an_entity_file_holds_the_group_file_s_rows_of_that_entity(published, entity):
    own = entity_file(published, entity)
    for mart in ENTITY_MARTS:
        if mart == "mart_weak_signals":
            continue
        expected = rows(published, f"select * from marts.{mart} where entity_code = ? order by all", entity)
        assert rows(own, f"select * from marts.{mart} order by all") == expected, mart
        # the sample group has rows in each (no week of its forecasts is over yet)
        assert expected or mart in ("mart_data_issues", "mart_forecast_accuracy"), mart
    # the weak signals on the groups it is exposed to, with its own exposure, no group detail
    signals = rows(own, "select as_of_date, debtor_group_id, amount_eur, detail from marts.mart_weak_signals")
    exposure = {
        (day, group): amount
        for day, group, amount in rows(
            published,
            "select as_of_date, debtor_group_id, sum(exposure_eur) from marts.mart_entity_debtor_exposure "
            "where entity_code = ? group by all",
            entity,
        )
    }
    assert signals and all(
        exposure[(day, group)] == amount and detail is None for day, group, amount, detail in signals
    )
    group_signals = rows(
        published,
        "select count(*) from marts.mart_weak_signals semi join "
        "(select * from marts.mart_entity_debtor_exposure where entity_code = ?) using (as_of_date, debtor_group_id)",
        entity,
    )
    assert [(len(signals),)] == group_signals  # every signal on a group it is exposed to, and only those
    # nothing else: every entity_code the file holds is its own, and no raw or intermediate layer
    schemas = {row[0] for row in rows(own, "select distinct schema_name from duckdb_tables()")}
    assert schemas == {"marts", "reference"}
    for mart in ENTITY_MARTS:
        columns = {row[0] for row in rows(own, f"select column_name from (describe marts.{mart})")}
        if "entity_code" in columns:
            assert {r[0] for r in rows(own, f"select distinct entity_code from marts.{mart}")} <= {entity}, (
                mart
            )


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_the_sql_command_on_an_entity_file_reaches_nothing_else(case, published, tmp_path):
    own = entity_file(published, "FR01")
    before = hashlib.sha256(own.read_bytes()).hexdigest()
    secret = tmp_path / ".env"
    secret.write_text("SUPERSET_ADMIN_PASSWORD=not-for-you\n", encoding="utf-8")
    statement = HOSTILE[case].format(warehouse=published, tmp=tmp_path, env=secret)
    result = receivables("sql", "--warehouse", str(published), "--entity", "FR01", "-c", statement)
    assert result.returncode == 2, result.stdout
    assert "not-for-you" not in result.stdout + result.stderr
    assert hashlib.sha256(own.read_bytes()).hexdigest() == before
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "other.duckdb").exists()


def test_the_sql_command_for_an_entity_answers_from_its_file_only(published):
    result = receivables(
        "sql", "--warehouse", str(published), "--entity", "FR01", "--csv", "-c",
        "select entity_code, count(*) from marts.fct_open_items group by all order by all",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [line.split(",")[0] for line in result.stdout.splitlines()] == ["entity_code", "FR01"]
    missing = receivables("sql", "--warehouse", str(published), "--entity", "XX99", "-c", "select 1")
    assert missing.returncode == 2 and "XX99.duckdb: no such warehouse file" in missing.stderr


def test_a_reader_keeps_its_snapshot_while_the_entity_files_are_published_again(published, tmp_path):
    serving = tmp_path / "warehouse.duckdb"
    shutil.copyfile(published, serving)
    write_entity_files(serving, ["FR01"])
    count = "select count(*) from marts.fct_open_items"
    reader = duckdb.connect(str(entity_file(serving, "FR01")), read_only=True)
    try:
        [(before,)] = reader.execute(count).fetchall()
        with duckdb.connect(str(serving)) as connection:  # the next night: FR01 loses an item, at every date
            [(lost,)] = connection.execute(
                "delete from marts.fct_open_items where entity_code = 'FR01' and document_id = "
                "(select min(document_id) from marts.fct_open_items where entity_code = 'FR01')"
            ).fetchall()
        assert lost >= 1
        write_entity_files(serving, ["FR01"])
        assert reader.execute(count).fetchall() == [(before,)]  # the file it opened, whole
    finally:
        reader.close()
    assert rows(entity_file(serving, "FR01"), count) == [(before - lost,)]


def test_the_controllers_examples_run_on_an_entity_file(published):
    """docs/sql-access.md, "A controller's own entity": each block, in one session on FR01's file."""
    page = (Path(__file__).parents[1] / "docs" / "sql-access.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql entity\n(.*?)```", page, flags=re.S)
    assert len(blocks) == 3, "the controllers' examples are gone"
    result = receivables(
        "sql", "--warehouse", str(published), "--entity", "FR01", "--csv", "-c", "".join(blocks)
    )
    assert result.returncode == 0, result.stderr
    headers = [
        line
        for line in result.stdout.splitlines()
        if line.startswith(("aging_bucket", "document_id", "month_end"))
    ]
    assert len(headers) == 3 and result.stdout.count("\n") > 10


def test_each_entity_file_gets_the_group_set_for_it(published, tmp_path, monkeypatch):
    """RECEIVABLES_ENTITY_FILE_GROUP: the group (here this account's own, the one a test may give) and 0640."""
    serving = tmp_path / "warehouse.duckdb"
    shutil.copyfile(published, serving)
    own_group = grp.getgrgid(os.getgid()).gr_name
    monkeypatch.setenv("RECEIVABLES_ENTITY_FILE_GROUP", own_group)
    for path in write_entity_files(serving, ["FR01", "DE01"]):
        status = path.stat()
        assert (status.st_gid, stat.S_IMODE(status.st_mode)) == (os.getgid(), 0o640), path


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("receivables-absent-{entity}", "entity FR01: no Unix group 'receivables-absent-fr01'"),
        ("receivables-{code}", "only {entity} may be named"),
    ],
)
def test_a_missing_entity_group_stops_the_publish_before_any_file_moves(
    pattern, message, published, tmp_path, monkeypatch
):
    serving = tmp_path / "warehouse.duckdb"
    shutil.copyfile(published, serving)
    [before] = write_entity_files(serving, ["FR01"])
    inode = before.stat().st_ino
    monkeypatch.setenv("RECEIVABLES_ENTITY_FILE_GROUP", pattern)
    with pytest.raises(ReceivablesError, match=re.escape(message)):
        write_entity_files(serving, ["FR01"])
    assert before.stat().st_ino == inode  # last night's file, untouched
    assert not list(before.parent.glob(".*.publishing"))
