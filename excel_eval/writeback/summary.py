"""The 汇总 sheet: one row per project with its figures, a 合计 row, the low 执行率 highlighted, a native bar
chart, links to the reports, and a page setup that prints legibly (landscape A4, one page wide at 80% or
more, the header row on every page, the chart on a page of its own)."""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import re
import unicodedata
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Callable

from ..records import ProjectRecord, ratio
from ..schema import SUMMARY_HEADERS, SUMMARY_NAME
from .refs import col_letter
from .spec import BarChart, Cell, ConditionalFormat, Margins, PageSetup, SheetSpec, Style

WAN = Decimal(1_000_000)  # fen in one 万元

NOTE = Style(font_color="808080")
HEADER = Style(bold=True, fill="DDEBF7", horizontal="center", vertical="center", wrap=True, border=True)
TEXT = Style(border=True, vertical="center")
WRAPPED = Style(border=True, vertical="center", wrap=True)
MONEY = Style(number_format="#,##0.00", border=True, vertical="center")
RATE = Style(number_format="0.00%", border=True, vertical="center")
SCORE = Style(number_format="0.00", border=True, vertical="center")
LINK = Style(font_color="0563C1", underline=True, border=True, vertical="center")
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
CHART_ROWS = 16  # rows the chart covers below the table (plus one per project) …
CHART_MAX_ROWS = 28  # … but no more than a landscape page holds
HEADER_HEIGHT = 30  # points: two lines of the wrapped header
LINE_HEIGHT = 16  # points a wrapped line takes (11–12 pt text)
# Printing: landscape A4, one page wide, columns A–K (the 报告文件 links are for the screen). LibreOffice
# prints a column of width w about 7w pt wide; 784 pt fit between 0.4" margins, so 146 characters print at
# about 77%: 11 pt text at 8.4 pt. Excel and WPS print the same widths larger.
PRINTED_WIDTH = 146
FIXED_WIDTHS = {4: 11, 5: 11, 6: 8, 7: 11, 8: 8, 9: 11, 10: 8, 11: 5}  # 万元 amounts, rates, score, grade
REPORT_WIDTH = 30  # on screen the file name runs on into the empty columns to its right
ID_WIDTH = (10, 20)  # 项目编号: as wide as the longest, within these bounds (longer ones wrap)
TEXT_MIN_WIDTH = 12  # 项目名称, 单位名称: share what is left, wrapping
MARGINS = Margins(left=0.4, right=0.4, top=0.6, bottom=0.6, header=0.3, footer=0.3)
TITLE_ROWS = (2, 2)  # the header row, repeated at the top of every printed page
PRINTED_COLUMNS = 11  # A–K


def summary_sheet(records: list[ProjectRecord], reports: dict[str, Path], workbook: Path,
                  generated_at: dt.datetime, scores: dict[str, tuple] | None = None) -> SheetSpec:
    """The 汇总 sheet: a note, the header row, one row per project, a 合计 row; numbers as numbers (the totals
    too, computed here rather than as formulas, so they need no recalculation). 执行率 below 90% is highlighted by
    conditional formatting, and a native bar chart of 执行率 by project sits below the table, on its own page."""
    scores = scores or {}
    note = (f"本表由 excel-eval 于 {generated_at:%Y-%m-%d %H:%M} 根据本工作簿自动生成，每次运行都会整表替换，"
            "请不要在本表中填写或修改内容。金额单位：万元。")
    rows: list[list] = [[Cell(note, NOTE)], [Cell(h, HEADER) for h in SUMMARY_HEADERS]]
    link = _linker(workbook)
    rows += [_project_row(r, reports.get(r.project_id), link, scores.get(r.project_id, (None, None)))
             for r in records]
    last = col_letter(len(SUMMARY_HEADERS))
    widths = column_widths(records)
    spec = SheetSpec(name=SUMMARY_NAME, rows=rows, column_widths=widths,
                     row_heights={2: HEADER_HEIGHT, **row_heights(records, widths)},
                     freeze="A3", merges=[f"A1:{last}1"], autofilter=f"A2:{last}{len(rows)}",
                     page_setup=PageSetup(landscape=True, fit_to_width=1, margins=MARGINS, title_rows=TITLE_ROWS,
                                          center_horizontally=True))
    if records:
        rows.append(_totals_row(records))
        spec.merges.append(f"A{len(rows)}:C{len(rows)}")
        _add_highlight_and_chart(spec, records)
    bottom = spec.charts[-1].anchor.rsplit(":", 1)[-1][1:] if spec.charts else len(rows)
    spec.page_setup = replace(spec.page_setup, print_area=f"A1:{col_letter(PRINTED_COLUMNS)}{bottom}")
    return spec


