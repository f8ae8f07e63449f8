"""Benchmark: land one large FEC (SPEC section 16), the whole path a night takes for it.

    python -m receivables.dev.fec_bench --lines 1000000 --workdir /tmp/fec-bench

writes a FEC of about ``--lines`` lines for one entity (sales of three
lines, receipts of two, a credit note now and then; most lettered and
dated, some in part, some not), then lands it as a night does: read,
converted to documents and settlement lines, validated by the Great
Expectations suites, staged and loaded. It prints the seconds of each part
and the peak memory of the process (docs/benchmarks.md has the figures).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from receivables.ingest.fec import LEGAL_COLUMNS, read_fec
from receivables.ingest.landing import land
from receivables.ingest.ledger import customer_ledger
from receivables.registry import load_registry

ENTITY = "FRBIG"
DAY = date(2026, 12, 31)
REGISTRY = f"""group_currency: EUR
entities:
  - code: {ENTITY}
    name: Grande Filiale SAS
    country: FR
    currency: EUR
    format: fec
"""


def _amount(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


def write_fec(path: Path, lines: int, seed: int = 1, debtors: int = 20_000) -> int:
    """A FEC of about ``lines`` lines; returns how many it holds."""
    rng = random.Random(seed)
    start = DAY.replace(month=1, day=1)
    written = 0
    number = 0
    letters: dict[str, int] = {}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("\t".join(LEGAL_COLUMNS) + "\r\n")

        def put(journal: str, day: date, account: str, aux: str, ref: str, signed: int, letter: str = "",
                letter_day: date | None = None) -> None:  # fmt: skip
            nonlocal written
            text = day.strftime("%Y%m%d")
            handle.write(
                "\t".join(
                    (
                        journal, journal, str(number), text, account, account, aux, aux and f"Client {aux}", ref,
                        text, ref, _amount(max(signed, 0)), _amount(max(-signed, 0)), letter,
                        letter_day.strftime("%Y%m%d") if letter_day else "", text, "", "",
                    )
                )
                + "\r\n"
            )  # fmt: skip
            written += 1

        while written < lines:
            number += 1
            debtor = f"C{rng.randrange(debtors):06d}"
            issued = start + timedelta(days=rng.randrange(330))
            cents = rng.randrange(1_000, 5_000_000)
            excl = round(cents / 1.2)
            ref = f"F{number:09d}"
            fate = rng.random()
            letter = ""
            if fate < 0.85:  # paid: lettered with its receipt (in part 5 % of the time)
                letters[debtor] = letters.get(debtor, 0) + 1
                letter = f"L{letters[debtor]}"
            put(
                "VE",
                issued,
                "411000",
                debtor,
                ref,
                cents,
                letter,
                issued + timedelta(days=45) if letter else None,
            )
            put("VE", issued, "706000", "", ref, -excl)
            put("VE", issued, "445710", "", ref, excl - cents)
            if fate < 0.95:
                number += 1
                paid = issued + timedelta(days=rng.randrange(10, 90))
                amount = cents if fate < 0.80 or fate >= 0.85 else cents // 2
                put("BQ", paid, "512000", "", f"R{number}", amount)
                put("BQ", paid, "411000", debtor, f"R{number}", -amount, letter, paid if letter else None)
    return written


def peak_memory_mb() -> float:
    """This process's peak resident memory, and its children's (the validation workers), in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def run(lines: int, workdir: Path) -> dict[str, Any]:
    shutil.rmtree(workdir, ignore_errors=True)
    landing = workdir / "landing"
    path = landing / ENTITY / DAY.isoformat() / f"123456782FEC{DAY:%Y%m%d}.txt"
    began = time.perf_counter()
    count = write_fec(path, lines)
    written = time.perf_counter() - began
    (workdir / "entities.yml").write_text(REGISTRY, encoding="utf-8")
    registry = load_registry(workdir / "entities.yml")

    began = time.perf_counter()
    [_, outcome] = land(registry, landing, DAY, workdir / "warehouse.duckdb", workers=1)
    landed = time.perf_counter() - began
    peak = peak_memory_mb()  # the landing's: read, converted, validated, staged, loaded in this process

    # the reader and the conversion alone (a quarantined drop has moved to the quarantine)
    path = next((landing / "_quarantine").rglob("*FEC*.txt"), path)
    began = time.perf_counter()
    read = read_fec(path, ENTITY)
    read_seconds = time.perf_counter() - began
    began = time.perf_counter()
    ledger = customer_ledger(read.lines, registry.entity(ENTITY), path.name, {})
    ledger_seconds = time.perf_counter() - began
    documents, settlement_lines = len(ledger.invoices), len(ledger.payments)
    return {
        "fec_lines": count,
        "fec_megabytes": round(path.stat().st_size / 2**20, 1),
        "documents": documents,
        "settlement_lines": settlement_lines,
        "write_seconds": round(written, 1),
        "read_seconds": round(read_seconds, 1),
        "ledger_seconds": round(ledger_seconds, 1),
        "land_seconds": round(landed, 1),
        "landed": outcome.describe()[:200],
        "peak_memory_mb_landing": round(peak),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/fec-bench"))
    args = parser.parse_args(argv)
    print(json.dumps(run(args.lines, args.workdir), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
