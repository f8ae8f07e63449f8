"""``receivables sql``: read-only SQL on the published warehouse, for controllers.

The file is opened read-only with external access off
(``warehouse.open_published``): nothing a query does can change it or read,
write or attach any other file, and a publish (which swaps the file in
atomically) never waits for a reader. CSV output is for spreadsheets: text
that a spreadsheet would run as a formula is written with a leading
apostrophe, as the reports' workbooks mark it, and the command says so.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from receivables.errors import ReceivablesError
from receivables.reports.files import is_formula_like
from receivables.warehouse.store import open_published


def connect(warehouse: Path) -> Any:
    if not warehouse.is_file():
        raise ReceivablesError(f"{warehouse}: no such warehouse file (publish one, or pass --warehouse)")
    return open_published(warehouse)


def _answers(statement: Any) -> bool:
    """Statements whose result is worth printing (not SET's "Success")."""
    import duckdb

    return statement.type in {
        duckdb.StatementType.SELECT,
        duckdb.StatementType.EXPLAIN,
        duckdb.StatementType.PRAGMA,
    }


def _run(connection: Any, text: str, out: TextIO, csv_output: bool, marked: _Marks | None = None) -> None:
    """Run every statement of ``text`` on ``connection``; print each result set."""
    for statement in connection.extract_statements(text):
        try:
            relation = connection.sql(statement.query)
        except Exception as exc:  # duckdb's errors name the line and the column
            raise ReceivablesError(f"{statement.query.strip()[:80]!r}: {exc}") from exc
        if relation is not None and _answers(statement):
            count = write_result(relation.columns, relation.fetchall(), out, csv_output)
            if marked is not None:
                marked.count += count


def run_statements(warehouse: Path, text: str, out: TextIO, csv_output: bool = False) -> int:
    """Run every statement of ``text`` in one session; print each result set.

    Returns how many CSV cells were marked as text (formula-like values).
    """
    connection = connect(warehouse)
    marked = _Marks()
    try:
        _run(connection, text, out, csv_output, marked)
    finally:
        connection.close()
    return marked.count


class _Marks:
    """How many formula-like CSV cells a session marked as text."""

    def __init__(self) -> None:
        self.count = 0


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


# a line break followed by what a spreadsheet runs as a formula: a reader that splits rows at any
# line break (quoted or not) would start a cell there
FORMULA_AFTER_A_LINE_BREAK = re.compile(r"(\r\n|\r|\n)(?=[=+\-@\t])")


def _csv_cell(value: Any) -> tuple[str, bool]:
    """A CSV cell, and whether it was marked as text.

    Formula-like text gets a leading apostrophe, and so does any line of it
    after a line break that starts like a formula. The writer quotes every
    cell that holds a line break (``write_result``).
    """

    text = _cell(value)
    if not isinstance(value, str):
        return text, False
    marked = FORMULA_AFTER_A_LINE_BREAK.sub(r"\1'", text)
    if is_formula_like(marked):
        marked = "'" + marked
    return marked, marked != text


QUOTED = re.compile(r'[,"\r\n]')


def _csv_line(cells: list[str]) -> str:
    """One CSV row ending in a line feed; a cell holding a comma, a quote or any line break is quoted.

    Python's csv writer quotes only the characters of its own line terminator:
    with a line feed as terminator it wrote a lone carriage return bare, and readers split the row there.
    """
    quoted = ['"' + cell.replace('"', '""') + '"' if QUOTED.search(cell) else cell for cell in cells]
    return ",".join(quoted) + "\n"


def write_result(columns: list[str], rows: list[tuple[Any, ...]], out: TextIO, csv_output: bool) -> int:
    """Print one result set; returns how many CSV cells were marked as text."""
    if csv_output:
        out.write(_csv_line([_csv_cell(name)[0] for name in columns]))
        marked = 0
        for row in rows:
            written = [_csv_cell(value) for value in row]
            marked += sum(was_marked for _, was_marked in written)
            out.write(_csv_line([text for text, _ in written]))
        return marked
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(name), *(len(row[i]) for row in cells)]) for i, name in enumerate(columns)]
    numeric = [bool(rows) and all(isinstance(row[i], (int, float, Decimal)) or row[i] is None for row in rows)
               for i in range(len(columns))]  # fmt: skip
    out.write(
        "  ".join(name.ljust(width) for name, width in zip(columns, widths, strict=True)).rstrip() + "\n"
    )
    out.write("  ".join("-" * width for width in widths) + "\n")
    for texts in cells:
        line = "  ".join(
            value.rjust(width) if is_number else value.ljust(width)
            for value, width, is_number in zip(texts, widths, numeric, strict=True)
        )
        out.write(line.rstrip() + "\n")
    out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")
    return 0


def shell(warehouse: Path) -> None:  # pragma: no cover - interactive
    import sys

    connection = connect(warehouse)
    print(f"{warehouse} (read-only). End statements with ';'. Ctrl-D quits.")
    buffer: list[str] = []
    try:
        while True:
            try:
                line = input("receivables> " if not buffer else "        ...> ")
            except EOFError:
                print()
                return
            buffer.append(line)
            if not line.rstrip().endswith(";"):
                continue
            text, buffer = "\n".join(buffer), []
            try:
                _run(connection, text, sys.stdout, csv_output=False)
            except Exception as exc:
                print(f"error: {exc}")
    finally:
        connection.close()
