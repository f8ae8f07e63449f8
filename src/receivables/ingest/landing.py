"""Write, audit, publish for one night's drops (SPEC sections 2 and 3).

``validate_drops`` reads entities' drops, validates them with the Great
Expectations suites (many drops per run, each judged alone) and either stages
each as typed Parquet or moves it whole to the quarantine with its
``reason.json`` (``receivables.ingest.quarantine``). It only reads the warehouse, so the entities of a night can be
validated in parallel, in batches of worker processes (``land``). Staging
(``receivables.ingest.staging``) and the load, the single writer
(``receivables.ingest.load``), are modules of their own.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from receivables import paths
from receivables.contract import (
    DATE_HORIZON_YEARS,
    EINVOICE_FOLDER,
    ENTITY_EXTRACTS,
    EXTRACTS_BY_NAME,
    FX_RATES,
    GROUP_EXTRACTS,
    MANIFEST_FILE,
    ColumnType,
    Extract,
)
from receivables.errors import Failure, ReceivablesError
from receivables.ingest.drops import (
    DropRead,
    ExtractFile,
    find_extract_file,
    located,
    max_file_bytes,
    parse_amount,
    parse_timestamp,
    read_drop,
    read_extract,
)
from receivables.ingest.einvoice import read_messages
from receivables.ingest.fec_drop import read_fec_drop
from receivables.ingest.ledger import WARNED_EXTRACTS
from receivables.ingest.load import load_outcomes
from receivables.ingest.outcome import OK, QUARANTINED, STALE, DropOutcome
from receivables.ingest.quarantine import REASON_FILE, UnsafeQuarantine, first_link, quarantine_drop
from receivables.ingest.staging import stage
from receivables.ingest.suites import (
    CONTENT,
    DOCUMENT_PREFIX,
    EARLIEST_DATE_COLUMN,
    EUR_PREFIX,
    EXTRACT_DATE_COLUMN,
    FORMAT,
    GRADE_COLUMN,
    LATEST_DATE_COLUMN,
    ROW_COLUMN,
    UNRATED_CURRENCIES,
    unresolved_parameter,
)
from receivables.ingest.validation import CheckedFile, graded_ratings, suite_parameters, validator
from receivables.registry import Entity, Registry
from receivables.warehouse.store import (
    GROUP_ENTITY,
    document_columns,
    known_values,
    lowest_rates,
    open_working,
    read_only,
)

if TYPE_CHECKING:
    from receivables.ingest.validation import CheckedFile, Validator

log = logging.getLogger(__name__)


def _typed_frame(read: ExtractFile, entity_code: str, day: date) -> tuple[pd.DataFrame, list[Failure]]:
    """Typed values for the content suite (floats only for bounds; loads use exact decimals)."""
    frame = read.frame
    typed = pd.DataFrame({ROW_COLUMN: frame[ROW_COLUMN]})
    if read.extract.not_after_extract_date:
        typed[EXTRACT_DATE_COLUMN] = pd.Timestamp(day)
    if read.extract.plausible_dates:
        horizon = pd.DateOffset(years=DATE_HORIZON_YEARS)
        typed[EARLIEST_DATE_COLUMN] = pd.Timestamp(day) - horizon
        typed[LATEST_DATE_COLUMN] = pd.Timestamp(day) + horizon
    failures = []
    for column in read.extract.columns:
        text = frame[column.name]
        if column.type in (ColumnType.DATE, ColumnType.TIMESTAMP):
            formats = (
                (read.dialect.date_format,)
                if column.type is ColumnType.DATE
                else read.dialect.timestamp_formats
            )
            values = pd.to_datetime(text, format=formats[0], errors="coerce")
            for written in formats[1:]:  # a timestamp: with seconds, minutes, or a date alone
                values = values.fillna(pd.to_datetime(text, format=written, errors="coerce"))
            invalid = values.isna() & text.notna()
            for row, found in zip(frame.loc[invalid, ROW_COLUMN], text[invalid], strict=True):
                failures.append(
                    Failure(
                        entity_code,
                        read.path.name,
                        "date_value",
                        "expected a real calendar date"
                        + (" and time of day" if column.type is ColumnType.TIMESTAMP else ""),
                        row=int(row),
                        column=column.name,
                        found=found,
                    )
                )
            typed[column.name] = values
        elif column.type in (ColumnType.DECIMAL, ColumnType.INTEGER):
            normalised = (
                text.str.replace(read.dialect.decimal, ".", regex=False)
                if read.dialect.decimal != "."
                else text
            )
            typed[column.name] = pd.to_numeric(normalised, errors="coerce")
        else:
            typed[column.name] = text
    if read.extract.name == "risk_ratings":
        typed[GRADE_COLUMN] = graded_ratings(typed["provider"], typed["rating"], typed["rated_at"])
    return typed, failures


def _reference_parameters(
    extract: Extract,
    files: dict[str, ExtractFile],
    connection: duckdb.DuckDBPyConnection | None,
    entity_code: str,
    found: dict[tuple[str, str], set[str]] | None = None,
) -> dict[str, Any]:
    """Referenced values of the file that resolve neither within the drop nor in the warehouse.

    ``found``: values already looked up in the warehouse, by (target extract,
    column), for the file's rows (the documents a file's lines settle).
    """
    parameters = {}
    for reference in extract.references:
        wanted = set(files[extract.name].frame[reference.column].dropna())
        known: set[str] = set()
        if reference.target in files:
            known = wanted & set(files[reference.target].frame[reference.target_column].dropna())
        target = EXTRACTS_BY_NAME[reference.target]
        already = (found or {}).get((reference.target, reference.target_column))
        if already is not None:
            known |= wanted & already
        else:
            known |= known_values(connection, target, reference.target_column, entity_code, wanted - known)
        parameters[unresolved_parameter(reference.target, reference.target_column)] = sorted(wanted - known)
    return parameters


def _reason(failures: list[Failure]) -> str:
    first = failures[0].describe()
    return first if len(failures) == 1 else f"{len(failures)} failures, first: {first}"


@dataclass
class _Drop:
    """One drop being validated: what was read and every failure found so far."""

    code: str
    folder: Path
    quarantined: Path
    read: DropRead
    failures: list[Failure]  # errors and warnings

    @property
    def errors(self) -> list[Failure]:
        return [failure for failure in self.failures if failure.is_error]


def _check(
    checker: Validator, phase: str, drops: dict[int, _Drop], prepared: dict[tuple[int, str], CheckedFile]
) -> None:
    """Validate the prepared files of the drops, one extract at a time, many drops per run."""
    by_extract: dict[str, list[tuple[int, str]]] = {}
    for key in prepared:
        by_extract.setdefault(drops[key[0]].read.files[key[1]].extract.name, []).append(key)
    for keys in by_extract.values():
        index, name = keys[0]
        extract = drops[index].read.files[name].extract  # a drop's CDAR messages: einvoice_status rows
        results = checker.validate_files(extract, phase, [prepared[key] for key in keys])
        for (index, _), failures in zip(keys, results, strict=True):
            drops[index].failures += failures


def validate_drops(
    registry: Registry,
    entity_codes: list[str | None],
    landing: Path,
    day: date,
    warehouse: Path,
    warehouse_connection: duckdb.DuckDBPyConnection | None = None,
) -> list[DropOutcome]:
    """Validate drops of one night (an entity code of None: the group's fx_rates); stage or quarantine each.

    The files of all the drops are validated together, extract by extract
    (``Validator.validate_files``): a night of forty small drops costs a few
    runs of each suite, not forty. Each drop is still judged alone: it is
    quarantined whole for its own failures, and the others land. The
    warehouse is read for references through ``warehouse_connection`` when
    given (a read-only connection the caller keeps open for many drops), else
    through a read-only connection of its own.
    """

    max_file_bytes()  # a misconfigured bound is the operators' error, raised before any drop is judged

    outcomes: dict[int, DropOutcome] = {}
    drops: dict[int, _Drop] = {}
    for index, entity_code in enumerate(entity_codes):
        code = entity_code or GROUP_ENTITY
        folder = paths.drop_dir(landing, entity_code, day)
        quarantined = paths.quarantine_dir(landing, entity_code, day)
        linked = first_link(folder.parent, folder)
        if not folder.exists() and linked is None:
            outcomes[index] = _absent(code, day, quarantined, folder)
            continue
        entity = registry.entity(entity_code) if entity_code else None
        dialect = entity.csv if entity else registry.group_csv
        extracts = ENTITY_EXTRACTS if entity_code else GROUP_EXTRACTS
        if linked is not None:  # a linked drop could be another entity's: never read through it
            failure = Failure(
                code,
                linked.name,
                "symlink",
                "expected the drop as a folder of the landing area, not a symbolic link (never followed)",
                found=str(os.readlink(linked)),
            )
            read = DropRead(failures=[failure])
        else:
            read = _read_safely(folder, extracts, dialect, code, entity, warehouse, warehouse_connection)
            if entity is not None:
                read.failures += _registry_failures(entity, folder, day)
        drops[index] = _Drop(code, folder, quarantined, read, list(read.failures))

    checker = validator()
    formats = {
        (index, name): CheckedFile(
            extract_file.frame,
            suite_parameters(extract_file.extract, extract_file.frame, registry.codes, extract_file.dialect),
            drop.code,
            extract_file.path.name,
        )
        for index, drop in drops.items()
        if not drop.errors
        for name, extract_file in drop.read.files.items()
    }
    _check(checker, FORMAT, drops, formats)
    well_formed = {index: drop for index, drop in drops.items() if not drop.errors}
    if well_formed:
        contents: dict[tuple[int, str], CheckedFile] = {}
        scope = read_only(warehouse) if warehouse_connection is None else nullcontext(warehouse_connection)
        with scope as connection:
            rates = _known_rates(connection, registry, landing, day)
            for index, drop in well_formed.items():
                for name, extract_file in drop.read.files.items():
                    typed, date_failures = _typed_frame(extract_file, drop.code, day)
                    drop.failures += date_failures
                    found = _add_cross_file_columns(
                        extract_file.extract, typed, drop.read.files, connection, drop.code, rates
                    )
                    parameters = suite_parameters(
                        extract_file.extract, typed, registry.codes, extract_file.dialect
                    )
                    parameters |= _reference_parameters(
                        extract_file.extract, drop.read.files, connection, drop.code, found
                    )
                    parameters[UNRATED_CURRENCIES] = sorted(
                        {
                            currency
                            for _, column in extract_file.extract.converted_amounts
                            for currency in typed[column].dropna().unique()
                        }
                        - set(rates)
                    )
                    contents[(index, name)] = CheckedFile(
                        typed, parameters, drop.code, extract_file.path.name
                    )
        _check(checker, CONTENT, drops, contents)

    for index, drop in drops.items():
        outcomes[index] = _settle(drop, warehouse, day, landing)
        outcomes[index].with_manifest = (drop.folder / MANIFEST_FILE).is_file()
    return [outcomes[index] for index in range(len(entity_codes))]


def _known_rates(
    connection: duckdb.DuckDBPyConnection | None, registry: Registry, landing: Path, day: date
) -> dict[str, Decimal]:
    """The lowest rate of each currency of the group's FX history, tonight's FX drop included.

    Tonight's drop is read as it lies in the landing folder (it is validated
    beside the entities' drops, maybe by another worker): its rates count
    here whether or not it lands, and a drop that cannot be read adds none.
    """
    rates = lowest_rates(connection)
    folder = paths.drop_dir(landing, None, day)
    try:
        path = find_extract_file(folder, FX_RATES)
        read, _ = read_extract(path, FX_RATES, registry.group_csv, GROUP_ENTITY) if path else (None, None)
    except (OSError, ValueError, TypeError, KeyError, UnicodeError):
        read = None
    if read is None or not {"currency", "units_per_eur"} <= set(read.frame.columns):
        return rates
    for currency, text in zip(read.frame["currency"], read.frame["units_per_eur"], strict=True):
        if not isinstance(currency, str) or not isinstance(text, str):
            continue
        rate = parse_amount(text, read.dialect)
        if rate is not None and rate > 0 and rate < rates.get(currency, Decimal("Infinity")):
            rates[currency] = rate
    return rates


def _add_cross_file_columns(
    extract: Extract,
    typed: pd.DataFrame,
    files: dict[str, ExtractFile],
    connection: duckdb.DuckDBPyConnection | None,
    entity_code: str,
    rates: dict[str, Decimal],
) -> dict[tuple[str, str], set[str]]:
    """The values the cross-file rules of the content suite compare (SPEC section 12).

    ``_eur_<amount>``: the amount at its currency's lowest known rate (the
    most it can be worth in EUR; null without a rate, which the currency
    rule reports). ``_document_<column>``: for a settlement line, that column
    of the document it settles, from tonight's drop or else the warehouse.
    Returns the document ids found in the warehouse, which the reference
    check then need not look up again.
    """
    for amount, currency in extract.converted_amounts:
        lowest = typed[currency].map(lambda code: float(rates[code]) if code in rates else None)
        typed[f"{EUR_PREFIX}{amount}"] = typed[amount] / lowest.astype("float64")
    if not extract.document_match:
        return {}
    columns = extract.document_match
    wanted = set(typed["document_id"].dropna())
    documents = pd.DataFrame(columns=["document_id", *columns])
    if "invoices" in files:
        documents = files["invoices"].frame[["document_id", *columns]].dropna(subset=["document_id"])
    in_warehouse = document_columns(connection, entity_code, wanted - set(documents["document_id"]), columns)
    known = pd.concat([documents, in_warehouse], ignore_index=True).drop_duplicates("document_id")
    lookup = known.set_index("document_id")
    for column in columns:  # null for unapplied cash and unknown documents (the reference rule's)
        typed[f"{DOCUMENT_PREFIX}{column}"] = typed["document_id"].map(lookup[column])
    return {("invoices", "document_id"): set(in_warehouse["document_id"])}


def _read_safely(
    folder: Path,
    extracts: tuple[Extract, ...],
    dialect: Any,
    code: str,
    entity: Entity | None = None,
    warehouse: Path | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> DropRead:
    """Read a drop; whatever goes wrong while reading it is that drop's failure, never the night's.

    The reader reports the failures it knows (encodings, CSV structure, the
    manifest); anything else a file can make it raise (an unreadable file, a
    format no reader expected) is caught here, named with the drop, and
    quarantines that drop alone.
    """
    try:
        if entity is not None and entity.drops_fec:  # its debtors already landed give their terms
            scope = (
                nullcontext(connection)
                if connection is not None or warehouse is None
                else read_only(warehouse)
            )
            with scope as known:
                read = read_fec_drop(folder, entity, known)
        else:
            read = read_drop(folder, extracts, dialect, code)
        if entity is not None:  # the e-invoicing platforms' statuses (SPEC section 17)
            messages, failures = read_messages(folder, entity)
            read.failures += failures
            if messages is not None:
                read.files[EINVOICE_FOLDER] = messages
                read.failures += messages.warnings
        return read
    except (OSError, ValueError, TypeError, KeyError, IndexError, UnicodeError, ReceivablesError) as exc:
        log.exception("%s: reading the drop failed", folder)
        return DropRead(
            failures=[
                Failure(
                    code,
                    folder.name,
                    "unreadable",
                    f"expected a drop that can be read ({type(exc).__name__}: {exc})",
                )
            ]
        )


def _registry_failures(entity: Entity, folder: Path, day: date) -> list[Failure]:
    """What the registry says of an entity's drop: retired by its date, or without the manifest it must carry."""
    failures = []
    if entity.is_retired(day):
        failures.append(
            Failure(
                entity.code,
                folder.name,
                "entity_retired",
                f"the registry retires {entity.code} on {entity.retired_on} (retired_on): its drops "
                "of that date and after no longer land",
                found=day.isoformat(),
            )
        )
    if entity.require_manifest and not (folder / MANIFEST_FILE).exists():
        failures.append(
            Failure(
                entity.code,
                MANIFEST_FILE,
                "manifest_required",
                "expected _manifest.json with each file's rows, sha256 and amount_sum: the registry "
                "requires control totals of this entity (require_manifest: true)",
            )
        )
    return failures


