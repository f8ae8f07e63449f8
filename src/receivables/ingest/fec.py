"""Read a FEC (Fichier des Écritures Comptables) as written: its lines, typed, or why it cannot be read.

SPEC section 16. A FEC is the ledger every French accounting package must
export (art. A47 A-1 LPF), in 18 legal columns. Packages differ in the
details, and the reader takes them all: tab or ``|`` separated (read from
the header), a trailing separator or none, UTF-8 with or without BOM or
ISO-8859-15, column names in any case and in any order, extra columns,
``Montant`` + ``Sens`` in place of ``Debit`` and ``Credit``, amounts with a
decimal comma or point and zero padding, dates YYYYMMDD. What it cannot read
is a failure naming the line (the header is line 1, as a text editor counts)
and the column: a line of another field count, a missing value the ledger
needs, an invalid date or amount, an entry whose debits and credits differ.

Amounts are kept as whole ten-thousandths (``UNITS``) in 64-bit integers:
exact, and a million lines fit in a few tens of megabytes. What the lines
mean for receivables (documents, settlement lines, lettering) is
``receivables.ingest.ledger``'s.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from receivables.errors import Failure

UNITS = 10_000  # an amount is a whole number of ten-thousandths (the raw layer's decimal(18, 4))
MAX_INTEGER_DIGITS = 14  # 10^14 units of the booking currency: far above any ledger, far below int64
MAX_ROWS_LISTED = 50  # lines listed per rule and column; the count is always given

# The legal columns (art. A47 A-1), by the name the reader finds them under (any case).
LEGAL_COLUMNS = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
SIGNED_AMOUNT = ("Montant", "Sens")  # in place of Debit and Credit (BOI-CF-IOR-60-40-20)
DATE_COLUMNS = ("EcritureDate", "PieceDate", "DateLet", "ValidDate", "DateRglt")
REQUIRED_COLUMNS = ("JournalCode", "EcritureNum", "EcritureDate", "CompteNum")
# a legal file name: <SIREN>FEC<closing date>.txt (or .csv), any case; 9 to 14 digits before FEC, as
# real files carry a SIRET, or a padded id (the public sample: 0000000001FEC20220831.txt)
LEGAL_NAME = re.compile(r"^\d{9,14}FEC\d{8}\.(txt|csv)$", re.IGNORECASE)
PLAIN_NAME = "fec.txt"


def is_fec_name(name: str) -> bool:
    return bool(LEGAL_NAME.match(name)) or name.lower() == PLAIN_NAME


@dataclass
class FecRead:
    """A FEC's lines, typed, or its failures (``lines`` is None when any is an error)."""

    path: Path
    lines: pd.DataFrame | None = None
    failures: list[Failure] = field(default_factory=list)
    encoding: str = "utf-8"


class _Failures:
    """Failures of one file, at most MAX_ROWS_LISTED lines listed per rule and column, the rest counted."""

    def __init__(self, entity: str, file_name: str) -> None:
        self.entity, self.file_name = entity, file_name
        self.found: list[Failure] = []

    def lines(
        self,
        rule: str,
        message: str,
        column: str | None,
        lines: np.ndarray | list[int],
        found: list[str] | None,
        total: int | None = None,
    ) -> None:
        """The first of ``lines`` listed, one failure each; ``total``: how many break the rule, when
        only the first are given (len(lines) otherwise)."""
        for index, line in enumerate(lines[:MAX_ROWS_LISTED]):
            self.found.append(
                Failure(
                    self.entity, self.file_name, rule, message,
                    row=int(line), column=column, found=None if found is None else found[index],
                )
            )  # fmt: skip
        count = len(lines) if total is None else total
        if count > MAX_ROWS_LISTED:
            more = count - MAX_ROWS_LISTED
            self.found.append(
                Failure(
                    self.entity, self.file_name, rule, f"{message}: {more} more lines",
                    column=column, items=more,
                )
            )  # fmt: skip

    def file(self, rule: str, message: str, row: int | None = None, found: str | None = None) -> None:
        self.found.append(Failure(self.entity, self.file_name, rule, message, row=row, found=found))


def read_fec(path: Path, entity: str) -> FecRead:
    """Read a FEC file: its lines typed (``lines``), or the failures that keep it from landing."""
    result = FecRead(path)
    failures = _Failures(entity, path.name)
    data, result.encoding = _utf8(path.read_bytes())
    header_end = data.find(b"\n")
    header_line = (data if header_end < 0 else data[:header_end]).decode("utf-8").rstrip("\r")
    separator = "\t" if "\t" in header_line else "|" if "|" in header_line else None
    if separator is None:
        failures.file(
            "fec_header",
            "expected a FEC: a header line of the legal columns (JournalCode, EcritureNum, ...) "
            "separated by tabs or |",
            row=1,
            found=header_line[:80],
        )
        result.failures = failures.found
        return result
    header = [name.strip() for name in header_line.split(separator)]
    trailing = header[-1] == ""
    names = header[:-1] if trailing else header
    columns = _column_positions(names, failures)
    if columns is None:
        result.failures = failures.found
        return result
    body = b"" if header_end < 0 else data[header_end + 1 :]
    del data
    numbers = _data_lines(body, separator, len(header) - 1, failures)
    if failures.found:
        result.failures = failures.found
        return result
    raw = _split(body, separator, len(header))
    del body
    result.lines = _typed(raw, columns, numbers, failures)
    result.failures = failures.found
    if failures.found:
        result.lines = None
    return result


