"""The extract contract of SPEC section 3: files, columns, types, keys.

This module is the one definition of what an extract looks like. The Great
Expectations suites under ``expectations/``, the CSV reader and the ``raw``
tables of the warehouse are all derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ColumnType(StrEnum):
    TEXT = "text"
    DATE = "date"
    TIMESTAMP = "timestamp"  # the entity's date, then optionally " HH:MM" or " HH:MM:SS" (or T for the space)
    DECIMAL = "decimal"
    INTEGER = "integer"
    BOOL = "bool"


class Domain(StrEnum):
    """A value domain that a text column must belong to."""

    CURRENCY = "currency"  # ISO 4217
    COUNTRY = "country"  # ISO 3166-1 alpha-2
    ENTITY = "entity"  # an entity code of the registry


# C0 control characters other than tab, line feed and carriage return, and DEL: no text of a drop
# means them, a workbook cannot hold them, and a terminal acts on them. Landing replaces each with a
# space in what lands and warns (rule control_character); a failure shows each as \xNN.
CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"

# What the consolidated debtor id drops from a registration id (SPEC section 4: "spaces, dots and
# dashes"): every Unicode space separator (French spreadsheets group digits with U+00A0 or U+202F),
# the ASCII white space, dots and dashes. As a regular expression class for Python's re; the dbt
# macro normalise_registration_id writes it for DuckDB as [\s\p{Z}.\-], and a test holds the two equal.
REGISTRATION_ID_SEPARATORS = r"[\t\n\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000.\-]"


# The largest amount a document, line or cover may be worth, in EUR: every amount is kept as
# decimal(18, 2) in EUR and in each entity's currency, which this bound keeps within reach for
# every rate landing accepts (below MAX_UNITS_PER_EUR). No trade receivable comes near it; a larger
# value is an error.
MAX_AMOUNT_EUR = 10**10
# The largest rate landing accepts, in units per EUR (the Lebanese pound is near 100,000, the
# Iranian rial's market rate near 1,000,000): a rate keyed without its decimal point (PLN 4315048)
# is an error that names its row, never a build that overflows (issue 33). With MAX_AMOUNT_EUR it
# keeps every amount in an entity's currency below 10^16, decimal(18, 2)'s reach.
MAX_UNITS_PER_EUR = "999999.999999"

# DuckDB types of the raw layer. Money carries 4 decimals so that 3-decimal
# currencies (KWD, BHD, TND) are exact; rates carry 6 like the ECB's.
MONEY_SQL = "decimal(18, 4)"
RATE_SQL = "decimal(18, 6)"
SHARE_SQL = "decimal(7, 6)"


@dataclass(frozen=True)
class RequiredWhen:
    """A column required on the rows where ``column`` holds one of ``values`` (any value when empty)."""

    column: str
    values: tuple[str, ...] = ()

    @property
    def row_condition(self) -> str:
        """The rows it concerns, as a pandas query (Great Expectations' ``row_condition``)."""
        if not self.values:
            return f"{self.column} == {self.column}"  # a value is present (a missing one is NaN)
        return f"{self.column} in {list(self.values)!r}"

    @property
    def words(self) -> str:
        if not self.values:
            return f"when {self.column} is given"
        return f"when {self.column} is " + " or ".join(self.values)


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = ColumnType.TEXT
    required: bool = False
    values: tuple[str, ...] = ()
    domain: Domain | None = None
    sql_type: str | None = None
    default: str | None = None
    minimum: str | None = None  # inclusive lower bound of a numeric column
    exclusive_minimum: str | None = None
    maximum: str | None = None
    # warnings (SPEC section 12): representable but implausible values land and are listed
    plausible_maximum: str | None = None  # inclusive upper bound of a plausible value
    zero_is_implausible: bool = False
    required_when: RequiredWhen | None = None  # required on some rows only (an error when missing)
    # a registration id (SPEC section 4): letters and digits once its separators are dropped, else a
    # warning (the consolidated debtor id would keep the character and split one company in two)
    identifier: bool = False
    pattern: str | None = None  # a regular expression every value matches (an error otherwise)

    @property
    def duckdb_type(self) -> str:
        if self.sql_type:
            return self.sql_type
        return {
            ColumnType.TEXT: "varchar",
            ColumnType.DATE: "date",
            ColumnType.TIMESTAMP: "timestamp",
            ColumnType.DECIMAL: MONEY_SQL,
            ColumnType.INTEGER: "integer",
            ColumnType.BOOL: "boolean",
        }[self.type]


@dataclass(frozen=True)
class Reference:
    """``column`` must name a ``target_column`` value of ``target`` (same entity)."""

    column: str
    target: str
    target_column: str


@dataclass(frozen=True)
class Extract:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    amount_column: str | None = None  # summed by _manifest.json's amount_sum
    references: tuple[Reference, ...] = ()
    # (later, earlier): column ``later`` should not be before column ``earlier`` (a warning:
    # real ledgers have invoices due before they were posted, SPEC section 12)
    date_order: tuple[tuple[str, str], ...] = ()
    # dates that should not be after the drop's extract date (a warning)
    not_after_extract_date: tuple[str, ...] = ()
    # dates that should be within DATE_HORIZON_YEARS of the drop's extract date (a warning:
    # ERPs write 9999-12-31 or 1900-01-01 for "none")
    plausible_dates: tuple[str, ...] = ()
    # (amount, currency) columns: the currency needs a rate in the group's FX history, and the
    # amount must be representable once converted (SPEC section 12, errors checked on landing)
    converted_amounts: tuple[tuple[str, str], ...] = ()
    # columns of a settlement line that must equal those of the document it settles
    document_match: tuple[str, ...] = ()
    group_level: bool = False  # dropped once for the group, not per entity
    optional: bool = False  # a drop may leave the file out: the entity sends none of these rows

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


CUSTOMER_TYPES = ("B2B", "B2C")
DOCUMENT_TYPES = ("invoice", "credit_note")
DOCUMENT_STATUSES = ("open", "cancelled")
SETTLEMENT_KINDS = ("payment", "credit_note", "write_off", "adjustment", "reversal")
RATING_PROVIDERS = ("coface", "allianz_trade", "atradius", "banque_de_france", "altares", "internal")
CREDIT_INSURERS = ("coface", "allianz_trade", "atradius")
INSOLVENCY_STATUSES = (
    "none",
    "ad_hoc_mandate",
    "conciliation",
    "safeguard",
    "receivership",
    "liquidation",
)

DEBTORS = Extract(
    name="debtors",
    key=("debtor_id",),
    amount_column="credit_limit",
    columns=(
        Column("debtor_id", required=True),
        Column("name", required=True),
        Column("registration_id", identifier=True),
        Column("country", required=True, domain=Domain.COUNTRY),
        Column("parent_registration_id", identifier=True),
        Column("intercompany_entity", domain=Domain.ENTITY),
        Column("customer_type", values=CUSTOMER_TYPES, default="B2B"),
        Column("payment_terms_days", ColumnType.INTEGER, minimum="0", plausible_maximum="365"),
        Column("credit_limit", ColumnType.DECIMAL, minimum="0"),
    ),
)

INVOICES = Extract(
    name="invoices",
    key=("document_id",),
    amount_column="amount",
    references=(Reference("debtor_id", "debtors", "debtor_id"),),
    date_order=(("due_date", "issue_date"),),
    not_after_extract_date=("issue_date",),
    plausible_dates=("issue_date", "due_date"),
    converted_amounts=(("amount", "currency"),),
    columns=(
        Column("document_id", required=True),
        Column("document_type", required=True, values=DOCUMENT_TYPES),
        Column("debtor_id", required=True),
        Column("issue_date", ColumnType.DATE, required=True),
        Column("due_date", ColumnType.DATE, required=True),
        Column("currency", required=True, domain=Domain.CURRENCY),
        Column("amount", ColumnType.DECIMAL, required=True, minimum="0", zero_is_implausible=True),
        Column("amount_excl_tax", ColumnType.DECIMAL, minimum="0"),
        Column("disputed", ColumnType.BOOL, default="false"),
        Column("status", values=DOCUMENT_STATUSES, default="open"),
    ),
)

PAYMENTS = Extract(
    name="payments",
    key=("settlement_id", "line_no"),
    amount_column="amount",
    references=(
        Reference("debtor_id", "debtors", "debtor_id"),
        Reference("document_id", "invoices", "document_id"),
    ),
    plausible_dates=("settlement_date",),
    converted_amounts=(("amount", "currency"),),
    document_match=("currency", "debtor_id"),
    columns=(
        Column("settlement_id", required=True),
        Column("line_no", ColumnType.INTEGER, required=True, minimum="1"),
        Column("debtor_id", required=True),
        Column("document_id"),
        Column("settlement_date", ColumnType.DATE, required=True),
        Column("currency", required=True, domain=Domain.CURRENCY),
        Column("amount", ColumnType.DECIMAL, required=True, zero_is_implausible=True),
        Column("kind", required=True, values=SETTLEMENT_KINDS),
    ),
)

RISK_RATINGS = Extract(
    name="risk_ratings",
    key=("debtor_id", "provider", "rated_at"),
    amount_column="cover_amount",
    references=(Reference("debtor_id", "debtors", "debtor_id"),),
    converted_amounts=(("cover_amount", "cover_currency"),),
    columns=(
        Column("debtor_id", required=True),
        Column("provider", required=True, values=RATING_PROVIDERS),
        Column("rating", required=True),
        Column("rated_at", ColumnType.DATE, required=True),
        Column("cover_amount", ColumnType.DECIMAL, minimum="0"),
        Column("cover_currency", domain=Domain.CURRENCY),
        Column(
            "cover_share",
            ColumnType.DECIMAL,
            sql_type=SHARE_SQL,
            default="1",
            minimum="0",
            maximum="1",
        ),
        Column("insolvency_status", values=INSOLVENCY_STATUSES, default="none"),
        Column("insolvency_date", ColumnType.DATE),
    ),
)

FX_RATES = Extract(
    name="fx_rates",
    key=("rate_date", "currency"),
    group_level=True,
    columns=(
        Column("rate_date", ColumnType.DATE, required=True),
        Column("currency", required=True, domain=Domain.CURRENCY),
        Column(
            "units_per_eur",
            ColumnType.DECIMAL,
            required=True,
            sql_type=RATE_SQL,
            exclusive_minimum="0",
            maximum=MAX_UNITS_PER_EUR,
        ),
    ),
)

EVENT_TYPES = (
    "promise_to_pay",
    "payment_plan",
    "dispute_opened",
    "dispute_resolved",
    "dunning_sent",
    "contact",
)
# the reasons of dbt_project/seeds/dispute_reasons.csv, which labels them (a test keeps them equal)
DISPUTE_REASONS = ("price", "quantity", "quality", "delivery", "duplicate", "missing_po", "other")

COLLECTION_EVENTS = Extract(
    name="collection_events",
    key=("event_id",),
    amount_column="amount",
    optional=True,
    references=(
        Reference("debtor_id", "debtors", "debtor_id"),
        Reference("document_id", "invoices", "document_id"),
    ),
    not_after_extract_date=("event_date",),
    plausible_dates=("event_date", "promised_date"),
    converted_amounts=(("amount", "currency"),),
    document_match=("debtor_id",),
    columns=(
        Column("event_id", required=True),
        Column("debtor_id", required=True),
        Column("document_id"),
        Column("event_type", required=True, values=EVENT_TYPES),
        Column("event_date", ColumnType.DATE, required=True),
        Column(
            "promised_date",
            ColumnType.DATE,
            required_when=RequiredWhen("event_type", ("promise_to_pay", "payment_plan")),
        ),
        Column("amount", ColumnType.DECIMAL, exclusive_minimum="0"),
        Column("currency", domain=Domain.CURRENCY, required_when=RequiredWhen("amount")),
        Column("dispute_reason", values=DISPUTE_REASONS),
        Column("note"),
    ),
)

# The amounts a lifecycle status carries (SPEC section 17, SpecifiedDocumentCharacteristic's TypeCode):
# collected, paid, still due, not approved, approved (all taxes included or not); a CDAR message's
# first present in this order is its status's amount (receivables.ingest.cdar).
EINVOICE_AMOUNT_TYPES = ("MEN", "MPA", "RAP", "MNATTC", "MNA", "MAPTTC", "MAP")
EINVOICE_FOLDER = "einvoice"  # a drop's folder of CDAR messages, read into einvoice_status rows
EINVOICE_STATUS_CODE = r"^\d{3}$"  # a lifecycle status code (ProcessConditionCode): three digits

EINVOICE_STATUS = Extract(
    name="einvoice_status",
    key=("document_id", "status_code", "status_at"),
    amount_column="amount",
    optional=True,
    plausible_dates=("issue_date",),
    columns=(
        Column("document_id", required=True),
        Column("issue_date", ColumnType.DATE),
        Column("status_code", required=True, pattern=EINVOICE_STATUS_CODE),
        Column("status_at", ColumnType.TIMESTAMP, required=True),
        Column("reason_code"),
        Column("action_code"),
        Column("amount_type", values=EINVOICE_AMOUNT_TYPES),
        Column("amount", ColumnType.DECIMAL, minimum="0"),
        Column("currency", domain=Domain.CURRENCY, required_when=RequiredWhen("amount")),
        Column("note"),
    ),
)

ENTITY_EXTRACTS: tuple[Extract, ...] = (
    DEBTORS,
    INVOICES,
    PAYMENTS,
    RISK_RATINGS,
    COLLECTION_EVENTS,
    EINVOICE_STATUS,
)
GROUP_EXTRACTS: tuple[Extract, ...] = (FX_RATES,)
ALL_EXTRACTS: tuple[Extract, ...] = ENTITY_EXTRACTS + GROUP_EXTRACTS
EXTRACTS_BY_NAME = {extract.name: extract for extract in ALL_EXTRACTS}
GROUP_FOLDER = "_group"
QUARANTINE_FOLDER = "_quarantine"
MANIFEST_FILE = "_manifest.json"
# How far from its drop's extract date a document or settlement date is plausible, in years. A
# date beyond is a warning (SPEC section 12), and the DSO history starts no earlier than the
# first document issued within it. The dbt var date_horizon_years is the same figure (a test
# keeps them equal).
DATE_HORIZON_YEARS = 10
