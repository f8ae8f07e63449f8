"""A report as the workbook, the PDF and the mail show it: its tables, columns and words.

The shapes (``Report``, ``Table``, ``Column``), the sheets' titles, the
labels of the marts' codes (written once, in the marts' YAML:
receivables.marts_catalog) and the read-only connection the figures are
read through (``Marts``). receivables.reports.data fills a report from the
marts (with receivables.reports.changes for its changes); receivables.reports.files
writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from receivables.errors import ReceivablesError
from receivables.marts_catalog import column_label, value_labels
from receivables.warehouse.store import open_published

GROUP = "GROUP"

# how a column is shown: text, date, amount (2 decimals), days (2 decimals), ratio (a percentage), count, flag,
# or BY_ROW: each row's own (a table of figures of several kinds, Table.row_kinds)
Kind = str
BY_ROW = "by_row"


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind

    @classmethod
    def of(cls, column: str, kind: Kind) -> Column:
        """A mart's column, headed as the users read it on the dashboards too (``column_label``)."""
        return cls(column_label(column), kind)


@dataclass(frozen=True)
class Table:
    """One sheet of the workbook: a header row, then rows in the columns' order."""

    title: str
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]
    note: str = ""
    row_kinds: tuple[Kind, ...] = ()  # each row's kind, for the columns of kind BY_ROW

    def kind(self, row: int, column: int) -> Kind:
        kind = self.columns[column].kind
        return self.row_kinds[row] if kind == BY_ROW else kind


@dataclass(frozen=True)
class Report:
    as_of: date
    scope: str
    scope_name: str
    headline: list[tuple[str, Any, Kind]]
    tables: list[Table]
    bucket_headers: list[str]
    aging_eur: list[Decimal]  # per bucket, external receivables in EUR (the aging chart)
    dso_trend: list[
        tuple[date, float | None, float | None, float | None]
    ]  # month end, countback, ratio, BPDSO
    dso_currency: str
    top_exposures: list[tuple[str, Decimal]] = field(
        default_factory=list
    )  # label, EUR (the concentration chart)
    # the publish of the as-of date the report read (raw.publish_log: SPEC section 18, as reported)
    published_at: datetime | None = None

    @property
    def is_group(self) -> bool:
        return self.scope == GROUP

    def table(self, title: str) -> Table:
        return next(table for table in self.tables if table.title == title)


# the codes the marts publish, as the users read them: the reports' cells and the dashboards' columns,
# written once, in the marts' YAML (config.meta.labels: receivables.marts_catalog)
VALUE_LABELS = value_labels()
SIGNAL_LABELS = VALUE_LABELS["signal"]
FRESHNESS_LABELS = VALUE_LABELS["status"]
ISSUE_LABELS = VALUE_LABELS["kind"]
SEVERITY_LABELS = VALUE_LABELS["severity"]
DUNNING_LABELS = VALUE_LABELS["dunning_stage"]
PROMISE_STATUS_LABELS = VALUE_LABELS["promise_status"]
EVENT_TYPE_LABELS = VALUE_LABELS["event_type"]
INSOLVENCY_LABELS = VALUE_LABELS["insolvency_status"]  # SPEC section 3: amicable and collective proceedings
DOCUMENT_TYPE_LABELS = VALUE_LABELS["document_type"]
PERIOD_LABELS = VALUE_LABELS["period_kind"]
FIGURE_LABELS = VALUE_LABELS["figure"]  # the headline figures a publish records (mart_restatements)
RESTATED = "Retraité depuis la publication du"  # a headline line: a figure an earlier publish gave otherwise
LATE_LABELS = frozenset(
    {FRESHNESS_LABELS["stale"], FRESHNESS_LABELS["quarantined"]}
)  # a retired entity is not late
AGING, DEBTORS, SIGNALS, DSO, FRESHNESS, DATA_ISSUES, FORECAST, EINVOICE = (
    "Balance âgée",
    "Principaux débiteurs",
    "Signaux faibles",
    "DSO",
    "Fraîcheur",
    "Anomalies de données",
    "Prévision d'encaissements",
    "E-facture à traiter",
)


class Marts:
    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise ReceivablesError(f"{path}: no such warehouse file")
        self.connection = open_published(path)

    def rows(self, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql, list(parameters)).fetchall()

    def last_publish(self, as_of: date) -> datetime | None:
        """When the as-of date was last published (None: published before publishes were recorded)."""
        if not self.has_table("publish_log", schema="raw"):
            return None
        return self.rows("select max(published_at) from raw.publish_log where as_of_date = ?", as_of)[0][0]

    def has_table(self, name: str, schema: str = "marts") -> bool:
        """Whether the warehouse holds this table (a warehouse published by an earlier version may not)."""
        return bool(
            self.rows(
                "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
                schema,
                name,
            )
        )

    def close(self) -> None:
        self.connection.close()
