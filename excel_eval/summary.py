"""Write the 汇总 sheet back into the workbook, changing nothing else in it.

The sheet's part is written into the .xlsx package directly (xlsx_package), the write is atomic (a temporary
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

from .metrics import ProjectRecord
from .schema import SUMMARY_ALIAS, SUMMARY_HEADERS, SUMMARY_NAME
from .xlsx_package import Cell, SheetSpec, Style, replace_sheet

WAN = Decimal(1_000_000)  # fen in one 万元

NOTE = Style(font_color="808080")
HEADER = Style(bold=True, fill="DDEBF7", horizontal="center", wrap=True, border=True)
TEXT = Style(border=True)
MONEY = Style(number_format="#,##0.00", border=True)
RATE = Style(number_format="0.00%", border=True)
SCORE = Style(number_format="0.00", border=True)
LINK = Style(font_color="0563C1", underline=True, border=True)
WIDTHS = {1: 20, 2: 36, 3: 24, 4: 14, 5: 14, 6: 10, 7: 14, 8: 10, 9: 14, 10: 10, 11: 8, 12: 48}


@dataclass
class SummaryWrite:
    target: Path  # where the summary went: the workbook itself, or a separate workbook when it was locked
    backup: Path | None
    in_workbook: bool


def summary_sheet(records: list[ProjectRecord], reports: dict[str, Path], workbook: Path,
                  generated_at: dt.datetime, scores: dict[str, tuple] | None = None) -> SheetSpec:
    """The 汇总 sheet: a note, the header row, one row per project; numbers as numbers."""
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
    return SheetSpec(name=SUMMARY_NAME, rows=rows, column_widths=WIDTHS, freeze="A3",
                     merges=[f"A1:{last}1"], autofilter=f"A2:{last}{len(rows)}")


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
