"""Read a drop's ``einvoice/`` folder of CDAR messages as rows of ``einvoice_status`` (SPEC section 17).

Each message is read by ``receivables.ingest.cdar`` (hostile XML refused,
the seller checked against the entity's ``siren``); its statuses become
rows of the extract as ``einvoice_status.csv`` writes them, so the Great
Expectations suites, the staging and the load treat them as they treat the
CSV's. The rows are numbered in the order of the folder's sorted names,
and each row remembers its message (``ExtractFile.row_files``): a failure
found on a row names its message, and the raw table keeps it
(``source_file``), so every status is traced to the file behind it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path

import pandas as pd

from receivables.contract import EINVOICE_FOLDER, EINVOICE_STATUS
from receivables.errors import Failure
from receivables.ingest.cdar import Status, read_message
from receivables.ingest.drops import PARQUET_DIALECT, ExtractFile, control_characters, file_problem
from receivables.ingest.suites import ROW_COLUMN
from receivables.registry import Entity

MESSAGE_SUFFIX = ".xml"
SOURCE_COLUMN = "source_file"  # the raw-only column naming each status's message


def read_messages(folder: Path, entity: Entity) -> tuple[ExtractFile | None, list[Failure]]:
    """The statuses of the drop's CDAR messages, or why they cannot land; (None, []) without the folder.

    A message that cannot be read (not a CDAR, another seller, hostile XML,
    too large) is an error of the drop: the drop is quarantined whole, as
    for any file it holds that cannot be read, and nothing is lost. The same
    status delivered twice (two copies of one message) is one row.
    """
    directory = folder / EINVOICE_FOLDER
    code = entity.code
    if not directory.exists() and not directory.is_symlink():
        return None, []
    status = directory.lstat()
    if stat.S_ISLNK(status.st_mode):
        return None, [
            Failure(
                code, EINVOICE_FOLDER, "symlink",
                "expected the e-invoicing messages in a folder of the drop, not a symbolic link (never followed)",
                found=str(os.readlink(directory)),
            )
        ]  # fmt: skip
    if not stat.S_ISDIR(status.st_mode):
        return None, [
            Failure(code, EINVOICE_FOLDER, "not_a_folder", "expected a folder of CDAR messages (.xml)")
        ]
    if entity.siren is None:
        return None, [
            Failure(
                code, EINVOICE_FOLDER, "einvoice_siren",
                "expected the entity's siren in the registry: a CDAR message names its invoice by the "
                "seller's SIREN, which the registry must give to match it (or send einvoice_status.csv)",
            )
        ]  # fmt: skip
    failures: list[Failure] = []
    rows: list[tuple[Status, str]] = []
    seen: set[Status] = set()
    for path in sorted(directory.iterdir()):
        shown = f"{EINVOICE_FOLDER}/{path.name}"
        problem = file_problem(path, code)
        if problem is not None:
            failures.append(Failure(code, shown, problem.rule, problem.message, found=problem.found))
            continue
        if path.suffix.lower() != MESSAGE_SUFFIX:
            failures.append(
                Failure(
                    code, shown, "einvoice_file",
                    "expected only CDAR messages in the einvoice folder, each an .xml file",
                )
            )  # fmt: skip
            continue
        statuses, problems = read_message(path, entity.siren, code, shown)
        failures += problems
        for found in statuses:
            status_only = replace(found, message_id=None)  # two copies of one message: one status
            if status_only not in seen:
                seen.add(status_only)
                rows.append((found, shown))
    if failures or not rows:
        return None, failures
    frame = pd.DataFrame([_text_row(found) for found, _ in rows], dtype="str")
    frame[ROW_COLUMN] = range(1, len(rows) + 1)
    read = ExtractFile(
        EINVOICE_STATUS,
        directory,
        frame,
        PARQUET_DIALECT,
        more=pd.DataFrame({SOURCE_COLUMN: [shown for _, shown in rows]}, dtype="str"),
        row_files=tuple(shown for _, shown in rows),
    )
    read.warnings = control_characters(frame, EINVOICE_STATUS, code, EINVOICE_FOLDER)
    return read, []


def _text_row(status: Status) -> dict[str, str | None]:
    """A status as einvoice_status.csv writes it in ISO form (PARQUET_DIALECT)."""

    def text(value: object) -> str | None:
        return None if value is None else str(value)

    return {
        "document_id": status.document_id,
        "issue_date": status.issue_date.isoformat() if status.issue_date else None,
        "status_code": status.status_code,
        "status_at": status.status_at.isoformat(sep=" "),
        "reason_code": status.reason_code,
        "action_code": status.action_code,
        "amount_type": status.amount_type,
        "amount": text(status.amount),
        "currency": status.currency,
        "note": status.note,
    }
