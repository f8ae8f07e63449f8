"""`receivables report`: the workbook and the PDF show the marts' figures, an entity's report holds no other entity."""

from __future__ import annotations

import re
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from conftest import FORMULA_NAMES, reader, receivables
from receivables.errors import ReceivablesError
from receivables.reports.changes import is_report_day
from receivables.reports.files import THIN_SPACE, fr_number, is_formula_like
from receivables.reports.model import INSOLVENCY_LABELS, SIGNAL_LABELS
from receivables.reports.schedule import load_recipients

AS_OF = date(2025, 12, 31)


@pytest.fixture(scope="module")
def warehouse(reported_group) -> Path:
    return reported_group


@pytest.fixture(scope="module")
def group_files(warehouse, tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("group-report")
    result = receivables(
        "report", "--warehouse", str(warehouse), "--as-of", AS_OF.isoformat(), "--out", str(out)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    xlsx, pdf = (Path(line) for line in result.stdout.split())
    return xlsx, pdf


@pytest.fixture(scope="module")
def entity_files(warehouse, tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("entity-report")
    result = receivables(
        "report",
        "--warehouse",
        str(warehouse),
        "--as-of",
        AS_OF.isoformat(),
        "--out",
        str(out),
        "--entity",
        "FR01",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    xlsx, pdf = (Path(line) for line in result.stdout.split())
    return xlsx, pdf


def sheet_rows(path: Path, title: str) -> list[dict]:
    from openpyxl import load_workbook

    sheet = load_workbook(path)[title]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def french_amount(text: str, label: str) -> Decimal:
    """The French-formatted number printed after ``label :`` in the PDF."""
    match = re.search(re.escape(label) + r" : (-?[\d" + THIN_SPACE + r" ]+,\d{2})", text)
    assert match, f"{label!r} not in the PDF"
    return Decimal(match.group(1).replace(THIN_SPACE, "").replace(" ", "").replace(",", "."))


@pytest.mark.dbt
def test_group_aged_balance_equals_mart_aging(warehouse, group_files):
    query = reader(warehouse)
    rows = sheet_rows(group_files[0], "Balance âgée")
    expected = dict(
        ((code, "Intragroupe" if intercompany else "Externe"), (local, eur))
        for code, intercompany, local, eur in query(
            "select entity_code, is_intercompany, sum(amount_entity_currency), sum(amount_eur) "
            "from marts.mart_aging where as_of_date = ? group by all",
            AS_OF,
        )
    )
    by_scope = {(row["Entité"], row["Périmètre"]): row for row in rows}
    assert set(by_scope) - {("GROUP", "Consolidé hors intragroupe")} == set(expected)
    for key, (local, eur) in expected.items():
        assert Decimal(str(by_scope[key]["Total"])) == local, key
        assert Decimal(str(by_scope[key]["Total EUR"])) == eur, key
    [(external,)] = query(
        "select sum(amount_eur) from marts.mart_aging where as_of_date = ? and not is_intercompany", AS_OF
    )
    group = by_scope[("GROUP", "Consolidé hors intragroupe")]
    assert Decimal(str(group["Total EUR"])) == external
    buckets = [header for header in rows[0] if header.endswith(" j") or header == "Non échu"]
    assert len(buckets) == 6
    assert sum(Decimal(str(group[b])) for b in buckets) == external
    [(currency,)] = query(
        "select any_value(functional_currency) from marts.mart_aging where entity_code = 'GB01'"
    )
    assert by_scope[("GB01", "Externe")]["Devise"] == currency == "GBP"


@pytest.mark.dbt
def test_group_sheets_equal_their_marts(warehouse, group_files):
    query = reader(warehouse)
    debtors = sheet_rows(group_files[0], "Principaux débiteurs")
    expected = query(
        "select rank, debtor_group_id, exposure_eur, insured_eur, worst_risk_class, insolvency_status "
        "from marts.mart_debtor_exposure where as_of_date = ? and rank <= 20 order by rank",
        AS_OF,
    )
    assert [
        (r["Rang"], r["Groupe débiteur"], Decimal(str(r["Exposition (EUR)"])), Decimal(str(r["Assuré (EUR)"])),
         r["Classe de risque (1 à 10)"], r["Procédure collective"])
        for r in debtors
    ] == [(*row[:5], INSOLVENCY_LABELS[row[5]]) for row in expected]  # fmt: skip
    signals = sheet_rows(group_files[0], "Signaux faibles")
    assert (
        len(signals)
        == query("select count(*) from marts.mart_weak_signals where as_of_date = ?", AS_OF)[0][0]
    )
    dso = sheet_rows(group_files[0], "DSO")
    expected_dso = query(
        "select month_end, entity_code, net_encours, dso_countback from marts.mart_dso where month_end <= ? "
        "order by month_end desc, entity_code = 'GROUP' desc, entity_code",
        AS_OF,
    )
    assert [
        (r["Fin de mois"].date(), r["Entité"], Decimal(str(r["Encours net"])), r["DSO (épuisement), j"])
        for r in dso
    ] == expected_dso
    freshness = sheet_rows(group_files[0], "Fraîcheur")
    assert [r["Entité"] for r in freshness] == ["DE01", "FR01", "GB01"]


@pytest.mark.dbt
def test_the_forecast_sheet_is_the_mart_s_forecast(warehouse, group_files, entity_files):
    """SPEC section 14 in the reports: the group's forecast in EUR, an entity's in its own currency."""
    query = reader(warehouse)
    for files, scope in ((group_files, "GROUP"), (entity_files, "FR01")):
        sheet = sheet_rows(files[0], "Prévision d'encaissements")
        expected = query(
            "select period_start, expected_entity_currency, expected_eur from marts.mart_cash_forecast "
            "where as_of_date = ? and entity_code = ? "
            "order by case period_kind when 'week' then 1 when 'month' then 2 else 3 end, period_start",
            AS_OF,
            scope,
        )
        assert [
            (
                r["Du"].date(),
                Decimal(str(r["Encaissements attendus (devise de l'entité)"])),
                Decimal(str(r["Encaissements attendus (EUR)"])),
            )
            for r in sheet
        ] == expected, scope
        assert [r["Période"] for r in sheet] == ["Semaine"] * 13 + ["Mois"] * 3 + ["Douteux (non prévu)"]


@pytest.mark.dbt
def test_workbook_is_formatted_for_french_readers(group_files):
    from openpyxl import load_workbook

    workbook = load_workbook(group_files[0])
    assert workbook.sheetnames == [
        "Synthèse", "Évolution", "Plus fortes hausses", "Nouveaux signaux", "Balance âgée",
        "Principaux débiteurs", "Signaux faibles", "DSO", "Prévision d'encaissements", "E-facture à traiter",
        "Fraîcheur", "Anomalies de données",
    ]  # fmt: skip
    for title in workbook.sheetnames[1:]:
        sheet = workbook[title]
        assert sheet.freeze_panes == "A2", title
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), title
    aging = workbook["Balance âgée"]
    assert aging.cell(2, 4).number_format == "#,##0.00"
    assert isinstance(aging.cell(2, 4).value, (int, float))  # a number, so it sums and filters
    dso = workbook["DSO"]
    assert dso.cell(2, 1).number_format == "dd/mm/yyyy"
    assert workbook["Principaux débiteurs"].cell(2, 6).number_format == "0.00%"


@pytest.mark.dbt
def test_pdf_prints_the_marts_totals(warehouse, group_files):
    query = reader(warehouse)
    text = pdf_text(group_files[1])
    [(external, overdue)] = query(
        "select sum(amount_eur), sum(amount_eur) filter (bucket_order > 1) from marts.mart_aging "
        "where as_of_date = ? and not is_intercompany",
        AS_OF,
    )
    assert french_amount(text, "Encours net externe EUR") == external
    assert french_amount(text, "Dont échu EUR") == overdue
    assert french_amount(text, "Total balance âgée externe EUR") == external
    [(countback,)] = query(
        "select dso_countback from marts.mart_dso where entity_code = 'GROUP' and month_end = ?", AS_OF
    )
    assert f"DSO par épuisement, j : {fr_number(countback)}" in text
    assert "Arrêté au 31/12/2025" in text
    for chart in ("DSO du groupe", "Balance âgée", "Concentration : 10 premiers groupes débiteurs"):
        assert chart in text
    # the forecast's page: each month and the doubtful, as mart_cash_forecast has them
    assert "Encaissements attendus du groupe par semaine" in text
    for start, end, expected in query(
        "select period_start, period_end, expected_eur from marts.mart_cash_forecast "
        "where as_of_date = ? and entity_code = 'GROUP' and period_kind <> 'week' order by period_start, period_kind",
        AS_OF,
    ):
        period = f"du {start.strftime('%d/%m/%Y')}" + (f" au {end.strftime('%d/%m/%Y')}" if end else "")
        assert f"{period} : {fr_number(expected)}" in text, period


@pytest.mark.dbt
def test_entity_report_holds_no_other_entity(warehouse, entity_files):
    from openpyxl import load_workbook

    query = reader(warehouse)
    others = [
        value
        for code, name in query(
            "select entity_code, entity_name from raw.entities where entity_code <> 'FR01'"
        )
        for value in (code, name)
    ]
    workbook = load_workbook(entity_files[0])
    cells = [
        str(value)
        for sheet in workbook
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value
    ]
    text = pdf_text(entity_files[1])
    for other in others:
        assert not any(other in cell for cell in cells), other
        assert other not in text, other
    assert "GROUP" not in cells
    debtors = sheet_rows(entity_files[0], "Principaux débiteurs")
    expected = query(
        "select consolidated_debtor_id, exposure_eur, insured_eur from marts.mart_entity_debtor_exposure "
        "where as_of_date = ? and entity_code = 'FR01' and exposure_eur > 0 "
        "order by exposure_eur desc, consolidated_debtor_id limit 20",
        AS_OF,
    )
    assert [
        (r["Débiteur consolidé"], Decimal(str(r["Exposition (EUR)"])), Decimal(str(r["Assuré (EUR)"])))
        for r in debtors
    ] == expected
    [(external,)] = query(
        "select sum(amount_eur) from marts.mart_aging where as_of_date = ? and entity_code = 'FR01' "
        "and not is_intercompany",
        AS_OF,
    )
    assert french_amount(text, "Encours net externe EUR") == external
    signals = sheet_rows(entity_files[0], "Signaux faibles")
    exposures = dict(
        query(
            "select debtor_group_id, sum(exposure_eur) from marts.mart_entity_debtor_exposure "
            "where as_of_date = ? and entity_code = 'FR01' group by all",
            AS_OF,
        )
    )
    assert signals, "the sample has signals on FR01's debtors"
    for signal in signals:
        assert Decimal(str(signal["Encours FR01 EUR"])) == exposures[signal["Groupe débiteur"]]


@pytest.mark.dbt
def test_text_that_looks_like_a_formula_is_neutralised(entity_files):
    from openpyxl import load_workbook

    sheet = load_workbook(entity_files[0])["Principaux débiteurs"]
    found = {}
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value in FORMULA_NAMES:
                found[cell.value] = cell
    assert set(found) == set(FORMULA_NAMES)
    for cell in found.values():
        assert cell.data_type == "s" and cell.quotePrefix, cell.value
    with pytest.raises(AssertionError):  # the check itself can fail: a formula cell is not text
        from openpyxl import Workbook

        formula = Workbook().active.cell(1, 1)
        formula.value = FORMULA_NAMES[0]
        assert formula.data_type == "s"
    assert all(is_formula_like(name) for name in FORMULA_NAMES) and not is_formula_like("Dupont SA")


@pytest.mark.dbt
def test_report_errors_name_what_is_wrong(warehouse, tmp_path):
    result = receivables(
        "report", "--warehouse", str(warehouse), "--as-of", "2024-06-30", "--out", str(tmp_path)
    )
    assert result.returncode == 2
    assert "no as-of date 2024-06-30 (latest built: 2025-12-31)" in result.stderr
    result = receivables(
        "report",
        "--warehouse",
        str(warehouse),
        "--as-of",
        "2025-12-31",
        "--out",
        str(tmp_path),
        "--entity",
        "XX01",
    )
    assert result.returncode == 2 and "unknown entity 'XX01'" in result.stderr
    result = receivables(
        "report",
        "--warehouse",
        str(tmp_path / "none.duckdb"),
        "--as-of",
        "2025-12-31",
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 2 and "no such warehouse file" in result.stderr
    assert not list(tmp_path.glob("*.xlsx"))


@pytest.mark.unit
def test_fr_number():
    assert fr_number(Decimal("1234567.891")) == f"1{THIN_SPACE}234{THIN_SPACE}567,89"
    assert fr_number(Decimal("-0.005")) == "-0,01"
    assert fr_number(73.714, 2) == "73,71"


@pytest.mark.unit
def test_report_days_are_sundays_and_month_ends():
    assert is_report_day(date(2026, 3, 1))  # a Sunday: the Monday mail
    assert is_report_day(date(2026, 2, 28))  # a month end (a Saturday)
    assert is_report_day(date(2024, 2, 29))
    assert not is_report_day(date(2026, 3, 2))
    assert not is_report_day(date(2026, 2, 27))


@pytest.mark.unit
def test_recipient_file_errors_name_file_and_key(tmp_path):
    path = tmp_path / "recipients.yml"
    path.write_text(
        "group: [daf@example.com]\nentities:\n  FR01: [c@example.com]\n  FR01X: [d@example.com]\n"
    )
    with pytest.raises(ReceivablesError, match=r"recipients.yml: entities: FR01X not in the registry"):
        load_recipients(path, ["FR01", "DE01"])
    path.write_text("group: [daf-at-example.com]\n")
    with pytest.raises(
        ReceivablesError, match=r"recipients.yml: group: 'daf-at-example.com' is not a mail address"
    ):
        load_recipients(path, ["FR01"])
    path.write_text("groups: [daf@example.com]\n")
    with pytest.raises(ReceivablesError, match=r"unknown key\(s\) groups"):
        load_recipients(path, ["FR01"])
    path.write_text("group: [daf@example.com]\nentities:\n  FR01: [c@example.com, e@example.com]\n")
    recipients = load_recipients(path, ["FR01", "DE01"])
    assert recipients.of("GROUP") == ("daf@example.com",)
    assert recipients.of("FR01") == ("c@example.com", "e@example.com")
    assert recipients.of("DE01") == ()


@pytest.mark.dbt
def test_data_issues_are_reported_beside_freshness(warehouse, tmp_path):
    """SPEC section 12: what the figures left out, and the odd rows they hold, in both files."""
    from openpyxl import load_workbook

    from receivables.reports.data import read_report
    from receivables.reports.files import write_pdf, write_workbook

    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    with duckdb.connect(str(copy)) as connection:
        connection.execute(
            "insert into marts.mart_data_issues (as_of_date, entity_code, kind, severity, detail, issue_key, "
            "file_name, row_number, items, amount, currency) values (?, 'FR01', 'date_order', 'warning', "
            "'invoices.csv row 7, due_date: expected due_date on or after issue_date', 'invoices.csv:7', "
            "'invoices.csv', 7, 1, 1200.50, 'EUR')",
            [AS_OF],
        )
    report = read_report(copy, AS_OF)
    assert ("Anomalies de données", 1, "count") in report.headline
    write_workbook(report, tmp_path / "report.xlsx")
    write_pdf(report, tmp_path / "report.pdf")
    sheet = load_workbook(tmp_path / "report.xlsx")["Anomalies de données"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert ["FR01", "avertissement (chargé)", "Échéance avant la date de facture"] in [
        row[:3] for row in values
    ]
    text = pdf_text(tmp_path / "report.pdf")
    assert "Anomalies de données : 1" in text  # on the first page, before freshness
    assert text.index("Anomalies de données : 1") < text.index("Fraîcheur des extraits")
    assert "FR01 : Échéance avant la date de facture" in text


@pytest.mark.dbt
def test_the_summary_compares_each_figure_with_the_marts_of_both_dates(warehouse, group_files, entity_files):
    """Évolution: each key figure at the as-of date, at the previous month end (built) and a year
    before (not built: n/d), each straight from the marts of that date."""
    query = reader(warehouse)
    previous = date(2025, 11, 30)
    for files, codes in ((group_files, ("DE01", "FR01", "GB01")), (entity_files, ("FR01",))):
        rows = {r["Indicateur"]: r for r in sheet_rows(files[0], "Évolution")}
        marks = ", ".join("?" for _ in codes)
        for day, column in ((AS_OF, "Au 31/12/2025"), (previous, "Fin de mois précédente (30/11/2025)")):
            [(external, overdue, intercompany)] = query(
                "select sum(amount_eur) filter (not is_intercompany), "
                "sum(amount_eur) filter (not is_intercompany and bucket_order > 1), "
                "sum(amount_eur) filter (is_intercompany) "
                f"from marts.mart_aging where as_of_date = ? and entity_code in ({marks})",
                day,
                *codes,
            )
            assert Decimal(str(rows["Encours net externe EUR"][column])) == external
            assert Decimal(str(rows["Dont échu EUR"][column])) == overdue
            assert Decimal(str(rows["Encours intragroupe EUR"][column])) == (intercompany or 0)
        change = rows["Encours net externe EUR"]
        assert Decimal(str(change["Variation sur le mois"])) == Decimal(
            str(change["Au 31/12/2025"])
        ) - Decimal(str(change["Fin de mois précédente (30/11/2025)"]))
        assert change["Même mois N-1 (31/12/2024)"] == "n/d" and change["Variation sur un an"] == "n/d"
        dso = rows["DSO par épuisement, j"]
        scope = "GROUP" if len(codes) > 1 else "FR01"
        [(now, before)] = query(
            "select max(dso_countback) filter (month_end = date '2025-12-31'), "
            "max(dso_countback) filter (month_end = date '2025-11-30') from marts.mart_dso where entity_code = ?",
            scope,
        )
        assert (dso["Au 31/12/2025"], dso["Fin de mois précédente (30/11/2025)"]) == (
            float(now),
            float(before),
        )
    text = pdf_text(group_files[1])
    assert "Chiffres clés" in text.split("\n", 40)[2] or "Chiffres clés" in text[:400]


@pytest.mark.dbt
def test_the_largest_rises_are_the_marts_largest_rises(warehouse, group_files, entity_files):
    query = reader(warehouse)
    for files, source, where in (
        (group_files, "mart_debtor_exposure", "true"),
        (entity_files, "mart_entity_debtor_exposure", "entity_code = 'FR01'"),
    ):
        rows = sheet_rows(files[0], "Plus fortes hausses")
        expected = query(
            "with at_date as (select as_of_date, debtor_group_id, sum(exposure_eur) as e, sum(overdue_eur) as o "
            f"  from marts.{source} where {where} group by all), "
            "now as (select * from at_date where as_of_date = date '2025-12-31'), "
            "before as (select * from at_date where as_of_date = date '2025-11-30') "
            "select coalesce(now.debtor_group_id, before.debtor_group_id) as g, "
            "coalesce(now.e, 0) - coalesce(before.e, 0) as de, coalesce(now.o, 0) - coalesce(before.o, 0) as dov "
            "from now full join before on now.debtor_group_id = before.debtor_group_id "
            "where greatest(de, dov) > 0 order by greatest(de, dov) desc, g limit 5"
        )
        assert len(expected) == 5
        assert [
            (
                r["Groupe débiteur"],
                Decimal(str(r["Variation de l'exposition (EUR)"])),
                Decimal(str(r["Variation de l'échu (EUR)"])),
            )
            for r in rows
        ] == expected


@pytest.mark.dbt
def test_new_signals_are_those_the_last_report_day_did_not_have(warehouse, group_files):
    query = reader(warehouse)
    rows = sheet_rows(group_files[0], "Nouveaux signaux")
    expected = query(
        "select debtor_group_id, signal from marts.mart_weak_signals as now where as_of_date = date '2025-12-31' "
        "and not exists (select 1 from marts.mart_weak_signals as before where before.as_of_date = date '2025-12-28' "
        "and before.debtor_group_id = now.debtor_group_id and before.signal = now.signal) order by all"
    )
    [(at_sunday,)] = query(
        "select count(*) from marts.mart_weak_signals where as_of_date = date '2025-12-28'"
    )
    assert at_sunday > 0  # the last report day is built: the comparison is with its signals
    labels = {code: label for code, label in SIGNAL_LABELS.items()}
    assert sorted((r["Groupe débiteur"], r["Signal"]) for r in rows) == sorted(
        (group, labels.get(signal, signal)) for group, signal in expected
    )


@pytest.mark.unit
def test_the_comparison_dates_follow_the_calendar():
    from receivables.reports.changes import last_report_day, previous_month_end, same_month_last_year

    assert previous_month_end(date(2025, 12, 31)) == date(2025, 11, 30)
    assert previous_month_end(date(2026, 3, 15)) == date(2026, 2, 28)
    assert same_month_last_year(date(2025, 12, 31)) == date(2024, 12, 31)
    assert same_month_last_year(date(2025, 2, 28)) == date(2024, 2, 29)
    assert last_report_day(date(2025, 12, 31)) == date(2025, 12, 28)  # the Sunday before
    assert last_report_day(date(2026, 1, 4)) == date(2025, 12, 31)  # a Sunday after a month end


@pytest.mark.dbt
def test_new_signals_fall_back_on_their_date_when_the_last_report_day_was_not_built(warehouse):
    """28/12/2025's last report day, 21/12, was not built: new means raised after it."""
    from receivables.reports.changes import NEW_SIGNALS
    from receivables.reports.data import read_report

    report = read_report(warehouse, date(2025, 12, 28))
    expected = reader(warehouse)(
        "select debtor_group_id, signal from marts.mart_weak_signals "
        "where as_of_date = date '2025-12-28' and signal_date > date '2025-12-21' order by all"
    )
    assert expected, "the sample has signals raised in its last week"
    rows = report.table(NEW_SIGNALS).rows
    assert sorted((row[1], row[3]) for row in rows) == sorted(
        (group, SIGNAL_LABELS.get(signal, signal)) for group, signal in expected
    )
