"""A realistic sample group in the SPEC landing layout, deterministic by seed, streamed to disk.

The simulation walks day by day. Each invoice gets its fate when it is
issued (payment date from its debtor's behaviour, partial payments, credit
notes, disputes, cancellations, unapplied cash, reversals, write-offs) and
its later events wait in a heap, so memory holds the open items only, never
the history. Rows created up to the day before ``nightly_from`` go to one
initial drop (a full re-send of history, written with each row's state as of
that day); every later day gets its own nightly drop per entity.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import json
import logging
import math
import random
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from receivables import paths
from receivables.contract import (
    COLLECTION_EVENTS,
    DEBTORS,
    DISPUTE_REASONS,
    EINVOICE_FOLDER,
    EINVOICE_STATUS,
    ENTITY_EXTRACTS,
    FX_RATES,
    INVOICES,
    MANIFEST_FILE,
    PAYMENTS,
    RISK_RATINGS,
    Extract,
)
from receivables.dev.einvoice_platform import LifecycleStatus, lifecycle, write_message
from receivables.dev.fec_ledger import FecLedger
from receivables.errors import GenerationError
from receivables.ingest.fec_drop import BESIDE_FEC
from receivables.ingest.validation import rating_scales
from receivables.registry import CsvDialect, Entity, Registry

log = logging.getLogger(__name__)

FR_CSV = CsvDialect(delimiter=";", decimal=",", encoding="cp1252", date_format="%d/%m/%Y")
DE_CSV = CsvDialect(delimiter=";", decimal=",", encoding="utf-8", date_format="%d.%m.%Y")
ISO_CSV = CsvDialect()
US_CSV = CsvDialect(delimiter=",", decimal=".", encoding="utf-8", date_format="%m/%d/%Y")
CH_CSV = CsvDialect(delimiter=";", decimal=".", encoding="utf-8", date_format="%d.%m.%Y")

# (code prefix, legal name, country, currency, dialect, VAT rate, manifest?)
ENTITY_TEMPLATES = (
    ("FR", "Exemple Distribution SAS", "FR", "EUR", FR_CSV, 20, True),
    ("DE", "Beispiel Handel GmbH", "DE", "EUR", DE_CSV, 19, True),
    ("GB", "Example Trading Ltd", "GB", "GBP", ISO_CSV, 20, True),
    ("US", "Example Supply Inc.", "US", "USD", US_CSV, 0, False),
    ("ES", "Ejemplo Suministros S.L.", "ES", "EUR", CsvDialect(";", ",", "utf-8", "%d/%m/%Y"), 21, True),
    ("CH", "Beispiel Logistik AG", "CH", "CHF", CH_CSV, 8, True),
    (
        "PL",
        "Przykład Dystrybucja Sp. z o.o.",
        "PL",
        "PLN",
        CsvDialect(";", ",", "utf-8", "%Y-%m-%d"),
        23,
        True,
    ),
    ("IT", "Esempio Forniture S.r.l.", "IT", "EUR", CsvDialect(";", ",", "utf-8", "%d/%m/%Y"), 22, False),
)
# an entity that drops its FEC (SPEC section 16): a French subsidiary on its own accounting package
FEC_TEMPLATE = ("FEC", "Exemple Primeurs SAS", "FR", "EUR", FR_CSV, 20, False)
# what an entity of extracts writes: its platform's statuses come as CDAR messages (einvoice/), not a CSV
EXTRACTS_WRITTEN = tuple(extract for extract in ENTITY_EXTRACTS if extract is not EINVOICE_STATUS)
FX_START = {"GBP": 0.8512, "USD": 1.0834, "CHF": 0.9521, "PLN": 4.3120, "SEK": 11.2410}

DEBTOR_COUNTRIES = ("FR",) * 10 + ("DE",) * 3 + ("GB", "GB", "US", "US", "ES", "IT", "BE", "NL", "CH")
NAME_STEMS = (
    "Lefèvre",
    "Bérard",
    "Côté",
    "Dubois",
    "Mercier",
    "Garnier",
    "Roussel",
    "Fauré",
    "Chevalier",
    "Lemaître",
    "Müller",
    "Schäfer",
    "Köhler",
    "Weiß",
    "Hartmann",
    "Brooks",
    "Whitfield",
    "Carver",
    "García",
    "Muñoz",
    "Rossi",
    "Bianchi",
    "Van Dijk",
    "Janssens",
    "Nordström",
    "Thévenin",
    "Boulanger",
    "Étienne",
    "Françoise",
    "Aubépine",
    "Cèdre",
    "Rivière",
    "Océane",
    "Horizon",
    "Atlas",
    "Sirius",
    "Granit",
    "Vallée",
    "Prairie",
    "Littoral",
    "Montagne",
    "Cœur de France",
)
NAME_TRADES = (
    "Transports",
    "Menuiserie",
    "Boulangerie industrielle",
    "Matériaux",
    "Électricité",
    "Bâtiment",
    "Agroalimentaire",
    "Pharmacie",
    "Hôtellerie",
    "Logistique",
    "Négoce",
    "Imprimerie",
    "Métallurgie",
    "Plasturgie",
    "Informatique",
    "Distribution",
    "Chimie",
    "Énergie",
    "Textile",
    "Emballages",
)
LEGAL_FORMS = {
    "FR": ("SAS", "SARL", "SA", "SASU", "EURL"),
    "DE": ("GmbH", "AG", "KG"),
    "GB": ("Ltd", "plc"),
    "US": ("Inc.", "LLC", "Corp."),
    "ES": ("S.L.", "S.A."),
    "IT": ("S.r.l.", "S.p.A."),
    "BE": ("SRL", "SA"),
    "NL": ("B.V.",),
    "CH": ("AG", "SA", "GmbH"),
}
PROVIDERS_BY_COUNTRY = {
    "FR": ("coface", "banque_de_france", "altares", "internal"),
    "DE": ("allianz_trade", "internal"),
    "GB": ("atradius", "internal"),
}
DEFAULT_PROVIDERS = ("allianz_trade", "internal")
INSURERS = ("coface", "allianz_trade", "atradius")


def luhn_complete(digits: str) -> str:
    """Append the Luhn check digit, as SIREN and SIRET numbers carry."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            value -= 9 if value > 9 else 0
        total += value
    return digits + str((10 - total % 10) % 10)


