"""Benchmark: land one night of e-invoicing status messages (SPEC section 17).

    python -m receivables.dev.einvoice_bench --messages 100000 --workdir /tmp/einvoice-bench

writes ``--messages`` CDAR messages (the generator's platform: approvals,
disputes with an amount, collections) into one entity's ``einvoice/``
folder beside header-only extracts, then lands the night as ``receivables
land`` does: each message parsed with defusedxml, the statuses validated by
the Great Expectations suites, staged and loaded. It prints the seconds of
each part and the peak memory (docs/benchmarks.md has the figures).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from receivables.contract import EINVOICE_FOLDER, ENTITY_EXTRACTS
from receivables.dev.einvoice_platform import LifecycleStatus, write_message
from receivables.dev.fec_bench import peak_memory_mb
from receivables.ingest.cdar import read_message
from receivables.ingest.landing import land
from receivables.registry import load_registry
from receivables.warehouse.store import connect

ENTITY, SIREN = "FRBIG", "100000009"
DAY = date(2026, 12, 1)
REGISTRY = f"""group_currency: EUR
entities:
  - code: {ENTITY}
    name: Grande Filiale SAS
    country: FR
    currency: EUR
    siren: "{SIREN}"
"""


def write_messages(folder: Path, count: int, seed: int = 1) -> None:
    """``count`` messages: approvals, disputes with their not-approved amount, collections with theirs."""
    rng = random.Random(seed)
    for number in range(count):
        issued = DAY - timedelta(days=rng.randrange(1, 90))
        at = datetime.combine(DAY, datetime.min.time()) + timedelta(seconds=rng.randrange(86_400))
        code, amount_type = rng.choice((("205", None), ("205", None), ("207", "MNATTC"), ("212", "MEN")))
        status = LifecycleStatus(
            f"F{number:09d}", issued, code, at,
            reason_code="QTE_ERR" if code == "207" else None,
            amount_type=amount_type,
            amount=rng.randrange(1_000, 5_000_000) if amount_type else None,
            currency="EUR" if amount_type else None,
        )  # fmt: skip
        write_message(folder, status, SIREN)


def run(messages: int, workdir: Path) -> dict[str, Any]:
    shutil.rmtree(workdir, ignore_errors=True)
    landing = workdir / "landing"
    drop = landing / ENTITY / DAY.isoformat()
    drop.mkdir(parents=True)
    for extract in ENTITY_EXTRACTS:
        if not extract.optional:
            (drop / extract.file_name).write_text(",".join(extract.column_names) + "\n", encoding="utf-8")
    began = time.perf_counter()
    write_messages(drop / EINVOICE_FOLDER, messages)
    written = time.perf_counter() - began
    folder_mb = sum(path.stat().st_size for path in (drop / EINVOICE_FOLDER).iterdir()) / 2**20
    (workdir / "entities.yml").write_text(REGISTRY, encoding="utf-8")
    registry = load_registry(workdir / "entities.yml")

    # the parser alone, over a tenth of the messages
    sample = sorted((drop / EINVOICE_FOLDER).iterdir())[: max(1, messages // 10)]
    began = time.perf_counter()
    for path in sample:
        read_message(path, SIREN, ENTITY)
    parse_per_message_ms = (time.perf_counter() - began) / len(sample) * 1000

    warehouse = workdir / "warehouse.duckdb"
    began = time.perf_counter()
    outcomes = land(registry, landing, DAY, warehouse, workers=2)
    landed = time.perf_counter() - began
    with connect(warehouse, read_only=True) as connection:
        [(rows,)] = connection.execute("select count(*) from raw.einvoice_status").fetchall()
    return {
        "messages": messages,
        "messages_megabytes": round(folder_mb, 1),
        "write_seconds": round(written, 1),
        "parse_ms_per_message": round(parse_per_message_ms, 3),
        "land_seconds": round(landed, 1),
        "statuses_landed": rows,
        "landed": [outcome.describe()[:200] for outcome in outcomes],
        "peak_memory_mb": round(peak_memory_mb()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/einvoice-bench"))
    args = parser.parse_args(argv)
    print(json.dumps(run(args.messages, args.workdir), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
