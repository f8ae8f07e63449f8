"""A property of the CSV reader (issue 18): whatever the bytes, no crash, and never a wrong row.

Hypothesis writes tables of hostile text (delimiters, quotes, line breaks
and spaces inside values, accents, emoji, NUL) as CSV in many ways (quoting,
line endings, a byte order mark, blank lines, no final line break, another
encoding than declared), and sometimes overwrites a run of bytes at random.
Whatever it writes:

- reading the file never raises: it gives rows, or a failure naming the file;
- the rows it gives are those a correct reading gives (Python's csv module,
  strict, on the text decoded as declared), value for value, each with its
  spreadsheet row number;
- a file written correctly in the declared encoding is read, and its rows
  are the table written (stripped of surrounding spaces, empty as null).

A second property lands such files with a night's drops: the night never
stops, and what lands is what the file says.
"""

from __future__ import annotations

import codecs
import csv
import io
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from conftest import DAY1, REGISTRY_YAML
from receivables.contract import INVOICES
from receivables.ingest.drops import parse_amount, read_extract
from receivables.ingest.landing import OK, QUARANTINED, land
from receivables.ingest.suites import ROW_COLUMN
from receivables.registry import CsvDialect, load_registry
from test_landing import ENTITIES, write_good_night

pytestmark = pytest.mark.unit

HEADER = [column.name for column in INVOICES.columns]
DIALECTS = [
    CsvDialect(delimiter=";", decimal=",", encoding="cp1252", date_format="%d/%m/%Y"),
    CsvDialect(delimiter=",", encoding="utf-8"),
    CsvDialect(delimiter="\t", encoding="latin-1"),
    CsvDialect(delimiter="|", encoding="utf-16"),
]
# the characters that make CSV hard, and some that make encodings hard
HOSTILE = st.sampled_from(
    [";", ",", "\t", "|", '"', "'", "\n", "\r", " ", "\x00", "é", "€", "ß", "😀", "\u2028"]
)
CELLS = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8", exclude_categories=["Cs"]), HOSTILE), max_size=12
)


@st.composite
def csv_files(draw: st.DrawFn) -> dict[str, Any]:
    dialect = draw(st.sampled_from(DIALECTS))
    table = draw(st.lists(st.lists(CELLS, min_size=len(HEADER), max_size=len(HEADER)), max_size=6))
    written_as = draw(st.sampled_from([dialect.encoding, dialect.encoding, "utf-8", "cp1252", "utf-16"]))
    return {
        "dialect": dialect,
        "table": table,
        "quoting": draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])),
        "line_end": draw(st.sampled_from(["\n", "\r\n", "\r"])),
        "blank_lines": draw(st.lists(st.integers(min_value=1, max_value=7), max_size=2)),
        "final_line_end": draw(st.booleans()),
        "bom": draw(st.booleans()),
        "written_as": written_as,
        # a run of random bytes written over the file, at a share of its length
        "overwrite": draw(
            st.none() | st.tuples(st.floats(min_value=0, max_value=1), st.binary(min_size=1, max_size=8))
        ),
    }


def write_file(case: dict[str, Any]) -> tuple[bytes, bool]:
    """The file's bytes, and whether they are a correct CSV file in the declared encoding."""
    dialect = case["dialect"]
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=dialect.delimiter, lineterminator=case["line_end"], quoting=case["quoting"]
    )
    lines = []
    for row in [HEADER, *case["table"]]:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        lines.append(buffer.getvalue())
    for position in case["blank_lines"]:
        lines.insert(min(position, len(lines)), case["line_end"])
    text = "".join(lines)
    if not case["final_line_end"]:
        text = text.removesuffix(case["line_end"])
    encoding = case["written_as"]
    data = text.encode(encoding, errors="replace")
    correct = (
        codecs.lookup(encoding).name == codecs.lookup(dialect.encoding).name
        and data.decode(encoding) == text
        and _round_trips(text, dialect.delimiter, [HEADER, *case["table"]])
    )
    if case["bom"] and not encoding.startswith("utf-16"):
        data = codecs.BOM_UTF8 + data
        correct = correct and encoding == "utf-8"
    if case["overwrite"] is not None:
        share, noise = case["overwrite"]
        start = int(share * len(data))
        data = data[:start] + noise + data[start + len(noise) :]
        correct = False
    return data, correct


def _round_trips(text: str, delimiter: str, table: list[list[str]]) -> bool:
    """Whether the csv module wrote the table so that it reads back (it leaves a lone CR unquoted
    when the line ends are LF: such a file is not the table written)."""
    try:
        records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        return [record for record in records if record] == table
    except csv.Error:
        return False


