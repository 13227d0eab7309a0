"""Cell values of one column into the contract's types, a whole column at a time.

A column's values go through one pass that takes the common case of its kind at once (text cells of a text
column, numbers of an amount column: a float amount is exact fen when it is within a millionth of a fen of a
whole one) and leaves every other cell to the per-cell rules of money.py, which explain what is wrong in
Chinese. The result is the same as converting cell by cell (tests
compare the readers' problems word for word on every habit and bad-input workbook).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .. import money
from ..schema import AMOUNT, DATE, INTEGER, TEXT, Column
from .cells import shown
from .numfmt import NumberFormat

EXCEL_ERROR = re.compile(r"#(?:REF!|VALUE!|DIV/0!|N/A|NAME\?|NULL!|NUM!|SPILL!|CALC!|GETTING_DATA)")
_FAST_FEN_LIMIT = 1e13  # fen; above it the per-cell rule checks the 1 万亿元 ceiling
EXCEL_CELL_CHARS = 32_767  # the most characters Excel keeps in a cell


@dataclass(frozen=True)
class Issue:
    """A cell that cannot be converted (or, with `error` False, one to point out): its index in the column,
    the problem's code and message."""

    index: int
    code: str
    message: str
    error: bool = True


@dataclass(frozen=True)
class Formats:
    """What the file says about a column's cells besides their values."""

    by_index: dict[int, NumberFormat] = field(default_factory=dict)  # cells whose format changes their meaning
    recorded: bool = True  # the file records number formats (.xlsx, .xls, .ods); an .xlsb's are not read
    date1904: bool = False  # date serial numbers count from 1904


PLAIN = Formats()


def convert_column(values: list, column: Column, unit: str = "元", formats: Formats = PLAIN
                   ) -> tuple[list, list[Issue]]:
    """The column's values converted (None for blank or unreadable cells) and the issues, in row order.
    A blank cell of a required column is an issue; `unit` is the amount unit of the column's header."""
    name = column.name
    if column.kind == AMOUNT:
        out, issues = _amounts(values, unit, name)
    elif column.kind == TEXT:
        out, issues = _texts(values, name, formats)
    elif column.kind == DATE:
        out, issues = _dates(values, name, formats.date1904)
    else:
        out, issues = _per_cell(values, column)
    if formats.by_index and column.kind != TEXT:
        issues = sorted(issues + _format_issues(values, column, unit, formats), key=lambda issue: issue.index)
    if column.required:
        unreadable = {issue.index for issue in issues if issue.error}
        missing = [Issue(i, "cell-missing", f"“{name}”是必填项，不能为空，请填写。")
                   for i, v in enumerate(out) if v is None and i not in unreadable]
        if missing:
            issues = sorted(issues + missing, key=lambda issue: issue.index)
    return out, issues


def _invalid(index: int, code: str, name: str, exc: Exception) -> Issue:
    return Issue(index, code, f"“{name}”：{str(exc).rstrip('。')}。")


def _excel_error(index: int, code: str, name: str, shown: str) -> Issue:
    return Issue(index, code, f"“{name}”显示 Excel 错误“{shown}”，说明公式有误，请修正公式或直接填写内容。")


def _blank(value) -> bool:
    return value is None or money.is_blank(value)


def _amounts(values: list, unit: str, name: str) -> tuple[list, list[Issue]]:
    factor = money.UNITS[unit] * 100
    out: list = [None] * len(values)
    for i, v in enumerate(values):
        if type(v) is float:
            x = v * factor
            if abs(x) < _FAST_FEN_LIMIT:  # not for NaN or infinity either
                whole = round(x)  # to even at a half, as numpy's rint
                if abs(x - whole) <= 1e-6:
                    out[i] = whole
    issues = []
    for i, v in enumerate(values):
        if out[i] is not None or _blank(v):
            continue
        if type(v) is int and abs(v) * factor < _FAST_FEN_LIMIT:
            out[i] = v * factor
            continue
        try:
            out[i] = money.parse_amount(v, unit)
        except money.ValueProblem as exc:
            issues.append(_invalid(i, "amount-invalid", name, exc))
    return out, issues