def _absent(code: str, day: date, quarantined: Path, folder: Path) -> DropOutcome:
    """No drop to validate: quarantined on an earlier run (its reason kept), else stale."""
    if (quarantined / REASON_FILE).exists():
        reason = json.loads((quarantined / REASON_FILE).read_text(encoding="utf-8"))
        failures = [Failure.from_json(f) for f in reason["failures"]]
        return DropOutcome(
            code, day.isoformat(), QUARANTINED, reason=_reason(failures), failure_count=len(failures)
        )
    return DropOutcome(code, day.isoformat(), STALE, reason=f"no drop at {folder}")


def _settle(drop: _Drop, warehouse: Path, day: date, landing: Path) -> DropOutcome:
    """Quarantine the drop for its errors, or stage its files (and list its warnings) for the load."""
    warnings = [located(failure, drop.read.files) for failure in drop.failures if not failure.is_error]
    errors = [located(failure, drop.read.files) for failure in drop.errors]
    if errors:
        errors += _missing_earlier_drops(landing, drop.code, day, errors)
        failures = errors + warnings
        try:
            final = quarantine_drop(drop.folder, drop.quarantined, failures, drop.code, day)
        except UnsafeQuarantine as unsafe:
            log.error("%s %s: %s", drop.code, day, unsafe)
            return DropOutcome(
                drop.code,
                day.isoformat(),
                QUARANTINED,
                reason=f"{_reason(errors)}; {unsafe}",
                failure_count=len(errors),
            )
        for failure in errors[:10]:
            log.warning("%s", failure.describe())
        log.warning("%s %s quarantined to %s (%d failures)", drop.code, day, final, len(errors))
        return DropOutcome(
            drop.code,
            day.isoformat(),
            QUARANTINED,
            reason=_reason(errors),
            failure_count=len(errors),
        )
    staging = paths.staging_dir(warehouse) / drop.code / day.isoformat()
    staged = stage(drop.read.files, staging, drop.code, day)
    rows = sum(len(extract_file.frame) for extract_file in drop.read.files.values())
    records = [_warning_record(failure, drop.read.files) for failure in drop.failures]
    for record, failure in zip(records, warnings, strict=True):  # a message's row: its file
        record["file"], record["row"] = failure.file, failure.row
    for failure in warnings[:10]:
        log.warning("%s", failure.describe())
    return DropOutcome(
        drop.code,
        day.isoformat(),
        OK,
        rows=rows,
        staged=staged,
        warnings=records,
        snapshot=list(drop.read.snapshot),
        snapshot_from=drop.read.snapshot_from.isoformat() if drop.read.snapshot_from else None,
    )


