"""Run the committed Great Expectations suites on files' DataFrames, one at a time or many at once.

Great Expectations is imported here only, lazily: it takes seconds to import
and only tasks that validate need it.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from receivables import iso, paths
from receivables.contract import Extract
from receivables.errors import ERROR, Failure, LandingError
from receivables.ingest.suites import (
    DROP_COLUMN,
    EUR_PREFIX,
    EXTRACT_DATE_COLUMN,
    GRADE_COLUMN,
    LATEST_DATE_COLUMN,
    ROW_COLUMN,
    UNRATED_CURRENCIES,
    suite_path,
)
from receivables.registry import CsvDialect

log = logging.getLogger(__name__)

MAX_ROWS_PER_RULE = 50  # failing rows listed per rule in reason.json; the count is always given


@dataclass(frozen=True)
class RatingScale:
    provider: str
    scale_version: str
    valid_from: date
    valid_to: date


@cache
def rating_scales() -> tuple[RatingScale, ...]:
    with (paths.seeds_dir() / "rating_scales.csv").open(encoding="utf-8") as handle:
        return tuple(
            RatingScale(
                row["provider"],
                row["scale_version"],
                date.fromisoformat(row["valid_from"]),
                date.fromisoformat(row["valid_to"]),
            )
            for row in csv.DictReader(handle)
        )


@cache
def known_rating_grades() -> tuple[str, ...]:
    with (paths.seeds_dir() / "rating_mappings.csv").open(encoding="utf-8") as handle:
        return tuple(
            sorted(
                f"{row['provider']}/{row['scale_version']}/{row['rating']}" for row in csv.DictReader(handle)
            )
        )


def graded_ratings(providers: pd.Series, ratings: pd.Series, rated_at: pd.Series) -> pd.Series:
    """``provider/scale_version/rating`` with the scale in force at ``rated_at`` (rating seed)."""
    versions = pd.Series(None, index=providers.index, dtype="str")
    for scale in rating_scales():
        in_force = (
            (providers == scale.provider)
            & (rated_at >= pd.Timestamp(scale.valid_from))
            & (rated_at <= pd.Timestamp(scale.valid_to))
        )
        versions = versions.mask(in_force, scale.scale_version)
    return providers.astype("str") + "/" + versions.fillna("?") + "/" + ratings.astype("str")


def suite_parameters(
    extract: Extract, frame: pd.DataFrame, entity_codes: tuple[str, ...], dialect: CsvDialect
) -> dict[str, Any]:
    """Values of the suites' ``$PARAMETER`` placeholders for one file.

    Code lists are cut down to the codes the file uses: the check is the same
    (a value outside the list fails either way) and GX copies these lists
    many times per expectation, so short lists keep validation fast.
    """
    present: set[str] = set()
    for column in extract.columns:
        if column.domain is not None and column.name in frame.columns:
            present.update(frame[column.name].dropna().unique())
    if GRADE_COLUMN in frame.columns:
        present.update(frame[GRADE_COLUMN].dropna().unique())
    separator = "\\" + dialect.decimal
    return {
        "iso_currencies": sorted(present.intersection(iso.currency_codes())),
        "iso_countries": sorted(present.intersection(iso.country_codes())),
        "entity_codes": sorted(present.intersection(entity_codes)),
        "known_rating_grades": sorted(present.intersection(known_rating_grades())),
        UNRATED_CURRENCIES: [],  # set by landing, which knows the group's FX history
        "date_regex": dialect.date_regex,
        "timestamp_regex": dialect.timestamp_regex,
        "decimal_regex_4": rf"^-?\d{{1,14}}(?:{separator}\d{{1,4}})?$",
        "decimal_regex_6": rf"^-?\d{{1,12}}(?:{separator}\d{{1,6}})?$",
    }


@dataclass
class CheckedFile:
    """One file to validate: its frame, the values of its suite's parameters and where it comes from."""

    frame: pd.DataFrame
    parameters: dict[str, Any]
    entity: str
    file_name: str