def _texts(values: list, name: str, formats: Formats) -> tuple[list, list[Issue]]:
    # one pass strips the texts (most cells); the cells that need more are found in a second, and done one by one
    out: list = [(v.strip() or None) if type(v) is str else v for v in values]
    issues = []
    by_index = formats.by_index
    for i in [i for i, t in enumerate(out)
              if t is not None and (type(t) is not str or t[0] == "#" or len(t) > EXCEL_CELL_CHARS)]:
        v = out[i]
        kind = type(v)
        if kind is float or kind is int:
            out[i] = shown(v, by_index.get(i), formats.recorded)
        elif kind is str:
            if v[0] == "#" and EXCEL_ERROR.fullmatch(v):
                issues.append(_excel_error(i, "text-invalid", name, v))
                out[i] = None
            elif len(v) > EXCEL_CELL_CHARS:
                issues.append(Issue(i, "text-too-long", (
                    f"“{name}”有 {len(v):,} 个字符，超过 Excel 单元格最多 {EXCEL_CELL_CHARS:,} 个字符的上限"
                    "（这个文件不是 Excel 保存的，或已损坏）。请把这段文字分成几行、每行一段填写。")))
                out[i] = None
        else:
            out[i] = None if _blank(v) else to_text(v)
    return out, issues


def _dates(values: list, name: str, date1904: bool) -> tuple[list, list[Issue]]:
    out: list = [None] * len(values)
    issues = []
    texts: dict[str, object] = {}  # the same date typed as text on many rows is parsed once
    for i, v in enumerate(values):
        kind = type(v)
        if kind is dt.date:
            out[i] = v
        elif kind is dt.datetime:
            out[i] = v.date()
        elif _blank(v):
            continue
        else:
            try:
                if kind is str:
                    found = texts.get(v)
                    if found is None:
                        found = texts[v] = _date_or_problem(v)
                    if isinstance(found, money.ValueProblem):
                        raise found
                    out[i] = found
                else:
                    out[i] = money.parse_date(v, date1904)
            except money.ValueProblem as exc:
                issues.append(_invalid(i, "date-invalid", name, exc))
    return out, issues


def _date_or_problem(text: str):
    try:
        return money.parse_date(text)
    except money.ValueProblem as exc:
        return exc


def _format_issues(values: list, column: Column, unit: str, formats: Formats) -> list[Issue]:
    """Numbers of an amount or number column whose format says they are something else: a percent, an amount
    in another unit, a scaled amount."""
    issues = []
    for i, fmt in formats.by_index.items():
        value = values[i]
        if type(value) not in (int, float) or not fmt.supported:
            continue
        text = fmt.show(value).strip()
        if fmt.percent:
            what = "金额" if column.kind == AMOUNT else "数字，如 10"
            issues.append(Issue(i, f"{column.kind}-format", (
                f"“{column.name}”显示为“{text}”（百分比格式），不是{what.split('，')[0]}。请填写{what}，"
                "并把单元格格式改为“常规”或“数值”。")))
        elif column.kind == AMOUNT and fmt.unit in money.UNITS and fmt.unit != unit:
            issues.append(Issue(i, "amount-format", (
                f"“{column.name}”显示为“{text}”，单位是{fmt.unit}，但表头的单位是{unit}。请把表头改为"
                f"“{column.name}（{fmt.unit}）”，或改正单元格格式，使二者一致。")))
        elif column.kind == AMOUNT and fmt.main and fmt.main.scale:
            issues.append(Issue(i, "amount-format", (
                f"“{column.name}”按千位缩放显示为“{text}”（格式 {fmt.code}），报告按单元格中存储的数值 "
                f"{value} {unit} 计算。请核对金额，或把单元格格式改为“数值”。"), error=False))
    return issues


def _per_cell(values: list, column: Column) -> tuple[list, list[Issue]]:
    convert = to_integer if column.kind == INTEGER else to_number
    out: list = [None] * len(values)
    issues = []
    for i, v in enumerate(values):
        if _blank(v):
            continue
        if isinstance(v, str) and EXCEL_ERROR.fullmatch(v.strip()):
            issues.append(_excel_error(i, f"{column.kind}-invalid", column.name, v.strip()))
            continue
        try:
            out[i] = convert(v)
        except money.ValueProblem as exc:
            issues.append(_invalid(i, f"{column.kind}-invalid", column.name, exc))
    return out, issues


def to_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a project number typed as 1 is "1", not "1.0"
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()[:10] if hasattr(value, "date") else value.isoformat()
    return str(value).strip()


def to_number(value, example: str = "10") -> Decimal:
    if isinstance(value, bool):
        raise money.ValueProblem(f"“{value}”不是数字，请填写阿拉伯数字，如 {example}")
    try:
        number = Decimal(unicodedata.normalize("NFKC", str(value)).strip().replace(",", ""))
    except InvalidOperation:
        raise money.ValueProblem(f"“{value}”不是数字，请填写阿拉伯数字，如 {example}") from None
    if not number.is_finite():
        raise money.ValueProblem(f"“{value}”不是数字，请填写阿拉伯数字，如 {example}")
    return number


def to_integer(value) -> int:
    number = to_number(value, "2021")
    if number != number.to_integral_value():
        raise money.ValueProblem(f"“{value}”不是整数，请填写如 2021 的整数")
    return int(number)