def _utf8(data: bytes) -> tuple[bytes, str]:
    """The file's bytes as UTF-8 (a BOM dropped; ISO-8859-15 transcoded) and the encoding it was in."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("iso-8859-15").encode("utf-8"), "iso-8859-15"  # every byte is a character in it
    return data, "utf-8"


def _column_positions(names: list[str], failures: _Failures) -> dict[str, int] | None:
    """Each legal (and known extra) column's position, found by name in any case; None when one is missing."""
    by_name: dict[str, int] = {}
    for position, name in enumerate(names):
        by_name.setdefault(name.lower(), position)
    wanted = [c for c in LEGAL_COLUMNS if c not in ("Debit", "Credit")]
    if "debit" in by_name or "credit" in by_name or not set(s.lower() for s in SIGNED_AMOUNT) <= set(by_name):
        wanted += ["Debit", "Credit"]
    else:
        wanted += list(SIGNED_AMOUNT)
    missing = [column for column in wanted if column.lower() not in by_name]
    if missing:
        found_legal = len(wanted) - len(missing)
        what = "a FEC" if found_legal >= len(wanted) // 2 else "a FEC (is this file one?)"
        failures.file(
            "fec_columns",
            f"expected {what}: the header names the legal columns (any case); missing " + ", ".join(missing),
            row=1,
            found=", ".join(names)[:200],
        )
        return None
    positions = {column: by_name[column.lower()] for column in wanted}
    if "daterglt" in by_name:
        positions["DateRglt"] = by_name["daterglt"]
    return positions


def _data_lines(body: bytes, separator: str, separators: int, failures: _Failures) -> np.ndarray:
    """The data lines' numbers (an empty line skipped, as the parser skips it), each checked for the
    header's field count; counted over the bytes at once, not line by line."""
    buffer = np.frombuffer(body, dtype=np.uint8)
    ends = np.flatnonzero(buffer == 10)
    if len(buffer) and buffer[-1] != 10:
        ends = np.append(ends, len(buffer))  # a last line without its line break
    starts = np.concatenate(([0], ends[:-1] + 1)) if len(ends) else np.array([], dtype=np.int64)
    separators_at = np.flatnonzero(buffer == ord(separator))
    fields = np.searchsorted(separators_at, ends) - np.searchsorted(separators_at, starts)
    lengths = ends - starts
    carriage = np.zeros(len(ends), dtype=bool)
    has_text = lengths > 0
    carriage[has_text] = buffer[ends[has_text] - 1] == 13
    empty = (lengths == 0) | ((lengths == 1) & carriage)
    numbers = np.arange(2, len(ends) + 2, dtype=np.int64)
    wrong = ~empty & (fields != separators)
    if wrong.any():
        failures.lines(
            "fec_structure",
            f"expected each line split by {separator!r} into the header's {separators + 1} fields",
            None,
            numbers[wrong],
            [f"{count + 1} fields" for count in fields[wrong][:MAX_ROWS_LISTED]],
        )
    return numbers[~empty]


def _split(body: bytes, separator: str, count: int) -> pa.Table:
    """The lines' fields as text columns c0..cN (no quoting: a FEC's labels hold quotes as they are)."""
    names = [f"c{i}" for i in range(count)]
    if not body.strip(b"\r\n"):
        return pa.table({name: pa.array([], pa.string()) for name in names})
    return pacsv.read_csv(
        io.BytesIO(body),
        read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=separator, quote_char=False, double_quote=False),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


# an amount as written once spaces are dropped and a comma read as the point: at most 14 integer
# digits (leading zeros aside) and 4 decimals (trailing zeros aside)
AMOUNT_SQL = rf"^[+-]?0*\d{{0,{MAX_INTEGER_DIGITS}}}(\.\d{{0,4}}0*)?$"
TEXT_COLUMNS = {
    "JournalCode": "journal",
    "EcritureNum": "number",
    "CompteNum": "account",
    "CompteLib": "account_label",
    "CompAuxNum": "aux",
    "CompAuxLib": "aux_label",
    "PieceRef": "piece_ref",
    "EcritureLet": "letter",
}