def _missing_earlier_drops(landing: Path, code: str, day: date, errors: list[Failure]) -> list[Failure]:
    """A drop whose references do not resolve while an earlier drop of its entity sits in quarantine:
    say so, since the missing debtors or documents are most likely in that drop."""
    if not any(failure.rule == "reference" for failure in errors):
        return []
    entity = None if code == GROUP_ENTITY else code
    folder = paths.quarantine_dir(landing, entity, day).parent
    missing = []
    for candidate in sorted(folder.iterdir()) if folder.is_dir() and not folder.is_symlink() else []:
        try:
            earlier = date.fromisoformat(candidate.name[:10])
        except ValueError:
            continue
        if earlier < day and not paths.drop_dir(landing, entity, earlier).exists():
            missing.append(earlier.isoformat())
    if not missing:
        return []
    listed = ", ".join(sorted(set(missing)))
    return [
        Failure(
            code,
            REASON_FILE,
            "earlier_drop_quarantined",
            f"expected the entity's earlier drops to have landed: the drop(s) of {listed} are in "
            f"{folder}; the references above may be in them. Land the corrected earlier drop(s) "
            "first, then this one again",
            found=listed,
        )
    ]


def _warning_record(failure: Failure, files: dict[str, ExtractFile]) -> dict[str, Any]:
    """A warning as the load records it: where, which rule, and the row's key, amount and currency."""
    record: dict[str, Any] = {
        "file": failure.file,
        "row": failure.row,
        "column": failure.column,
        "rule": failure.rule,
        "message": failure.message,
        "found": failure.found,
        "items": failure.items or 1,
        "key": None,
        "amount": None,
        "currency": None,
    }
    # a FEC is read as several extracts: the rule says which of them its line is a row of
    wanted = WARNED_EXTRACTS.get(failure.rule)
    read = next(
        (f for f in files.values() if f.path.name == failure.file and wanted in (None, f.extract.name)), None
    )
    if read is None or failure.row is None:
        return record
    matches = read.frame.loc[read.frame[ROW_COLUMN] == failure.row]
    if matches.empty:
        return record
    row = matches.iloc[0]
    record["key"] = row_key(read, row)
    amount_column = read.extract.amount_column
    if amount_column and isinstance(row.get(amount_column), str):
        amount = parse_amount(row[amount_column], read.dialect)
        record["amount"] = None if amount is None else str(amount)  # JSON for Airflow, exact for the load
        currency = row.get("currency") if "currency" in row.index else row.get("cover_currency")
        record["currency"] = currency if isinstance(currency, str) else None
    return record


