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
from receivables.errors import ReceivablesError
from receivables.serve.entity_files import ENTITY_MARTS, PUBLISH_SCHEMA, entity_file, write_entity_files
from test_sql_access import HOSTILE

pytestmark = pytest.mark.dbt

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
        # the sample group has rows in each (no week of its forecasts is over yet; its year, 2025, is before
        # e-invoicing: tests/test_einvoice.py has its entity files; no drop restates a date it published:
        # tests/test_dashboards.py's group does, and its controllers read their own rows only)
        empty = (
            "mart_restatements",
            "mart_data_issues",
            "mart_forecast_accuracy",
            "mart_einvoice_lifecycle",
            "mart_einvoice_212_to_send",
        )
        assert expected or mart in empty, mart
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
    assert schemas == {"marts", "reference", PUBLISH_SCHEMA}
    # the publish's own record: a fingerprint per mart and as-of date, no figure
    recorded = rows(own, f"select mart from {PUBLISH_SCHEMA}.marts order by 1")
    assert [mart for (mart,) in recorded] == sorted(ENTITY_MARTS)
    columns = rows(own, f"select column_name from (describe {PUBLISH_SCHEMA}.partitions)")
    assert [column for (column,) in columns] == ["mart", "as_of_date", "fingerprint"]
    dates = rows(
        own, f"select distinct as_of_date from {PUBLISH_SCHEMA}.partitions where mart = 'mart_aging'"
    )
    assert sorted(day for (day,) in dates) == sorted(
        day for (day,) in rows(published, "select distinct as_of_date from marts.mart_aging")
    )
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
    assert missing.returncode == 2
    assert "no published file for entity 'XX99' (published: DE01, FR01, GB01)" in missing.stderr


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


def entity_tables(path: Path) -> dict[str, list[tuple]]:
    """Every table of an entity file but the publish's record, its rows sorted."""
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name <> ? order by all",
            [PUBLISH_SCHEMA],
        ).fetchall()
        return {
            f"{schema}.{table}": connection.execute(
                f'select * from {schema}."{table}" order by all'
            ).fetchall()
            for schema, table in tables
        }


def test_the_next_publish_writes_what_changed_and_equals_a_whole_write(published, tmp_path, caplog):
    """Last night's entity files, copied, with only the changed partitions written again, hold what
    files written whole from the same group file hold: after a new as-of date, a date restated, a date
    gone, a change to a mart without as-of dates, a new column, and beside an unreadable file."""
    serving = tmp_path / "nightly" / "warehouse.duckdb"
    serving.parent.mkdir()
    shutil.copyfile(published, serving)
    write_entity_files(serving)
    marts = [m for m in ENTITY_MARTS if m not in ("mart_weak_signals", "mart_dso")]
    changes = {
        "a new as-of date, copied from the last": [
            f"insert into marts.{mart} select * replace (date '2026-01-02' as as_of_date) "
            f"from marts.{mart} where as_of_date = date '2025-12-31'"
            for mart in [*marts, "mart_weak_signals"]
        ],
        "an amount restated at an earlier date": [
            "update marts.fct_open_items set open_amount_eur = open_amount_eur + 1 "
            "where as_of_date = date '2025-12-30' and entity_code = 'FR01' and document_id = "
            "(select min(document_id) from marts.fct_open_items where entity_code = 'FR01')",
            "update marts.mart_entity_debtor_exposure set exposure_eur = exposure_eur + 1 "
            "where as_of_date = date '2025-12-30' and entity_code = 'DE01'",
        ],
        "an as-of date gone": [
            f"delete from marts.{mart} where as_of_date = date '2025-12-30'" for mart in marts
        ]
        + ["delete from marts.mart_weak_signals where as_of_date = date '2025-12-30'"],
        "a month of DSO restated": [
            "update marts.mart_dso set dso_countback = dso_countback + 1 "
            "where entity_code = 'GB01' and month_end = (select max(month_end) from marts.mart_dso)"
        ],
        "a column added to a mart": [
            "alter table marts.mart_aging add column note varchar default 'new'",
        ],
    }
    for change, statements in changes.items():
        with duckdb.connect(str(serving)) as connection:
            for statement in statements:
                connection.execute(statement)
        whole = tmp_path / change.replace(" ", "-") / "warehouse.duckdb"
        whole.parent.mkdir()
        shutil.copyfile(serving, whole)
        write_entity_files(whole)  # no files beside it yet: each written whole
        if change == "a column added to a mart":  # and one file not a DuckDB file any more
            entity_file(serving, "GB01").write_bytes(b"not a database")
        caplog.clear()
        write_entity_files(serving)
        for entity in ENTITIES:
            assert entity_tables(entity_file(serving, entity)) == entity_tables(entity_file(whole, entity)), (
                change,
                entity,
            )
    assert "GB01.duckdb: not readable" in caplog.text
    with duckdb.connect(str(entity_file(serving, "FR01")), read_only=True) as connection:
        dates = connection.execute(
            "select distinct as_of_date from marts.fct_open_items order by 1"
        ).fetchall()
        assert {"2025-12-31", "2026-01-02"} <= {day.isoformat() for (day,) in dates}
        assert "2025-12-30" not in {day.isoformat() for (day,) in dates}
        assert connection.execute("select distinct note from marts.mart_aging").fetchall() == [("new",)]


