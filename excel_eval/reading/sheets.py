"""One sheet of the workbook read into a table: header found, units applied, totals rows set aside.

Headers are found in the first 10 rows, units (元/万元) come from the headers or a unit line, amounts become
exact fen, dates become dates, and every record keeps its Excel row number for messages. Totals rows
(合计/总计/小计/本月合计/累计) are set aside and checked against the rows they cover.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterable, Iterator, TypeVar

from .. import money
from ..problems import ERROR, WARNING, Problems
from ..schema import AMOUNT, DATE, INTEGER, ROW, TEXT, Column, Sheet, normalize_name
from .columns import Formats, Issue, convert_column
from .facts import CellFacts
from .raw import RawSheet, column_letter
from .styles import NO_STYLES, BookStyles

HEADER_SEARCH_ROWS = 10
T = TypeVar("T")


@dataclass
class Table:
    """One sheet of the workbook, read: `columns` holds a list of values per schema column (canonical names) plus
    `_row` (the Excel row of each), one value per data row in sheet order. Plain lists, not a DataFrame: a run
    never imports pandas (0.3 s of every start); `frame` gives the table as one for looking at it."""

    schema: Sheet
    title: str  # the sheet's name as the user wrote it
    columns: dict[str, list]
    letters: dict[str, str] = field(default_factory=dict)  # canonical column -> column letter
    units: dict[str, str] = field(default_factory=dict)  # amount column -> 元 / 万元
    _derived: dict = field(default_factory=dict, repr=False, compare=False, kw_only=True)

    @property
    def empty(self) -> bool:
        return not next(iter(self.columns.values()), [])

    @property
    def frame(self):
        """The table as a pandas DataFrame of objects (ints stay exact fen, blanks None), made anew on each use."""
        import pandas as pd

        return pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in self.columns.items()})

    def derived(self, key: str, make: Callable[[], T]) -> T:
        """`make()`, computed once and kept under `key` (after reading, when the columns no longer change)."""
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]

    def records(self) -> list[dict]:
        """The table's records (a dict per row, by column name), in sheet order; made once."""
        return self.derived("records", lambda: [dict(zip(self.columns, values)) for values in zip(*self.columns.values())])

    def records_by(self, column: str) -> dict[object, list[dict]]:
        """The table's records grouped by `column`, each group in sheet order; grouped once, on first use."""
        def group() -> dict[object, list[dict]]:
            groups: dict[object, list[dict]] = {}
            for record in self.records():
                groups.setdefault(record.get(column), []).append(record)
            return groups

        return self.derived(f"records by {column}", group)

    def cell(self, column: str, row: int) -> str:
        """The cell reference of `column` in Excel row `row`, e.g. 'C14' (just the row when the column is absent)."""
        letter = self.letters.get(column)
        return f"{letter}{row}" if letter else f"第{row}行"



_TOTALS = re.compile(r"^(?:(本页|本月|本季度?|全年|本年|总)?(合计|总计|小计|累计))[:：]?$")
# A totals row of one level covers the data rows since the last totals row of the same or a higher level.
_SUBTOTAL, _TOTAL, _GRAND_TOTAL, _CUMULATIVE = 1, 2, 3, 0
_FILLED_KINDS = (TEXT, DATE, INTEGER)  # vertically merged cells of these repeat; merged amounts are not copied


def read_sheet(ws: RawSheet, sheet: Sheet, problems: Problems, facts: CellFacts | None = None,
               styles: BookStyles = NO_STYLES) -> Table | None:
    """Read one sheet. `facts` holds what the values do not show (formulas with no cached value, the styles of
    cells whose format matters; see facts.cell_facts), `styles` the workbook's number formats."""
    facts = facts or CellFacts()
    stream = iter(ws.rows)
    rows = list(itertools.islice(stream, HEADER_SEARCH_ROWS))  # the header is in these
    header_index, positions, duplicates = _find_header(rows, sheet)
    missing = [c for c in sheet.required_columns if not _present(c, positions)]
    if missing:
        where = f"第{header_index + 1}行" if positions else f"前{HEADER_SEARCH_ROWS}行"
        for column in missing:
            problems.error(
                "column-missing",
                f"“{ws.title}”表{where}中没有找到必填列“{column.name}”（也可写作 {'、'.join(column.headers[1:])}"
                f"{_or_else(sheet, column)}）。"
                f"请在表头行加上这一列，表头须在前{HEADER_SEARCH_ROWS}行内、同一行中。",
                sheet=ws.title,
            )
        return None

    header = rows[header_index]
    for name, (first, again) in duplicates.items():
        problems.warning(
            "column-duplicate",
            f"表头中“{name}”出现了两次（{column_letter(first + 1)}{header_index + 1} 和 "
            f"{column_letter(again + 1)}{header_index + 1}），只读取了第一列。请删除或改名多余的一列。",
            sheet=ws.title, cell=f"{column_letter(again + 1)}{header_index + 1}", value=header[again],
        )
    default_unit = unit_line(rows[:header_index], ws.title, problems) or "元"
    units: dict[str, str] = {}
    for column in sheet.all_columns:
        if column.kind == AMOUNT and column.name in positions:
            text = str(header[positions[column.name]])
            try:
                _, unit = money.unit_from_header(text)
            except money.ValueProblem as exc:
                problems.error("unit-unsupported", f"表头“{text}”：{exc}。",
                               sheet=ws.title, cell=f"{column_letter(positions[column.name] + 1)}{header_index + 1}",
                               value=text)
                unit = None
            units[column.name] = unit or default_unit
    letters = {name: column_letter(index + 1) for name, index in positions.items()}
    table = Table(sheet, ws.title, {}, letters, units)
    filled = [positions[c.name] for c in sheet.all_columns if c.kind in _FILLED_KINDS and c.name in positions]
    data_rows = merged_filled(itertools.chain(rows[header_index + 1:], stream), ws.merged, header_index + 2, filled)

    table.columns = _DataPhase(table, positions, facts, styles, problems).run(data_rows, header_index + 2)
    return table


