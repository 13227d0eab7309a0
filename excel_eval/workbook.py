"""Read the standard workbook into one DataFrame per sheet.

Headers are found in the first 10 rows, units (元/万元) come from the headers or a unit line, amounts become
exact fen, dates become dates, and every record keeps its Excel row number for messages. Totals rows
(合计/总计/小计) are set aside and checked against the rows they cover. Nothing outside this module knows
about Excel cells.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter

from . import money
from .problems import Problems, UsageError
from .schema import (AMOUNT, DATE, INPUT_SHEETS, INTEGER, NUMBER, TOTAL_MARKERS, Column, Sheet,
                     normalize_name, sheet_matches)

HEADER_SEARCH_ROWS = 10
ROW = "_row"  # the Excel row number of a record, kept as a column of every frame


@dataclass
class Table:
    """One sheet of the workbook, read: `frame` has a column per schema column (canonical names) plus `_row`."""

    schema: Sheet
    title: str  # the sheet's name as the user wrote it
    frame: pd.DataFrame
    letters: dict[str, str] = field(default_factory=dict)  # canonical column -> column letter
    units: dict[str, str] = field(default_factory=dict)  # amount column -> 元 / 万元

    def cell(self, column: str, row: int) -> str:
        """The cell reference of `column` in Excel row `row`, e.g. 'C14' (just the row when the column is absent)."""
        letter = self.letters.get(column)
        return f"{letter}{row}" if letter else f"第{row}行"


@dataclass
class WorkbookData:
    path: Path
    tables: dict[str, Table]  # by canonical sheet name; optional sheets may be absent

    def get(self, sheet: Sheet) -> Table | None:
        return self.tables.get(sheet.name)


def read_workbook(path: str | Path, problems: Problems) -> WorkbookData:
    """Read every input sheet of the workbook at `path`; bad cells become problems, never exceptions."""
    path = Path(path)
    book = open_workbook(path)
    tables: dict[str, Table] = {}
    for sheet in INPUT_SHEETS:
        title = next((t for t in book.sheetnames if sheet_matches(sheet, t)), None)
        if title is None:
            if sheet.required:
                problems.error(
                    "sheet-missing",
                    f"工作簿中没有“{sheet.name}”工作表（也可命名为 {sheet.alias}）。请按标准工作簿添加这张表，"
                    f"表头为：{'、'.join(c.name for c in sheet.required_columns)}。",
                    sheet=sheet.name,
                )
            continue
        table = read_sheet(book[title], sheet, problems)
        if table is not None:
            tables[sheet.name] = table
    book.close()
    return WorkbookData(path, tables)


def open_workbook(path: Path):
    """Open the workbook with cached values of formulas; usage errors (missing file, not a workbook) raise."""
    if not path.exists():
        raise UsageError(f"找不到文件：{path}。请检查文件名和所在文件夹。")
    if path.is_dir():
        raise UsageError(f"{path} 是一个文件夹，不是工作簿。请指定 .xlsx 文件。")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise UsageError(
            f"{path.name} 是旧版 Excel 97-2003 格式（.xls），无法直接读取。请在 Excel 或 WPS 中打开它，"
            "选择“文件 → 另存为”，保存类型选“Excel 工作簿（*.xlsx）”，再用新文件运行。"
        )
    if not zipfile.is_zipfile(path):
        raise UsageError(f"{path.name} 不是 Excel 工作簿（.xlsx/.xlsm）。请在 Excel 或 WPS 中另存为 .xlsx 后再运行。")
    try:
        return openpyxl.load_workbook(path, data_only=True, keep_vba=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged package
        raise UsageError(f"无法读取工作簿 {path.name}：{exc}。请在 Excel 或 WPS 中打开并另存为 .xlsx 后再运行。") from exc


def read_sheet(ws, sheet: Sheet, problems: Problems) -> Table | None:
    rows = list(ws.iter_rows(min_row=1, min_col=1, max_row=ws.max_row, max_col=ws.max_column, values_only=True))
    header_index, positions = _find_header(rows, sheet)
    missing = [c for c in sheet.required_columns if c.name not in positions]
    if missing:
        where = f"第{header_index + 1}行" if positions else f"前{HEADER_SEARCH_ROWS}行"
        for column in missing:
            problems.error(
                "column-missing",
                f"“{ws.title}”表{where}中没有找到必填列“{column.name}”（也可写作 {column.alias}）。"
                f"请在表头行加上这一列。",
                sheet=ws.title,
            )
        return None

    header = rows[header_index]
    default_unit = _unit_line(rows[:header_index], ws.title, problems) or "元"
    units: dict[str, str] = {}
    for column in sheet.columns:
        if column.kind == AMOUNT and column.name in positions:
            text = str(header[positions[column.name]])
            try:
                _, unit = money.unit_from_header(text)
            except money.ValueProblem as exc:
                problems.error("unit-unsupported", f"表头“{text}”：{exc}。",
                               sheet=ws.title, cell=f"{get_column_letter(positions[column.name] + 1)}{header_index + 1}",
                               value=text)
                unit = None
            units[column.name] = unit or default_unit
    letters = {name: get_column_letter(index + 1) for name, index in positions.items()}
    table = Table(sheet, ws.title, pd.DataFrame(), letters, units)

    records: list[dict] = []
    pending: list[dict] = []  # data rows since the last totals row, for checking the next one
    for offset, values in enumerate(rows[header_index + 1:]):
        excel_row = header_index + 2 + offset
        cells = {c.name: values[positions[c.name]] for c in sheet.columns if c.name in positions
                 and positions[c.name] < len(values)}
        if all(money.is_blank(v) for v in cells.values()):
            continue
        if _is_totals_row(values, positions, sheet):
            _check_totals(table, excel_row, cells, pending, problems)
            pending = []
            continue
        record = _convert_row(table, excel_row, cells, problems)
        records.append(record)
        pending.append(record)

    columns = [c.name for c in sheet.columns] + [ROW]
    # object columns keep ints (fen) exact and blanks as None; pandas would otherwise make floats and NaN
    table.frame = pd.DataFrame({c: pd.Series([r.get(c) for r in records], dtype=object) for c in columns})
    return table


def _find_header(rows: list[tuple], sheet: Sheet) -> tuple[int, dict[str, int]]:
    """The header row (0-based) and the position of each known column; the best partial match if none is complete."""
    best_index, best_positions = 0, {}
    for index, values in enumerate(rows[:HEADER_SEARCH_ROWS]):
        positions: dict[str, int] = {}
        for position, value in enumerate(values):
            if value is None:
                continue
            key = normalize_name(_header_name(value))
            for column in sheet.columns:
                if column.name not in positions and key in (normalize_name(column.name), normalize_name(column.alias)):
                    positions[column.name] = position
                    break
        if all(c.name in positions for c in sheet.required_columns):
            return index, positions
        if len(positions) > len(best_positions):
            best_index, best_positions = index, positions
    return best_index, best_positions


def _header_name(value: object) -> str:
    """A header's name without its unit: 批复数（万元） → 批复数."""
    try:
        return money.unit_from_header(str(value))[0]
    except money.ValueProblem:
        return str(value).split("（")[0].split("(")[0]


