"""Errors a user reads: each says where (entity, file, row, column) and what was expected."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from receivables.contract import CONTROL_CHARACTERS

_CONTROL = re.compile(CONTROL_CHARACTERS)


def visible(text: str) -> str:
    """``text`` with each control character written as ``\\xNN``, as a person can read and a file can hold."""
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


class ReceivablesError(Exception):
    """An error the CLI reports as one line and a non-zero exit."""


class RegistryError(ReceivablesError):
    pass


class LandingError(ReceivablesError):
    pass


class GenerationError(ReceivablesError):
    pass


# Severities of a rule (SPEC section 12): an error quarantines the drop; a warning lands it
# and lists the row in marts.mart_data_issues.
ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Failure:
    """One broken rule in one drop. ``row`` counts like a spreadsheet: the header is row 1."""

    entity: str
    file: str
    rule: str
    message: str
    row: int | None = None
    column: str | None = None
    found: str | None = None
    severity: str = ERROR
    items: int | None = None  # rows this one entry stands for, when more than one (a summary)

    def __post_init__(self) -> None:
        if self.found is not None and _CONTROL.search(self.found):
            object.__setattr__(self, "found", visible(self.found))

    @property
    def is_error(self) -> bool:
        return self.severity != WARNING

    def describe(self) -> str:
        where = [self.entity, self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        found = f", found {self.found!r}" if self.found is not None else ""
        flag = "" if self.is_error else ", warning"
        return f"{' '.join(where)}: {self.message}{found} [{self.rule}{flag}]"

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Failure:
        """A failure read back from ``reason.json`` (older files have no severity: errors)."""
        return cls(**data)
