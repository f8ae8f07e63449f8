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
AMOUNT = re.compile(r"^([+-]?)(\d*)(?:\.(\d*))?$")


def is_fec_name(name: str) -> bool:
    return bool(LEGAL_NAME.match(name)) or name.lower() == PLAIN_NAME


@dataclass
class FecRead:
    """A FEC's lines, typed, or its failures (``lines`` is None when any is an error)."""

    path: Path
    lines: pd.DataFrame | None = None
    failures: list[Failure] = field(default_factory=list)
    encoding: str = "utf-8"


def _decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was read in: UTF-8 (a BOM dropped) when it is, else ISO-8859-15."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("iso-8859-15"), "iso-8859-15"  # every byte is a character in it


class _Failures:
    """Failures of one file, at most MAX_ROWS_LISTED lines listed per rule and column, the rest counted."""

    def __init__(self, entity: str, file_name: str) -> None:
        self.entity, self.file_name = entity, file_name
        self.found: list[Failure] = []

    def lines(
        self, rule: str, message: str, column: str | None, lines: np.ndarray, found: list[str] | None
    ) -> None:
        for index, line in enumerate(lines[:MAX_ROWS_LISTED]):
            self.found.append(
                Failure(
                    self.entity, self.file_name, rule, message,
                    row=int(line), column=column, found=None if found is None else found[index],
                )
            )  # fmt: skip
        if len(lines) > MAX_ROWS_LISTED:
            more = len(lines) - MAX_ROWS_LISTED
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
    text, result.encoding = _decode(path.read_bytes())
    header_end = text.find("\n")
    header_line = (text if header_end < 0 else text[:header_end]).rstrip("\r")
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
    numbers, body = _data_lines(text, header_end, separator, len(header) - 1, failures)
    del text
    if failures.found:
        result.failures = failures.found
        return result
    raw = _split(body, separator, len(header))
    del body
    result.lines = _typed(raw, names, columns, numbers, failures)
    result.failures = failures.found
    if failures.found:
        result.lines = None
    return result


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


def _data_lines(
    text: str, header_end: int, separator: str, separators: int, failures: _Failures
) -> tuple[np.ndarray, str]:
    """The data lines' numbers (empty lines skipped) and their text, one line each, checked for their field count."""
    body = "" if header_end < 0 else text[header_end + 1 :]
    lines = body.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    numbers: list[int] = []
    kept: list[str] = []
    wrong: list[int] = []
    found: list[str] = []
    for offset, line in enumerate(lines):
        line = line.removesuffix("\r")
        if not line:
            continue
        number = offset + 2
        if line.count(separator) != separators:
            wrong.append(number)
            found.append(f"{line.count(separator) + 1} fields")
            continue
        numbers.append(number)
        kept.append(line)
    if wrong:
        failures.lines(
            "fec_structure",
            f"expected each line split by {separator!r} into the header's {separators + 1} fields",
            None,
            np.array(wrong),
            found,
        )
    return np.array(numbers, dtype=np.int64), "\n".join(kept)


def _split(body: str, separator: str, count: int) -> pa.Table:
    """The lines' fields as text columns c0..cN (no quoting: a FEC's labels hold quotes as they are)."""
    names = [f"c{i}" for i in range(count)]
    if not body:
        return pa.table({name: pa.array([], pa.string()) for name in names})
    return pacsv.read_csv(
        io.BytesIO(body.encode("utf-8")),
        read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=separator, quote_char=False, double_quote=False),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _text(raw: pa.Table, position: int) -> pd.Series:
    """A column's values stripped, an empty one None."""
    values = raw.column(position).to_pandas().str.strip()
    return values.mask(values == "")


def _typed(
    raw: pa.Table, names: list[str], columns: dict[str, int], numbers: np.ndarray, failures: _Failures
) -> pd.DataFrame:
    lines = pd.DataFrame({"line": numbers})
    texts = {column: _text(raw, position) for column, position in columns.items()}
    for column in REQUIRED_COLUMNS:
        _missing(failures, column, texts[column], numbers)
    for column in DATE_COLUMNS:
        if column in texts:
            lines[column] = _dates(failures, column, texts[column], numbers)
    if "Debit" in columns:
        debit = _units(failures, "Debit", texts["Debit"], numbers)
        credit = _units(failures, "Credit", texts["Credit"], numbers)
        absent = texts["Debit"].isna() & texts["Credit"].isna()
        _missing(failures, "Debit", texts["Debit"], numbers, absent)
        lines["net"] = debit.fillna(0) - credit.fillna(0)
    else:
        amount = _units(failures, "Montant", texts["Montant"], numbers)
        _missing(failures, "Montant", texts["Montant"], numbers)
        sense = texts["Sens"].str.upper()
        sign = sense.map({"D": 1, "C": -1, "+1": 1, "-1": -1, "1": 1})
        bad = sign.isna()
        if bad.any():
            failures.lines(
                "fec_sens", "expected Sens D (debit) or C (credit)", "Sens", numbers[bad.to_numpy()],
                [str(v) for v in texts["Sens"][bad]],
            )  # fmt: skip
        lines["net"] = amount.fillna(0) * sign.fillna(0).astype("int64")
    lines["currency_amount"] = _units(failures, "Montantdevise", texts["Montantdevise"], numbers).abs()
    for column, name in (
        ("JournalCode", "journal"),
        ("EcritureNum", "number"),
        ("CompteNum", "account"),
        ("CompteLib", "account_label"),
        ("CompAuxNum", "aux"),
        ("CompAuxLib", "aux_label"),
        ("PieceRef", "piece_ref"),
        ("EcritureLet", "letter"),
    ):
        lines[name] = texts[column]
    lines["currency"] = texts["Idevise"].str.upper()
    if failures.found:
        return lines
    _check_balanced(lines, failures)
    return lines


