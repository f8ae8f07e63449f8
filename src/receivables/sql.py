"""``receivables sql``: read-only SQL on the published warehouse, for controllers.

The file is opened read-only, so nothing a query does can change it, and a
publish (which swaps the file in atomically) never waits for a reader.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from receivables.errors import ReceivablesError


def connect(warehouse: Path) -> Any:
    import duckdb

    if not warehouse.is_file():
        raise ReceivablesError(f"{warehouse}: no such warehouse file (publish one, or pass --warehouse)")
    return duckdb.connect(str(warehouse), read_only=True)


def _answers(statement: Any) -> bool:
    """Statements whose result is worth printing (not SET's "Success")."""
    import duckdb

    return statement.type in {
        duckdb.StatementType.SELECT,
        duckdb.StatementType.EXPLAIN,
        duckdb.StatementType.PRAGMA,
    }


def _run(connection: Any, text: str, out: TextIO, csv_output: bool) -> None:
    """Run every statement of ``text`` on ``connection``; print each result set."""
    for statement in connection.extract_statements(text):
        try:
            relation = connection.sql(statement.query)
        except Exception as exc:  # duckdb's errors name the line and the column
            raise ReceivablesError(f"{statement.query.strip()[:80]!r}: {exc}") from exc
        if relation is not None and _answers(statement):
            write_result(relation.columns, relation.fetchall(), out, csv_output)


def run_statements(warehouse: Path, text: str, out: TextIO, csv_output: bool = False) -> None:
    """Run every statement of ``text`` in one session; print each result set."""
    connection = connect(warehouse)
    try:
        _run(connection, text, out, csv_output)
    finally:
        connection.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def write_result(columns: list[str], rows: list[tuple[Any, ...]], out: TextIO, csv_output: bool) -> None:
    if csv_output:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_cell(value) for value in row] for row in rows])
        return
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(name), *(len(row[i]) for row in cells)]) for i, name in enumerate(columns)]
    numeric = [bool(rows) and all(isinstance(row[i], (int, float, Decimal)) or row[i] is None for row in rows)
               for i in range(len(columns))]  # fmt: skip
    out.write(
        "  ".join(name.ljust(width) for name, width in zip(columns, widths, strict=True)).rstrip() + "\n"
    )
    out.write("  ".join("-" * width for width in widths) + "\n")
    for row in cells:
        line = "  ".join(
            value.rjust(width) if is_number else value.ljust(width)
            for value, width, is_number in zip(row, widths, numeric, strict=True)
        )
        out.write(line.rstrip() + "\n")
    out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")


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