CHUNK_ROWS = 20_000  # rows converted at a time: whole columns for speed, bounded for memory


class _DataPhase:
    """The rows below the header into the table's columns: blank rows skipped, totals rows checked against the
    rows they cover, data rows converted a column at a time, problems reported in row order."""

    def __init__(self, table: Table, positions: dict[str, int], facts: CellFacts, styles: BookStyles,
                 problems: Problems):
        self.table, self.positions, self.problems = table, positions, problems
        self.uncached, self.formats, self.styles = facts.uncached, facts.formats, styles
        self.present = [(c, positions[c.name]) for c in table.schema.all_columns if c.name in positions]
        self.names = [c.name for c in table.schema.all_columns] + [ROW]
        self.columns: dict[str, list] = {name: [] for name in self.names}
        self.starts = dict.fromkeys((_SUBTOTAL, _TOTAL, _GRAND_TOTAL, _CUMULATIVE), 0)  # first data row covered

    def run(self, rows: Iterable[list], first_row: int) -> dict[str, list]:
        numbered = enumerate(rows, first_row)
        while True:
            chunk = list(itertools.islice(numbered, CHUNK_ROWS))
            if not chunk:
                break
            self._chunk(chunk)
        return self.columns

    def _chunk(self, chunk: list[tuple[int, list]]) -> None:
        data: list[tuple[int, list]] = []
        totals: list[tuple[int, int, list, int]] = []  # (excel row, level, values, data rows before it)
        key = self.positions.get(self.table.schema.columns[0].name)
        for excel_row, values in chunk:
            if key is not None and key < len(values):  # a 项目编号 that is a text without 计: a data row, as below
                first = values[key]
                if type(first) is str and "计" not in first and first.strip():
                    data.append((excel_row, values))
                    continue
            if self._blank(excel_row, values):
                continue
            level = _totals_level(values, self.positions, self.table.schema)
            if level is None:
                data.append((excel_row, values))
            else:
                totals.append((excel_row, level, values, len(self.columns[ROW]) + len(data)))
        found: list[tuple[int, int, str, str, str, object]] = []  # (row, order, severity, code, message, value)
        self._convert(data, found)
        for excel_row, level, values, before in totals:
            self._check_totals(excel_row, level, values, before, found)
        found.sort(key=lambda f: (f[0], f[1]))
        for excel_row, _, severity, code, message, cell, value in found:
            self.problems.add(code, severity, message, sheet=self.table.title, cell=cell, value=value)

    def _blank(self, excel_row: int, values: list) -> bool:
        for _, position in self.present:
            if position < len(values):
                value = values[position]
                if value is not None:
                    if type(value) is str:
                        if value.strip():
                            return False
                    elif not money.is_blank(value):
                        return False
                if self.uncached and (excel_row, position + 1) in self.uncached:
                    return False
        return True

    def _convert(self, data: list[tuple[int, list]], found: list) -> None:
        rows = [excel_row for excel_row, _ in data]
        converted = {name: [None] * len(data) for name in self.names}
        converted[ROW] = rows
        by_position = list(itertools.zip_longest(*(v for _, v in data)))  # the chunk's columns, short rows padded
        for order, (column, position) in enumerate(self.present):
            values = list(by_position[position]) if position < len(by_position) else [None] * len(data)
            formulas = self._formulas(rows, position)
            out, issues = convert_column(values, column, self.table.units.get(column.name, "元"),
                                         self._formats(rows, position))
            if formulas:
                issues = [i for i in issues if i.index not in formulas]
                for index in formulas:
                    out[index] = None
                    issues.append(Issue(index, "formula-no-value", no_value_message(column.name, formulas[index])))
            converted[column.name] = out
            for issue in issues:
                row = rows[issue.index]
                value = formulas.get(issue.index, values[issue.index])
                found.append((row, order, ERROR if issue.error else WARNING, issue.code, issue.message,
                              self.table.cell(column.name, row), value))
        for name in self.names:
            self.columns[name].extend(converted[name])

    def _formats(self, rows: list[int], position: int) -> Formats:
        formats, column = self.formats, position + 1
        by_index = {i: formats[(row, column)] for i, row in enumerate(rows) if (row, column) in formats} if formats else {}
        return Formats(by_index, self.styles.recorded, self.styles.date1904)

    def _formulas(self, rows: list[int], position: int) -> dict[int, str]:
        if not self.uncached:
            return {}
        return {i: self.uncached[(row, position + 1)] for i, row in enumerate(rows)
                if (row, position + 1) in self.uncached}

    def _check_totals(self, excel_row: int, level: int, values: list, before: int, found: list) -> None:
        table = self.table
        cells = {c.name: values[p] for c, p in self.present if p < len(values)}
        formulas = {name: self.uncached[(excel_row, self.positions[name] + 1)] for name in cells
                    if (excel_row, self.positions[name] + 1) in self.uncached} if self.uncached else {}
        order = -1  # within the row: the formula warnings first, then the totals that disagree
        for name, formula in formulas.items():
            found.append((excel_row, order, WARNING, "formula-no-value",
                          f"合计行的公式 {formula or '（共享公式）'} 没有保存计算结果，无法核对这个合计（合计行不参与计算，不影响报告）。"
                          "请在 Excel 或 WPS 中打开并保存一次工作簿，再重新运行。", table.cell(name, excel_row), formula))
        start = self.starts[level]
        rows = self.columns[ROW]
        for name, unit in table.units.items():
            value = cells.get(name)
            if name in formulas or money.is_blank(value):
                continue
            try:
                stated = money.parse_amount(value, unit)
            except money.ValueProblem:
                continue  # a totals row is not data; an unreadable total is only not checked
            computed = sum(v for v in self.columns[name][start:before] if isinstance(v, int))
            if stated != computed:
                span = f"第{rows[start]}–{rows[before - 1]}行" if before > start else "上方没有数据行"
                found.append((excel_row, order, WARNING, "total-mismatch",
                              f"合计行的“{name}”为 {show_amount(stated, unit)}，但它所合计的各行（{span}）相加为 {show_amount(computed, unit)}。"
                              "合计行不参与计算，报告按明细行计算；请核对合计公式或明细，使二者一致。",
                              table.cell(name, excel_row), value))
        for lower in range(1, level + 1):
            self.starts[lower] = before


