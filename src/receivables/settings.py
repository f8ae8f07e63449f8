"""Every setting the product reads from its environment, in one place.

The DAGs, the reports, the landing's file bound and the Superset commands
read their settings here, never from ``os.environ`` themselves: each
variable has one name, one meaning and one default, listed in
``VARIABLES`` (and in the README). ``settings(...)`` checks the ones a
caller needs at once and names every one that is missing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from receivables.errors import ReceivablesError

# field: (environment variable, what it is)
VARIABLES: dict[str, tuple[str, str]] = {
    "home": ("RECEIVABLES_HOME", "the repository root (default: where the package is; e.g. in a container)"),
    "entities": ("RECEIVABLES_ENTITIES", "the entity registry (entities.yml)"),
    "landing": ("RECEIVABLES_LANDING", "the landing folder (SPEC section 2)"),
    "warehouse": ("RECEIVABLES_WAREHOUSE", "the working warehouse file, written by the nightly run"),
    "serving": ("RECEIVABLES_SERVING", "the published warehouse file, read by Superset and the reports"),
    "recipients": ("RECEIVABLES_REPORT_RECIPIENTS", "who gets which report (YAML)"),
    "reports": (
        "RECEIVABLES_REPORTS",
        "where reports are written (default: reports/ beside the serving file)",
    ),
    "alert_to": (
        "RECEIVABLES_ALERT_TO",
        "comma-separated addresses of the nightly failure alert (unset: log only)",
    ),
    "alert_from": (
        "RECEIVABLES_ALERT_FROM",
        "the sender of alerts and reports (default: the SMTP connection's)",
    ),
    "smtp_conn_id": ("RECEIVABLES_SMTP_CONN_ID", "Airflow's SMTP connection (default smtp_default)"),
    "max_file_bytes": ("RECEIVABLES_MAX_FILE_BYTES", "the largest file landing reads (default 4 GiB)"),
    "validation_batches": (
        "RECEIVABLES_VALIDATION_BATCHES",
        "the nightly DAG's validation batches, at least (default: the scheduler machine's cores; "
        "with Celery, the validation slots of all workers)",
    ),
    "build_memory_limit": (
        "RECEIVABLES_BUILD_MEMORY_LIMIT",
        "the most memory dbt's DuckDB takes in a build, e.g. 6GB or 50% (default 80%, DuckDB's own; past "
        "it, it spills to disk beside the warehouse)",
    ),
    "build_range_dates": (
        "RECEIVABLES_BUILD_RANGE_DATES",
        "the most as-of dates one dbt run builds (default 10): a longer range, a backfill's nights, is "
        "built in runs of that many, so that its memory does not grow with the range",
    ),
    "writer_wait": (
        "RECEIVABLES_WRITER_WAIT",
        "how many seconds a second writer of the warehouse (a load, a build) waits for the first one "
        "to end before it stops, naming it (default 30)",
    ),
    "entity_file_group": (
        "RECEIVABLES_ENTITY_FILE_GROUP",
        "the Unix group of each entity's serving file, {entity} its code in lower case, "
        "e.g. receivables-{entity} (unset: the service account's own)",
    ),
    "superset_url": ("SUPERSET_URL", "the Superset server the provisioning talks to"),
    "superset_user": ("SUPERSET_ADMIN_USER", "Superset's admin user"),
    "superset_password": ("SUPERSET_ADMIN_PASSWORD", "Superset's admin password"),
}
# the published warehouse as an Airflow asset: the nightly publish updates it, the reports DAG runs on it
SERVING_ASSET = "receivables_serving_warehouse"
DEFAULT_MAX_FILE_BYTES = 4 * 1024**3
# a build's DuckDB takes up to 80 % of the machine by default (a backfill's range build at 10 M
# reached 21 GB of 24); bounded, it spills to disk, where its operators can (docs/benchmarks.md)
DEFAULT_BUILD_MEMORY_LIMIT = "80%"
# a dbt run's memory grows with the as-of dates it builds (a 30-date build at 10 M invoices: 20 GB
# unbounded); ten dates at a time cost no more time per date than thirty (docs/benchmarks.md)
DEFAULT_BUILD_RANGE_DATES = 10
DEFAULT_WRITER_WAIT_SECONDS = 30
MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B|%)", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    """The settings found in an environment; a missing one reads as None (see ``settings``)."""

    environ: Mapping[str, str]

    def given(self, **paths: Path | None) -> Settings:
        """These settings with some fields given (a command's options; None: unset), the others kept."""
        names = {VARIABLES[field][0]: path for field, path in paths.items()}
        kept = {name: value for name, value in self.environ.items() if name not in names}
        return Settings({**kept, **{name: str(path) for name, path in names.items() if path is not None}})

    def text(self, field: str) -> str | None:
        return self.environ.get(VARIABLES[field][0]) or None

    def path(self, field: str) -> Path:
        value = self.text(field)
        if value is None:
            raise ReceivablesError(
                f"set the environment variable {VARIABLES[field][0]} ({VARIABLES[field][1]})"
            )
        return Path(value)

    @property
    def entities(self) -> Path:
        return self.path("entities")

    @property
    def landing(self) -> Path:
        return self.path("landing")

    @property
    def warehouse(self) -> Path:
        return self.path("warehouse")

    @property
    def serving(self) -> Path:
        return self.path("serving")

    @property
    def recipients(self) -> Path:
        return self.path("recipients")

    @property
    def reports(self) -> Path:
        configured = self.text("reports")
        return Path(configured) if configured else self.serving.parent / "reports"

    @property
    def alert_to(self) -> str:
        return self.text("alert_to") or ""

    @property
    def smtp_conn_id(self) -> str:
        return self.text("smtp_conn_id") or "smtp_default"

    @property
    def max_file_bytes(self) -> int:
        configured = self.text("max_file_bytes")
        if configured is None:
            return DEFAULT_MAX_FILE_BYTES
        try:
            return int(configured)
        except ValueError:
            raise ReceivablesError(
                f"{VARIABLES['max_file_bytes'][0]} must be a number of bytes, not {configured!r}"
            ) from None

    @property
    def build_memory_limit(self) -> str:
        """DuckDB's memory_limit for dbt's builds: a size (KB to TB, KiB to TiB) or a share of the memory (%)."""
        configured = self.text("build_memory_limit") or DEFAULT_BUILD_MEMORY_LIMIT
        if not MEMORY_SIZE.fullmatch(configured.strip()):
            raise ReceivablesError(
                f"{VARIABLES['build_memory_limit'][0]}={configured!r}: expected a size such as 6GB or a share such as 50%"
            )
        return configured.strip()

    def count(self, field: str, default: int, of: str) -> int:
        """A whole number, 1 or more, of ``of`` (named in the refusal); ``default`` when unset."""
        configured = self.text(field)
        if configured is None:
            return default
        try:
            number = int(configured)
        except ValueError:
            number = 0
        if number < 1:
            raise ReceivablesError(
                f"{VARIABLES[field][0]}={configured!r}: expected a whole number of {of}, 1 or more"
            )
        return number

    @property
    def build_range_dates(self) -> int:
        """The most as-of dates one dbt run builds; a longer range is built in runs of that many."""
        return self.count("build_range_dates", DEFAULT_BUILD_RANGE_DATES, "dates")

    @property
    def writer_wait(self) -> int:
        """How many seconds a second writer waits for the warehouse's writer lock."""
        return self.count("writer_wait", DEFAULT_WRITER_WAIT_SECONDS, "seconds")


def settings(*required: str, where: str = "", environ: Mapping[str, str] | None = None) -> Settings:
    """The environment's settings, once every ``required`` field is set; names all that are not."""
    found = Settings(os.environ if environ is None else environ)
    missing = [VARIABLES[field][0] for field in required if found.text(field) is None]
    if missing:
        see = f"README, {where}" if where else "README"
        raise ReceivablesError(f"set the environment variables {', '.join(missing)} (see {see})")
    return found
