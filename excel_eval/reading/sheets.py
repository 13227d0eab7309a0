"""One sheet of the workbook read into a table: header found, units applied, totals rows set aside.

Headers are found in the first 10 rows, units (元/万元) come from the headers or a unit line, amounts become
exact fen, dates become dates, and every record keeps its Excel row number for messages. Totals rows
(合计/总计/小计/本月合计/累计) are set aside and checked against the rows they cover.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Iterable, Iterator

import pandas as pd
from openpyxl.utils import get_column_letter

from .. import money
from ..problems import Problems
from ..schema import AMOUNT, DATE, INTEGER, NUMBER, TEXT, Column, Sheet, normalize_name
from .raw import RawSheet

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



_TOTALS = re.compile(r"^(?:(本页|本月|本季度?|全年|本年|总)?(合计|总计|小计|累计))[:：]?$")
# A totals row of one level covers the data rows since the last totals row of the same or a higher level.
_SUBTOTAL, _TOTAL, _GRAND_TOTAL, _CUMULATIVE = 1, 2, 3, 0
_EXCEL_ERROR = re.compile(r"#(?:REF!|VALUE!|DIV/0!|N/A|NAME\?|NULL!|NUM!|SPILL!|CALC!|GETTING_DATA)")
_FILLED_KINDS = (TEXT, DATE, INTEGER)  # vertically merged cells of these repeat; merged amounts are not copied


def read_sheet(ws: RawSheet, sheet: Sheet, problems: Problems,
               uncached: dict[tuple[int, int], str] | None = None) -> Table | None:
    """Read one sheet. `uncached` holds the sheet's formula cells with no cached value (see cell_facts)."""
    uncached = uncached or {}
    stream = iter(ws.rows)
    rows = list(itertools.islice(stream, HEADER_SEARCH_ROWS))  # the header is in these
    header_index, positions, duplicates = _find_header(rows, sheet)
    missing = [c for c in sheet.required_columns if c.name not in positions]
    if missing:
        where = f"第{header_index + 1}行" if positions else f"前{HEADER_SEARCH_ROWS}行"
        for column in missing:
            problems.error(
                "column-missing",
                f"“{ws.title}”表{where}中没有找到必填列“{column.name}”（也可写作 {column.alias}）。"
                f"请在表头行加上这一列，表头须在前{HEADER_SEARCH_ROWS}行内、同一行中。",
                sheet=ws.title,
            )
        return None

    header = rows[header_index]
    for name, (first, again) in duplicates.items():
        problems.warning(
            "column-duplicate",
            f"表头中“{name}”出现了两次（{get_column_letter(first + 1)}{header_index + 1} 和 "
            f"{get_column_letter(again + 1)}{header_index + 1}），只读取了第一列。请删除或改名多余的一列。",
            sheet=ws.title, cell=f"{get_column_letter(again + 1)}{header_index + 1}", value=header[again],
        )
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
    filled = [positions[c.name] for c in sheet.columns if c.kind in _FILLED_KINDS and c.name in positions]
    data_rows = _merged_filled(itertools.chain(rows[header_index + 1:], stream), ws.merged, header_index + 2, filled)

    names = [c.name for c in sheet.columns] + [ROW]
    columns: dict[str, list] = {name: [] for name in names}  # column-wise: no per-row objects are kept
    covered = {level: _Span() for level in (_SUBTOTAL, _TOTAL, _GRAND_TOTAL, _CUMULATIVE)}
    present = [(c.name, positions[c.name]) for c in sheet.columns if c.name in positions]
    for excel_row, values in enumerate(data_rows, header_index + 2):
        cells = {name: values[position] for name, position in present if position < len(values)}
        formulas = {name: uncached[(excel_row, positions[name] + 1)] for name in cells
                    if (excel_row, positions[name] + 1) in uncached} if uncached else {}
        if not formulas and all(v is None or money.is_blank(v) for v in cells.values()):
            continue
        level = _totals_level(values, positions, sheet)
        if level is not None:
            for name, formula in formulas.items():
                problems.warning(
                    "formula-no-value",
                    f"合计行的公式 {formula or '（共享公式）'} 没有保存计算结果，无法核对这个合计（合计行不参与计算，不影响报告）。"
                    "请在 Excel 或 WPS 中打开并保存一次工作簿，再重新运行。",
                    sheet=table.title, cell=table.cell(name, excel_row), value=formula,
                )
            _check_totals(table, excel_row, {k: v for k, v in cells.items() if k not in formulas},
                          covered[level], problems)
            for lower in range(1, level + 1):
                covered[lower] = _Span()
            continue
        record = _convert_row(table, excel_row, cells, problems, formulas)
        for name in names:
            columns[name].append(record.get(name))
        for span in covered.values():
            span.add(record, table.units)

    # object columns keep ints (fen) exact and blanks as None; pandas would otherwise make floats and NaN
    table.frame = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in columns.items()})
    return table