def fr_vat(siren: str) -> str:
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


PROMISE_GRACE_DAYS = 3  # dbt_project/seeds/collection_parameters.csv's promise_grace_days


@dataclass
class Company:
    index: int
    name: str
    country: str
    registration: str  # canonical id: SIREN for France, a VAT or LEI elsewhere, "" for none
    parent: Company | None
    weight: float
    base_days_late: float
    drift_start: date | None
    drift_rate: float
    insolvency_date: date | None
    risk_class: int
    dispute_rate: float

    @property
    def downgrade_day(self) -> date | None:
        return self.drift_start + timedelta(days=45 + self.index % 40) if self.drift_start else None

    def risk_class_on(self, day: date) -> int:
        downgrade = self.downgrade_day
        return min(9, self.risk_class + 3) if downgrade and day >= downgrade else self.risk_class

    def days_late(self, day: date) -> float:
        drift = 0.0
        if self.drift_start and day > self.drift_start:
            drift = self.drift_rate * (day - self.drift_start).days
        return self.base_days_late + drift

    def registration_form(self, rng: random.Random, registration: str | None = None) -> str:
        """The id as some entity's ERP writes it: SIREN, SIRET, VAT, spaced, dotted."""
        value = self.registration if registration is None else registration
        if not value or len(value) != 9 or not value.isdigit():
            return value
        form = rng.random()
        if form < 0.35:
            return value
        if form < 0.6:
            return luhn_complete(value + f"{rng.randint(1, 999):04d}")
        if form < 0.8:
            return fr_vat(value)
        if form < 0.9:
            return f"{value[:3]} {value[3:6]} {value[6:]}"
        vat = fr_vat(value)
        return f"{vat[:2]} {vat[2:4]} {value[:3]} {value[3:6]} {value[6:]}"


@dataclass
class Account:
    """A debtor account in one entity's ledger."""

    entity: str
    debtor_id: str
    company: Company | None
    intercompany: str | None
    registration: str
    parent_registration: str
    customer_type: str
    terms: int
    credit_limit: int  # cents, entity currency
    providers: tuple[str, ...]
    name: str
    country: str


@dataclass
class EntitySim:
    entity: Entity
    vat_rate: int
    manifest: bool
    accounts: list[Account] = field(default_factory=list)
    cumulative: list[float] = field(default_factory=list)
    share: float = 1.0
    doc_seq: int = 0
    settlement_seq: int = 0


class CsvOut:
    """One extract file of one drop, written row by row in the entity's dialect."""

    def __init__(self, path: Path, extract: Extract, dialect: CsvDialect) -> None:
        self.path = path
        self.extract = extract
        self.dialect = dialect
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle: TextIO = path.open("w", encoding=dialect.encoding, newline="")
        self.writer = csv.writer(self.handle, delimiter=dialect.delimiter, lineterminator="\r\n")
        self.writer.writerow(extract.column_names)
        self.rows = 0
        self.amount_cents = 0

    def write(self, row: dict[str, Any]) -> None:
        values = []
        for column in self.extract.columns:
            value = row.get(column.name)
            if value is None:
                values.append("")
            elif isinstance(value, datetime):  # a status's time (einvoice_status.csv)
                values.append(f"{self.dialect.format_date(value)} {value:%H:%M:%S}")
            elif isinstance(value, date):
                values.append(self.dialect.format_date(value))
            elif isinstance(value, Money):
                values.append(self.dialect.format_decimal(value.text()))
            elif isinstance(value, bool):
                values.append("true" if value else "false")
            else:  # as a legacy ERP exports it: what its code page lacks becomes "?" (Przyk?ad in cp1252)
                values.append(
                    str(value).encode(self.dialect.encoding, "replace").decode(self.dialect.encoding)
                )
        if self.extract.amount_column and isinstance(row.get(self.extract.amount_column), Money):
            self.amount_cents += row[self.extract.amount_column].units
        self.writer.writerow(values)
        self.rows += 1

    def close(self) -> dict[str, Any]:
        self.handle.close()
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return {
            "rows": self.rows,
            "sha256": digest.hexdigest(),
            "amount_sum": Money(self.amount_cents).text(),
        }


@dataclass(frozen=True)
class Money:
    units: int  # hundredths (cents), or 1/10,000 for rates
    scale: int = 2

    def text(self) -> str:
        sign = "-" if self.units < 0 else ""
        whole, frac = divmod(abs(self.units), 10**self.scale)
        return f"{sign}{whole}.{frac:0{self.scale}d}"


class FecDropWriter:
    """The drop of an entity that sends its FEC: the FEC of its ledger to the day, written at close,
    and the extracts a FEC cannot give (debtors with their registration ids and terms, ratings, events)."""

    def __init__(
        self,
        folder: Path,
        extracts: tuple[Extract, ...],
        dialect: CsvDialect,
        ledger: FecLedger,
        day: date,
        since: date | None,
    ) -> None:
        self.extracts = DropWriter(folder, extracts, dialect, manifest=False)
        self.folder, self.ledger, self.day, self.since = folder, ledger, day, since

    def write(self, extract: str, row: dict[str, Any]) -> None:
        self.extracts.write(extract, row)

    def close(self) -> None:
        self.extracts.close()
        self.ledger.write(self.folder, self.day, self.since)


