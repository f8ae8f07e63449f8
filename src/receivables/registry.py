"""The entity registry (SPEC section 2): which entities drop files, and in which dialect."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from receivables.errors import RegistryError

ENTITY_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
RESERVED_CODES = frozenset({"GROUP"})
DATE_DIRECTIVES = {"%d": r"\d{1,2}", "%m": r"\d{1,2}", "%Y": r"\d{4}"}  # strptime reads 1/2/2013 too


@dataclass(frozen=True)
class CsvDialect:
    delimiter: str = ","
    decimal: str = "."
    encoding: str = "utf-8"
    date_format: str = "%Y-%m-%d"
    # a file of a single-byte encoding that reads as UTF-8: "warning" (lands, rows listed) or "error"
    encoding_mismatch: str = "warning"

    @property
    def date_regex(self) -> str:
        """A regex matching dates written in ``date_format`` (day and month padded or not)."""
        pattern = re.escape(self.date_format)
        for directive, digits in DATE_DIRECTIVES.items():
            pattern = pattern.replace(re.escape(directive), digits)
        return f"^{pattern}$"

    @property
    def timestamp_regex(self) -> str:
        """A regex matching a timestamp: a date in ``date_format``, then optionally a time
        (``HH:MM`` or ``HH:MM:SS``) after a space or a ``T``."""
        return self.date_regex[:-1] + r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"

    @property
    def timestamp_formats(self) -> tuple[str, ...]:
        """The strptime formats of ``timestamp_regex``, the longest first."""
        with_time = [f"{self.date_format}{sep}{time}" for sep in (" ", "T") for time in ("%H:%M:%S", "%H:%M")]
        return (*with_time, self.date_format)

    def format_date(self, value: date) -> str:
        return value.strftime(self.date_format)

    def format_decimal(self, text: str) -> str:
        """Write a '.'-decimal number text in this dialect."""
        return text.replace(".", self.decimal) if self.decimal != "." else text


# What an entity drops (SPEC sections 2 and 16): our CSV or Parquet extracts, or its ledger's FEC.
FORMATS = ("extracts", "fec")
DEFAULT_CUSTOMER_ACCOUNTS = ("411", "413", "416")


@dataclass(frozen=True)
class FecOptions:
    """How an entity's FEC is read (SPEC section 16): its customer accounts, and terms when nothing dates a due."""

    customer_accounts: tuple[str, ...] = DEFAULT_CUSTOMER_ACCOUNTS  # prefixes of account numbers
    default_terms_days: int = 30

    def is_customer_account(self, account: str) -> bool:
        return account.startswith(self.customer_accounts)


@dataclass(frozen=True)
class Entity:
    code: str
    name: str
    country: str
    currency: str
    csv: CsvDialect = field(default_factory=CsvDialect)
    # its drops must carry _manifest.json (control totals): one without is quarantined (issue 33: a file
    # cut exactly at a line end, with no manifest to count its rows, landed as if complete)
    require_manifest: bool = False
    # the day it left the group (sold, merged): from that as-of date its open items leave the group's
    # figures and its drops no longer land; its history stays (docs/operations.md, "Retiring an entity")
    retired_on: date | None = None
    # "extracts" (SPEC section 3) or "fec" (its FEC and optional debtors, ratings and events: section 16)
    format: str = "extracts"
    fec: FecOptions = field(default_factory=FecOptions)
    # its SIREN (9 digits): the seller the e-invoicing platforms' CDAR messages name (SPEC section 17)
    siren: str | None = None
    # services taxed on collection (TVA sur les encaissements): it must send a 212 status for each
    # collection (SPEC section 17, marts.mart_einvoice_212_to_send)
    vat_on_receipts: bool = False

    @property
    def drops_fec(self) -> bool:
        return self.format == "fec"

    def is_retired(self, day: date) -> bool:
        return self.retired_on is not None and day >= self.retired_on


