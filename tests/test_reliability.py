"""Reliability, second round (issue 33): the probe's reproductions, each as a regression test.

A clumsy operator or a hostile entity tried each of these on a held-out-style
group; each stopped or skewed the group before its fix.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import receivables
from receivables.sql import write_result

pytestmark = pytest.mark.unit


def served(tmp_path: Path, *entities: str) -> Path:
    """A serving folder: a group file and one file per entity, each with a table ``t`` naming its owner."""
    serving = tmp_path / "serving" / "warehouse.duckdb"
    (serving.parent / "entities").mkdir(parents=True)
    for path, owner in [
        (serving, "GROUP"),
        *((serving.parent / "entities" / f"{e}.duckdb", e) for e in entities),
    ]:
        with duckdb.connect(str(path)) as connection:
            connection.execute("create table t as select ? as owner", [owner])
    return serving


# 4. `receivables sql --csv` wrote a value holding a lone carriage return unquoted: readers split the
#    row there and the next cell could start with an unmarked `=cmd|…`.
@pytest.mark.parametrize("line_break", ["\r", "\n", "\r\n"])
def test_csv_quotes_a_line_break_and_marks_a_formula_after_it(line_break):
    out = io.StringIO(newline="")
    name = f"Dupont SA{line_break}=cmd|' /C calc'!A0"
    marked = write_result(["name", "amount"], [(name, 1), ("Martin", 2)], out, csv_output=True)
    text = out.getvalue()
    assert f"\"Dupont SA{line_break}'=cmd" in text  # quoted, and the formula after the break marked
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["name", "amount"], [f"Dupont SA{line_break}'=cmd|' /C calc'!A0", "1"], ["Martin", "2"]]
    assert marked == 1
    # a reader that splits lines at any break still finds no cell starting with a formula
    cells = [
        cell
        for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for cell in line.split(",")
    ]
    assert not [cell for cell in cells if cell.lstrip('"').startswith(("=", "+", "-", "@"))]


def test_the_csv_command_writes_a_carriage_return_quoted(tmp_path):
    serving = served(tmp_path)
    with duckdb.connect(str(serving)) as connection:
        connection.execute("create table names as select 'Dupont' || chr(13) || '=cmd' as name")
    completed = subprocess.run(
        [sys.executable, "-m", "receivables.cli", "sql", "--warehouse", str(serving), "--csv", "-c",
         "select name from names"],
        capture_output=True, check=True,
    )  # fmt: skip
    assert completed.stdout == b'name\n"Dupont\r\'=cmd"\n'


# 10. `sql --entity` took a path component: `--entity ../warehouse` opened the group file.
@pytest.mark.parametrize("entity", ["../warehouse", "../entities/FR01", "fr01", "/etc/passwd", "FR01/..", ""])
def test_the_sql_command_takes_an_entity_code_only(tmp_path, entity):
    serving = served(tmp_path, "FR01")
    result = receivables("sql", "--warehouse", str(serving), "--entity", entity, "-c", "select owner from t")
    assert result.returncode == 2
    assert "GROUP" not in result.stdout
    assert f"--entity {entity!r}: not an entity code" in result.stderr


def test_the_sql_command_names_the_published_entities_for_an_unknown_one(tmp_path):
    serving = served(tmp_path, "FR01", "DE01")
    result = receivables("sql", "--warehouse", str(serving), "--entity", "US01", "-c", "select owner from t")
    assert result.returncode == 2
    assert "no published file for entity 'US01' (published: DE01, FR01)" in result.stderr
    answer = receivables("sql", "--warehouse", str(serving), "--entity", "FR01", "-c", "select owner from t")
    assert answer.returncode == 0 and "FR01" in answer.stdout
