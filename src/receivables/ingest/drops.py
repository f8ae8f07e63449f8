"""Read one drop as written: every value as text, with its spreadsheet row number.

Reading never guesses: a file that cannot be decoded or split into the
dialect's columns is reported with its row, and the drop is quarantined.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
import re
import stat
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd

from receivables.contract import CONTROL_CHARACTERS, MANIFEST_FILE, ColumnType, Extract
from receivables.errors import ERROR, WARNING, Failure
from receivables.ingest.suites import ROW_COLUMN
from receivables.registry import CsvDialect
from receivables.settings import settings

PARSER_LINE = re.compile(r"line (\d+)")
MAX_ROWS_LISTED = 50  # rows listed per rule and file; the count is always given
PARQUET_DIALECT = CsvDialect()  # typed Parquet columns are rendered as ISO text


@dataclass
class ExtractFile:
    extract: Extract
    path: Path
    frame: pd.DataFrame  # text values, None for empty, plus ROW_COLUMN
    dialect: CsvDialect
    warnings: list[Failure] = field(default_factory=list)  # found while reading (an encoding mismatch)
    # raw-layer columns beyond the extract's, same index as frame (a FEC's due_date_source, matched_on)
    more: pd.DataFrame | None = None
    # the file each row was read from, when the rows come from many (a drop's CDAR messages): a
    # failure on row k is one of row_files[k - 1] (``located``)
    row_files: tuple[str, ...] = ()


@dataclass
class DropRead:
    files: dict[str, ExtractFile] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    # extracts the drop gives whole: the entity's earlier rows it does not hold are gone (a FEC)
    snapshot: tuple[str, ...] = ()
    # the first day the snapshot covers (a FEC's first entry): what was closed before it stays
    snapshot_from: date | None = None


def located(failure: Failure, files: dict[str, ExtractFile]) -> Failure:
    """The failure as the drop's owner finds it: on a row read from one of many files (a CDAR
    message), that file, without the row number the rows were given."""
    for read in files.values():
        rows = len(read.row_files)
        if failure.file == read.path.name and failure.row is not None and 1 <= failure.row <= rows:
            return replace(failure, file=read.row_files[failure.row - 1], row=None)
    return failure


def max_file_bytes() -> int:
    """The largest file landing reads (``RECEIVABLES_MAX_FILE_BYTES``, default 4 GiB: a history
    drop's largest file at 10 M invoices is about 1 GB)."""

    return settings().max_file_bytes


# the rules of file_problem: a file that breaks one is never opened, by the reader or any later check
NOT_OPENED_RULES = frozenset({"unreadable", "symlink", "not_a_file", "file_too_large"})


def file_problem(path: Path, entity: str) -> Failure | None:
    """Why a file of a drop must not be read: a symbolic link (never followed), not a regular
    file (a device or a pipe would never end), or larger than landing reads. None when it may."""
    try:
        status = path.lstat()
    except OSError as exc:
        return Failure(entity, path.name, "unreadable", f"expected a readable file ({exc.strerror})")
    if stat.S_ISLNK(status.st_mode):
        return Failure(
            entity,
            path.name,
            "symlink",
            "expected a file, not a symbolic link (landing never follows one)",
            found=str(os.readlink(path)),
        )
    if not stat.S_ISREG(status.st_mode):
        return Failure(
            entity, path.name, "not_a_file", "expected a regular file, not a device, pipe or folder"
        )
    limit = max_file_bytes()
    if status.st_size > limit:
        return Failure(
            entity,
            path.name,
            "file_too_large",
            f"expected at most {limit:,} bytes (RECEIVABLES_MAX_FILE_BYTES)",
            found=f"{status.st_size:,} bytes",
        )
    return None


def _decode(data: bytes, path: Path, encoding: str, entity: str) -> tuple[str | None, Failure | None]:
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in {"utf-8", "utf8"} else encoding
    try:
        return data.decode(codec), None
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        return None, Failure(
            entity=entity,
            file=path.name,
            rule="encoding",
            row=row,
            message=f"expected text encoded as {encoding}; byte {exc.start} cannot be decoded",
            found=data[exc.start : exc.start + 1].hex(),
        )


def _is_single_byte(encoding: str) -> bool:
    """Whether every byte is one character in this encoding (cp1252, latin-1, ...), as UTF-8 is not."""
    return len(bytes(range(256)).decode(encoding, errors="replace")) == 256 and codecs.lookup(
        encoding
    ).name not in {"utf-8", "utf-8-sig"}


def encoding_mismatches(data: bytes, dialect: CsvDialect, entity: str, file_name: str) -> list[Failure]:
    """Rows of a file declared in a single-byte encoding that are in fact UTF-8 (SPEC section 12).

    cp1252 decodes almost any byte, so UTF-8 read as cp1252 raises nothing
    and lands mojibake (``SociÃ©tÃ©``). A file whose bytes are valid UTF-8
    with multi-byte sequences is such a file: each row holding one is
    listed, as a warning (and the file is read as UTF-8: its names land
    right), or as an error where the registry's dialect says
    ``encoding_mismatch: error``.
    """
    if not _is_single_byte(dialect.encoding) or data.isascii():
        return []
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return []  # not UTF-8: the declared encoding is the likelier reading
    severity = ERROR if dialect.encoding_mismatch == ERROR else WARNING
    lines = data.split(b"\n")
    rows = [number for number, line in enumerate(lines, start=1) if not line.isascii()]
    message = f"expected text encoded as {dialect.encoding}; this row reads as UTF-8 " + (
        f"(as {dialect.encoding}, accented letters would land garbled)"
        if severity == ERROR
        else "and the file was read as UTF-8, so that its accented letters land right"
    )
    failures = [
        Failure(
            entity,
            file_name,
            "encoding_mismatch",
            message,
            row=row,
            found=lines[row - 1].decode("utf-8").strip()[:60],
            severity=severity,
        )
        for row in rows[:MAX_ROWS_LISTED]
    ]
    if len(rows) > MAX_ROWS_LISTED:
        failures.append(
            Failure(
                entity,
                file_name,
                "encoding_mismatch",
                f"{message}: {len(rows) - MAX_ROWS_LISTED} more rows",
                severity=severity,
                items=len(rows) - MAX_ROWS_LISTED,
            )
        )
    return failures


def _is_blank(record: list[str]) -> bool:
    """A line with nothing but spaces or tabs, which pandas skips as it does an empty one."""
    return not record or (len(record) == 1 and not record[0].strip(" \t"))


def record_rows(
    text: str, dialect: CsvDialect, entity: str, file_name: str
) -> tuple[list[int], Failure | None]:
    """The spreadsheet row number of each data record of a CSV text, or the first row read wrong.

    A record is a row as a spreadsheet shows it: a quoted value may span
    lines, and a blank line is a row of its own (pandas skips it, so the
    numbers are counted here). Every record must have the header's number
    of fields, and quotes must be balanced and close their value: a row
    with fewer fields would land with its last values missing, one with a
    stray quote might have been split wrongly. Either fails the file, with
    the row, rather than landing a guess. The header's names must differ.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=dialect.delimiter, strict=True)
    rows: list[int] = []
    header: list[str] | None = None
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            if _is_blank(record):
                continue
            if header is None:
                header = [name.strip() for name in record]
                duplicates = sorted({name for name in header if header.count(name) > 1})
                if duplicates:
                    return [], Failure(
                        entity, file_name, "header", "expected each column once in the header",
                        row=number, found=", ".join(duplicates),
                    )  # fmt: skip
                continue
            if len(record) != len(header):
                return [], Failure(
                    entity,
                    file_name,
                    "csv_structure",
                    f"expected rows split by {dialect.delimiter!r} into the header's {len(header)} columns",
                    row=number,
                    found=f"{len(record)} values",
                )
            rows.append(number)
    except csv.Error as exc:
        return [], Failure(
            entity,
            file_name,
            "csv_structure",
            f"expected values quoted with '\"' as CSV does: a quoted value closed before its delimiter ({exc})",
            row=number + 1,
        )
    return rows, None


def _read_csv(
    path: Path, dialect: CsvDialect, entity: str
) -> tuple[pd.DataFrame | None, list[int], Failure | None, list[Failure]]:
    """The file's text values and their row numbers, or why it cannot be read; and its rows that warn
    (an encoding mismatch)."""
    data = path.read_bytes()
    text, failure = _decode(data, path, dialect.encoding, entity)
    if text is None:
        return None, [], failure, []
    if not text.strip():
        return None, [], Failure(entity, path.name, "header", "expected a header line", row=1), []
    warnings = encoding_mismatches(data, dialect, entity, path.name)
    if warnings and not any(warning.is_error for warning in warnings):
        # valid UTF-8 declared single-byte: read as what it is, not as mojibake (issue 33)
        text = data.decode("utf-8-sig")
    del data  # a history file can be a gigabyte: its bytes are not needed once decoded and checked
    rows, failure = record_rows(text, dialect, entity, path.name)
    if failure is not None:
        return None, [], failure, []
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=dialect.delimiter,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=False,
            index_col=False,  # a trailing delimiter must not turn the first column into the index
            engine="c",
        )
    except pd.errors.ParserError as exc:
        match = PARSER_LINE.search(str(exc))
        return (
            None,
            [],
            Failure(
                entity=entity,
                file=path.name,
                rule="csv_structure",
                row=int(match.group(1)) if match else None,
                message=f"expected rows split by {dialect.delimiter!r} into the header's columns ({exc})",
            ),
            [],
        )
    if len(frame) != len(rows):  # both readings must agree on the records, or neither is trusted
        return (
            None,
            [],
            Failure(
                entity,
                path.name,
                "csv_structure",
                f"expected one reading of the file's rows: {len(rows)} records by the CSV rules, "
                f"{len(frame)} by the parser",
            ),
            [],
        )
    return frame, rows, None, warnings


def _parquet_text(series: pd.Series) -> pd.Series:
    def render(value: Any) -> Any:
        if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if hasattr(value, "isoformat"):
            return value.isoformat()[:10]
        return str(value)

    return series.astype(object).map(render)


def _read_parquet(path: Path, entity: str) -> tuple[pd.DataFrame | None, Failure | None]:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a broken file
        return None, Failure(entity, path.name, "parquet", f"expected a readable Parquet file ({exc})")
    return pd.DataFrame({name: _parquet_text(frame[name]) for name in frame.columns}), None


def read_extract(
    path: Path, extract: Extract, dialect: CsvDialect, entity: str
) -> tuple[ExtractFile | None, Failure | None]:
    problem = file_problem(path, entity)
    if problem is not None:
        return None, problem
    warnings: list[Failure] = []
    rows: list[int] = []
    if path.suffix == ".parquet":
        frame, failure = _read_parquet(path, entity)
        dialect = PARQUET_DIALECT
    else:
        frame, rows, failure, warnings = _read_csv(path, dialect, entity)
    if frame is None:
        return None, failure
    frame.columns = [str(name).strip() for name in frame.columns]
    for name in frame.columns:
        values = frame[name].astype("str").str.strip()
        frame[name] = values.mask(values == "")
    for column in extract.columns:
        if column.name not in frame.columns and not column.required:
            frame[column.name] = pd.Series(pd.NA, index=frame.index, dtype="str")
    # a CSV file's rows are numbered as read (record_rows): a quoted value may span lines
    frame[ROW_COLUMN] = rows if path.suffix != ".parquet" else range(2, len(frame) + 2)
    warnings += control_characters(frame, extract, entity, path.name)
    return ExtractFile(extract=extract, path=path, frame=frame, dialect=dialect, warnings=warnings), None


def control_characters(frame: pd.DataFrame, extract: Extract, entity: str, file_name: str) -> list[Failure]:
    """The values of the file's text columns holding a control character: warnings, one per value.

    The character lands as a space (``warehouse.typed_select``). Checked here
    rather than by a Great Expectations rule per column: one scan of the
    text columns, nothing when none holds one, where a rule per column costs
    every run of the suite its fixed time.
    """
    failures: list[Failure] = []
    for column in extract.columns:
        if column.type is not ColumnType.TEXT or column.name not in frame.columns:
            continue
        values = frame[column.name]
        holding = values[values.str.contains(CONTROL_CHARACTERS, regex=True, na=False)]
        message = f"expected a {column.name} without control characters; each lands as a space"
        for index, value in holding.iloc[:MAX_ROWS_LISTED].items():
            failures.append(
                Failure(
                    entity, file_name, "control_character", message,
                    row=int(frame.at[index, ROW_COLUMN]), column=column.name, found=value, severity=WARNING,
                )
            )  # fmt: skip
        if len(holding) > MAX_ROWS_LISTED:
            failures.append(
                Failure(
                    entity, file_name, "control_character", f"{message}: {len(holding) - MAX_ROWS_LISTED} more rows",
                    column=column.name, severity=WARNING, items=len(holding) - MAX_ROWS_LISTED,
                )
            )  # fmt: skip
    return failures


def find_extract_file(folder: Path, extract: Extract) -> Path | None:
    for suffix in (".csv", ".parquet"):
        candidate = folder / f"{extract.name}{suffix}"
        if candidate.exists() or candidate.is_symlink():  # a link is found, then refused, never followed
            return candidate
    return None


def read_drop(folder: Path, extracts: tuple[Extract, ...], dialect: CsvDialect, entity: str) -> DropRead:
    """Read every extract of a drop; a missing file is a failure (send a header-only file instead),
    unless its extract is optional."""
    result = DropRead()
    for extract in extracts:
        path = find_extract_file(folder, extract)
        if path is None and extract.optional:
            continue  # an entity that never sends it has none of these rows
        if path is None:
            result.failures.append(
                Failure(
                    entity,
                    extract.file_name,
                    "missing_file",
                    f"expected {extract.name}.csv or {extract.name}.parquet in the drop "
                    "(a header-only file when nothing changed)",
                )
            )
            continue
        read, failure = read_extract(path, extract, dialect, entity)
        if failure is not None:
            result.failures.append(failure)
        if read is not None:
            result.files[extract.name] = read
            result.failures.extend(read.warnings)
        if failure is not None and failure.rule in NOT_OPENED_RULES:
            continue
        if path.suffix != ".parquet" and not _ends_with_newline(path) and path.name not in vouched(folder):
            # named beside a short last row's csv_structure: the cut is the likelier cause
            last_row: int | None = None
            if read is not None:
                last_row = int(read.frame[ROW_COLUMN].iloc[-1]) if len(read.frame) else 1
            elif failure is not None and failure.rule == "csv_structure":
                last_row = failure.row
            result.failures.append(
                Failure(
                    entity,
                    path.name,
                    "truncated",
                    "expected the file to end with a line break: its last row may have been cut "
                    "(a manifest giving the file's rows or sha256 vouches for a file without one)",
                    row=last_row,
                )
            )
    result.failures.extend(check_manifest(folder, result.files, entity))
    return result


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() == 0:
            return True  # an empty file is reported as such
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) in {b"\n", b"\r"}


def vouched(folder: Path) -> set[str]:
    """The files whose rows or sha256 the drop's manifest gives: it vouches for their end."""
    path = folder / MANIFEST_FILE
    if not path.is_file() or path.is_symlink():
        return set()
    try:
        listed = json.loads(path.read_text(encoding="utf-8")).get("files")
    except (ValueError, AttributeError, UnicodeError):
        return set()
    if not isinstance(listed, dict):
        return set()
    return {
        name
        for name, control in listed.items()
        if isinstance(control, dict) and ({"rows", "sha256"} & set(control))
    }


def parse_timestamp(text: str, dialect: CsvDialect) -> datetime:
    """A timestamp as the dialect writes it (``CsvDialect.timestamp_formats``); ValueError if none reads it."""
    for written in dialect.timestamp_formats:
        try:
            return datetime.strptime(text, written)
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a timestamp written {' or '.join(dialect.timestamp_formats)}")


def parse_amount(text: str, dialect: CsvDialect) -> Decimal | None:
    """A number as the dialect writes it (decimal comma or point), exactly; None if it is not one."""
    try:
        return Decimal(text.replace(dialect.decimal, ".") if dialect.decimal != "." else text)
    except InvalidOperation:
        return None


def _manifest_control(control: Any) -> tuple[dict[str, Any], list[tuple[str, str, Any]]]:
    """A manifest entry's controls, typed: rows an integer, sha256 hex, amount_sum a decimal.

    Returns the usable controls and, for each unusable one, (rule, message,
    found): a manifest that cannot be read as written fails its drop, like a
    file that disagrees with it.
    """
    if not isinstance(control, dict):
        return {}, [
            (
                "manifest",
                'expected an object such as {"rows": 3, "sha256": "...", "amount_sum": "12.50"}',
                control,
            )
        ]
    usable: dict[str, Any] = {}
    problems: list[tuple[str, str, Any]] = []
    rows = control.get("rows")
    if "rows" in control:
        if isinstance(rows, int) and not isinstance(rows, bool) and rows >= 0:
            usable["rows"] = rows
        elif isinstance(rows, str) and rows.isdigit():
            usable["rows"] = int(rows)
        else:
            problems.append(("manifest_rows", "expected rows to be a whole number of data rows", rows))
    if "sha256" in control:
        digest = control["sha256"]
        if isinstance(digest, str) and re.fullmatch(r"[0-9a-fA-F]{64}", digest):
            usable["sha256"] = digest.lower()
        else:
            problems.append(("manifest_sha256", "expected sha256 to be 64 hexadecimal digits", digest))
    if "amount_sum" in control:
        text = control["amount_sum"]
        amount = None
        if isinstance(text, (int, str)) and not isinstance(text, bool):
            written = str(text).strip()
            if re.fullmatch(r"-?\d+(?:[.,]\d+)?", written):
                amount = Decimal(written.replace(",", "."))
        if amount is None:
            problems.append(
                ("manifest_amount_sum", 'expected amount_sum to be a number written as "12345.67"', text)
            )
        else:
            usable["amount_sum"] = amount
    return usable, problems


def check_manifest(folder: Path, files: dict[str, ExtractFile], entity: str) -> list[Failure]:
    """Compare each file with ``_manifest.json`` (rows, sha256, amount_sum) when one is present."""
    path = folder / MANIFEST_FILE
    if not path.exists() and not path.is_symlink():
        return []
    problem = file_problem(path, entity)
    if problem is not None:
        return [problem]
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        listed = manifest["files"]
        if not isinstance(listed, dict):
            raise TypeError("'files' is not an object")
    except (ValueError, KeyError, TypeError) as exc:
        return [Failure(entity, MANIFEST_FILE, "manifest", f'expected {{"files": {{...}}}} ({exc})')]
    by_file = {read.path.name: read for read in files.values()}
    failures = []
    for file_name, entry in sorted(listed.items()):

        def fail(rule: str, message: str, found: Any, file_name: str = file_name) -> None:
            failures.append(Failure(entity, file_name, rule, message, found=str(found)))

        if Path(file_name).name != file_name or file_name in {"", ".", ".."}:
            fail(
                "manifest_file",
                "expected the name of a file of the drop, not a path",
                file_name,
                MANIFEST_FILE,
            )
            continue
        control, problems = _manifest_control(entry)
        for rule, message, found in problems:
            fail(rule, f"{message} (entry {file_name!r})", found, MANIFEST_FILE)
        file_path = folder / file_name
        if not file_path.exists() and not file_path.is_symlink():
            fail("manifest_file", "expected the file listed in _manifest.json", "no such file")
            continue
        problem = file_problem(file_path, entity)
        if problem is not None:
            failures.append(problem)
            continue
        if "sha256" in control:
            digest = hashlib.sha256(file_path.read_bytes()).hexdigest()
            if digest != control["sha256"]:
                fail(
                    "manifest_sha256",
                    f"expected sha256 {control['sha256']} (truncated or corrupt file)",
                    digest,
                )
        read = by_file.get(file_name)
        if read is None:
            continue
        if "rows" in control and control["rows"] != len(read.frame):
            fail("manifest_rows", f"expected {control['rows']} data rows (truncated file?)", len(read.frame))
        column = read.extract.amount_column
        if "amount_sum" in control and column and column in read.frame.columns:
            amounts = [parse_amount(v, read.dialect) for v in read.frame[column].dropna()]
            if all(amount is not None for amount in amounts):
                total = sum((a for a in amounts if a is not None), Decimal(0))
                if total != control["amount_sum"]:
                    fail(
                        "manifest_amount_sum",
                        f"expected the {column} column to sum to {control['amount_sum']}",
                        total,
                    )
    return failures