def text_units(text: str) -> int:
    """Width in columns' character units: Chinese (wide) characters count two."""
    return _units(str(text or ""))


@functools.lru_cache(maxsize=4096)  # names and unit names are measured for the widths and again for the heights
def _units(text: str) -> int:
    return len(text) if text.isascii() else sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def lines(text: str, width: float) -> int:
    return max(1, math.ceil(text_units(text) / max(width - 1.5, 1)))


def column_widths(records: list[ProjectRecord]) -> dict[int, float]:
    """Widths that fit the content and, across the printed columns, PRINTED_WIDTH."""
    ids = [r.project_id for r in records] + ["项目编号"]
    id_width = min(max(max(text_units(i) for i in ids) + 2, ID_WIDTH[0]), ID_WIDTH[1])
    room = PRINTED_WIDTH - sum(FIXED_WIDTHS.values()) - id_width
    needs = [max([text_units(r.name) for r in records] + [8]) + 2,
             max([text_units(r.unit_name) for r in records] + [8]) + 2]
    name_width, unit_width = _share(room, needs)
    return {1: id_width, 2: name_width, 3: unit_width, **FIXED_WIDTHS, 12: REPORT_WIDTH}


def _share(room: int, needs: list[int]) -> list[int]:
    """Split `room` between columns, narrowest need first: each gets its need or a fair share of what is left."""
    widths = [0] * len(needs)
    order = sorted(range(len(needs)), key=needs.__getitem__)
    for k, i in enumerate(order):
        widths[i] = max(min(needs[i], room // (len(order) - k)), TEXT_MIN_WIDTH)
        room -= widths[i]
    return widths


def row_heights(records: list[ProjectRecord], widths: dict[int, float]) -> dict[int, float]:
    """Heights for project rows whose wrapped cells need more than one line (row 3 is the first project)."""
    heights = {}
    for row, r in enumerate(records, start=3):
        n = max(lines(r.project_id, widths[1]), lines(r.name, widths[2]), lines(r.unit_name, widths[3]))
        if n > 1:
            heights[row] = n * LINE_HEIGHT
    return heights


def _project_row(record: ProjectRecord, report: Path | None, link_to: Callable[[Path], str], score: tuple
                 ) -> list[Cell]:
    f = record.figures
    link = Cell(report.name, LINK, hyperlink=link_to(report)) if report else Cell(None, TEXT)
    return [
        Cell(record.project_id, WRAPPED),
        Cell(record.name, WRAPPED),
        Cell(record.unit_name, WRAPPED),
        Cell(Decimal(f.budget) / WAN, MONEY),
        Cell(Decimal(f.received) / WAN, MONEY),
        Cell(f.received_rate, RATE),
        Cell(Decimal(f.spent) / WAN, MONEY),
        Cell(f.execution_rate, RATE),
        Cell(Decimal(f.balance) / WAN, MONEY),
        Cell(score[0], SCORE),
        Cell(score[1], TEXT),
        link,
    ]


def _totals_row(records: list[ProjectRecord]) -> list[Cell]:
    budget = sum(r.figures.budget for r in records)
    received = sum(r.figures.received for r in records)
    spent = sum(r.figures.spent for r in records)
    balance = sum(r.figures.balance for r in records)
    return [
        Cell("合计", TOTAL_TEXT), Cell(None, TOTAL_TEXT), Cell(None, TOTAL_TEXT),
        Cell(Decimal(budget) / WAN, TOTAL_MONEY),
        Cell(Decimal(received) / WAN, TOTAL_MONEY),
        Cell(ratio(received, budget), TOTAL_RATE),
        Cell(Decimal(spent) / WAN, TOTAL_MONEY),
        Cell(ratio(spent, budget), TOTAL_RATE),
        Cell(Decimal(balance) / WAN, TOTAL_MONEY),
        Cell(None, TOTAL_BLANK), Cell(None, TOTAL_BLANK), Cell(None, TOTAL_BLANK),
    ]


def _add_highlight_and_chart(spec: SheetSpec, records: list[ProjectRecord]) -> None:
    """执行率 below 90% highlighted; the bar chart two rows below the totals, after a page break."""
    first, end = 3, 2 + len(records)  # the project rows
    rate_col = col_letter(SUMMARY_HEADERS.index("执行率") + 1)
    name_col = col_letter(SUMMARY_HEADERS.index("项目名称") + 1)
    spec.conditional_formats.append(ConditionalFormat(
        range=f"{rate_col}{first}:{rate_col}{end}", operator="lessThan", formula=str(LOW_EXECUTION),
        style=LOW_EXECUTION_STYLE))
    low = {i: LOW_BAR_COLOR for i, r in enumerate(records)
           if r.figures.execution_rate is not None and r.figures.execution_rate < Decimal(str(LOW_EXECUTION))}
    totals = len(spec.rows)
    top = totals + 2
    height = min(CHART_ROWS + len(records), CHART_MAX_ROWS)
    spec.charts.append(BarChart(
        title=CHART_TITLE, categories=f"{name_col}{first}:{name_col}{end}",
        values=f"{rate_col}{first}:{rate_col}{end}", anchor=f"B{top}:H{top + height}",
        series_name="执行率", number_format="0%", label_format="0.00%", color=BAR_COLOR, point_colors=low,
        axis_min=0))
    spec.page_setup = replace(spec.page_setup, breaks_after=(totals,))


# Characters a URI reference may hold as they are (RFC 3986 unreserved, sub-delims, '/', '@'); every other
# ASCII character is percent-encoded (':' too: in a relative reference it would read as a scheme). Characters
# beyond ASCII stay as they are (an IRI), as Excel writes them.
_URI_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=/@")


_URI_ESCAPED = re.compile("[\x00-\x7f]")  # the ASCII characters, among which those to percent-encode


def uri_reference(path: str) -> str:
    """A relative path ('out/P1 #2.docx') as a URI reference ('out/P1%20%232.docx')."""
    return _URI_ESCAPED.sub(lambda m: m.group() if m.group() in _URI_SAFE else f"%{ord(m.group()):02X}", path)


def link_target(report: Path, workbook: Path) -> str:
    """A link that still works when the workbook and the output folder move together: relative when possible."""
    return _relative_link(report.resolve(), workbook.resolve().parent)


def _relative_link(report: Path, folder: Path) -> str:
    relative = _relative_path(report, folder)
    return report.as_uri() if relative is None else uri_reference(relative)


def _relative_path(target: Path, folder: Path) -> str | None:
    """`target` relative to `folder`, with '/'; None on another drive (Windows)."""
    try:
        return os.path.relpath(target, folder).replace(os.sep, "/")
    except ValueError:
        return None


def _linker(workbook: Path) -> Callable[[Path], str]:
    """link_target for the reports of one run: the link to each report's folder made once, the report's name
    added to it (the reports are the files the run has just written, not links, with plain file names)."""
    base = workbook.resolve().parent
    folders: dict[Path, str | None] = {}  # a report folder -> the link to it ("" for the workbook's), or None

    def link(report: Path) -> str:
        if report.parent not in folders:
            relative = _relative_path(report.parent.resolve(), base)
            folders[report.parent] = None if relative is None else "" if relative == "." else uri_reference(relative) + "/"
        folder = folders[report.parent]
        return report.resolve().as_uri() if folder is None else folder + uri_reference(report.name)

    return link
