"""Read the drop of an entity that sends its FEC (SPEC section 16) as landing reads any drop.

The drop holds one FEC (its legal name ``<SIREN>FEC<YYYYMMDD>.txt``, or
``fec.txt``) and, optionally, ``debtors.csv``, ``risk_ratings.csv``,
``collection_events.csv``, ``einvoice_status.csv`` (or an ``einvoice/``
folder, read by landing for any entity) and ``_manifest.json``. The FEC's customer lines
become the drop's invoices and payments (``receivables.ingest.ledger``),
numbered with their FEC lines, so the Great Expectations suites, the
staging and the load treat them as they treat any entity's; the drop is a
snapshot (``DropRead.snapshot``): the load replaces the entity's documents
and settlement lines with them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd

from receivables.contract import (
    COLLECTION_EVENTS,
    DEBTORS,
    EINVOICE_STATUS,
    INVOICES,
    PAYMENTS,
    RISK_RATINGS,
)
from receivables.errors import Failure
from receivables.ingest.drops import PARQUET_DIALECT, DropRead, ExtractFile, file_problem, read_drop
from receivables.ingest.fec import PLAIN_NAME, is_fec_name, read_fec
from receivables.ingest.ledger import (
    DEBTOR_COLUMNS,
    DUE_DATE_SOURCE,
    MATCHED_ON,
    KnownDebtor,
    customer_ledger,
)
from receivables.ingest.suites import ROW_COLUMN
from receivables.registry import Entity
from receivables.warehouse.store import raw_table

# what a FEC drop may carry beside the FEC: the extracts a FEC cannot give (optional, all of them)
GIVEN_BESIDE_FEC = (DEBTORS, RISK_RATINGS, COLLECTION_EVENTS, EINVOICE_STATUS)
BESIDE_FEC = tuple(replace(extract, optional=True) for extract in GIVEN_BESIDE_FEC)
REPLACED_BY_FEC = (INVOICES, PAYMENTS)  # the extracts a FEC gives: beside it, they are an error
SNAPSHOT = tuple(extract.name for extract in REPLACED_BY_FEC)


def find_fec(folder: Path, entity: str) -> tuple[Path | None, list[Failure]]:
    """The drop's FEC file, or why there is not exactly one."""
    found = sorted(path for path in folder.iterdir() if is_fec_name(path.name))
    if len(found) == 1:
        return found[0], []
    expected = f"<SIREN>FEC<YYYYMMDD>.txt (the legal name, .txt or .csv, any case) or {PLAIN_NAME}"
    if not found:
        message = f"expected the entity's FEC in the drop, named {expected} (the registry says format: fec)"
        return None, [Failure(entity, folder.name, "missing_file", message)]
    names = ", ".join(path.name for path in found)
    return None, [
        Failure(
            entity, folder.name, "fec_files", f"expected one FEC in the drop, named {expected}", found=names
        )
    ]


def read_fec_drop(
    folder: Path, entity: Entity, warehouse: duckdb.DuckDBPyConnection | None = None
) -> DropRead:
    """The drop of a FEC entity: its FEC's documents and settlement lines, with the extracts beside it.

    The debtors the FEC names are those of ``debtors.csv`` and, for the
    others, those the entity's earlier drops landed (``warehouse``, read
    only): their terms date the documents, and a debtor already landed is
    neither written again nor warned of.
    """
    code = entity.code
    result = DropRead(snapshot=SNAPSHOT)
    for extract in REPLACED_BY_FEC:
        for suffix in (".csv", ".parquet"):
            if (folder / f"{extract.name}{suffix}").exists():
                result.failures.append(
                    Failure(
                        code, f"{extract.name}{suffix}", "fec_with_extracts",
                        f"expected no {extract.name} file beside the FEC: the FEC gives the entity's "
                        "documents and settlement lines (its registry entry says format: fec)",
                    )
                )  # fmt: skip
    path, missing = find_fec(folder, code)
    result.failures += missing
    beside = read_drop(folder, BESIDE_FEC, entity.csv, code)
    result.failures += beside.failures
    for name, read in beside.files.items():
        read.extract = next(e for e in GIVEN_BESIDE_FEC if e.name == name)
        result.files[name] = read
    if path is None:
        return result
    problem = file_problem(path, code)
    if problem is not None:
        result.failures.append(problem)
        return result
    fec = read_fec(path, code)
    result.failures += fec.failures
    if fec.lines is None:
        return result
    debtors = result.files.get("debtors")
    known = _landed_debtors(warehouse, code) | ({} if debtors is None else _known_debtors(debtors))
    ledger = customer_ledger(fec.lines, entity, path.name, known)
    result.snapshot_from = ledger.first_entry_date
    result.failures += ledger.warnings
    for extract, frame, more in (
        (INVOICES, ledger.invoices, DUE_DATE_SOURCE),
        (PAYMENTS, ledger.payments, MATCHED_ON),
    ):
        result.files[extract.name] = ExtractFile(
            extract,
            path,
            _as_text(frame[[*extract.column_names, ROW_COLUMN]]),
            PARQUET_DIALECT,
            more=_as_text(frame[[more]]),
        )
    result.files["debtors"] = _with_fec_debtors(debtors, ledger.debtors, path)
    return result


def _landed_debtors(warehouse: duckdb.DuckDBPyConnection | None, code: str) -> dict[str, KnownDebtor]:
    if warehouse is None:
        return {}
    try:
        rows = warehouse.execute(
            f"select debtor_id, payment_terms_days, registration_id is not null from {raw_table(DEBTORS)} "
            "where entity_code = ?",
            [code],
        ).fetchall()
    except duckdb.CatalogException:  # nothing landed yet
        return {}
    return {debtor: KnownDebtor(terms, registered) for debtor, terms, registered in rows}


def _known_debtors(debtors: ExtractFile) -> dict[str, KnownDebtor]:
    frame = debtors.frame
    known = {}
    for debtor, terms, registration in zip(
        frame["debtor_id"], frame["payment_terms_days"], frame["registration_id"], strict=True
    ):
        if not isinstance(debtor, str):
            continue
        days = int(terms) if isinstance(terms, str) and terms.strip().isdigit() else None
        known[debtor] = KnownDebtor(days, isinstance(registration, str))
    return known


def _with_fec_debtors(debtors: ExtractFile | None, found: pd.DataFrame, path: Path) -> ExtractFile:
    """debtors.csv with a row for each debtor the FEC names and it does not (or those rows alone)."""
    added = found[DEBTOR_COLUMNS]
    if debtors is None:
        frame = _as_text(added.reindex(columns=[*DEBTORS.column_names, ROW_COLUMN]))
        return ExtractFile(DEBTORS, path, frame, PARQUET_DIALECT)
    if added.empty:
        return debtors
    debtors.frame = pd.concat([debtors.frame, _as_text(added)], ignore_index=True)
    return debtors


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame's values as text (a missing one stays missing), its row numbers as integers."""
    text = frame.reset_index(drop=True).astype("str")
    if ROW_COLUMN in text:
        text[ROW_COLUMN] = frame[ROW_COLUMN].to_numpy(dtype="int64")
    return text