class DropWriter:
    def __init__(
        self, folder: Path, extracts: tuple[Extract, ...], dialect: CsvDialect, manifest: bool
    ) -> None:
        self.folder = folder
        self.manifest = manifest
        self.files = {
            extract.name: CsvOut(folder / extract.file_name, extract, dialect) for extract in extracts
        }

    def write(self, extract: str, row: dict[str, Any]) -> None:
        self.files[extract].write(row)

    def close(self) -> None:
        controls = {out.path.name: out.close() for out in self.files.values()}
        if self.manifest:
            (self.folder / MANIFEST_FILE).write_text(
                json.dumps({"files": controls}, indent=2) + "\n", encoding="utf-8"
            )


def _grades_by_class(seeds: Path) -> dict[tuple[str, str, int], list[str]]:
    """Grades of each provider, scale version and class from the rating seed; class 0 = the default grades."""
    grades: dict[tuple[str, str, int], list[str]] = defaultdict(list)
    with (seeds / "rating_mappings.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            risk_class = 0 if row["is_default"] == "true" else int(row["risk_class"])
            grades[(row["provider"], row["scale_version"], risk_class)].append(row["rating"])
    return grades


@dataclass
class GeneratorConfig:
    out: Path
    entities: int = 4
    start: date = date(2025, 1, 1)
    end: date = date(2025, 12, 31)
    seed: int = 42
    invoices: int = 20_000
    nightly_from: date | None = None  # default: the last 7 days are nightly drops
    companies: int | None = None  # debtor companies; default one per 40 invoices, at most 200,000
    fec_entities: int = 0  # entities added after the others that drop their FEC (FEC01, ...)
    fec_as_extracts: bool = False  # write those entities' same ledger as extracts instead (round-trip tests)

    def check(self) -> None:
        if self.end < self.start:
            raise GenerationError(f"--end {self.end} is before --start {self.start}")
        if not 1 <= self.entities <= 99:
            raise GenerationError(f"--entities must be between 1 and 99, found {self.entities}")
        if self.invoices < 1:
            raise GenerationError(f"--invoices must be positive, found {self.invoices}")
        if not 0 <= self.fec_entities <= 9:
            raise GenerationError(f"--fec-entities must be between 0 and 9, found {self.fec_entities}")
        if self.companies is not None and self.companies < 1:
            raise GenerationError(f"--debtors must be positive, found {self.companies}")
        nightly = self.nightly_start
        if not self.start < nightly <= self.end + timedelta(days=1):
            raise GenerationError(f"--nightly-from {nightly} must fall after --start and by --end + 1 day")

    @property
    def nightly_start(self) -> date:
        return self.nightly_from or max(self.start + timedelta(days=1), self.end - timedelta(days=6))


def sample_registry(
    count: int, fec: int = 0, fec_as_extracts: bool = False
) -> tuple[Registry, dict[str, tuple[int, bool]]]:
    """The sample group's registry: ``count`` entities of the templates, then ``fec`` that drop a FEC."""
    entities = []
    extras = {}
    templates = [ENTITY_TEMPLATES[index % len(ENTITY_TEMPLATES)] for index in range(count)]
    for index, template in enumerate([*templates, *[FEC_TEMPLATE] * fec]):
        prefix, name, country, currency, dialect, vat, manifest = template
        number = (index // len(ENTITY_TEMPLATES) if index < count else index - count) + 1
        code = f"{prefix}{number:02d}"
        if number > 1:
            name = f"{name} ({number})"
        format = "fec" if index >= count and not fec_as_extracts else "extracts"
        fec_entity = index >= count
        # the French entities issue through the platforms (SPEC section 17); the FEC one sells services,
        # its VAT due on collection
        siren = None
        if country == "FR":
            siren = luhn_complete(
                f"{39012345 + number - 1:08d}" if fec_entity else f"{10000000 + number - 1:08d}"
            )
        entities.append(
            Entity(
                code=code, name=name, country=country, currency=currency, csv=dialect, format=format,
                siren=siren, vat_on_receipts=fec_entity,
            )
        )  # fmt: skip
        extras[code] = (vat, manifest)
    return Registry(group_currency="EUR", entities=tuple(entities)), extras


class GroupGenerator:
    def __init__(self, config: GeneratorConfig) -> None:
        config.check()
        self.config = config
        self.rng = random.Random(config.seed)
        self.registry, extras = sample_registry(config.entities, config.fec_entities, config.fec_as_extracts)
        self.sims = {
            e.code: EntitySim(entity=e, vat_rate=extras[e.code][0], manifest=extras[e.code][1])
            for e in self.registry.entities
        }
        self.grades = _grades_by_class(paths.seeds_dir())
        self.events: list[tuple[date, int, str, tuple[Any, ...]]] = []
        self.event_seq = 0
        self.history_day = config.nightly_start - timedelta(days=1)
        self.fx = dict(FX_START)
        self.fx_history: list[tuple[date, str, float]] = []
        self.writers: dict[str, tuple[date, DropWriter | FecDropWriter]] = {}
        self.last_rated: dict[tuple[str, str, str], date] = {}
        self.stats: dict[str, int] = defaultdict(int)
        # the collection events draw from their own stream: the sample's documents and payments
        # stay those of the same seed without them
        self.follow_up_rng = random.Random(f"{config.seed}/collection_events")
        self.event_ids: dict[str, int] = defaultdict(int)
        # the e-invoicing platforms' statuses draw from theirs (SPEC section 17)
        self.einvoice_rng = random.Random(f"{config.seed}/einvoice")
        self.plans: dict[tuple[str, str], date] = {}  # the day each plan of two payments was agreed
        # the FEC entities' ledgers (by code), written as a FEC at each of their drops
        self.fec_ledgers: dict[str, FecLedger] = {}
        self.fec_codes = [e.code for e in self.registry.entities[config.entities :]]

    # ----- set-up: companies, accounts ---------------------------------
    def _company_name(self, country: str) -> str:
        rng = self.rng
        stem = rng.choice(NAME_STEMS)
        trade = rng.choice(NAME_TRADES)
        form = rng.choice(LEGAL_FORMS.get(country, ("SA",)))
        return (
            f"{trade} {stem} {form}"
            if rng.random() < 0.6
            else f"{stem} & Fils {form}"
            if rng.random() < 0.3
            else f"Groupe {stem} {trade} {form}"
        )

    def _registration(self, country: str, index: int) -> str:
        rng = self.rng
        if country == "FR":
            return luhn_complete(f"{rng.randint(10_000_000, 99_999_999):08d}")
        if rng.random() < 0.15:
            return ""
        if country == "US":
            return f"5493{index:014d}{rng.randint(10, 99)}"  # an LEI-shaped id
        return f"{country}{rng.randint(100_000_000, 999_999_999)}"

    def _companies(self) -> list[Company]:
        rng = self.rng
        count = self.config.companies or max(30, min(200_000, self.config.invoices // 40))
        span = (self.config.end - self.config.start).days
        companies: list[Company] = []
        for index in range(count):
            country = rng.choice(DEBTOR_COUNTRIES)
            drifting = rng.random() < 0.06
            drift_start = (
                self.config.start + timedelta(days=rng.randint(span // 6, max(span // 6, span // 2)))
                if drifting
                else None
            )
            insolvency = None
            if drift_start and rng.random() < 0.35:
                insolvency = drift_start + timedelta(days=rng.randint(max(60, span // 8), max(90, span // 4)))
            companies.append(
                Company(
                    index=index,
                    name=self._company_name(country),
                    country=country,
                    registration=self._registration(country, index),
                    parent=None,
                    weight=rng.paretovariate(1.16),
                    base_days_late=rng.choice((-5.0, 0.0, 0.0, 3.0, 8.0, 15.0, 25.0, 40.0))
                    + rng.uniform(-2, 2),
                    drift_start=drift_start,
                    drift_rate=rng.uniform(0.12, 0.35),
                    insolvency_date=insolvency,
                    risk_class=rng.choice((2, 3, 3, 4, 4, 5, 5, 6, 7, 8)),
                    dispute_rate=rng.choice((0.0, 0.01, 0.02, 0.05)),
                )
            )
        heads = sorted(companies, key=lambda c: -c.weight)[: max(3, count // 20)]
        head_indexes = {head.index for head in heads}  # a list lookup here is quadratic (200,000 companies)
        for company in companies:
            if company.index not in head_indexes and rng.random() < 0.2:
                company.parent = rng.choice(heads)
        return companies

    def _accounts(self, companies: list[Company]) -> None:
        rng = self.rng
        codes = list(self.sims)
        shares = [rng.uniform(0.5, 1.5) for _ in codes]
        for code, share in zip(codes, shares, strict=True):
            self.sims[code].share = share / sum(shares)
        total_weight = sum(c.weight for c in companies)
        for company in companies:
            breadth = min(len(codes), 1 + int(math.log1p(company.weight * len(companies) / total_weight) * 2))
            chosen = rng.sample(codes, breadth)
            home = [c for c in codes if self.sims[c].entity.country == company.country]
            if home and rng.random() < 0.7 and home[0] not in chosen:
                chosen[0] = home[0]
            for code in chosen:
                sim = self.sims[code]
                b2c = rng.random() < 0.04
                parent = company.parent.registration if company.parent else ""
                terms = rng.choice((30, 30, 45, 60, 60, 90)) if not b2c else 0
                self._add_account(
                    sim,
                    Account(
                        entity=code,
                        debtor_id=f"{code[:2]}C{len(sim.accounts) + 1:06d}",
                        company=company,
                        intercompany=None,
                        registration="" if rng.random() < 0.04 else company.registration_form(rng),
                        parent_registration=company.registration_form(rng, parent) if parent else "",
                        customer_type="B2C" if b2c else "B2B",
                        terms=terms,
                        credit_limit=int(company.weight * rng.uniform(2, 6) * 1_000_000) // 100 * 100,
                        providers=PROVIDERS_BY_COUNTRY.get(sim.entity.country, DEFAULT_PROVIDERS),
                        name=company.name,
                        country=company.country,
                    ),
                    company.weight,
                )
        for code in codes:
            sim = self.sims[code]
            for other in codes:
                if other != code and rng.random() < 0.6:
                    peer = self.sims[other].entity
                    self._add_account(
                        sim,
                        Account(
                            entity=code,
                            debtor_id=f"IC-{other}",
                            company=None,
                            intercompany=other,
                            registration=luhn_complete(
                                f"9{int(hashlib.sha256(other.encode()).hexdigest(), 16) % 10**7:07d}"
                            ),
                            parent_registration="",
                            customer_type="B2B",
                            terms=60,
                            credit_limit=0,
                            providers=("internal",),
                            name=peer.name,
                            country=peer.country,
                        ),
                        2.0,
                    )

    def _add_account(self, sim: EntitySim, account: Account, weight: float) -> None:
        sim.accounts.append(account)
        sim.cumulative.append((sim.cumulative[-1] if sim.cumulative else 0.0) + weight)

    # ----- output ------------------------------------------------------
    def _drop_day(self, day: date) -> date:
        return max(day, self.history_day)

    def _writer(self, code: str | None, day: date) -> DropWriter | FecDropWriter:
        key = code or "_group"
        drop_day = self._drop_day(day)
        current = self.writers.get(key)
        if current is not None and current[0] == drop_day:
            return current[1]
        if current is not None:
            current[1].close()
        writer: DropWriter | FecDropWriter
        if code is None:
            writer = DropWriter(
                paths.drop_dir(self.config.out, None, drop_day), (FX_RATES,), self.registry.group_csv, False
            )
        elif code in self.fec_ledgers and not self.config.fec_as_extracts:
            sim = self.sims[code]
            folder = paths.drop_dir(self.config.out, code, drop_day)
            # the history drop: the ledger since it began; a night: its fiscal year, opening entries first
            since = self.config.start if drop_day == self.history_day else None
            writer = FecDropWriter(
                folder, BESIDE_FEC, sim.entity.csv, self.fec_ledgers[code], drop_day, since
            )
        else:
            sim = self.sims[code]
            writer = DropWriter(
                paths.drop_dir(self.config.out, code, drop_day),
                EXTRACTS_WRITTEN,
                sim.entity.csv,
                sim.manifest,
            )
        self.writers[key] = (drop_day, writer)
        return writer

    def _emit(self, code: str, extract: Extract, row: dict[str, Any], day: date) -> None:
        writer = self._writer(code, day)
        self.stats[extract.name] += 1
        ledger = self.fec_ledgers.get(code)
        if ledger is None or extract not in (INVOICES, PAYMENTS):
            writer.write(extract.name, row)
            return
        if not self.config.fec_as_extracts:  # the FEC is written when the drop closes
            cents = row["amount"].units
            booking = cents if row["currency"] == "EUR" else round(cents / self.fx[row["currency"]])
            if extract is INVOICES:
                ledger.document(row, booking)
            else:
                ledger.line(row, booking, day)
            return
        writer.write(extract.name, row)

    def _schedule(self, day: date, kind: str, *payload: Any) -> None:
        self.event_seq += 1
        heapq.heappush(self.events, (day, self.event_seq, kind, payload))

    # ----- rows --------------------------------------------------------
    def _debtor_row(self, account: Account) -> dict[str, Any]:
        return {
            "debtor_id": account.debtor_id,
            "name": account.name,
            "registration_id": account.registration or None,
            "country": account.country,
            "parent_registration_id": account.parent_registration or None,
            "intercompany_entity": account.intercompany,
            "customer_type": account.customer_type,
            "payment_terms_days": account.terms,
            "credit_limit": Money(account.credit_limit),
        }

    def _grade(self, provider: str, risk_class: int, day: date) -> str:
        version = next(
            scale.scale_version
            for scale in rating_scales()
            if scale.provider == provider and scale.valid_from <= day <= scale.valid_to
        )
        options = self.grades.get((provider, version, risk_class))
        step = 1
        while not options:  # a class some scale skips: take the nearest one
            options = self.grades.get((provider, version, risk_class + step)) or self.grades.get(
                (provider, version, risk_class - step)
            )
            step += 1
        return self.rng.choice(options)

    def _rate(self, account: Account, provider: str, day: date, risk_class: int, insolvent: bool) -> None:
        key = (account.entity, account.debtor_id, provider)
        if self.last_rated.get(key) == day:
            return
        self.last_rated[key] = day
        company = account.company
        row: dict[str, Any] = {
            "debtor_id": account.debtor_id,
            "provider": provider,
            "rating": self._grade(provider, 0 if insolvent else risk_class, day),
            "rated_at": day,
            "insolvency_status": "receivership" if insolvent else "none",
            "insolvency_date": company.insolvency_date if insolvent and company else None,
        }
        if provider in INSURERS:
            cover = (
                0
                if insolvent or risk_class >= 9
                else int(account.credit_limit * self.rng.uniform(0.4, 1.0)) // 100 * 100
            )
            row.update(
                cover_amount=Money(cover),
                cover_currency=self.sims[account.entity].entity.currency,
                cover_share=Money(self.rng.choice((90, 90, 95, 100))) if self.rng.random() < 0.8 else None,
            )
        self._emit(account.entity, RISK_RATINGS, row, day)

    def _amount(self, account: Account) -> int:
        base = 120_000 if account.customer_type == "B2B" else 9_000
        weight = account.company.weight if account.company else 3.0
        return max(1_000, int(self.rng.lognormvariate(math.log(base * min(weight, 20)), 0.9)))

    def _new_invoice(self, sim: EntitySim, day: date) -> None:
        rng = self.rng
        account = sim.accounts[bisect_right(sim.cumulative, rng.random() * sim.cumulative[-1])]
        company = account.company
        if company and company.insolvency_date and day > company.insolvency_date:
            return  # nobody sells to a company in receivership
        sim.doc_seq += 1
        code = sim.entity.code
        document_id = f"{code}-F{sim.doc_seq:08d}"
        amount = self._amount(account)
        currency = sim.entity.currency
        if company and company.country == "US" and currency != "USD" and rng.random() < 0.7:
            currency = "USD"
        terms = account.terms
        due = day + timedelta(days=terms)
        if terms == 45 and rng.random() < 0.5:  # 45 days end of month
            due = (due.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        fate = rng.random()
        cancel_day = day + timedelta(days=rng.randint(1, 5)) if fate < 0.01 else None
        dispute_day = (
            day + timedelta(days=rng.randint(3, 40))
            if company and rng.random() < company.dispute_rate
            else None
        )
        invoice = {
            "document_id": document_id,
            "document_type": "invoice",
            "debtor_id": account.debtor_id,
            "issue_date": day,
            "due_date": due,
            "currency": currency,
            "amount": Money(amount),
            "amount_excl_tax": Money(round(amount * 100 / (100 + sim.vat_rate))),
            "disputed": False,
            "status": "open",
        }
        self._emit_invoice(code, invoice, day, cancel_day, dispute_day)
        if cancel_day:
            self.stats["cancelled"] += 1
            self._platform(sim, invoice, cancel_day, dispute_day, None, amount)
            return
        late = company.days_late(day) if company else 10.0
        pay_day = due + timedelta(days=int(rng.gauss(late, 6 + abs(late) / 4)))
        pay_day = max(pay_day, day + timedelta(days=1))
        if dispute_day:
            pay_day = max(pay_day, dispute_day) + timedelta(days=rng.randint(30, 120))
        remaining = amount
        if rng.random() < 0.04:  # a credit note settles part of it
            credit = max(100, int(amount * rng.choice((0.1, 0.25, 0.5, 1.0))))
            credit_day = day + timedelta(days=rng.randint(2, 30))
            self._schedule(
                credit_day,
                "credit_note",
                code,
                account,
                document_id,
                currency,
                credit,
                rng.random() < 0.7,
                pay_day,
            )
            remaining -= credit
        if remaining <= 0:
            self._platform(sim, invoice, None, dispute_day, None, amount)
            return
        if company and company.insolvency_date and pay_day >= company.insolvency_date:
            self._schedule(
                company.insolvency_date + timedelta(days=rng.randint(180, 400)),
                "write_off",
                code,
                account,
                document_id,
                currency,
                remaining,
            )
            self._platform(sim, invoice, None, dispute_day, None, remaining)
            return
        if rng.random() < 0.03:  # a long tail of old overdue items: forgotten, contested, paid very late
            pay_day += timedelta(days=rng.randint(60, 400))
        self._follow_up(code, invoice, pay_day, dispute_day, remaining)
        self._platform(sim, invoice, None, dispute_day, pay_day, remaining)
        plan = rng.random()
        if plan < 0.08:  # two partial payments
            first = remaining // 2
            self._payment_plan(
                code, invoice, max(day + timedelta(days=1), pay_day - timedelta(days=15)), first
            )
            self._payment_plan(code, invoice, pay_day, remaining - first, last=True)
            self._schedule(
                max(day + timedelta(days=1), pay_day - timedelta(days=15)),
                "pay",
                code,
                account,
                document_id,
                currency,
                first,
                "payment",
            )
            self._schedule(pay_day, "pay", code, account, document_id, currency, remaining - first, "payment")
        elif plan < 0.11:  # cash arrives unapplied, allocated days later
            self._schedule(
                pay_day,
                "unapplied",
                code,
                account,
                document_id,
                currency,
                remaining,
                pay_day + timedelta(days=rng.randint(3, 20)),
            )
        elif plan < 0.125:  # bounced payment, paid again later
            self._schedule(pay_day, "pay", code, account, document_id, currency, remaining, "payment")
            self._schedule(
                pay_day + timedelta(days=5),
                "pay",
                code,
                account,
                document_id,
                currency,
                -remaining,
                "reversal",
            )
            self._schedule(
                pay_day + timedelta(days=25),
                "pay",
                code,
                account,
                document_id,
                currency,
                remaining,
                "payment",
            )
        elif plan < 0.135:  # small balance written off
            fee = min(remaining, rng.randint(100, 2_000))
            self._schedule(pay_day, "pay", code, account, document_id, currency, remaining - fee, "payment")
            self._schedule(
                pay_day + timedelta(days=60), "pay", code, account, document_id, currency, fee, "write_off"
            )
        elif plan < 0.14:  # bank charges booked as an adjustment
            fee = min(remaining, 1_500)
            self._schedule(
                pay_day, "pay", code, account, document_id, currency, remaining - fee, "payment", fee
            )
        elif plan < 0.142:  # paid twice the same small amount: over-settled, kept and flagged
            self._schedule(pay_day, "pay", code, account, document_id, currency, remaining + 1_000, "payment")
        else:
            self._schedule(pay_day, "pay", code, account, document_id, currency, remaining, "payment")

    # ----- e-invoicing platforms (SPEC section 17) ------------------------
    def _platform(
        self,
        sim: EntitySim,
        invoice: dict[str, Any],
        cancel_day: date | None,
        dispute_day: date | None,
        pay_day: date | None,
        remaining: int,
    ) -> None:
        """What the buyer's platform says of an invoice of a French entity, each status on its day."""
        if sim.entity.siren is None:
            return
        for status in lifecycle(self.einvoice_rng, invoice, cancel_day, dispute_day, pay_day, remaining):
            self._schedule(status.status_at.date(), "einvoice", sim.entity.code, status)

    def _einvoice_status(self, code: str, status: LifecycleStatus, day: date) -> None:
        """A status in the drop of its day: a row of einvoice_status.csv beside a FEC, else a CDAR message."""
        writer = self._writer(code, day)
        self.stats["einvoice_status"] += 1
        if isinstance(writer, FecDropWriter):
            amount = None if status.amount is None else Money(status.amount)
            writer.write(EINVOICE_STATUS.name, status.row() | {"amount": amount})
            return
        seller = self.registry.entity(code).siren
        assert seller is not None  # _platform schedules statuses of entities with a SIREN only
        write_message(writer.folder / EINVOICE_FOLDER, status, seller)

    # ----- collection events (SPEC section 13) ---------------------------
    def _event(self, code: str, invoice: dict[str, Any], day: date, event_type: str, **values: Any) -> None:
        """A collection event on the invoice, written with the drop of its day."""
        self.event_ids[code] += 1
        row = {
            "event_id": f"{code}-E{self.event_ids[code]:08d}",
            "debtor_id": invoice["debtor_id"],
            "document_id": invoice["document_id"],
            "event_type": event_type,
            "event_date": day,
            "promised_date": None,
            "amount": None,
            "currency": None,
            "dispute_reason": None,
            "note": None,
        } | values
        if row["amount"] is not None:
            row["currency"] = invoice["currency"]
        self._schedule(day, "event", code, row)

    def _follow_up(
        self, code: str, invoice: dict[str, Any], pay_day: date, dispute_day: date | None, remaining: int
    ) -> None:
        """What a credit manager records on the invoice, consistent with when it is paid.

        A dispute is opened on its day and, mostly, resolved before the payment.
        An invoice paid over a week late gets a dunning letter, often a promise:
        kept (the payment comes by the promised date plus the grace days), or
        broken and followed by a second promise, which is kept.
        """
        rng = self.follow_up_rng
        due, issued = invoice["due_date"], invoice["issue_date"]
        if dispute_day:
            reason = rng.choices(DISPUTE_REASONS, weights=(5, 3, 3, 4, 1, 2, 1))[0]
            amount = Money(remaining) if rng.random() < 0.5 else None
            self._event(code, invoice, dispute_day, "dispute_opened", dispute_reason=reason, amount=amount)
            if rng.random() < 0.85:
                resolved = max(dispute_day + timedelta(days=1), pay_day - timedelta(days=rng.randint(0, 20)))
                self._event(code, invoice, resolved, "dispute_resolved")
            return
        late = (pay_day - due).days
        if late <= 7 or rng.random() >= 0.35:
            return
        called = max(issued + timedelta(days=1), due + timedelta(days=rng.randint(3, min(late - 1, 20))))
        self._event(code, invoice, called, "dunning_sent")
        whole = None if rng.random() < 0.3 else Money(remaining)
        broken_by = called + timedelta(days=rng.randint(5, 15))
        if rng.random() < 0.3 and broken_by + timedelta(days=PROMISE_GRACE_DAYS + 8) < pay_day:
            self._event(code, invoice, called, "promise_to_pay", promised_date=broken_by, amount=whole)
            called = broken_by + timedelta(days=rng.randint(4, 7))
            self._event(code, invoice, called, "contact", note="relance après promesse non tenue")
        promised = max(
            called + timedelta(days=1), pay_day + timedelta(days=rng.randint(-PROMISE_GRACE_DAYS, 5))
        )
        self._event(code, invoice, called, "promise_to_pay", promised_date=promised, amount=whole)

    def _payment_plan(
        self, code: str, invoice: dict[str, Any], day: date, amount: int, last: bool = False
    ) -> None:
        """One instalment of a plan agreed ten days before its first, for half the plans of two payments."""
        key = (code, invoice["document_id"])
        if not last:
            agreed = max(invoice["issue_date"], day - timedelta(days=10))
            if self.follow_up_rng.random() >= 0.5:
                return
            self.plans[key] = agreed
        agreed_day = self.plans.pop(key, None) if last else self.plans.get(key)
        if agreed_day is None:
            return
        self._event(code, invoice, agreed_day, "payment_plan", promised_date=day, amount=Money(amount))

    def _emit_invoice(
        self, code: str, invoice: dict[str, Any], day: date, cancel_day: date | None, dispute_day: date | None
    ) -> None:
        """History rows carry their state as of the history drop; later changes are re-sent."""
        if day <= self.history_day:
            if cancel_day and cancel_day <= self.history_day:
                invoice = invoice | {"status": "cancelled"}
                cancel_day = None
            if dispute_day and dispute_day <= self.history_day:
                invoice = invoice | {"disputed": True}
                dispute_day = None
        self._emit(code, INVOICES, invoice, day)
        cancelled: dict[str, Any] = {"status": "cancelled"}
        disputed: dict[str, Any] = {"disputed": True}
        earlier: dict[str, Any]
        if cancel_day and dispute_day and cancel_day == dispute_day:
            # one row of the day with both changes: a key appears once in a file
            self._schedule(cancel_day, "resend", code, invoice | cancelled | disputed)
        else:
            # a later re-send carries the earlier change too: the ERP sends the row as it stands
            if cancel_day:
                earlier = disputed if dispute_day and dispute_day < cancel_day else {}
                self._schedule(cancel_day, "resend", code, invoice | earlier | cancelled)
            if dispute_day:
                earlier = cancelled if cancel_day and cancel_day < dispute_day else {}
                self._schedule(dispute_day, "resend", code, invoice | earlier | disputed)
        if not cancel_day and not dispute_day and day > self.history_day and self.rng.random() < 0.02:
            self._schedule(day + timedelta(days=1), "resend", code, invoice)  # an ERP re-sends unchanged rows

    def _settlement(self, sim: EntitySim, prefix: str = "R") -> str:
        sim.settlement_seq += 1
        return f"{sim.entity.code}-{prefix}{sim.settlement_seq:08d}"

    def _line(
        self,
        code: str,
        settlement: str,
        line: int,
        account: Account,
        document: str | None,
        day: date,
        currency: str,
        amount: int,
        kind: str,
    ) -> None:
        self._emit(
            code,
            PAYMENTS,
            {
                "settlement_id": settlement,
                "line_no": line,
                "debtor_id": account.debtor_id,
                "document_id": document,
                "settlement_date": day,
                "currency": currency,
                "amount": Money(amount),
                "kind": kind,
            },
            day,
        )

    def _handle(self, day: date, kind: str, payload: tuple[Any, ...]) -> None:
        code = payload[0]
        sim = self.sims[code]
        if kind == "resend":
            self._emit(code, INVOICES, payload[1], day)
        elif kind == "event":
            self._emit(code, COLLECTION_EVENTS, payload[1], day)
        elif kind == "einvoice":
            self._einvoice_status(code, payload[1], day)
        elif kind == "pay":
            _, account, document, currency, amount, pay_kind, *fee = payload
            settlement = self._settlement(sim)
            self._line(code, settlement, 1, account, document, day, currency, amount, pay_kind)
            if fee:
                self._line(code, settlement, 2, account, document, day, currency, fee[0], "adjustment")
            self.stats[pay_kind] += 1
        elif kind == "write_off":
            _, account, document, currency, amount = payload
            self._line(
                code, self._settlement(sim, "W"), 1, account, document, day, currency, amount, "write_off"
            )
        elif kind == "unapplied":
            _, account, document, currency, amount, apply_day = payload
            settlement = self._settlement(sim)
            applied_in_history = day <= self.history_day and apply_day <= self.history_day
            self._line(
                code,
                settlement,
                1,
                account,
                document if applied_in_history else None,
                day,
                currency,
                amount,
                "payment",
            )
            if not applied_in_history:
                self._schedule(apply_day, "apply", code, account, document, currency, amount, settlement, day)
            self.stats["unapplied"] += 1
        elif kind == "apply":  # the ERP re-sends the same line, now allocated
            _, account, document, currency, amount, settlement, value_day = payload
            self._emit(
                code,
                PAYMENTS,
                {
                    "settlement_id": settlement,
                    "line_no": 1,
                    "debtor_id": account.debtor_id,
                    "document_id": document,
                    "settlement_date": value_day,
                    "currency": currency,
                    "amount": Money(amount),
                    "kind": "payment",
                },
                day,
            )
        elif kind == "credit_note":
            _, account, invoice_id, currency, amount, applied_now, pay_day = payload
            sim.doc_seq += 1
            credit_id = f"{code}-A{sim.doc_seq:08d}"
            self._emit(
                code,
                INVOICES,
                {
                    "document_id": credit_id,
                    "document_type": "credit_note",
                    "debtor_id": account.debtor_id,
                    "issue_date": day,
                    "due_date": day,
                    "currency": currency,
                    "amount": Money(amount),
                    "amount_excl_tax": Money(round(amount * 100 / (100 + sim.vat_rate))),
                    "disputed": False,
                    "status": "open",
                },
                day,
            )
            self._schedule(
                day if applied_now else max(day, pay_day),
                "offset",
                code,
                account,
                invoice_id,
                credit_id,
                currency,
                amount,
            )
            self.stats["credit_note"] += 1
        elif kind == "offset":
            _, account, invoice_id, credit_id, currency, amount = payload
            settlement = self._settlement(sim, "L")
            self._line(code, settlement, 1, account, invoice_id, day, currency, amount, "credit_note")
            self._line(code, settlement, 2, account, credit_id, day, currency, amount, "credit_note")
        elif kind == "rate":
            _, account, provider, periodic = payload
            company = account.company
            insolvent = bool(company and company.insolvency_date and day >= company.insolvency_date)
            self._rate(account, provider, day, company.risk_class_on(day) if company else 1, insolvent)
            following = day + timedelta(days=self.rng.randint(90, 200))
            if periodic and following <= self.config.end:
                self._schedule(following, "rate", code, account, provider, True)
        elif kind == "limit":
            _, account, limit = payload
            account.credit_limit = limit
            self._emit(code, DEBTORS, self._debtor_row(account), day)

    def _fx_day(self, day: date) -> None:
        writer = self._writer(None, day)
        if day.weekday() >= 5:
            return  # no fixing on weekends: the gap the 7-day fallback covers
        for currency in sorted(self.fx):
            self.fx[currency] *= math.exp(self.rng.gauss(0, 0.004))
            writer.write(
                "fx_rates",
                {
                    "rate_date": day,
                    "currency": currency,
                    "units_per_eur": Money(round(self.fx[currency] * 10_000), 4),
                },
            )

    def _schedule_ratings(self, account: Account) -> None:
        """First review at the start; each review schedules the next; drift and insolvency add one."""
        company = account.company
        start = self.config.start
        if company is None:
            self._schedule(start, "rate", account.entity, account, "internal", True)
            return
        providers = [
            p
            for p in account.providers
            if p not in ("banque_de_france", "altares") or company.country == "FR"
        ]
        for provider in providers:
            self._schedule(start, "rate", account.entity, account, provider, True)
            for event_day in (company.downgrade_day, company.insolvency_date):
                if event_day and event_day <= self.config.end:
                    self._schedule(
                        event_day + timedelta(days=self.rng.randint(0, 10)),
                        "rate",
                        account.entity,
                        account,
                        provider,
                        False,
                    )

    def run(self) -> dict[str, Any]:
        config = self.config
        companies = self._companies()
        self._accounts(companies)
        for code in self.fec_codes:
            names = {account.debtor_id: account.name for account in self.sims[code].accounts}
            siren = self.registry.entity(code).siren
            assert siren is not None  # a FEC entity is French
            self.fec_ledgers[code] = FecLedger(code, "EUR", siren, names)
        out = Path(config.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "entities.yml").write_text(self.registry.to_yaml(), encoding="utf-8")
        for code, sim in self.sims.items():
            for account in sim.accounts:
                if account.company and self.rng.random() < 0.05:  # a credit limit halved some day
                    day = config.start + timedelta(
                        days=self.rng.randint(30, max(30, (config.end - config.start).days))
                    )
                    limit = account.credit_limit // 2 // 100 * 100
                    if day <= self.history_day:
                        account.credit_limit = limit
                    else:
                        self._schedule(day, "limit", code, account, limit)
                self._emit(code, DEBTORS, self._debtor_row(account), config.start)
                self._schedule_ratings(account)
        days = (config.end - config.start).days + 1
        per_day = config.invoices / days
        day = config.start
        while day <= config.end:
            self._fx_day(day)
            while self.events and self.events[0][0] <= day:
                _, _, kind, payload = heapq.heappop(self.events)
                self._handle(day, kind, payload)
            weekday_factor = 0.25 if day.weekday() >= 5 else 1.3
            for sim in self.sims.values():
                self._writer(sim.entity.code, day)  # every entity drops every night, even with nothing new
                expected = per_day * sim.share * weekday_factor
                count = int(expected) + (1 if self.rng.random() < expected - int(expected) else 0)
                for _ in range(count):
                    self._new_invoice(sim, day)
                    self.stats["invoice"] += 1
            day += timedelta(days=1)
        for _, writer in self.writers.values():
            writer.close()
        self.stats["open_events_left"] = len(self.events)
        return {
            "registry": str(out / "entities.yml"),
            "history_drop": self.history_day.isoformat(),
            **self.stats,
        }


def generate(config: GeneratorConfig) -> dict[str, Any]:
    return GroupGenerator(config).run()
