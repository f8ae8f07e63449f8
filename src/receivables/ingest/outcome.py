"""What became of one entity's drop for one date: validation writes it, the load records it.

Its own module, so that the load (receivables.ingest.load) and the landing
(receivables.ingest.landing, which calls the load) both read it and neither
imports the other for it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

OK, STALE, QUARANTINED = "ok", "stale", "quarantined"


@dataclass
class DropOutcome:
    """What became of one entity's drop for one date; JSON-serialisable for Airflow."""

    entity_code: str
    extract_date: str
    status: str
    rows: int = 0
    reason: str | None = None
    failure_count: int = 0
    staged: dict[str, str] = field(default_factory=dict)
    # rows that broke a warning rule (SPEC section 12): they land, and are listed in mart_data_issues
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # whether the drop carried _manifest.json (control totals); None: no drop was read
    with_manifest: bool | None = None
    # extracts the drop gives whole (a FEC's invoices and payments): the load replaces the entity's rows
    snapshot: list[str] = field(default_factory=list)
    snapshot_from: str | None = None  # ISO date: documents closed before it are kept (store.snapshot_sql)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DropOutcome:
        return cls(**data)

    def describe(self) -> str:
        text = f"{self.entity_code} {self.extract_date}: {self.status}"
        if self.status == OK:
            text += f", {self.rows} rows"
            if self.warnings:
                text += f", {sum(w.get('items') or 1 for w in self.warnings)} rows with warnings"
        if self.reason:
            text += f" ({self.reason})"
        return text