def test_a_night_with_nothing_changed_rewrites_no_partition(published, tmp_path, monkeypatch):
    serving = tmp_path / "warehouse.duckdb"
    shutil.copyfile(published, serving)
    write_entity_files(serving, ["FR01"])
    statements: list[str] = []
    import receivables.serve.entity_files as module

    original = module._write_mart

    def spy(connection, entity_code, mart, wanted, recorded):
        class Recording:
            def execute(self, sql, *args):
                statements.append(sql)
                return connection.execute(sql, *args)

        return original(Recording(), entity_code, mart, wanted, recorded)

    monkeypatch.setattr(module, "_write_mart", spy)
    write_entity_files(serving, ["FR01"])
    assert [s for s in statements if s.startswith(("insert", "delete", "create"))] == []


def test_an_entity_file_holds_no_figure_of_the_group_anywhere(published):
    """Issue 33, item 7: every table of an entity file is the entity's own rows, the seeds or the
    publish's record, and each fingerprint the publish recorded is computed again from the file's own
    rows (it held the group's weak-signal counts and a hash of the group's rows)."""
    for entity in ENTITIES:
        with duckdb.connect(str(entity_file(published, entity)), read_only=True) as connection:
            tables = connection.execute(
                "select schema_name, table_name from duckdb_tables() order by all"
            ).fetchall()
            assert {schema for schema, _ in tables} == {"marts", "reference", PUBLISH_SCHEMA}
            assert [t for s, t in tables if s == PUBLISH_SCHEMA] == ["marts", "partitions"]
            for mart, shape in connection.execute(
                f"select mart, shape from {PUBLISH_SCHEMA}.marts"
            ).fetchall():
                assert mart in ENTITY_MARTS and re.fullmatch(r"[0-9a-f]{64}", shape), (mart, shape)
            recorded = connection.execute(
                f"select mart, as_of_date, fingerprint from {PUBLISH_SCHEMA}.partitions"
            ).fetchall()
            assert (
                {"fct_open_items", "mart_weak_signals"}
                <= {mart for mart, _, _ in recorded}
                <= set(ENTITY_MARTS)
            )
            for mart, day, fingerprint in recorded:
                where, parameters = ("as_of_date = ?", [day]) if day is not None else ("true", [])
                [(own,)] = connection.execute(
                    f"select count(*) || ':' || sum(hash(m)) from marts.{mart} as m where {where}", parameters
                ).fetchall()
                assert fingerprint == own, (entity, mart, day)
