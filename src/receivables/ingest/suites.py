"""Great Expectations suites derived from the extract contract.

Each extract has two suites, kept as JSON under ``expectations/``:

- ``<extract>.format``: the file as written, every value still text: columns,
  required values, dates, numbers and booleans in the entity's dialect, enums,
  ISO codes, unique keys. Dialect-dependent patterns are suite parameters.
- ``<extract>.content``: typed values, run only when the format suite passes:
  bounds, date order, references to debtors and documents of the drop or the
  warehouse, known rating grades.

This module writes plain JSON in the GX 1.x suite format and does not import
Great Expectations (it takes seconds to import). ``receivables expectations``
rewrites the committed files; a test checks they are current.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from receivables.contract import (
    ALL_EXTRACTS,
    DATE_HORIZON_YEARS,
    MAX_AMOUNT_EUR,
    REGISTRATION_ID_SEPARATORS,
    ColumnType,
    Domain,
    Extract,
)
from receivables.errors import ERROR, WARNING

ROW_COLUMN = "_row"  # spreadsheet row number of the source line (header = 1)
DROP_COLUMN = "_drop"  # which drop of a batch validated at once a row comes from (validation.py)
GRADE_COLUMN = "_graded_rating"  # provider/scale_version/rating, built from the rating seed
EXTRACT_DATE_COLUMN = "_extract_date"  # the drop's date, beside the typed values (content suites)
EARLIEST_DATE_COLUMN = "_earliest_plausible_date"  # the extract date less DATE_HORIZON_YEARS
LATEST_DATE_COLUMN = "_latest_plausible_date"  # the extract date plus DATE_HORIZON_YEARS
EUR_PREFIX = "_eur_"  # _eur_<amount>: the amount converted at its currency's lowest known rate
DOCUMENT_PREFIX = "_document_"  # _document_<column>: that column of the document a line settles
UNRATED_CURRENCIES = "unrated_currencies"  # currencies of a file with no rate in the FX history

FORMAT = "format"
CONTENT = "content"
PHASES = (FORMAT, CONTENT)

DOMAIN_PARAMETERS = {
    Domain.CURRENCY: ("iso_currencies", "an ISO 4217 currency code (EUR, USD, ...)"),
    Domain.COUNTRY: ("iso_countries", "an ISO 3166-1 alpha-2 country code (FR, DE, ...)"),
    Domain.ENTITY: ("entity_codes", "an entity code of the registry"),
}


def decimal_scale(sql_type: str) -> int:
    """The scale of a ``decimal(p, s)`` type."""
    return int(sql_type.rstrip(")").split(",")[1])


def unresolved_parameter(extract_name: str, column: str) -> str:
    return f"unresolved_{extract_name}_{column}"


def _expectation(kind: str, rule: str, expected: str, severity: str = ERROR, **kwargs: Any) -> dict[str, Any]:
    """One expectation; its meta names the rule, what a good value is, and the rule's severity.

    An error quarantines the drop; a warning lands it and lists the row in
    ``marts.mart_data_issues`` (SPEC section 12).
    """
    return {
        "type": kind,
        "kwargs": kwargs,
        "meta": {"rule": rule, "expected": expected, "severity": severity},
    }


def _format_expectations(extract: Extract) -> list[dict[str, Any]]:
    expectations = [
        _expectation(
            "expect_table_columns_to_match_set",
            "columns",
            "exactly the columns " + ", ".join(extract.column_names),
            column_set=[*extract.column_names, ROW_COLUMN, DROP_COLUMN],
            exact_match=True,
        )
    ]
    for column in extract.columns:
        name = column.name
        if column.required:
            expectations.append(
                _expectation(
                    "expect_column_values_to_not_be_null",
                    "required",
                    "a value (the column is required)",
                    column=name,
                )
            )
        if column.required_when is not None:
            expectations.append(
                _expectation(
                    "expect_column_values_to_not_be_null",
                    "required",
                    f"a value ({name} is required {column.required_when.words})",
                    column=name,
                    row_condition=column.required_when.row_condition,
                    condition_parser="pandas",
                )
            )
        if column.type is ColumnType.DATE:
            expectations.append(
                _expectation(
                    "expect_column_values_to_match_regex",
                    "date_format",
                    "a date written in the entity's date format",
                    column=name,
                    regex={"$PARAMETER": "date_regex"},
                )
            )
        elif column.type is ColumnType.TIMESTAMP:
            expectations.append(
                _expectation(
                    "expect_column_values_to_match_regex",
                    "timestamp_format",
                    "a date written in the entity's date format, then optionally a time HH:MM or HH:MM:SS",
                    column=name,
                    regex={"$PARAMETER": "timestamp_regex"},
                )
            )
        elif column.type is ColumnType.DECIMAL:
            scale = decimal_scale(column.duckdb_type)
            expectations.append(
                _expectation(
                    "expect_column_values_to_match_regex",
                    "decimal_format",
                    f"a number with at most {scale} decimals and the entity's decimal separator",
                    column=name,
                    regex={"$PARAMETER": f"decimal_regex_{scale}"},
                )
            )
        elif column.type is ColumnType.INTEGER:
            expectations.append(
                _expectation(
                    "expect_column_values_to_match_regex",
                    "integer_format",
                    "a whole number",
                    column=name,
                    regex=r"^-?\d{1,9}$",
                )
            )
        elif column.type is ColumnType.BOOL:
            expectations.append(
                _expectation(
                    "expect_column_values_to_match_regex",
                    "boolean_format",
                    "true, false, 1 or 0",
                    column=name,
                    regex=r"^(?i:true|false|1|0)$",
                )
            )
        if column.pattern is not None:
            expectations.append(
                _expectation(
                    "expect_column_values_to_match_regex",
                    "pattern",
                    f"a value matching {column.pattern}",
                    column=name,
                    regex=column.pattern,
                )
            )
        if column.values:
            expectations.append(
                _expectation(
                    "expect_column_values_to_be_in_set",
                    "enum",
                    "one of " + ", ".join(column.values),
                    column=name,
                    value_set=list(column.values),
                )
            )
        if column.domain is not None:
            parameter, expected = DOMAIN_PARAMETERS[column.domain]
            expectations.append(
                _expectation(
                    "expect_column_values_to_be_in_set",
                    column.domain.value,
                    expected,
                    column=name,
                    value_set={"$PARAMETER": parameter},
                )
            )
    # unique within its drop: drops are validated many at a time, and entities may share keys
    expectations.append(
        _expectation(
            "expect_compound_columns_to_be_unique",
            "unique_key",
            "a key (" + ", ".join(extract.key) + ") that appears once in the file",
            column_list=[DROP_COLUMN, *extract.key],
        )
    )
    return expectations


def _content_expectations(extract: Extract) -> list[dict[str, Any]]:
    expectations = []
    for column in extract.columns:
        bounds: dict[str, Any] = {}
        words = []
        if column.exclusive_minimum is not None:
            bounds.update(min_value=float(column.exclusive_minimum), strict_min=True)
            words.append(f"greater than {column.exclusive_minimum}")
        elif column.minimum is not None:
            bounds.update(min_value=float(column.minimum))
            words.append(f"at least {column.minimum}")
        if column.maximum is not None:
            bounds.update(max_value=float(column.maximum))
            words.append(f"at most {column.maximum}")
        if bounds:
            expectations.append(
                _expectation(
                    "expect_column_values_to_be_between",
                    "range",
                    "a number " + " and ".join(words),
                    column=column.name,
                    **bounds,
                )
            )
        if column.plausible_maximum is not None:
            expectations.append(
                _expectation(
                    "expect_column_values_to_be_between",
                    "implausible_value",
                    f"a plausible {column.name}: at most {column.plausible_maximum}",
                    WARNING,
                    column=column.name,
                    max_value=float(column.plausible_maximum),
                )
            )
        if column.identifier:
            expectations.append(
                _expectation(
                    "expect_column_values_to_match_regex",
                    "registration_id_characters",
                    f"a {column.name} of letters and digits (spaces, dots and dashes are dropped)",
                    WARNING,
                    column=column.name,
                    regex=rf"^(?:[0-9A-Za-z]|{REGISTRATION_ID_SEPARATORS})*$",
                )
            )
        if column.zero_is_implausible:
            expectations.append(
                _expectation(
                    "expect_column_values_to_not_be_in_set",
                    "zero_amount",
                    f"a {column.name} other than zero",
                    WARNING,
                    column=column.name,
                    value_set=[0],
                )
            )
    for later, earlier in extract.date_order:
        expectations.append(
            _expectation(
                "expect_column_pair_values_a_to_be_greater_than_b",
                "date_order",
                f"{later} on or after {earlier}",
                WARNING,
                column_A=later,
                column_B=earlier,
                or_equal=True,
                ignore_row_if="either_value_is_missing",  # a missing date is the required rule's
            )
        )
    for column_name in extract.not_after_extract_date:
        expectations.append(
            _expectation(
                "expect_column_pair_values_a_to_be_greater_than_b",
                "after_extract_date",
                f"{column_name} on or before the drop's extract date",
                WARNING,
                column_A=EXTRACT_DATE_COLUMN,
                column_B=column_name,
                or_equal=True,
                ignore_row_if="either_value_is_missing",  # a missing date is the required rule's
            )
        )
    for column_name in extract.plausible_dates:
        within = f"{column_name} within {DATE_HORIZON_YEARS} years of the drop's extract date"
        # not before the earliest plausible date, not after the latest (each a column of the frame)
        for later, earlier in ((column_name, EARLIEST_DATE_COLUMN), (LATEST_DATE_COLUMN, column_name)):
            expectations.append(
                _expectation(
                    "expect_column_pair_values_a_to_be_greater_than_b",
                    "far_date",
                    within,
                    WARNING,
                    column_A=later,
                    column_B=earlier,
                    or_equal=True,
                    ignore_row_if="either_value_is_missing",
                )
            )
    for amount, currency in extract.converted_amounts:
        expectations.append(
            _expectation(
                "expect_column_values_to_not_be_in_set",
                "currency_without_rate",
                "a currency with a rate in the group's FX history (raw.fx_rates or tonight's "
                "fx_rates.csv): without one, no amount in it can be converted",
                column=currency,
                value_set={"$PARAMETER": UNRATED_CURRENCIES},
            )
        )
        expectations.append(
            _expectation(
                "expect_column_values_to_be_between",
                "amount_too_large",
                f"an amount worth at most {MAX_AMOUNT_EUR:,} EUR (the warehouse keeps every amount "
                "as decimal(18, 2) in EUR and in the entity's currency)",
                column=f"{EUR_PREFIX}{amount}",
                min_value=-float(MAX_AMOUNT_EUR),
                max_value=float(MAX_AMOUNT_EUR),
            )
        )
    for column_name in extract.document_match:
        expectations.append(
            _expectation(
                "expect_column_pair_values_to_be_equal",
                "settlement_matches_document",
                f"the {column_name} of the document the line settles (SPEC section 3)",
                column_A=column_name,
                column_B=f"{DOCUMENT_PREFIX}{column_name}",
                ignore_row_if="either_value_is_missing",
            )
        )
    for reference in extract.references:
        # the values of the file that resolve neither in the drop nor in the warehouse: usually
        # none. GX copies a value set many times per expectation, so listing the few that do not
        # resolve costs far less than listing the hundreds that do, for the same check.
        expectations.append(
            _expectation(
                "expect_column_values_to_not_be_in_set",
                "reference",
                f"a {reference.target_column} present in {reference.target}.csv of this drop "
                "or already in the warehouse for this entity",
                column=reference.column,
                value_set={"$PARAMETER": unresolved_parameter(reference.target, reference.target_column)},
            )
        )
    if extract.name == "risk_ratings":
        expectations.append(
            _expectation(
                "expect_column_values_to_be_in_set",
                "rating_grade",
                "a grade of the provider's scale in force at rated_at "
                "(dbt_project/seeds/rating_mappings.csv)",
                column=GRADE_COLUMN,
                value_set={"$PARAMETER": "known_rating_grades"},
            )
        )
    return expectations


def build_suite(extract: Extract, phase: str) -> dict[str, Any]:
    builder = _format_expectations if phase == FORMAT else _content_expectations
    return {
        "name": f"{extract.name}.{phase}",
        "expectations": builder(extract),
        "meta": {"generated_by": "receivables expectations", "extract": extract.name},
    }


def suite_path(folder: Path, extract: Extract, phase: str) -> Path:
    return Path(folder) / f"{extract.name}.{phase}.json"


def render(suite: dict[str, Any]) -> str:
    return json.dumps(suite, indent=2, ensure_ascii=False) + "\n"


def write_suites(folder: Path) -> list[Path]:
    written = []
    for extract in ALL_EXTRACTS:
        for phase in PHASES:
            path = suite_path(folder, extract, phase)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(build_suite(extract, phase)), encoding="utf-8")
            written.append(path)
    return written


def stale_suites(folder: Path) -> list[Path]:
    """Committed suite files that differ from what the contract gives."""
    stale = []
    for extract in ALL_EXTRACTS:
        for phase in PHASES:
            path = suite_path(folder, extract, phase)
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current != render(build_suite(extract, phase)):
                stale.append(path)
    return stale