def _unit_line(rows: list[tuple], title: str, problems: Problems) -> str | None:
    for index, values in enumerate(rows):
        for position, value in enumerate(values):
            if isinstance(value, str):
                try:
                    unit = money.unit_from_line(value)
                except money.ValueProblem as exc:
                    problems.error("unit-unsupported", f"单位行“{value}”：{exc}。",
                                   sheet=title, cell=f"{get_column_letter(position + 1)}{index + 1}", value=value)
                    continue
                if unit:
                    return unit
    return None


def _is_totals_row(values: tuple, positions: dict[str, int], sheet: Sheet) -> bool:
    key_position = positions.get(sheet.columns[0].name)
    key = values[key_position] if key_position is not None and key_position < len(values) else None
    if money.is_blank(key):
        key = next((v for v in values if not money.is_blank(v)), None)
    return normalize_name(key) in TOTAL_MARKERS


def _check_totals(table: Table, excel_row: int, cells: dict, covered: list[dict], problems: Problems) -> None:
    for name, unit in table.units.items():
        value = cells.get(name)
        if money.is_blank(value):
            continue
        try:
            stated = money.parse_amount(value, unit)
        except money.ValueProblem:
            continue  # a totals row is not data; an unreadable total is only not checked
        computed = sum(r[name] for r in covered if isinstance(r.get(name), int))
        if stated != computed:
            problems.warning(
                "total-mismatch",
                f"合计行的“{name}”为 {money.fen_to_yuan(stated):,} 元，但它上方各行相加为 {money.fen_to_yuan(computed):,} 元。"
                "合计行不参与计算，请核对合计公式或明细。",
                sheet=table.title, cell=table.cell(name, excel_row), value=value,
            )


def _convert_row(table: Table, excel_row: int, cells: dict, problems: Problems) -> dict:
    record: dict = {ROW: excel_row}
    for column in table.schema.columns:
        if column.name not in cells:
            record[column.name] = None
            continue
        value = cells[column.name]
        where = {"sheet": table.title, "cell": table.cell(column.name, excel_row), "value": value}
        if money.is_blank(value):
            record[column.name] = None
            if column.required:
                problems.error("cell-missing", f"“{column.name}”不能为空，请填写。", **where)
            continue
        try:
            record[column.name] = _convert(value, column, table.units.get(column.name, "元"))
        except money.ValueProblem as exc:
            record[column.name] = None
            problems.error(f"{column.kind}-invalid", f"“{column.name}”{exc}", **where)
    return record


def _convert(value, column: Column, unit: str):
    if column.kind == AMOUNT:
        return money.parse_amount(value, unit)
    if column.kind == DATE:
        return money.parse_date(value)
    if column.kind == INTEGER:
        return _to_integer(value)
    if column.kind == NUMBER:
        return _to_number(value)
    return _to_text(value)


def _to_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a project number typed as 1 is "1", not "1.0"
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()[:10] if hasattr(value, "date") else value.isoformat()
    return str(value).strip()


def _to_number(value) -> Decimal:
    if isinstance(value, bool):
        raise money.ValueProblem(f"“{value}”不是数字，请填写阿拉伯数字")
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise money.ValueProblem(f"“{value}”不是数字，请填写阿拉伯数字") from None
    if not number.is_finite():
        raise money.ValueProblem(f"“{value}”不是数字，请填写阿拉伯数字")
    return number


def _to_integer(value) -> int:
    number = _to_number(value)
    if number != number.to_integral_value():
        raise money.ValueProblem(f"“{value}”不是整数，请填写如 2021 的整数")
    return int(number)