def _missing(
    failures: _Failures, column: str, values: pd.Series, numbers: np.ndarray, absent: pd.Series | None = None
) -> None:
    mask = values.isna() if absent is None else absent
    if mask.any():
        what = "an amount (Debit or Credit)" if column == "Debit" else f"a {column}"
        failures.lines(
            "fec_required", f"expected {what} on every line", column, numbers[mask.to_numpy()], None
        )


def _dates(failures: _Failures, column: str, values: pd.Series, numbers: np.ndarray) -> pd.Series:
    written = values.str.fullmatch(r"\d{8}").fillna(False).astype(bool)
    parsed = pd.to_datetime(values.where(written), format="%Y%m%d", errors="coerce")
    bad = (values.notna() & parsed.isna()).to_numpy()
    if bad.any():
        failures.lines(
            "fec_date", "expected a calendar date written YYYYMMDD", column, numbers[bad],
            [str(v) for v in values[bad]],
        )  # fmt: skip
    return parsed


def _units(failures: _Failures, column: str, values: pd.Series, numbers: np.ndarray) -> pd.Series:
    """Amounts as whole ten-thousandths; a value that is not an amount is a failure of its line."""
    normalised = values.str.replace(" ", "", regex=False).str.replace(",", ".", regex=False)
    parts = normalised.str.extract(AMOUNT)
    sign, whole, fraction = parts[0], parts[1].fillna(""), parts[2].fillna("")
    whole = whole.str.lstrip("0")
    valid = (
        (
            parts[1].notna()
            & ((parts[1].str.len() > 0) | (parts[2].str.len() > 0))
            & (whole.str.len() <= MAX_INTEGER_DIGITS)
            & (fraction.str.rstrip("0").str.len() <= 4)
        )
        .fillna(False)
        .astype(bool)
    )
    bad = (values.notna() & ~valid).to_numpy()
    if bad.any():
        failures.lines(
            "fec_amount",
            "expected an amount such as 1234,56 or 1234.56 (no thousands separator, at most 4 decimals)",
            column, numbers[bad], [str(v) for v in values[bad]],
        )  # fmt: skip
    whole_units = pd.to_numeric(whole.where(valid & (whole != ""), "0")).astype("int64") * UNITS
    fraction_units = pd.to_numeric(
        fraction.str.rstrip("0").str.ljust(4, "0").where(valid & (fraction.str.rstrip("0") != ""), "0")
    ).astype("int64")
    units = (whole_units + fraction_units) * np.where(sign == "-", -1, 1)
    return pd.Series(units, index=values.index, dtype="Int64").where(values.notna() & valid, pd.NA)


def _check_balanced(lines: pd.DataFrame, failures: _Failures) -> None:
    """Each entry (JournalCode, EcritureNum) balances: its debits equal its credits, to the cent."""
    entries = (
        lines.assign(debits=lines["net"].clip(lower=0))
        .groupby(["journal", "number"], sort=False, dropna=False)
        .agg(net=("net", "sum"), debits=("debits", "sum"), line=("line", "min"))
    )
    unbalanced = entries[entries["net"] != 0].sort_values("line")
    if unbalanced.empty:
        return
    failures.lines(
        "fec_unbalanced",
        "expected each entry (JournalCode, EcritureNum) to balance: its debits equal its credits",
        "Debit",
        unbalanced["line"].to_numpy(),
        [
            f"entry {journal} {number}: debits {format_units(debits)}, credits {format_units(debits - net)}"
            for (journal, number), net, debits in zip(
                unbalanced.index, unbalanced["net"], unbalanced["debits"], strict=True
            )
        ],
    )


def format_units(units: int) -> str:
    """Ten-thousandths as a decimal text, two decimals at least (12345600 -> "1234.56")."""
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(int(units)), UNITS)
    digits = f"{fraction:04d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole}.{digits}"