def _typed(raw: pa.Table, columns: dict[str, int], numbers: np.ndarray, failures: _Failures) -> pd.DataFrame:
    """The lines typed by DuckDB (dates, amounts in ten-thousandths), each value checked, entries balanced."""
    connection = duckdb.connect()
    try:
        connection.register("fec_raw", raw.append_column("line", pa.array(numbers)))
        texts = ", ".join(
            f"nullif(trim(c{position}), '') as \"{name}\"" for name, position in columns.items()
        )
        connection.execute(f"create temp table texts as select line, {texts} from fec_raw")
        connection.unregister("fec_raw")
        for column in REQUIRED_COLUMNS:
            _failing(connection, failures, "fec_required", f"expected a {column} on every line", column,
                     f'"{column}" is null', "null")  # fmt: skip
        signed = "Montant" in columns
        amounts = ("Montant",) if signed else ("Debit", "Credit")
        if not signed:
            _failing(connection, failures, "fec_required", "expected an amount (Debit or Credit) on every line",
                     "Debit", '"Debit" is null and "Credit" is null', "null")  # fmt: skip
        else:
            _failing(connection, failures, "fec_required", "expected a Montant on every line", "Montant",
                     '"Montant" is null', "null")  # fmt: skip
            _failing(connection, failures, "fec_sens", "expected Sens D (debit) or C (credit)", "Sens",
                     "coalesce(upper(\"Sens\"), '') not in ('D', 'C', '+1', '-1', '1')", '"Sens"')  # fmt: skip
        for column in (*amounts, "Montantdevise"):
            _failing(
                connection, failures, "fec_amount",
                "expected an amount such as 1234,56 or 1234.56 (no thousands separator, at most 4 decimals)",
                column, f"\"{column}\" is not null and not regexp_matches({_normalised(column)}, '{AMOUNT_SQL}') "
                f"or {_normalised(column)} in ('', '.', '+', '-', '+.', '-.')", f'"{column}"',
            )  # fmt: skip
        for column in DATE_COLUMNS:
            if column in columns:
                _failing(connection, failures, "fec_date", "expected a calendar date written YYYYMMDD", column,
                         f"\"{column}\" is not null and (not regexp_full_match(\"{column}\", '\\d{{8}}') "
                         f"or try_strptime(\"{column}\", '%Y%m%d') is null)", f'"{column}"')  # fmt: skip
        if failures.found:
            return pd.DataFrame()
        net = (
            f"{_units('Montant')} * case upper(\"Sens\") when 'C' then -1 when '-1' then -1 else 1 end"
            if signed
            else f"coalesce({_units('Debit')}, 0) - coalesce({_units('Credit')}, 0)"
        )
        dates = ", ".join(
            f'cast(strptime("{column}", \'%Y%m%d\') as timestamp) as "{column}"'
            for column in DATE_COLUMNS
            if column in columns
        )
        names = ", ".join(f'"{column}" as {name}' for column, name in TEXT_COLUMNS.items())
        connection.execute(
            f"create temp table lines as select line, {dates}, {net} as net, "
            f'abs({_units("Montantdevise")}) as currency_amount, {names}, upper("Idevise") as currency '
            "from texts"
        )
        _check_balanced(connection, failures)
        lines = connection.sql("select * from lines order by line").to_arrow_table()
    finally:
        connection.close()
    frame = lines.to_pandas(types_mapper={pa.string(): pd.StringDtype(na_value=np.nan)}.get)
    for column in DATE_COLUMNS:
        if column in frame:
            frame[column] = frame[column].astype("datetime64[us]")
    for column in ("net", "currency_amount"):
        frame[column] = frame[column].astype("Int64")
    return frame


def _normalised(column: str) -> str:
    return f"replace(replace(\"{column}\", ' ', ''), ',', '.')"


def _units(column: str) -> str:
    return f"cast(cast({_normalised(column)} as decimal(18, 4)) * {UNITS} as bigint)"


def _failing(
    connection: duckdb.DuckDBPyConnection,
    failures: _Failures,
    rule: str,
    message: str,
    column: str,
    condition: str,
    found: str,
) -> None:
    """The lines where ``condition`` holds: failures of ``rule`` in ``column``, the first ones listed."""
    [(count,)] = connection.execute(f"select count(*) from texts where {condition}").fetchall()
    if not count:
        return
    listed = connection.execute(
        f"select line, {found} from texts where {condition} order by line limit {MAX_ROWS_LISTED}"
    ).fetchall()
    failures.lines(
        rule,
        message,
        column,
        [line for line, _ in listed],
        [value for _, value in listed] if found != "null" else None,
        total=count,
    )


def _check_balanced(connection: duckdb.DuckDBPyConnection, failures: _Failures) -> None:
    """Each entry (JournalCode, EcritureNum) balances: its debits equal its credits, to the cent."""
    rows = connection.execute(
        "select min(line), journal, number, sum(greatest(net, 0)), sum(net) from lines "
        "group by journal, number having sum(net) <> 0 order by 1"
    ).fetchall()
    if not rows:
        return
    failures.lines(
        "fec_unbalanced",
        "expected each entry (JournalCode, EcritureNum) to balance: its debits equal its credits",
        "Debit",
        np.array([row[0] for row in rows]),
        [
            f"entry {journal} {number}: debits {format_units(debits)}, credits {format_units(debits - net)}"
            for _, journal, number, debits, net in rows[:MAX_ROWS_LISTED]
        ],
    )


def format_units(units: int) -> str:
    """Ten-thousandths as a decimal text, two decimals at least (12345600 -> "1234.56")."""
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(int(units)), UNITS)
    digits = f"{fraction:04d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole}.{digits}"
