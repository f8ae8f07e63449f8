"""Regenerate the screenshots of docs/dashboards.md: every dashboard and every page of the reports.

Usage: .venv/bin/python scripts/dashboard_screenshots.py [--out docs/images]

It generates a sample group (3 entities, seed 11, the tests' fixed dates),
runs its last two nights, builds the previous month end and the last Sunday
(the reports' comparisons), publishes, starts a local Superset on a free
port with the bundle provisioned, and photographs each dashboard in
Chromium as the CFO, then writes the report pages (the group's and FR01's)
as the PDF draws them. Nothing outside a temporary folder is touched but
the images.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from receivables.dev.generate import GeneratorConfig, generate
from receivables.dev.sample import publish
from receivables.dev.superset_run import ADMIN_PASSWORD, logged_in_page, start_server, superset_env
from receivables.serve.superset_provision import DASHBOARDS

REPO = Path(__file__).resolve().parents[1]
AS_OF = date(2025, 12, 31)


def receivables(*arguments: str, environment: dict[str, str] | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "receivables.cli", *arguments],
        check=True,
        env=environment or os.environ.copy(),
        stdout=subprocess.DEVNULL,
    )


def publish_sample(root: Path) -> tuple[Path, Path]:
    landing, warehouse, serving = (
        root / "landing",
        root / "warehouse.duckdb",
        root / "serving" / "warehouse.duckdb",
    )
    generate(
        GeneratorConfig(
            out=landing,
            entities=3,
            start=date(2025, 7, 1),
            end=AS_OF,
            seed=11,
            invoices=2000,
            nightly_from=date(2025, 12, 25),  # a week of nights: the first's forecast is measured
        )
    )
    registry = landing / "entities.yml"
    receivables(
        "run", "--entities", str(registry), "--landing", str(landing), "--warehouse", str(warehouse),
        "--as-of", "2025-12-24", "--to", AS_OF.isoformat(),
    )  # fmt: skip
    for day in ("2025-11-30", "2025-12-28", AS_OF.isoformat()):  # the reports' comparisons, then the night
        receivables("build", "--warehouse", str(warehouse), "--as-of", day)
    publish(warehouse, serving, AS_OF)
    return serving, registry


def dashboards(serving: Path, registry: Path, home: Path, out: Path) -> list[Path]:
    from receivables.registry import load_registry
    from receivables.serve.superset_provision import provision

    written = []
    server = start_server(home)
    url = next(server).url
    try:
        saved = os.environ.copy()
        os.environ.update(superset_env(home))
        try:
            provision(serving, list(load_registry(registry).codes), url, "admin", ADMIN_PASSWORD)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        with logged_in_page(url, width=1600, height=1200) as page:
            for slug in DASHBOARDS:
                page.goto(
                    f"{url}/superset/dashboard/{slug}/?standalone=1",
                    wait_until="networkidle",
                    timeout=120_000,
                )
                page.wait_for_selector(".dashboard-component-chart-holder", timeout=120_000)
                page.wait_for_load_state("networkidle", timeout=120_000)
                page.wait_for_timeout(4000)
                path = out / f"{slug}.png"
                page.screenshot(path=str(path), full_page=True)
                written.append(path)
    finally:
        for _ in server:
            pass
    return written


def report_pages(serving: Path, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9})
    from receivables.reports.data import read_report
    from receivables.reports.files import report_pages as pages

    written = []
    for scope in (None, "FR01"):
        report = read_report(serving, AS_OF, scope)
        for number, figure in enumerate(pages(report), start=1):
            path = out / f"report-{report.scope}-page{number}.png"
            figure.savefig(path, dpi=90)
            written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as folder:
        root = Path(folder)
        serving, registry = publish_sample(root)
        written = dashboards(serving, registry, root / "superset", out) + report_pages(serving, out)
    for path in written:
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


if __name__ == "__main__":
    main()