@dataclass(frozen=True)
class Registry:
    group_currency: str
    entities: tuple[Entity, ...]
    group_csv: CsvDialect = field(default_factory=CsvDialect)
    source: Path | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(entity.code for entity in self.entities)

    def entity(self, code: str) -> Entity:
        for entity in self.entities:
            if entity.code == code:
                return entity
        raise RegistryError(f"{self.source}: no entity {code!r}; known: {', '.join(self.codes)}")

    def to_yaml(self) -> str:
        def dialect(csv: CsvDialect) -> dict[str, str]:
            written = {
                "delimiter": csv.delimiter,
                "decimal": csv.decimal,
                "encoding": csv.encoding,
                "date_format": csv.date_format,
            }
            if csv.encoding_mismatch != CsvDialect.encoding_mismatch:
                written["encoding_mismatch"] = csv.encoding_mismatch
            return written

        document = {
            "group_currency": self.group_currency,
            "group_csv": dialect(self.group_csv),
            "entities": [
                {
                    "code": e.code,
                    "name": e.name,
                    "country": e.country,
                    "currency": e.currency,
                    "csv": dialect(e.csv),
                }
                | ({"require_manifest": True} if e.require_manifest else {})
                | ({"retired_on": e.retired_on} if e.retired_on else {})
                | ({"siren": e.siren} if e.siren else {})
                | ({"vat_on_receipts": True} if e.vat_on_receipts else {})
                | (
                    {
                        "format": "fec",
                        "fec": {
                            "customer_accounts": list(e.fec.customer_accounts),
                            "default_terms_days": e.fec.default_terms_days,
                        },
                    }
                    if e.drops_fec
                    else {}
                )
                for e in self.entities
            ],
        }
        return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def _dialect(raw: Any, where: str) -> CsvDialect:
    if raw is None:
        return CsvDialect()
    if not isinstance(raw, dict):
        raise RegistryError(f"{where}: csv must be a mapping, found {raw!r}")
    unknown = set(raw) - {"delimiter", "decimal", "encoding", "date_format", "encoding_mismatch"}
    if unknown:
        raise RegistryError(f"{where}: unknown csv settings {sorted(unknown)}")
    dialect = CsvDialect(**{key: str(value) for key, value in raw.items()})
    if len(dialect.delimiter) != 1:
        raise RegistryError(f"{where}: csv.delimiter must be one character, found {dialect.delimiter!r}")
    if dialect.decimal not in {".", ","} or dialect.decimal == dialect.delimiter:
        raise RegistryError(
            f"{where}: csv.decimal must be '.' or ',' and differ from the delimiter, "
            f"found {dialect.decimal!r}"
        )
    if dialect.encoding_mismatch not in {"warning", "error"}:
        raise RegistryError(
            f"{where}: csv.encoding_mismatch must be warning or error, found {dialect.encoding_mismatch!r}"
        )
    try:
        codecs.lookup(dialect.encoding)
    except LookupError as exc:
        raise RegistryError(f"{where}: unknown csv.encoding {dialect.encoding!r}") from exc
    leftover = re.sub(r"%[dmY]", "", dialect.date_format)
    if "%" in leftover or not all(d in dialect.date_format for d in DATE_DIRECTIVES):
        raise RegistryError(
            f"{where}: csv.date_format must use exactly %d, %m and %Y, found {dialect.date_format!r}"
        )
    return dialect