class _Span:
    """The data rows a totals row covers: their amount sums and first and last row numbers."""

    def __init__(self):
        self.sums: dict[str, int] = {}
        self.first: int | None = None
        self.last: int | None = None

    def add(self, record: dict, units: dict[str, str]) -> None:
        if self.first is None:
            self.first = record[ROW]
        self.last = record[ROW]
        for name in units:
            value = record.get(name)
            if isinstance(value, int):
                self.sums[name] = self.sums.get(name, 0) + value


def _merged_filled(rows: Iterable[list], merged: list[tuple[int, int, int, int]], first_row: int,
                   positions: list[int]) -> Iterator[list]:
    """A cell merged down over several data rows (项目编号 merged across a project's rows) reads, on every
    row, as the value its top cell shows. Only the listed column positions are filled: a merged amount is
    stated once and must not be counted on every row. `first_row` is the Excel row of the first data row."""
    spans = {}  # (top row, column position) -> bottom row
    for min_col, min_row, _, max_row in merged:
        if max_row > min_row and min_col - 1 in positions and min_row >= first_row:
            spans[(min_row, min_col - 1)] = max_row
    if not spans:
        yield from rows
        return
    active: dict[int, tuple[object, int]] = {}  # column position -> (top value, bottom row)
    for number, row in enumerate(rows, first_row):
        for (top, position), bottom in spans.items():
            if top == number and position < len(row):
                active[position] = (row[position], bottom)
        for position, (value, bottom) in list(active.items()):
            if number > bottom:
                del active[position]
            elif position < len(row) and row[position] is None:
                row[position] = value
        yield row


def _find_header(rows: list, sheet: Sheet) -> tuple[int, dict[str, int], dict[str, tuple[int, int]]]:
    """The header row (0-based), the position of each known column, and columns found twice in that row;
    the best partial match if no row is complete."""
    best = (0, {}, {})
    for index, values in enumerate(rows[:HEADER_SEARCH_ROWS]):
        positions: dict[str, int] = {}
        duplicates: dict[str, tuple[int, int]] = {}
        for position, value in enumerate(values):
            if value is None:
                continue
            key = normalize_name(_header_name(value))
            for column in sheet.columns:
                if key in (normalize_name(column.name), normalize_name(column.alias)):
                    if column.name in positions:
                        duplicates.setdefault(column.name, (positions[column.name], position))
                    else:
                        positions[column.name] = position
                    break
        if all(c.name in positions for c in sheet.required_columns):
            return index, positions, duplicates
        if len(positions) > len(best[1]):
            best = (index, positions, duplicates)
    return best


def _header_name(value: object) -> str:
    """A header's name without its unit: 批复数（万元） → 批复数."""
    try:
        return money.unit_from_header(str(value))[0]
    except money.ValueProblem:
        return str(value).split("（")[0].split("(")[0]


def _unit_line(rows: list, title: str, problems: Problems) -> str | None:
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


def _totals_level(values: list, positions: dict[str, int], sheet: Sheet) -> int | None:
    """The level of a totals row (小计 < 合计 < 总计; 累计 is cumulative), None for a data row. The key is the
    项目编号 cell, or the first non-empty cell of the row when 项目编号 is blank."""
    key_position = positions.get(sheet.columns[0].name)
    key = values[key_position] if key_position is not None and key_position < len(values) else None
    if money.is_blank(key):
        key = next((v for v in values if not money.is_blank(v)), None)
    if not isinstance(key, str):
        return None
    match = _TOTALS.match(normalize_name(key))
    if not match:
        return None
    prefix, word = match.groups()
    if word == "累计":
        return _CUMULATIVE
    if word == "小计" or prefix in ("本页", "本月", "本季", "本季度"):
        return _SUBTOTAL
    if word == "总计" or prefix == "总":
        return _GRAND_TOTAL
    return _TOTAL