def correct_reading(
    data: bytes, dialect: CsvDialect
) -> tuple[list[str], list[list[str | None]], list[int]] | None:
    """The header, rows and their spreadsheet row numbers by the CSV rules, or None when the file breaks them.

    Whether the header names the extract's columns is the validation's to say (the `columns` rule).
    """
    codec = "utf-8-sig" if dialect.encoding == "utf-8" else dialect.encoding
    if codec != "utf-8-sig" and dialect.encoding_mismatch != "error" and not data.isascii():
        try:  # valid UTF-8 declared single-byte is read as UTF-8 (a warning; issue 33)
            data.decode("utf-8")
            codec = "utf-8-sig"
        except UnicodeDecodeError:
            pass
    try:
        records = list(
            csv.reader(io.StringIO(data.decode(codec), newline=""), delimiter=dialect.delimiter, strict=True)
        )
    except (UnicodeDecodeError, csv.Error):
        return None
    numbered = [
        (number, record)
        for number, record in enumerate(records, start=1)
        if record and not (len(record) == 1 and not record[0].strip(" \t"))
    ]
    if not numbered:
        return None
    header = [name.strip() for name in numbered[0][1]]
    body = numbered[1:]
    if len(set(header)) != len(header) or any(len(record) != len(header) for _, record in body):
        return None
    return header, [[value.strip() or None for value in record] for _, record in body], [n for n, _ in body]


def table_as_read(table: list[list[str]]) -> list[list[str | None]]:
    return [[value.strip() or None for value in row] for row in table]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(case=csv_files())
@example(case={"dialect": DIALECTS[0], "table": [["a;b", '"q"', "x\r\ny", " ", "", "é€", "1", "2", "3", "4"]],
               "quoting": csv.QUOTE_MINIMAL, "line_end": "\r\n", "blank_lines": [1], "final_line_end": True,
               "bom": False, "written_as": "cp1252", "overwrite": None})  # fmt: skip
def test_the_reader_never_raises_and_never_misreads_a_row(case, tmp_path_factory):
    data, correct = write_file(case)
    dialect = case["dialect"]
    path = tmp_path_factory.getbasetemp() / "invoices.csv"
    path.write_bytes(data)

    read, failure = read_extract(path, INVOICES, dialect, "FR01")

    expected = correct_reading(data, dialect)
    event("read" if read is not None else f"refused: {failure.rule if failure else None}")
    if read is None:
        assert failure is not None and failure.file == "invoices.csv"
        assert not correct, (failure, data)  # a correct file is always read
        return
    assert expected is not None, (data, read.frame)  # what the CSV rules refuse is never read
    header, rows, numbers = expected
    frame = read.frame
    assert list(frame.columns[: len(header)]) == header
    got = [
        [None if value is None or value != value else value for value in row]
        for row in frame[header].values.tolist()
    ]
    assert got == rows
    assert frame[ROW_COLUMN].tolist() == numbers
    if correct:
        assert got == table_as_read(case["table"])


ENTITY = "GB01"
LANDED = "select document_id, amount from raw.invoices where entity_code = ? order by document_id"


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    path = tmp_path_factory.mktemp("registry") / "entities.yml"
    path.write_text(REGISTRY_YAML, encoding="utf-8")
    return load_registry(path)


@st.composite
def invoice_files(draw: st.DrawFn) -> bytes:
    """GB01's invoices: good rows written by hand, with a hostile value or a run of random bytes."""
    documents = draw(st.lists(st.sampled_from(["F-1", "F-2", "F-3", "F 4", 'F-"5"', "F;6", "F,7", "F-\n8"]),
                              min_size=1, max_size=4, unique=True))  # fmt: skip
    rows = [
        [document, "invoice", "C001", "2026-01-05", "2026-02-04", "GBP", draw(st.sampled_from(["10.00", "1,5", "7"])),
         "", "false", "open"]
        for document in documents
    ]  # fmt: skip
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows([HEADER, *rows])
    data = buffer.getvalue().encode("utf-8")
    if draw(st.booleans()):
        start = draw(st.integers(min_value=0, max_value=len(data)))
        noise = draw(st.binary(min_size=1, max_size=6))
        data = data[:start] + noise + data[start + len(noise) :]
    return data


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=invoice_files())
def test_a_night_with_any_bytes_in_a_file_lands_what_the_file_says(data, registry, tmp_path_factory):
    work = tmp_path_factory.mktemp("night")
    landing, warehouse = work / "landing", work / "warehouse.duckdb"
    landing.mkdir()
    write_good_night(landing, manifest=False)
    (landing / ENTITY / DAY1.isoformat() / "invoices.csv").write_bytes(data)

    outcomes = {o.entity_code: o for o in land(registry, landing, DAY1, warehouse)}  # never raises

    assert all(outcomes[e].status == OK for e in ENTITIES if e != ENTITY), outcomes
    assert outcomes[ENTITY].status in (OK, QUARANTINED)
    if outcomes[ENTITY].status == QUARANTINED:
        return
    expected = correct_reading(data, CsvDialect())
    assert expected is not None, data
    dialect = CsvDialect()
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        landed = connection.execute(LANDED, [ENTITY]).fetchall()
    header, rows, _ = expected
    assert header == HEADER  # a file without the extract's columns is quarantined
    assert landed == sorted((row[0], parse_amount(row[6], dialect)) for row in rows)