def row_key(read: ExtractFile, row: pd.Series) -> str:
    """A row's key as the warehouse writes it (dates ISO, integers bare), its columns joined by " / ".

    The warning keeps it so that the build can tell whether the row it names is still the one that
    drop landed (int_landing_warnings_at_dates).
    """
    parts = []
    for name in read.extract.key:
        value, column = row[name], read.extract.column(name)
        if column.type is ColumnType.DATE:
            value = datetime.strptime(str(value).strip(), read.dialect.date_format).date().isoformat()
        elif column.type is ColumnType.TIMESTAMP:  # as DuckDB writes a timestamp as text
            value = parse_timestamp(str(value).strip(), read.dialect).isoformat(sep=" ")
        elif column.type is ColumnType.INTEGER:
            value = str(int(str(value).strip()))
        parts.append(str(value))
    return " / ".join(parts)


# In a validation worker: one read-only connection to the warehouse for every drop the worker
# validates (opening a warehouse of millions of rows costs more than a drop's lookups in it).
# Workers are processes of their own and end before the load opens the warehouse to write.
_worker_warehouse: duckdb.DuckDBPyConnection | None = None


def _open_worker_warehouse(warehouse: Path) -> None:
    global _worker_warehouse
    if Path(warehouse).exists():
        _worker_warehouse = open_working(warehouse, read_only=True)


