"""Write the 汇总 sheet back into the workbook, changing nothing else in it.

The sheet's part is written into the .xlsx package directly (splice), the write is atomic (a temporary
file in the same folder, then a replace), and the workbook as it was is kept as a backup first.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable

from ..metrics import ProjectRecord, ratio
from ..schema import SUMMARY_ALIAS, SUMMARY_HEADERS, SUMMARY_NAME
from .spec import BarChart, Cell, ConditionalFormat, PageSetup, SheetSpec, Style
from .splice import replace_sheet

WAN = Decimal(1_000_000)  # fen in one 万元

NOTE = Style(font_color="808080")
HEADER = Style(bold=True, fill="DDEBF7", horizontal="center", wrap=True, border=True)
TEXT = Style(border=True)
MONEY = Style(number_format="#,##0.00", border=True)
RATE = Style(number_format="0.00%", border=True)
SCORE = Style(number_format="0.00", border=True)
LINK = Style(font_color="0563C1", underline=True, border=True)
TOTAL_FILL = "F2F2F2"
TOTAL_TEXT = Style(bold=True, fill=TOTAL_FILL, horizontal="center", border=True, top_border="double")
TOTAL_MONEY = Style(number_format="#,##0.00", bold=True, fill=TOTAL_FILL, border=True, top_border="double")
TOTAL_RATE = Style(number_format="0.00%", bold=True, fill=TOTAL_FILL, border=True, top_border="double")
TOTAL_BLANK = Style(fill=TOTAL_FILL, border=True, top_border="double")
LOW_EXECUTION = 0.9  # 执行率 below this is highlighted
LOW_EXECUTION_STYLE = Style(font_color="9C0006", fill="FFC7CE")  # Excel's "light red fill, dark red text"
BAR_COLOR = "5B9BD5"
LOW_BAR_COLOR = "C00000"
CHART_TITLE = "各项目执行率"
CHART_ROWS = 16  # rows the chart covers below the table (plus one per project)
HEADER_HEIGHT = 30  # points: two lines of the wrapped header
WIDTHS = {1: 20, 2: 36, 3: 24, 4: 14, 5: 14, 6: 10, 7: 14, 8: 10, 9: 14, 10: 10, 11: 8, 12: 48}


@dataclass
class SummaryWrite:
    target: Path  # where the summary went: the workbook itself, or a separate workbook when it was locked
    backup: Path | None
    in_workbook: bool


def summary_sheet(records: list[ProjectRecord], reports: dict[str, Path], workbook: Path,
                  generated_at: dt.datetime, scores: dict[str, tuple] | None = None) -> SheetSpec:
    """The 汇总 sheet: a note, the header row, one row per project, a 合计 row; numbers as numbers (the totals
    too, computed here rather than as formulas, so they need no recalculation). 执行率 below 90% is highlighted by
    conditional formatting, and a native bar chart of 执行率 by project sits below the table."""
    scores = scores or {}
    note = (f"本表由 excel-eval 于 {generated_at:%Y-%m-%d %H:%M} 根据本工作簿自动生成，每次运行都会整表替换，"
            "请不要在本表中填写或修改内容。金额单位：万元。")
    rows: list[list] = [[Cell(note, NOTE)], [Cell(h, HEADER) for h in SUMMARY_HEADERS]]
    for record in records:
        f = record.figures
        report = reports.get(record.project_id)
        score, grade = scores.get(record.project_id, (None, None))
        rows.append([
            Cell(record.project_id, TEXT),
            Cell(record.name, TEXT),
            Cell(record.unit_name, TEXT),
            Cell(Decimal(f.budget) / WAN, MONEY),
            Cell(Decimal(f.received) / WAN, MONEY),
            Cell(f.received_rate, RATE),
            Cell(Decimal(f.spent) / WAN, MONEY),
            Cell(f.execution_rate, RATE),
            Cell(Decimal(f.balance) / WAN, MONEY),
            Cell(score, SCORE),
            Cell(grade, TEXT),
            Cell(report.name, LINK, hyperlink=link_target(report, workbook)) if report else Cell(None, TEXT),
        ])
    last = get_letter(len(SUMMARY_HEADERS))
    spec = SheetSpec(name=SUMMARY_NAME, rows=rows, column_widths=WIDTHS, row_heights={2: HEADER_HEIGHT},
                     freeze="A3", merges=[f"A1:{last}1"], autofilter=f"A2:{last}{len(rows)}",
                     page_setup=PageSetup(landscape=True, fit_to_width=1))
    if not records:
        return spec

    first, end = 3, len(rows)  # the project rows
    budget = sum(r.figures.budget for r in records)
    received = sum(r.figures.received for r in records)
    spent = sum(r.figures.spent for r in records)
    balance = sum(r.figures.balance for r in records)
    rows.append([
        Cell("合计", TOTAL_TEXT), Cell(None, TOTAL_TEXT), Cell(None, TOTAL_TEXT),
        Cell(Decimal(budget) / WAN, TOTAL_MONEY),
        Cell(Decimal(received) / WAN, TOTAL_MONEY),
        Cell(ratio(received, budget), TOTAL_RATE),
        Cell(Decimal(spent) / WAN, TOTAL_MONEY),
        Cell(ratio(spent, budget), TOTAL_RATE),
        Cell(Decimal(balance) / WAN, TOTAL_MONEY),
        Cell(None, TOTAL_BLANK), Cell(None, TOTAL_BLANK), Cell(None, TOTAL_BLANK),
    ])
    spec.merges.append(f"A{len(rows)}:C{len(rows)}")

    rate_col = get_letter(SUMMARY_HEADERS.index("执行率") + 1)
    name_col = get_letter(SUMMARY_HEADERS.index("项目名称") + 1)
    spec.conditional_formats.append(ConditionalFormat(
        range=f"{rate_col}{first}:{rate_col}{end}", operator="lessThan", formula=str(LOW_EXECUTION),
        style=LOW_EXECUTION_STYLE))
    low = {i: LOW_BAR_COLOR for i, r in enumerate(records)
           if r.figures.execution_rate is not None and r.figures.execution_rate < Decimal(str(LOW_EXECUTION))}
    top = len(rows) + 2
    spec.charts.append(BarChart(
        title=CHART_TITLE, categories=f"{name_col}{first}:{name_col}{end}",
        values=f"{rate_col}{first}:{rate_col}{end}", anchor=f"B{top}:H{top + CHART_ROWS + len(records)}",
        series_name="执行率", number_format="0%", label_format="0.00%", color=BAR_COLOR, point_colors=low,
        axis_min=0))
    return spec


def get_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def link_target(report: Path, workbook: Path) -> str:
    """A link that still works when the workbook and the output folder move together: relative when possible."""
    try:
        return os.path.relpath(report.resolve(), workbook.resolve().parent).replace(os.sep, "/")
    except ValueError:  # another drive on Windows
        return report.resolve().as_uri()


def is_read_only(path: Path) -> bool:
    """The file is marked read-only (its owner write bit, Windows' read-only attribute) or cannot be written."""
    return not (path.stat().st_mode & stat.S_IWUSR) or not os.access(path, os.W_OK)


def write_summary(workbook: Path, build: Callable[[Path], SheetSpec], outdir: Path, stamp: str) -> SummaryWrite:
    """Replace the workbook's 汇总 atomically, after keeping a backup in `outdir`. When the workbook cannot be
    replaced (open in Excel, read-only), the summary goes into a copy of the workbook in `outdir` instead.
    `build(target)` makes the sheet for the workbook at `target` (its links are relative to it)."""
    backup_dir = outdir / "备份"
    backup_dir.mkdir(parents=True, exist_ok=True)
    backup = backup_dir / f"{workbook.stem}.{stamp}{workbook.suffix}"
    shutil.copy2(workbook, backup)

    temp: Path | None = None
    try:
        if is_read_only(workbook):
            raise PermissionError(workbook)
        fd, temp_name = tempfile.mkstemp(prefix=f".{workbook.stem}.", suffix=workbook.suffix, dir=workbook.parent)
        os.close(fd)
        temp = Path(temp_name)
        replace_sheet(workbook, temp, build(workbook), aliases=[SUMMARY_ALIAS])
        shutil.copymode(workbook, temp)
        os.replace(temp, workbook)
        return SummaryWrite(workbook, backup, True)
    except PermissionError:
        separate = outdir / f"{workbook.stem}_汇总{workbook.suffix}"
        replace_sheet(workbook, separate, build(separate), aliases=[SUMMARY_ALIAS])
        return SummaryWrite(separate, backup, False)
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
