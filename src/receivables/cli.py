"""The ``receivables`` command."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from receivables import paths
from receivables.errors import ReceivablesError
from receivables.ingest.suites import stale_suites, write_suites
from receivables.nights import Nights
from receivables.registry import load_registry
from receivables.serve.superset_provision import provision
from receivables.settings import settings

log = logging.getLogger("receivables")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, found {text!r}") from exc


def cmd_generate(args: argparse.Namespace) -> int:
    from receivables.dev.generate import GeneratorConfig, generate

    config = GeneratorConfig(
        out=args.out,
        entities=args.entities,
        start=args.start,
        end=args.end,
        seed=args.seed,
        invoices=args.invoices,
        nightly_from=args.nightly_from,
        fec_entities=args.fec_entities,
    )
    summary = generate(config)
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0


def cmd_land(args: argparse.Namespace) -> int:
    from receivables.ingest.landing import OK, land

    registry = load_registry(args.entities)
    problems = 0
    for day in Nights.of(args.as_of, args.to):
        for outcome in land(registry, args.landing, day, args.warehouse):
            print(outcome.describe())
            problems += outcome.status != OK
    if problems and args.strict:
        raise ReceivablesError(f"{problems} drops were quarantined or missing (see above)")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from receivables.warehouse.build import build, generate_docs

    nights = Nights.of(args.as_of, args.to)
    taken_out = build(
        args.warehouse,
        nights,
        full_refresh=args.full_refresh,
        unit_tests=args.unit_tests,
        landing=args.landing,
    )
    for drop in taken_out:
        print(drop.describe())
    print(f"built {nights.describe()} into {args.warehouse}")
    if args.docs:
        print(f"dbt docs: {generate_docs(args.warehouse)}/index.html")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """The pipeline outside Airflow (``receivables.nightly.run``): land each night, build them, publish."""
    from receivables import nightly

    config = settings().given(
        entities=args.entities, landing=args.landing, warehouse=args.warehouse, serving=args.serving
    )
    for line in nightly.run(config, Nights.of(args.as_of, args.to)):
        print(line, flush=True)
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from receivables.nightly import publish

    config = settings().given(warehouse=args.warehouse, serving=args.serving)
    print(f"published {args.as_of}: {publish(config, args.as_of)}")
    return 0


def cmd_superset_provision(args: argparse.Namespace) -> int:
    config = settings(
        "superset_url", "superset_user", "superset_password", where="source scripts/superset-env.sh"
    )
    codes = list(load_registry(args.entities).codes)
    result = provision(
        args.serving,
        codes,
        config.text("superset_url") or "",
        config.text("superset_user") or "",
        config.text("superset_password") or "",
    )
    print(
        f"provisioned {result['datasets']} datasets and {result['charts']} charts; roles for {', '.join(codes)}"
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from receivables.reports.data import read_report
    from receivables.reports.files import write_report

    if args.top < 1:
        raise ReceivablesError(f"--top must be at least 1, found {args.top}")
    report = read_report(args.warehouse, args.as_of, args.entity, args.top)
    for path in write_report(report, args.out):
        print(path)
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    """Read-only SQL on the published warehouse: -c, -f, piped in, or typed at a prompt."""
    from receivables.serve.entity_files import published_entity_file
    from receivables.serve.sql import run_statements, shell

    # a controller's file holds their entity's rows only (SPEC section 15)
    warehouse = (
        published_entity_file(args.warehouse, args.entity) if args.entity is not None else args.warehouse
    )
    if args.command_text is not None or args.file is not None or not sys.stdin.isatty():
        text = (
            args.command_text
            if args.command_text is not None
            else (args.file.read_text(encoding="utf-8") if args.file else sys.stdin.read())
        )
        marked = run_statements(warehouse, text, sys.stdout, csv_output=args.csv)
        if marked:
            print(
                f"note: {marked} text value(s) starting with =, +, -, @, a tab or a carriage return were "
                "written with a leading ' so that a spreadsheet shows them as text and never runs them",
                file=sys.stderr,
            )
        return 0
    shell(warehouse)
    return 0


def cmd_expectations(args: argparse.Namespace) -> int:
    folder = args.folder or paths.expectations_dir()
    if args.check:
        stale = stale_suites(folder)
        if stale:
            raise ReceivablesError(
                f"suites differ from the contract: {', '.join(map(str, stale))}; run `receivables expectations`"
            )
        print(f"{folder}: suites match the contract")
        return 0
    for path in write_suites(folder):
        print(path)
    return 0


def cmd_backtest_forecast(args: argparse.Namespace) -> int:
    from receivables.dev.backtest import backtest_forecast

    result = backtest_forecast(args.dataset, args.workdir, args.first, args.last)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from receivables.dev.bench import bench, replay_last_night

    if args.through_airflow:
        from receivables.dev.airflow_bench import airflow_bench

        result = airflow_bench(args.workdir, args.backfill)
    elif args.replay_night:
        result = replay_last_night(args.workdir, args.replays, args.repeat)
    else:
        result = bench(
            args.invoices,
            args.workdir,
            args.entities,
            args.seed,
            args.years,
            args.repeat,
            debtors=args.debtors,
            night_count=args.nights,
            history_only=args.history_only,
        )
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="receivables", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write a realistic sample group in the landing layout")
    generate.add_argument("--out", type=Path, required=True, help="landing folder to write")
    generate.add_argument("--entities", type=int, default=4)
    generate.add_argument("--start", type=_date, default=date(2025, 1, 1))
    generate.add_argument("--end", type=_date, default=date(2025, 12, 31))
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--invoices", type=int, default=20_000, help="invoices over the whole period")
    generate.add_argument(
        "--nightly-from",
        type=_date,
        default=None,
        help="first nightly drop; earlier rows form one history drop the day before (default: end - 6 days)",
    )
    generate.add_argument(
        "--fec-entities",
        type=int,
        default=0,
        help="entities added after the others that drop their FEC instead of extracts (FEC01, ...)",
    )
    generate.set_defaults(handler=cmd_generate)

    land = commands.add_parser("land", help="validate and land one night's drops (or a range)")
    land.add_argument("--entities", type=Path, required=True, help="entity registry YAML")
    land.add_argument("--landing", type=Path, required=True)
    land.add_argument("--as-of", type=_date, required=True)
    land.add_argument("--to", type=_date, default=None, help="land every date from --as-of to this one")
    land.add_argument("--warehouse", type=Path, required=True, help="DuckDB working file")
    land.add_argument(
        "--strict", action="store_true", help="exit non-zero when a drop is quarantined or missing"
    )
    land.set_defaults(handler=cmd_land)

    build = commands.add_parser("build", help="build the marts for an as-of date (or a range) with dbt")
    build.add_argument("--warehouse", type=Path, required=True)
    build.add_argument("--as-of", type=_date, required=True)
    build.add_argument("--to", type=_date, default=None, help="rebuild every as-of date up to this one")
    build.add_argument("--full-refresh", action="store_true", help="drop and rebuild the incremental marts")
    build.add_argument("--docs", action="store_true", help="also generate the dbt docs site")
    build.add_argument(
        "--landing",
        type=Path,
        default=None,
        help="landing folder: a data test failing on the night's drops quarantines them there "
        "and the build goes on without them (SPEC section 12); without it such a build fails",
    )
    build.add_argument(
        "--unit-tests",
        action="store_true",
        help="also run dbt's unit tests (after changing a model; a night does not need them)",
    )
    build.set_defaults(handler=cmd_build)

    run = commands.add_parser(
        "run",
        help="the nightly pipeline for one night or a range: land each night, build, publish (--serving)",
    )
    run.add_argument("--entities", type=Path, required=True)
    run.add_argument("--landing", type=Path, required=True)
    run.add_argument("--warehouse", type=Path, required=True)
    run.add_argument("--as-of", type=_date, required=True)
    run.add_argument("--to", type=_date, default=None)
    run.add_argument(
        "--serving",
        type=Path,
        default=None,
        help="publish the built warehouse there, with each entity's file (without it: built, not published)",
    )
    run.set_defaults(handler=cmd_run)

    publish = commands.add_parser(
        "publish",
        help="publish a built as-of date: the serving file and each entity's, atomically, recorded as reported",
    )
    publish.add_argument("--warehouse", type=Path, required=True, help="the working warehouse, built")
    publish.add_argument(
        "--serving",
        type=Path,
        required=True,
        help="the serving file (warehouse.duckdb of the serving folder)",
    )
    publish.add_argument("--as-of", type=_date, required=True, help="the as-of date published (built last)")
    publish.set_defaults(handler=cmd_publish)

    provision = commands.add_parser(
        "superset-provision", help="import the dashboards bundle, roles and row-level security"
    )
    provision.add_argument(
        "--serving", type=Path, required=True, help="the published DuckDB file dashboards read"
    )
    provision.add_argument(
        "--entities", type=Path, required=True, help="entity registry (one controller role each)"
    )
    provision.set_defaults(handler=cmd_superset_provision)

    report = commands.add_parser(
        "report", help="write the Excel workbook and PDF summary of an as-of date (group or one entity)"
    )
    report.add_argument("--warehouse", type=Path, required=True, help="the published DuckDB file (read-only)")
    report.add_argument("--as-of", type=_date, required=True)
    report.add_argument("--out", type=Path, required=True, help="folder to write the two files into")
    report.add_argument("--entity", default=None, help="one entity's report (default: the group's)")
    report.add_argument("--top", type=int, default=20, help="debtors listed (default 20)")
    report.set_defaults(handler=cmd_report)

    sql = commands.add_parser("sql", help="query the published warehouse read-only (docs/sql-access.md)")
    sql.add_argument(
        "--warehouse",
        type=Path,
        default=Path("var/serving/warehouse.duckdb"),
        help="the published DuckDB file",
    )
    sql.add_argument(
        "--entity",
        default=None,
        help="an entity code: query that entity's file (entities/<CODE>.duckdb beside --warehouse) only",
    )
    sql.add_argument("-c", dest="command_text", default=None, help="SQL to run (statements separated by ;)")
    sql.add_argument("-f", dest="file", type=Path, default=None, help="a file of SQL to run")
    sql.add_argument("--csv", action="store_true", help="print CSV instead of an aligned table")
    sql.set_defaults(handler=cmd_sql)

    expectations = commands.add_parser("expectations", help="write the GX suites from the extract contract")
    expectations.add_argument("--folder", type=Path, default=None)
    expectations.add_argument("--check", action="store_true", help="fail when committed suites are stale")
    expectations.set_defaults(handler=cmd_expectations)

    bench = commands.add_parser(
        "bench",
        help="generate, land, build (full, then nights), query the serving file; print figures as JSON",
    )
    bench.add_argument("--invoices", type=int, default=1_000_000)
    bench.add_argument("--entities", type=int, default=4)
    bench.add_argument(
        "--years", type=float, default=2, help="years of history ending 2025-12-31 (0.5: the last 183 days)"
    )
    bench.add_argument(
        "--debtors",
        type=int,
        default=None,
        help="debtor companies (default: one per 40 invoices, at most 200,000)",
    )
    bench.add_argument("--seed", type=int, default=7)
    bench.add_argument("--repeat", type=int, default=5, help="runs of each chart query")
    bench.add_argument("--workdir", type=Path, default=Path("var/bench"))
    bench.add_argument(
        "--replay-night",
        action="store_true",
        help="land and build again the last night of the group an earlier bench left in --workdir (no generation)",
    )
    bench.add_argument(
        "--replays", type=int, default=3, help="with --replay-night: times; the median is reported"
    )
    bench.add_argument(
        "--nights",
        type=int,
        default=3,
        help="nightly drops after the history drop, each landed and built (the median night is reported)",
    )
    bench.add_argument(
        "--history-only",
        action="store_true",
        help="generate the --nights drops but land and build only the history "
        "(--through-airflow's backfill lands them, as for an entity that joins)",
    )
    bench.add_argument(
        "--through-airflow",
        action="store_true",
        help="the last night of the group in --workdir through the CLI and through a real Airflow scheduler, "
        "then a backfill of its last --backfill nights (no generation)",
    )
    bench.add_argument(
        "--backfill", type=int, default=30, help="with --through-airflow: nights the backfill replays"
    )
    bench.add_argument("--out", type=Path, default=None)
    bench.set_defaults(handler=cmd_bench)

    backtest = commands.add_parser(
        "backtest-forecast",
        help="the cash-in forecast against what was collected, on the IBM sample; print the errors as JSON",
    )
    backtest.add_argument("--dataset", type=Path, required=True, help="WA_Fn-UseC_-Accounts-Receivable.csv")
    backtest.add_argument("--workdir", type=Path, default=Path("var/backtest"))
    backtest.add_argument(
        "--first", type=date.fromisoformat, default=date(2012, 7, 31), help="first forecast"
    )
    backtest.add_argument("--last", type=date.fromisoformat, default=date(2013, 9, 30), help="last forecast")
    backtest.add_argument("--out", type=Path, default=None)
    backtest.set_defaults(handler=cmd_backtest_forecast)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("great_expectations", "py.warnings"):
        logging.getLogger(noisy).setLevel(logging.WARNING if args.verbose else logging.ERROR)
    try:
        return int(args.handler(args))
    except ReceivablesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a permission: the cause and the path, in one line
        log.debug("%s failed", args.command, exc_info=True)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {args.command}: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except Exception as exc:  # the traceback helps us, the last line helps the user
        log.exception("unexpected failure")
        print(f"error: {args.command} failed unexpectedly: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
