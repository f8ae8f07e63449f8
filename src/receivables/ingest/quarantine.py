"""The quarantine (SPEC section 2): a drop that fails moves there whole, with its ``reason.json``.

Nothing is ever written through a symbolic link: a linked quarantine folder
leaves the drop where it is (``UnsafeQuarantine``).
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

from receivables.errors import Failure, ReceivablesError

REASON_FILE = "reason.json"


def quarantine_drop(folder: Path, target: Path, failures: list[Failure], entity_code: str, day: date) -> Path:
    """Move the drop whole and unchanged; a second bad drop for the same date gets a suffix.

    A drop whose folder is gone (a build takes out a drop landed from a
    folder since removed) still gets its ``reason.json`` in the quarantine.
    """
    linked = first_link(target.parent.parent, target.parent)
    if linked is not None:  # writing there would write wherever the link points
        raise UnsafeQuarantine(
            f"{linked} is a symbolic link: the drop is left where it is, nothing is written"
        )
    final = target
    attempt = 1
    while final.exists() or final.is_symlink():
        attempt += 1
        final = target.with_name(f"{target.name}.{attempt}")
    final.parent.mkdir(parents=True, exist_ok=True)
    if folder.is_symlink():  # the link itself is kept, never what it points at
        final.mkdir()
        os.rename(folder, final / "drop.symlink")
    elif folder.is_dir():
        shutil.move(str(folder), str(final))
    else:
        final.mkdir()
    reason = {
        "entity": entity_code,
        "extract_date": day.isoformat(),
        "drop": str(folder),
        "failure_count": len(failures),
        "failures": [failure.to_json() for failure in failures],
        "summary": [failure.describe() for failure in failures[:20]],
    }
    (final / REASON_FILE).write_text(
        json.dumps(reason, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return final


class UnsafeQuarantine(ReceivablesError):
    """The quarantine folder of an entity is a symbolic link: nothing may be written through it."""


def first_link(*candidates: Path) -> Path | None:
    """The first of these paths that is a symbolic link (landing never follows one), if any."""
    return next((path for path in candidates if path.is_symlink()), None)