def _validate_batch(job: tuple[Registry, list[str | None], Path, date, Path]) -> list[DropOutcome]:
    return validate_drops(*job, warehouse_connection=_worker_warehouse)


BATCH_BYTES = 16 * 2**20  # files of drops validated in one batch, about (a larger drop is a batch alone)


def batches(sizes: list[int], parts: int, limit: int = BATCH_BYTES) -> list[list[int]]:
    """The drops (their indexes) in runs of consecutive drops about equal in bytes.

    There are at least ``parts`` runs when there are as many drops, and
    enough that a run holds about ``limit`` bytes at most. A drop goes to
    the run its middle byte falls in, runs being of equal width over all the
    bytes, so the runs balance the cores; a drop at least that wide (a
    history drop) is a run alone, and the one before it and the one after
    it, being a width apart, never share a run.
    """
    total = sum(sizes)
    count = max(min(parts, len(sizes)), -(-total // limit), 1)
    width = max(total / count, 1)
    runs: dict[tuple[str, int], list[int]] = {}
    before = 0
    for index, size in enumerate(sizes):
        key = ("alone", index) if size >= width else ("shared", int((before + size / 2) // width))
        runs.setdefault(key, []).append(index)
        before += size
    return list(runs.values())


def night_codes(registry: Registry, landing: Path, day: date) -> list[str]:
    """The entities a night lands: every entity not retired on ``day``, and a retired one that dropped
    anyway (its drop is quarantined with the reason, never left unseen in the landing area)."""
    codes = []
    for entity in registry.entities:
        folder = paths.drop_dir(landing, entity.code, day)
        if not entity.is_retired(day) or folder.exists() or folder.is_symlink():
            codes.append(entity.code)
    return codes


def drop_bytes(landing: Path, entity_code: str | None, day: date) -> int:
    folder = paths.drop_dir(landing, entity_code, day)
    if not folder.is_dir() or first_link(folder.parent, folder) is not None:
        return 0
    return sum(path.lstat().st_size for path in folder.iterdir() if not path.is_symlink() and path.is_file())


def plan(registry: Registry, landing: Path, day: date, parts: int) -> list[list[str | None]]:
    """A night's drops in batches about equal in bytes (``batches``), at least ``parts`` of them when
    there are as many drops: the group's FX drop (None) first, then every entity the night lands."""
    codes: list[str | None] = [None, *night_codes(registry, landing, day)]
    runs = batches([drop_bytes(landing, code, day) for code in codes], parts)
    return [[codes[index] for index in run] for run in runs]


def land(
    registry: Registry, landing: Path, day: date, warehouse: Path, workers: int | None = None
) -> list[DropOutcome]:
    """Land one night for every entity of the registry and the group's fx rates.

    The drops are split into batches of about equal size, validated in
    parallel, one process per core (validation only reads the warehouse),
    then one writer loads them all. Great Expectations costs a fixed time per
    expectation and run whatever the file's size, so the drops of a batch are
    validated together (``validate_drops``): a quiet night of forty entities
    costs a few runs of each suite per core, not forty (docs/benchmarks.md).
    A history drop is a batch alone, so memory stays that of one drop per
    core. The workers are forked after GX is imported and its context built,
    so they do neither again (importing GX takes seconds).
    """
    workers = workers or os.cpu_count() or 1
    jobs = [(registry, batch, landing, day, warehouse) for batch in plan(registry, landing, day, workers)]
    if workers > 1 and len(jobs) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        validator()  # GX imported and its context built once, inherited by the workers

        with ProcessPoolExecutor(
            min(workers, len(jobs)),
            mp_context=multiprocessing.get_context("fork"),
            initializer=_open_worker_warehouse,
            initargs=(warehouse,),
        ) as pool:
            outcomes = [outcome for batch in pool.map(_validate_batch, jobs) for outcome in batch]
    else:
        outcomes = [outcome for job in jobs for outcome in _validate_batch(job)]
    load_outcomes(warehouse, outcomes, registry)
    return outcomes