def _check_totals(table: Table, excel_row: int, cells: dict, covered: "_Span", problems: Problems) -> None:
    for name, unit in table.units.items():
        value = cells.get(name)
        if money.is_blank(value):
            continue
        try:
            stated = money.parse_amount(value, unit)
        except money.ValueProblem:
            continue  # a totals row is not data; an unreadable total is only not checked
        computed = covered.sums.get(name, 0)
        if stated != computed:
            span = f"第{covered.first}–{covered.last}行" if covered.first is not None else "上方没有数据行"
            problems.warning(
                "total-mismatch",
                f"合计行的“{name}”为 {_show(stated, unit)}，但它所合计的各行（{span}）相加为 {_show(computed, unit)}。"
                "合计行不参与计算，报告按明细行计算；请核对合计公式或明细，使二者一致。",
                sheet=table.title, cell=table.cell(name, excel_row), value=value,
            )


def _show(fen: int, unit: str) -> str:
    """An amount in fen shown in `unit`: 1234567 → '12,345.67 元' or '1.234567 万元'."""
    if unit == "万元":
        text = format(Decimal(fen).scaleb(-6).normalize(), "f")
        return f"{text} 万元"
    return f"{money.fen_to_yuan(fen):,} 元"


def _convert_row(table: Table, excel_row: int, cells: dict, problems: Problems,
                 formulas: dict[str, str] | None = None) -> dict:
    record: dict = {ROW: excel_row}
    for column in table.schema.columns:
        value = cells.get(column.name)
        if value is None and column.name not in cells:
            record[column.name] = None
            continue
        if formulas and column.name in formulas:
            record[column.name] = None
            formula = formulas[column.name]
            problems.error(
                "formula-no-value",
                f"“{column.name}”是公式 {formula or '（共享公式）'}，但工作簿中没有保存它的计算结果"
                "（由其他程序生成、未在 Excel 中保存过的文件常见此情况）。请在 Excel 或 WPS 中打开并保存一次工作簿，再重新运行。",
                **_where(table, column, excel_row, formula),
            )
            continue
        if value is None or money.is_blank(value):
            record[column.name] = None
            if column.required:
                problems.error("cell-missing", f"“{column.name}”是必填项，不能为空，请填写。",
                               **_where(table, column, excel_row, value))
            continue
        if isinstance(value, str) and column.kind in (TEXT, INTEGER, NUMBER) and _EXCEL_ERROR.fullmatch(value.strip()):
            record[column.name] = None
            problems.error(
                f"{column.kind}-invalid",
                f"“{column.name}”显示 Excel 错误“{value.strip()}”，说明公式有误，请修正公式或直接填写内容。",
                **_where(table, column, excel_row, value))
            continue
        try:
            record[column.name] = _convert(value, column, table.units.get(column.name, "元"))
        except money.ValueProblem as exc:
            record[column.name] = None
            message = str(exc).rstrip("。")
            problems.error(f"{column.kind}-invalid", f"“{column.name}”：{message}。",
                           **_where(table, column, excel_row, value))
    return record


def _where(table: Table, column: Column, excel_row: int, value) -> dict:
    return {"sheet": table.title, "cell": table.cell(column.name, excel_row), "value": value}


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


def _to_number(value, example: str = "10") -> Decimal:
    if isinstance(value, bool):
        raise money.ValueProblem(f"“{value}”不是数字，请填写阿拉伯数字，如 {example}")
    try:
        number = Decimal(unicodedata.normalize("NFKC", str(value)).strip().replace(",", ""))
    except InvalidOperation:
        raise money.ValueProblem(f"“{value}”不是数字，请填写阿拉伯数字，如 {example}") from None
    if not number.is_finite():
        raise money.ValueProblem(f"“{value}”不是数字，请填写阿拉伯数字，如 {example}")
    return number


def _to_integer(value) -> int:
    number = _to_number(value, "2021")
    if number != number.to_integral_value():
        raise money.ValueProblem(f"“{value}”不是整数，请填写如 2021 的整数")
    return int(number)
