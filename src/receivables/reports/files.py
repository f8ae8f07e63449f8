"""Write a report as an Excel workbook and a PDF summary with charts.

Both files show what ``report_data.read_report`` read from the marts and
nothing else. Amounts go into the workbook as exact decimals with a number
format, never as text, so a controller can sum and filter them; Excel shows
them with the reader's separators (``1 234 567,89`` in a French Excel). The
PDF writes numbers the French way itself.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from receivables.contract import CONTROL_CHARACTERS
from receivables.reports.changes import CHANGES, NEW_SIGNALS, RISERS
from receivables.reports.model import (
    BY_ROW,
    FORECAST,
    FRESHNESS_LABELS,
    LATE_LABELS,
    PERIOD_LABELS,
    RESTATED,
    Column,
    Report,
    Table,
)

EXCEL_FORMATS = {
    "amount": "#,##0.00",
    "days": "#,##0.00",
    "ratio": "0.00%",
    "count": "#,##0",
    "date": "dd/mm/yyyy",
}
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CONTROL = re.compile(CONTROL_CHARACTERS)
THIN_SPACE = "\u202f"  # French thousands separator
LISTED_ON_SUMMARY = 8  # data issues, new signals, entities not up to date, listed on the PDF's first page
NOT_AVAILABLE = "n/d"  # a figure at a date the warehouse has not built


def file_stem(report: Report) -> str:
    return f"receivables-{report.scope}-{report.as_of.isoformat()}"


def write_report(report: Report, out: Path) -> tuple[Path, Path]:
    """Write ``<stem>.xlsx`` and ``<stem>.pdf`` into ``out``, and ``<stem>.json``, the publish they read;
    returns the two reports' paths."""
    out.mkdir(parents=True, exist_ok=True)
    workbook = out / f"{file_stem(report)}.xlsx"
    summary = out / f"{file_stem(report)}.pdf"
    write_workbook(report, workbook)
    write_pdf(report, summary)
    # the record of what the report read (SPEC section 18): the publish of its as-of date
    (out / f"{file_stem(report)}.json").write_text(
        json.dumps(
            {
                "as_of_date": report.as_of.isoformat(),
                "scope": report.scope,
                "published_at": report.published_at.isoformat() if report.published_at else None,
                "files": [workbook.name, summary.name],
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return workbook, summary


# --- Excel -----------------------------------------------------------------


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def _put(sheet: Any, row: int, column: int, value: Any, kind: str) -> Any:
    cell = sheet.cell(row=row, column=column)
    if value is None:
        return cell
    if kind == "flag":
        cell.value = "Oui" if value else "Non"
    elif isinstance(value, str):
        value = CONTROL.sub(" ", value)  # a workbook cannot hold control characters (landed before issue 33)
        cell.value = value
        if is_formula_like(value):
            # Text that a spreadsheet would run as a formula: stored as a string, with
            # Excel's own "this is text" mark, so it shows as written and never runs.
            cell.data_type = "s"
            cell.quotePrefix = True
    else:
        cell.value = value
        if kind in EXCEL_FORMATS:
            cell.number_format = EXCEL_FORMATS[kind]
    return cell


def _write_table(workbook: Any, table: Table) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(table.title[:31])
    header_font, header_fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E79")
    for index, column in enumerate(table.columns, start=1):
        cell = _put(sheet, 1, index, column.header, "text")
        cell.font, cell.fill = header_font, header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row_number, row in enumerate(table.rows, start=2):
        for index, (column, value) in enumerate(zip(table.columns, row, strict=True), start=1):
            if value is None and column.kind == BY_ROW:
                value = NOT_AVAILABLE  # a compared date the warehouse has not built
            _put(sheet, row_number, index, value, table.kind(row_number - 2, index - 1))
    for index, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _width(column, table, index - 1)
    sheet.row_dimensions[1].height = 32
    sheet.freeze_panes = "A2"
    last = f"{get_column_letter(len(table.columns))}{max(len(table.rows) + 1, 2)}"
    sheet.auto_filter.ref = f"A1:{last}"


def _width(column: Column, table: Table, index: int) -> float:
    if column.kind in {"amount", "days", BY_ROW}:
        return 16 if column.kind != BY_ROW else 20
    if column.kind in {"date", "ratio", "count", "flag"}:
        return max(12, min(len(column.header), 24))
    longest = max((len(str(row[index])) for row in table.rows if row[index] is not None), default=8)
    return max(10, min(max(longest, len(column.header) // 2) + 2, 60))


def write_workbook(report: Report, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    summary = workbook.active
    summary.title = "Synthèse"
    summary.cell(row=1, column=1, value=f"Créances clients : {report.scope_name}").font = Font(
        bold=True, size=14
    )
    for offset, (label, value, kind) in enumerate(report.headline, start=3):
        _put(summary, offset, 1, label, "text")
        _put(summary, offset, 2, value, kind)
    row = len(report.headline) + 4
    for table in report.tables:
        if table.note:
            _put(summary, row, 1, f"{table.title} : {table.note}", "text")
            row += 1
    summary.column_dimensions["A"].width = 48
    summary.column_dimensions["B"].width = 22
    for table in report.tables:
        _write_table(workbook, table)
    workbook.properties.title = f"{report.scope} {report.as_of.isoformat()}"
    workbook.properties.creator = "receivables"
    workbook.save(path)


# --- PDF -------------------------------------------------------------------


def fr_number(value: Any, decimals: int = 2) -> str:
    """1234567.891 -> '1 234 567,89' (narrow no-break spaces), rounded half up."""
    if value is None:
        return "-"
    quantum = Decimal(1).scaleb(-decimals)
    rounded = Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{decimals}f}"
    return text.replace(",", THIN_SPACE).replace(".", ",")


def fr_value(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "amount":
        return fr_number(value)
    if kind == "days":
        return fr_number(value, 2)
    if kind == "ratio":
        return f"{fr_number(Decimal(str(value)) * 100, 2)} %"
    if kind == "count":
        return fr_number(value, 0)
    if kind == "date" and isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if kind == "flag":
        return "oui" if value else "non"
    return str(value)


A4 = (8.27, 11.69)


def write_pdf(report: Report, path: Path) -> None:
    import logging

    import matplotlib

    logging.getLogger("fontTools").setLevel(logging.WARNING)  # one INFO line per glyph subset otherwise
    matplotlib.rcParams.update({"pdf.fonttype": 42, "font.family": "DejaVu Sans", "font.size": 9})
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        for figure in report_pages(report):
            pdf.savefig(figure)
        info = pdf.infodict()
        info["Title"] = f"Créances clients {report.scope} au {report.as_of.strftime('%d/%m/%Y')}"
        info["Author"] = "receivables"


def report_pages(report: Report) -> list[Any]:
    """The PDF's pages as matplotlib figures: the executive summary, the DSO trend and aging, concentration."""
    pages = [_summary_page(report), _trend_and_aging_page(report), _concentration_page(report)]
    if report.table(FORECAST).rows:
        pages.append(_forecast_page(report))
    return pages


def _page() -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=A4)


def _signed(value: Any, kind: str) -> str:
    """A change with its sign (+1 234,56), "n/d" when a date compared is not built."""
    if value is None:
        return NOT_AVAILABLE
    text = fr_value(abs(value), kind)
    return f"+{text}" if value > 0 else (f"−{text}" if value < 0 else text)


def _summary_page(report: Report) -> Any:
    """The executive summary: key figures and their changes, the largest rises, new signals, then
    the night's data issues and freshness."""
    figure = _page()
    figure.text(0.06, 0.95, f"Créances clients : {report.scope_name}", fontsize=16, weight="bold")
    figure.text(0.06, 0.927, f"Arrêté au {report.as_of.strftime('%d/%m/%Y')}", fontsize=11)
    if report.published_at is not None:  # the publish it read (SPEC section 18, as reported)
        figure.text(
            0.93, 0.927, f"Publication du {report.published_at:%d/%m/%Y %H:%M}", ha="right", fontsize=8
        )
    step = 0.0175
    y = 0.895
    # the figures an earlier publish of this date gave otherwise, and by how much, first (in red)
    for label, difference, kind in (line for line in report.headline if line[0].startswith(RESTATED)):
        figure.text(0.06, y, f"{label} : {_signed(difference, kind)}", color="#C0392B", fontsize=8)
        y -= step
    changes = report.table(CHANGES)
    figure.text(0.06, y, "Chiffres clés", weight="bold")
    for x, header in ((0.60, "Valeur"), (0.76, "Sur le mois"), (0.93, "Sur un an")):
        figure.text(x, y, header, ha="right", weight="bold")
    dso_month = ""
    for index, row in enumerate(changes.rows):
        y -= step
        label, when, value, _, month, _, year = row
        kind = changes.kind(index, 2)
        figure.text(0.06, y, f"{label} :")
        figure.text(0.60, y, fr_value(value, kind) if value is not None else NOT_AVAILABLE, ha="right")
        figure.text(0.76, y, _signed(month, kind), ha="right")
        figure.text(0.93, y, _signed(year, kind), ha="right")
        dso_month = when or dso_month
    y -= step
    figure.text(0.06, y, changes.note + (f" DSO : {dso_month}." if dso_month else ""), fontsize=7)
    y -= step * 1.6
    risers = report.table(RISERS)
    figure.text(0.06, y, "Plus fortes hausses", weight="bold")
    figure.text(0.30, y, risers.note, fontsize=7)
    for row in risers.rows:
        y -= step
        group, name, exposure, exposure_change, overdue, overdue_change = row
        figure.text(0.06, y, str(name or group)[:38])
        figure.text(
            0.60, y, f"encours {fr_number(exposure, 0)} ({_signed(exposure_change, 'count')})", ha="right"
        )
        figure.text(0.93, y, f"échu {fr_number(overdue, 0)} ({_signed(overdue_change, 'count')})", ha="right")
    if not risers.rows:
        y -= step
        figure.text(0.06, y, "aucune hausse" if "absente" not in risers.note else NOT_AVAILABLE)
    y -= step * 1.6
    signals = report.table(NEW_SIGNALS)
    figure.text(0.06, y, f"Nouveaux signaux : {len(signals.rows)}", weight="bold")
    figure.text(0.30, y, signals.note, fontsize=7)
    for row in signals.rows[:LISTED_ON_SUMMARY]:
        y -= step
        figure.text(0.06, y, f"{fr_value(row[0], 'date')}  {str(row[2] or row[1])[:34]} : {row[3]}")
    y = _more_in_workbook(figure, y, len(signals.rows), NEW_SIGNALS, step)
    y -= step * 1.6
    # data issues, in red: figures the reader must read with them in mind (SPEC section 12)
    issues = report.table("Anomalies de données")
    if issues.rows:
        figure.text(0.06, y, f"Anomalies de données : {len(issues.rows)}", weight="bold", color="#C0392B")
        for row in issues.rows[:LISTED_ON_SUMMARY]:
            y -= step
            figure.text(0.06, y, f"{row[0]} : {row[2]}, {row[1]}, {row[4]} élément(s)", color="#C0392B")
        y = _more_in_workbook(figure, y, len(issues.rows), "Anomalies de données", step)
    else:
        figure.text(0.06, y, "Anomalies de données : aucune", weight="bold")
    y -= step * 1.6
    # freshness: the entities not up to date by name, the others counted (a group of 40 fills no page)
    freshness = report.table("Fraîcheur")
    late = [row for row in freshness.rows if row[1] in LATE_LABELS]
    in_group = [row for row in freshness.rows if row[1] != FRESHNESS_LABELS["retired"]]
    figure.text(
        0.06,
        y,
        f"Fraîcheur des extraits : {len(in_group) - len(late)} entité(s) à jour sur {len(in_group)}",
        weight="bold",
    )
    for row in late[:LISTED_ON_SUMMARY]:
        y -= step
        figure.text(0.06, y, f"{row[0]} : {row[1]}, dernier extrait valide {fr_value(row[2], 'date')}")
    _more_in_workbook(figure, y, len(late), "Fraîcheur", step)
    figure.text(
        0.06,
        0.03,
        "Source : entrepôt publié (marts). Le classeur Excel joint donne le détail ; "
        "intérêts et indemnités ne sont jamais comptabilisés.",
        fontsize=7,
    )
    return figure


def _more_in_workbook(figure: Any, y: float, count: int, sheet: str, step: float = 0.02) -> float:
    """A line saying the rest is in the workbook, when a list was cut; the next line's height."""
    if count > LISTED_ON_SUMMARY:
        y -= step
        figure.text(0.06, y, f"… {count - LISTED_ON_SUMMARY} de plus dans le classeur, feuille « {sheet} ».")
    return y


def _trend_and_aging_page(report: Report) -> Any:
    figure = _page()
    trend_axes = figure.add_axes((0.1, 0.56, 0.82, 0.36))
    months = [month.strftime("%m/%y") for month, *_ in report.dso_trend]
    ticks = list(range(len(months)))
    for position, label in ((1, "DSO (épuisement)"), (2, "DSO (ratio)"), (3, "BPDSO")):
        trend_axes.plot(ticks, [row[position] for row in report.dso_trend], marker="o", label=label)
    trend_axes.set_xticks(ticks, months)
    who = "du groupe" if report.is_group else f"de {report.scope}"
    trend_axes.set_title(f"DSO {who} par fin de mois, en jours (montants en {report.dso_currency})")
    trend_axes.legend(loc="best")
    trend_axes.grid(alpha=0.3)
    if report.dso_trend:
        countback = report.dso_trend[-1][1]
        trend_axes.annotate(
            fr_number(countback),
            (len(months) - 1, countback or 0),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
        )

    aging_axes = figure.add_axes((0.1, 0.08, 0.82, 0.36))
    amounts = [float(amount) / 1000 for amount in report.aging_eur]
    positions = list(range(len(amounts)))
    bars = aging_axes.bar(positions, amounts, color="#1F4E79")
    aging_axes.set_xticks(positions, report.bucket_headers)
    aging_axes.bar_label(
        bars, labels=[fr_number(amount / 1000, 0) for amount in report.aging_eur], fontsize=8
    )
    aging_axes.set_title("Balance âgée, encours externe en milliers d'EUR")
    aging_axes.yaxis.set_major_formatter(_french_ticks())
    aging_axes.grid(axis="y", alpha=0.3)
    total = sum(report.aging_eur, Decimal("0"))
    figure.text(0.1, 0.03, f"Total balance âgée externe EUR : {fr_number(total)}")
    return figure


def _forecast_page(report: Report) -> Any:
    """The cash-in forecast: 13 weeks stacked by source beside the naive baseline, then the months."""
    rows = report.table(FORECAST).rows
    weeks = [row for row in rows if row[0] == PERIOD_LABELS["week"]]
    figure = _page()
    axes = figure.add_axes((0.1, 0.5, 0.82, 0.4))
    positions = list(range(len(weeks)))
    bottom = [0.0] * len(weeks)
    for index, (label, colour) in enumerate(
        (("Promesses", "#70AD47"), ("Comportement de paiement", "#2E75B6"), ("Litiges", "#ED7D31"))
    ):
        values = [float(row[5 + index] or 0) / 1000 for row in weeks]
        axes.bar(positions, values, bottom=bottom, color=colour, label=label)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.plot(
        positions, [float(row[8] or 0) / 1000 for row in weeks], color="black", marker="o", label="Base naïve"
    )
    axes.set_xticks(positions, [row[1].strftime("%d/%m") for row in weeks], rotation=45)
    who = "du groupe" if report.is_group else f"de {report.scope}"
    axes.set_title(f"Encaissements attendus {who} par semaine, en milliers d'EUR")
    axes.yaxis.set_major_formatter(_french_ticks())
    axes.legend(loc="best")
    axes.grid(axis="y", alpha=0.3)
    y = 0.4
    figure.text(0.08, y, "Prévision d'encaissements par mois et douteux (EUR)", weight="bold")
    for label, start, end, _, expected_eur, *_ in rows:
        if label == PERIOD_LABELS["week"]:
            continue
        y -= 0.025
        period = f"du {start.strftime('%d/%m/%Y')}" + (f" au {end.strftime('%d/%m/%Y')}" if end else "")
        figure.text(0.1, y, f"{label} {period} : {fr_number(expected_eur)}")
    return figure


def _french_ticks() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _position: fr_number(value, 0))


def _concentration_page(report: Report) -> Any:
    figure = _page()
    axes = figure.add_axes((0.38, 0.45, 0.55, 0.45))
    labels = [label[:40] for label, _ in reversed(report.top_exposures)]
    values = [float(amount) / 1000 for _, amount in reversed(report.top_exposures)]
    positions = list(range(len(values)))
    bars = axes.barh(positions, values, color="#2E75B6")
    axes.set_yticks(positions, labels)
    axes.bar_label(bars, labels=[fr_number(v, 0) for v in values], fontsize=7)
    who = "groupes débiteurs" if report.is_group else f"débiteurs de {report.scope}"
    figure.text(
        0.08, 0.93, f"Concentration : 10 premiers {who}, en milliers d'EUR", fontsize=11, weight="bold"
    )
    axes.xaxis.set_major_formatter(_french_ticks())
    axes.grid(axis="x", alpha=0.3)
    signals = report.table("Signaux faibles")
    figure.text(0.08, 0.36, f"Signaux faibles : {len(signals.rows)}", weight="bold")
    counts: dict[str, int] = {}
    for row in signals.rows:
        counts[row[3]] = counts.get(row[3], 0) + 1
    y = 0.34
    for label, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        figure.text(0.1, y, f"{label} : {count}")
        y -= 0.02
    return figure