def no_value_message(name: str, formula: str) -> str:
    return (f"“{name}”是公式 {formula or '（共享公式）'}，但工作簿中没有保存它的计算结果"
            "（由其他程序生成、未在 Excel 中保存过的文件常见此情况）。请在 Excel 或 WPS 中打开并保存一次工作簿，再重新运行。")


def merged_filled(rows: Iterable[list], merged: list[tuple[int, int, int, int]], first_row: int,
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
            key = normalize_name(header_name(value))
            for column in sheet.all_columns:
                if key in _header_keys(column):
                    if column.name in positions:
                        duplicates.setdefault(column.name, (positions[column.name], position))
                    else:
                        positions[column.name] = position
                    break
        if all(_present(c, positions) for c in sheet.required_columns):
            return index, positions, duplicates
        if len(positions) > len(best[1]):
            best = (index, positions, duplicates)
    return best


def _or_else(sheet: Sheet, column: Column) -> str:
    if not column.or_else:
        return ""
    split = "、".join(c.name for c in sheet.extra)
    return f"；或按自评表的格式分列填写 {split}"


def _present(column: Column, positions: dict[str, int]) -> bool:
    return column.name in positions or bool(column.or_else and column.or_else in positions)


@functools.lru_cache(maxsize=None)
def _header_keys(column: Column) -> tuple[str, ...]:
    return tuple(normalize_name(h) for h in column.headers)


def header_name(value: object) -> str:
    """A header's name without its unit: 批复数（万元） → 批复数."""
    try:
        return money.unit_from_header(str(value))[0]
    except money.ValueProblem:
        return str(value).split("（")[0].split("(")[0]


def unit_line(rows: list, title: str, problems: Problems) -> str | None:
    for index, values in enumerate(rows):
        for position, value in enumerate(values):
            if isinstance(value, str):
                try:
                    unit = money.unit_from_line(value)
                except money.ValueProblem as exc:
                    problems.error("unit-unsupported", f"单位行“{value}”：{exc}。",
                                   sheet=title, cell=f"{column_letter(position + 1)}{index + 1}", value=value)
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
    if not isinstance(key, str) or "计" not in key:
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


def show_amount(fen: int, unit: str) -> str:
    """An amount in fen shown in `unit`: 1234567 → '12,345.67 元' or '1.234567 万元'."""
    if unit == "万元":
        text = format(Decimal(fen).scaleb(-6).normalize(), "f")
        return f"{text} 万元"
    return f"{money.fen_to_yuan(fen):,} 元"