def load_registry(path: Path) -> Registry:
    """Read and check an entity registry; every error names the file and the entry."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RegistryError(f"{path}: entity registry not found") from exc
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: not valid YAML: {exc}") from exc
    except ValueError as exc:  # a date-like value that is no date (2026-02-30): YAML's reader raises this
        raise RegistryError(f"{path}: not a calendar date: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("entities"), list):
        raise RegistryError(f"{path}: expected a mapping with an 'entities' list")
    group_currency = str(document.get("group_currency", "EUR"))
    if group_currency != "EUR":
        raise RegistryError(f"{path}: group_currency must be EUR (SPEC section 1), found {group_currency}")
    entities = []
    for index, raw in enumerate(document["entities"], start=1):
        where = f"{path}: entities[{index}]"
        if not isinstance(raw, dict):
            raise RegistryError(f"{where}: expected a mapping")
        missing = [key for key in ("code", "name", "country", "currency") if not raw.get(key)]
        if missing:
            raise RegistryError(f"{where}: missing {', '.join(missing)}")
        code = str(raw["code"])
        if not is_entity_code(code):
            raise RegistryError(
                f"{where}: entity code {code!r} must be 2-16 upper-case letters and digits, "
                f"starting with a letter, and not {', '.join(sorted(RESERVED_CODES))}"
            )
        entities.append(
            Entity(
                code=code,
                name=str(raw["name"]),
                country=str(raw["country"]),
                currency=str(raw["currency"]),
                csv=_dialect(raw.get("csv"), f"{where} ({code})"),
                require_manifest=_flag(raw, "require_manifest", f"{where} ({code})"),
                retired_on=_day(raw, "retired_on", f"{where} ({code})"),
                format=_format(raw, f"{where} ({code})"),
                fec=_fec_options(raw.get("fec"), f"{where} ({code})"),
                siren=_siren(raw, f"{where} ({code})"),
                vat_on_receipts=_flag(raw, "vat_on_receipts", f"{where} ({code})"),
            )
        )
    codes = [entity.code for entity in entities]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise RegistryError(f"{path}: entity codes listed twice: {', '.join(duplicates)}")
    if not entities:
        raise RegistryError(f"{path}: no entities")
    return Registry(
        group_currency=group_currency,
        entities=tuple(entities),
        group_csv=_dialect(document.get("group_csv"), f"{path}: group_csv"),
        source=Path(path),
    )


def _format(raw: dict[str, Any], where: str) -> str:
    value = raw.get("format", "extracts")
    if value not in FORMATS:
        raise RegistryError(f"{where}: format must be {' or '.join(FORMATS)}, found {value!r}")
    if raw.get("fec") is not None and value != "fec":
        raise RegistryError(f"{where}: fec: options are for an entity of format: fec")
    return str(value)


def _fec_options(raw: Any, where: str) -> FecOptions:
    if raw is None:
        return FecOptions()
    if not isinstance(raw, dict):
        raise RegistryError(f"{where}: fec must be a mapping, found {raw!r}")
    unknown = set(raw) - {"customer_accounts", "default_terms_days"}
    if unknown:
        raise RegistryError(f"{where}: unknown fec settings {sorted(unknown)}")
    accounts = raw.get("customer_accounts", list(DEFAULT_CUSTOMER_ACCOUNTS))
    if (
        not isinstance(accounts, list)
        or not accounts
        or not all(
            isinstance(a, (str, int)) and not isinstance(a, bool) and str(a).isdigit() for a in accounts
        )
    ):
        raise RegistryError(
            f"{where}: fec.customer_accounts must be a list of account number prefixes such as "
            f'["411", "416"], found {accounts!r}'
        )
    terms = raw.get("default_terms_days", FecOptions.default_terms_days)
    if not isinstance(terms, int) or isinstance(terms, bool) or not 0 <= terms <= 365:
        raise RegistryError(
            f"{where}: fec.default_terms_days must be a whole number of days 0-365, found {terms!r}"
        )
    return FecOptions(tuple(str(a) for a in accounts), terms)


def _siren(raw: dict[str, Any], where: str) -> str | None:
    value = raw.get("siren")
    if value is None:
        return None
    text = (
        str(value).replace(" ", "") if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    )
    if not re.fullmatch(r"\d{9}", text):
        raise RegistryError(f"{where}: siren must be the entity's SIREN, 9 digits, found {value!r}")
    return text


def _flag(raw: dict[str, Any], key: str, where: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise RegistryError(f"{where}: {key} must be true or false, found {value!r}")
    return value


def _day(raw: dict[str, Any], key: str, where: str) -> date | None:
    value = raw.get(key)
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise RegistryError(f"{where}: {key} must be a date written YYYY-MM-DD, found {value!r}")


def is_entity_code(code: str) -> bool:
    """2-16 upper-case letters and digits, starting with a letter, and not a reserved code."""
    return bool(ENTITY_CODE.match(code)) and code not in RESERVED_CODES