def _suite_parameter_names(node: Any) -> set[str]:
    """The ``$PARAMETER`` names a suite (or a part of it) refers to."""
    if isinstance(node, dict):
        if set(node) == {"$PARAMETER"}:
            return {node["$PARAMETER"]}
        return set().union(*(_suite_parameter_names(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_suite_parameter_names(value) for value in node))
    return set()


class Validator:
    """One Great Expectations context per process, suites read once from expectations/."""

    def __init__(self, folder: Path | None = None) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        preloaded = "great_expectations" in sys.modules
        started = time.perf_counter()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.validator.v1_validator import Validator as SuiteRun

        self._gx = gx
        self._suite_run = SuiteRun
        self.folder = Path(folder) if folder else paths.expectations_dir()
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = self.context.data_sources.add_pandas("landed_files")
        self.batch_definition = source.add_dataframe_asset("extract").add_batch_definition_whole_dataframe(
            "whole_file"
        )
        self._suites: dict[tuple[str, str, bool], Any] = {}
        self._parameter_names: dict[tuple[str, str], set[str]] = {}
        self._patterns: dict[tuple[str, str], dict[str, set[str]]] = {}
        # an Airflow task forked from a worker that imported it (scripts/airflow-env.sh) says so
        log.info(
            "Great Expectations: %s, context ready in %.1f s",
            "imported before this process started (preloaded)" if preloaded else "imported",
            time.perf_counter() - started,
        )

    def suite(self, extract: Extract, phase: str, rows: bool = True) -> Any:
        """The committed suite; with ``rows`` False, only what a file without rows can fail.

        Most of a suite checks values row by row (GX's map expectations: not
        null, in a set, matching a pattern, unique); a file with no row passes
        them all, so a header-only file (an entity's debtors on most nights) is
        checked for what is left: its columns.
        """
        key = (extract.name, phase, rows)
        if key not in self._suites:
            path = suite_path(self.folder, extract, phase)
            if not path.exists():
                raise LandingError(f"{path}: suite missing; run `receivables expectations`")
            data = json.loads(path.read_text(encoding="utf-8"))
            self._parameter_names[(extract.name, phase)] = _suite_parameter_names(data["expectations"])
            self._patterns[(extract.name, phase)] = _pattern_parameters(data["expectations"])
            suite = self._gx.ExpectationSuite(**data)
            if not rows:
                from great_expectations.expectations.expectation import (
                    ColumnMapExpectation,
                    ColumnPairMapExpectation,
                    MulticolumnMapExpectation,
                )

                by_row = (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation)
                kept = [
                    spec
                    for spec, expectation in zip(data["expectations"], suite.expectations, strict=True)
                    if not isinstance(expectation, by_row)
                ]
                suite = self._gx.ExpectationSuite(
                    **(data | {"name": f"{data['name']}.no_rows", "expectations": kept})
                )
            self._suites[key] = suite
        return self._suites[key]

    def validate_files(self, extract: Extract, phase: str, files: list[CheckedFile]) -> list[list[Failure]]:
        """The suite on many files of one extract: the failures of each file, in order.

        Great Expectations costs about the same per expectation for ten rows
        as for ten thousand, and a night is mostly small drops: files that
        share their columns and the values of the suite's other text
        parameters are validated as one frame, each row marked with its file
        (``_drop``, which keys are unique within). The entities' date and
        number patterns need not be shared: each file's values are matched
        against its own (``_batch_passes``).
        Lists of values are joined: a value in one file's list is a value of
        the contract (an ISO code, a known grade), except for the references
        that do not resolve, which fail the file they come from anyway. When
        such a batch passes, every file in it passes; when it does not, each
        of its files is validated alone, so what a failing file reports, and
        which files fail, never depend on the files beside it.
        """
        self.suite(extract, phase)  # reads the suite and the names of its parameters
        used = self._parameter_names[(extract.name, phase)]
        patterns = self._patterns[(extract.name, phase)]
        groups: dict[tuple[Any, ...], list[int]] = {}
        for index, checked in enumerate(files):
            texts = sorted(
                (name, value)
                for name, value in checked.parameters.items()
                if name in used and not isinstance(value, list) and not _mergeable(name, value, patterns)
            )
            groups.setdefault((tuple(checked.frame.columns), tuple(texts)), []).append(index)
        failures: list[list[Failure]] = [[] for _ in files]
        for members in groups.values():
            if len(members) > 1 and self._batch_passes(extract, phase, [files[i] for i in members], used):
                continue
            for index in members:
                checked = files[index]
                failures[index] = self.validate(
                    extract, phase, checked.frame, checked.parameters, checked.entity, checked.file_name
                )
        return failures

    def _batch_passes(self, extract: Extract, phase: str, files: list[CheckedFile], used: set[str]) -> bool:
        """Whether every file passes, from one run of the suite on their rows together.

        A pattern parameter (an entity's date or number format: its values
        differ by dialect) may differ between the files: each file's values
        of the columns it checks are marked with the number of the file's
        pattern, and the batch is checked against the patterns' alternation,
        each pattern taking only the values marked with its number. A value
        matches there exactly when it matches its own file's pattern.
        """
        patterns = self._patterns[(extract.name, phase)]
        variants = {
            name: values
            for name in patterns
            if name in used
            and all(name in checked.parameters for checked in files)
            # one group's files share any value that is not a whole-value pattern (validate_files)
            and len(values := sorted({checked.parameters[name] for checked in files})) > 1
        }
        frames = []
        for number, checked in enumerate(files):
            frame = checked.frame.assign(**{DROP_COLUMN: number})
            for name, values in variants.items():
                mark = f"{values.index(checked.parameters[name])}{PATTERN_MARK}"
                for column in patterns[name] & set(frame.columns):
                    found = frame[column]
                    frame[column] = found.where(found.isna(), mark + found.astype(str))
            frames.append(frame)
        frame = pd.concat(frames, ignore_index=True)
        parameters: dict[str, Any] = {}
        for checked in files:
            for name, value in checked.parameters.items():
                if name not in used:
                    continue
                if isinstance(value, list):
                    parameters[name] = sorted(set(parameters.get(name, [])).union(value))
                else:
                    parameters[name] = value
        for name, values in variants.items():
            parameters[name] = "^(?:{})$".format(
                "|".join(f"{number}{PATTERN_MARK}(?:{value[1:-1]})" for number, value in enumerate(values))
            )
        return self._passes(extract, phase, frame, parameters)

    def _passes(self, extract: Extract, phase: str, frame: pd.DataFrame, parameters: dict[str, Any]) -> bool:
        """Whether the frame passes the suite, asking Great Expectations for pass or fail only.

        Most drops pass. Great Expectations' cost is per expectation, not per
        row, and asking only pass or fail halves it; a file that fails is
        validated again for its rows.
        """
        suite = self.suite(extract, phase, rows=not frame.empty)
        if not suite.expectations:
            return True
        return bool(self._run(suite, frame, parameters, {"result_format": "BOOLEAN_ONLY"}).success)

    def validate(
        self,
        extract: Extract,
        phase: str,
        frame: pd.DataFrame,
        parameters: dict[str, Any],
        entity: str,
        file_name: str,
    ) -> list[Failure]:
        frame = frame.assign(**{DROP_COLUMN: 0})  # a file alone is drop 0 of its batch
        if self._passes(extract, phase, frame, parameters):
            return []
        result = self._run(
            self.suite(extract, phase, rows=not frame.empty),
            frame,
            parameters,
            {"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_COLUMN]},
        )
        failed = [outcome for outcome in result.results if not outcome.success]
        columns = [o for o in failed if o.expectation_config.type == "expect_table_columns_to_match_set"]
        if columns:  # the other rules fail on a missing column; the columns rule says it best
            return [_columns_failure(columns[0], entity, file_name, columns[0].expectation_config.meta or {})]
        failures: list[Failure] = []
        for outcome in failed:
            config = outcome.expectation_config
            failures.extend(_row_failures(outcome, config, config.meta or {}, entity, file_name))
        return failures

    def _run(
        self, suite: Any, frame: pd.DataFrame, parameters: dict[str, Any], result_format: dict[str, Any]
    ) -> Any:
        """The suite on the frame, through the validator that ``Batch.validate`` builds.

        ``Batch.validate`` builds its batch again from the batch definition, and
        Great Expectations fingerprints the whole frame each time it builds one
        (a hash of every value): a tenth of a small drop's validation, seconds
        for a history file. Building the validator directly builds the batch once.
        """
        run = self._suite_run(
            batch_definition=self.batch_definition,
            batch_parameters={"dataframe": frame},
            result_format=result_format,
        )
        return run.validate_expectation_suite(suite, expectation_parameters=parameters)


# marks a value with the number of its file's pattern in a batch (``Validator._batch_passes``)
PATTERN_MARK = "\x1f"
REGEX_EXPECTATION = "expect_column_values_to_match_regex"


def _pattern_parameters(expectations: list[dict[str, Any]]) -> dict[str, set[str]]:
    """The suite's parameters used only as a whole-value pattern, each with the columns it checks.

    Only these may differ between the files of one batch (``_batch_passes``);
    a parameter used another way, or a column checked by two of them, keeps
    files with different values in batches of their own.
    """
    columns: dict[str, set[str]] = {}
    other: set[str] = set()
    for spec in expectations:
        kwargs = spec.get("kwargs", {})
        for key, value in kwargs.items():
            if not (isinstance(value, dict) and set(value) == {"$PARAMETER"}):
                continue
            name = value["$PARAMETER"]
            if spec["type"] == REGEX_EXPECTATION and key == "regex" and not kwargs.get("row_condition"):
                columns.setdefault(name, set()).add(kwargs["column"])
            else:
                other.add(name)
    checked = [column for names in columns.values() for column in names]
    shared = {column for column in checked if checked.count(column) > 1}
    return {name: names for name, names in columns.items() if name not in other and not names & shared}


def _mergeable(name: str, value: Any, patterns: dict[str, set[str]]) -> bool:
    """A pattern parameter whose value matches whole values only (``^...$``, no alternative at its top
    level), so that files with different values can share a batch."""
    if name not in patterns or not isinstance(value, str) or PATTERN_MARK in value:
        return False
    if not (value.startswith("^") and value.endswith("$")) or value.endswith("\\$"):
        return False
    depth, escaped, in_class = 0, False, False
    for character in value[1:-1]:
        if escaped:
            escaped = False
        elif character == "\\":
            escaped = True
        elif in_class:
            in_class = character != "]"
        elif character == "[":
            in_class = True
        elif character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        elif character == "|" and depth == 0:
            return False
    return depth == 0 and not in_class


def _columns_failure(outcome: Any, entity: str, file_name: str, meta: dict[str, Any]) -> Failure:
    mismatched = (outcome.result.get("details") or {}).get("mismatched") or {}
    missing = [c for c in mismatched.get("missing", []) if c not in (ROW_COLUMN, DROP_COLUMN)]
    unexpected = mismatched.get("unexpected", [])
    found = []
    if missing:
        found.append("missing " + ", ".join(sorted(missing)))
    if unexpected:
        found.append("unknown " + ", ".join(sorted(unexpected)))
    return Failure(
        entity,
        file_name,
        meta.get("rule", "columns"),
        "expected " + meta.get("expected", ""),
        row=1,
        found="; ".join(found) or None,
    )


def _row_failures(
    outcome: Any, config: Any, meta: dict[str, Any], entity: str, file_name: str
) -> list[Failure]:
    kwargs = config.kwargs
    column = kwargs.get("column") or kwargs.get("column_A")
    if column == GRADE_COLUMN:
        column = "rating"
    if column in (
        EXTRACT_DATE_COLUMN,
        LATEST_DATE_COLUMN,
    ):  # compared with a date of the drop's: the file's is B
        column = kwargs["column_B"]
    if column and column.startswith(EUR_PREFIX):  # the amount, checked once converted to EUR
        column = column.removeprefix(EUR_PREFIX)
    if kwargs.get("column_list"):
        column = ", ".join(name for name in kwargs["column_list"] if name != DROP_COLUMN)
    rule = meta.get("rule", config.type)
    severity = meta.get("severity", ERROR)
    message = "expected " + meta.get("expected", config.type)
    exception = outcome.exception_info.get("exception_message") if outcome.exception_info else None
    if outcome.exception_info.get("raised_exception"):  # a rule that cannot be checked is an error
        return [
            Failure(entity, file_name, rule, f"{message}; could not be checked: {exception}", column=column)
        ]
    indexed = outcome.result.get("unexpected_index_list") or []
    failures = []
    for item in indexed[:MAX_ROWS_PER_RULE]:
        values = {k: v for k, v in item.items() if k not in (ROW_COLUMN, DROP_COLUMN)}
        if "column_A" in kwargs:
            found = ", ".join(
                f"{name.lstrip('_')}={_text(values.get(name))}"
                for name in (kwargs["column_A"], kwargs["column_B"])
            )
        elif len(values) == 1:
            found = str(next(iter(values.values())))
        else:
            found = ", ".join(f"{k}={v}" for k, v in values.items())
        failures.append(
            Failure(
                entity,
                file_name,
                rule,
                message,
                row=int(item[ROW_COLUMN]),
                column=column,
                found=found,
                severity=severity,
            )
        )
    count = int(outcome.result.get("unexpected_count") or len(indexed))
    if count > MAX_ROWS_PER_RULE:
        failures.append(
            Failure(
                entity,
                file_name,
                rule,
                f"{message}: {count - MAX_ROWS_PER_RULE} more rows fail this rule",
                column=column,
                severity=severity,
                items=count - MAX_ROWS_PER_RULE,
            )
        )
    if not indexed and count == 0:
        failures.append(Failure(entity, file_name, rule, message, column=column, severity=severity))
    return failures


def _text(value: Any) -> str:
    """A value found in a typed frame as a person reads it (dates without a time of day)."""
    text = str(value)
    return text[:10] if text.endswith(("T00:00:00", " 00:00:00")) else text


@cache
def validator() -> Validator:
    return Validator()
