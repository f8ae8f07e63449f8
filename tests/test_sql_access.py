"""docs/sql-access.md: its example queries run as written and agree with the marts; the dbt docs open."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from conftest import REPO, REPORT_AS_OF, reader, receivables
from superset_support import CHROMIUM_FLAGS

PAGE = REPO / "docs" / "sql-access.md"


def example_blocks() -> list[str]:
    blocks = re.findall(r"```sql\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 6, "the page lost its examples"
    return blocks


@pytest.fixture(scope="module")
def answers(reported_group) -> list[tuple[list[str], list[tuple]]]:
    """Each example block's result, run in order in one read-only session, as the page says."""
    results = []
    with duckdb.connect(str(reported_group), read_only=True) as connection:
        for block in example_blocks():
            for statement in connection.extract_statements(block):
                relation = connection.sql(statement.query)
                if statement.type == duckdb.StatementType.SELECT and relation is not None:
                    results.append((relation.columns, relation.fetchall()))
        debtor = connection.execute("select getvariable('debtor'), getvariable('as_of')").fetchone()
    results.append((["debtor", "as_of"], [debtor]))
    return results


def rows_of(answers, first_column: str, *more: str) -> list[dict]:
    for columns, rows in answers:
        if columns[: 1 + len(more)] == [first_column, *more]:
            return [dict(zip(columns, row, strict=True)) for row in rows]
    raise AssertionError(f"no example answers with {first_column}, {more}")


@pytest.mark.dbt
def test_every_example_answers(answers):
    assert len(answers) == 7  # six examples and the session's variables
    assert all(rows for _, rows in answers)


@pytest.mark.dbt
def test_debtor_aged_balance_equals_its_exposure_and_documents(answers, reported_group):
    debtor, as_of = answers[-1][1][0]
    assert as_of == REPORT_AS_OF
    by_entity = rows_of(answers, "entity_code", "aging_bucket")
    by_bucket = rows_of(answers, "aging_bucket", "amount_eur")
    documents = rows_of(answers, "entity_code", "document_id", "document_type")
    [(exposure,)] = reader(reported_group)(
        "select sum(exposure_eur) from marts.mart_entity_debtor_exposure where as_of_date = ? "
        "and consolidated_debtor_id = ?",
        as_of,
        debtor,
    )
    assert sum(row["amount_eur"] for row in by_entity) == exposure
    assert sum(row["amount_eur"] for row in by_bucket) == exposure
    assert sum(row["open_amount_eur"] for row in documents) == exposure
    buckets = [row["aging_bucket"] for row in by_bucket]
    assert buckets[0] == "not_due" and len(buckets) == 6


@pytest.mark.dbt
def test_top_overdue_items_are_the_largest_overdue(answers, reported_group):
    items = rows_of(answers, "entity_code", "document_id", "consolidated_debtor_id")
    assert len(items) == 20
    amounts = [row["open_amount_eur"] for row in items]
    assert amounts == sorted(amounts, reverse=True) and all(row["days_past_due"] > 0 for row in items)
    [(largest,)] = reader(reported_group)(
        "select max(open_amount_eur) from marts.fct_open_items where as_of_date = ? and days_past_due > 0 "
        "and not is_intercompany and document_type = 'invoice'",
        REPORT_AS_OF,
    )
    assert amounts[0] == largest


@pytest.mark.dbt
def test_dso_trend_is_the_group_series(answers, reported_group):
    trend = rows_of(answers, "month_end", "net_encours")
    expected = reader(reported_group)(
        "select month_end, dso_countback from marts.mart_dso where entity_code = 'GROUP' order by month_end desc limit 13"
    )
    assert [(row["month_end"], row["dso_countback"]) for row in trend] == expected


@pytest.mark.dbt
def test_concentration_page_lists_the_top_ten(answers):
    top = rows_of(answers, "rank", "debtor_group_id")
    assert [row["rank"] for row in top] == list(range(1, 11))
    assert all(isinstance(row["exposure_eur"], Decimal) for row in top)


@pytest.mark.dbt
def test_the_documented_command_runs_the_page_read_only(reported_group, tmp_path):
    script = tmp_path / "examples.sql"
    script.write_text("\n".join(example_blocks()), encoding="utf-8")
    result = receivables("sql", "--warehouse", str(reported_group), "-f", str(script))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count(" rows)") + result.stdout.count(" row)") == 6
    refused = receivables("sql", "--warehouse", str(reported_group), "-c", "delete from marts.mart_aging")
    assert refused.returncode == 2 and "read-only mode" in refused.stderr
    csv_out = receivables(
        "sql", "--warehouse", str(reported_group), "--csv", "-c", "select 1 as one, 'a' as two"
    )
    assert csv_out.stdout == "one,two\n1,a\n"


@pytest.mark.browser
def test_dbt_docs_open_from_disk(reported_group, tmp_path):
    from playwright.sync_api import sync_playwright

    result = receivables(
        "build", "--warehouse", str(reported_group), "--as-of", REPORT_AS_OF.isoformat(), "--docs"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    page_file = Path(result.stdout.strip().splitlines()[-1].split(": ", 1)[1]).parent / "static_index.html"
    assert page_file.is_file()
    assert "mart_entity_debtor_exposure" in page_file.read_text(encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri() + "#!/model/model.receivables.mart_aging")
            page.get_by_text(
                "One row per as-of date, entity, consolidated debtor and aging bucket"
            ).first.wait_for(timeout=60_000)
        finally:
            browser.close()


HOSTILE = {
    "copy over the warehouse": "copy (select 'gone' as x) to '{warehouse}' (format csv)",
    "copy to another file": "copy (select 1 as x) to '{tmp}/out.csv' (format csv)",
    "read a secret": "select * from read_text('{env}')",
    "read any file": "select * from read_csv('/etc/passwd')",
    "attach another database": "attach '{tmp}/other.duckdb' as other",
    "install an extension": "install httpfs",
    "load an extension": "load httpfs",
    "turn external access back on": "set enable_external_access = true",
    "write": "create table marts.gone as select 1 as x",
}


@pytest.mark.dbt
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_the_sql_command_reaches_nothing_but_the_published_file(case, reported_group, tmp_path):
    """`receivables sql` is read-only for real: no file outside the warehouse, no extension, no write."""
    before = hashlib.sha256(reported_group.read_bytes()).hexdigest()
    secret = tmp_path / ".env"
    secret.write_text("SUPERSET_ADMIN_PASSWORD=not-for-you\n", encoding="utf-8")
    statement = HOSTILE[case].format(warehouse=reported_group, tmp=tmp_path, env=secret)
    result = receivables("sql", "--warehouse", str(reported_group), "-c", statement)
    assert result.returncode == 2, result.stdout
    assert "not-for-you" not in result.stdout + result.stderr
    assert hashlib.sha256(reported_group.read_bytes()).hexdigest() == before
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "other.duckdb").exists()


@pytest.mark.dbt
def test_csv_for_a_spreadsheet_marks_formula_like_text(reported_group):
    result = receivables(
        "sql", "--warehouse", str(reported_group), "--csv", "-c",
        "select '=HYPERLINK(\"http://example.invalid\",\"x\")' as link, "
        "'-2+3+cmd|'' /C calc''!A0' as command, -2 as amount, 'Dupont SA' as name",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows == [
        ["link", "command", "amount", "name"],
        ['\'=HYPERLINK("http://example.invalid","x")', "'-2+3+cmd|' /C calc'!A0", "-2", "Dupont SA"],
    ]
    assert "2 text value(s)" in result.stderr
