"""Targets and actual values of performance indicators, read from what the accountant wrote or Excel shows.

- A quantity: `≥7000件`, `>=95%`, `＜＝40万元`, `100%`, `7,126 件`, `95%以上` → (operator, exact number, unit).
  A number cell comes as a reading.cells.CellText: its exact number and the unit its number format adds
  (`93%` typed in Excel is 0.93 shown as 93%: the quantity is 93 %); nothing is guessed from a number's size.
- A deadline (时效): `≤12月底`, `12月底前`, `2021年10月底前`, `年底前`, `上半年`, `2021-12-31`, a date cell →
  the last day it allows. A target without a year is in the budget year. An actual without a year (`1月底`) is
  the latest such day that is not after the report date (the self-evaluation reports what has happened by
  then) and not before the budget year: written in May 2022, `1月底` is 31 January 2022, `11月底` is 30
  November 2021. Words that say the deadline was met (`按期完成`, `如期完成` …) meet it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

GE, LE, EQ, GT, LT = "≥", "≤", "=", ">", "<"
_SYMBOLS = {">=": GE, "≥": GE, "≧": GE, "<=": LE, "≤": LE, "≦": LE, "==": EQ, "=": EQ, ">": GT, "<": LT}
_WORDS = {"不低于": GE, "不少于": GE, "不小于": GE, "大于等于": GE, "不高于": LE, "不超过": LE, "不大于": LE,
          "小于等于": LE}
# A number, then a unit that holds no digit (a target such as "2021年12月底前" is not a quantity).
_QUANTITY = re.compile(r"(?P<op>>=|<=|==|[≥≧≤≦=><])?(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+)"
                       r"(?P<unit>\D*)")
_AT_LEAST_WORDS = ("及以上", "以上")  # "95%以上" is ≥ 95%
_AT_MOST_WORDS = ("及以下", "以下", "以内")
_APPROX_WORDS = ("左右",)
MONEY_UNITS = {"元": Decimal(1), "千元": Decimal(1000), "万元": Decimal(10000), "亿元": Decimal(100000000)}


@dataclass(frozen=True)
class Quantity:
    """A target or an actual value: `≥7000件` is (≥, 7000, 件)."""

    op: str | None  # ≥ ≤ = > <, None when none was written
    value: Decimal  # exact: 93.4 for a cell holding 0.934 shown as 93%
    unit: str  # as written after the number, or added by the cell's format; "" when none
    text: str  # the value and unit as shown, without the operator: "7000件", "93%"
    known: bool = True  # False: a number whose cell format could not be read, so its unit is unknown
    shown: Decimal | None = None  # the number as shown, when the cell's format rounds it (93 for 93.4)


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def parse_quantity(text: object) -> Quantity | None:
    """The quantity in `text`; None for a text without a number (a qualitative target such as 正常运行, or
    达成)."""
    if text is None:
        return None
    written = _parse_text(str(text))
    number = getattr(text, "number", None)
    if number is None:
        return written
    # a number cell: its exact value, with the operator and unit its shown text gives
    unit = getattr(text, "unit", "")
    if written is None:
        return Quantity(None, number, unit, str(text), known=getattr(text, "known", True))
    shown = written.value if written.value != number else None
    return Quantity(written.op, number, written.unit or unit, written.text, getattr(text, "known", True), shown)


def _parse_text(text: str) -> Quantity | None:
    folded = _fold(text)
    word_op = None
    for word, op in _WORDS.items():
        if folded.startswith(word):
            folded, word_op = folded[len(word):], op
            break
    match = _QUANTITY.fullmatch(folded)
    if match is None:
        return None
    op = _SYMBOLS.get(match["op"]) if match["op"] else word_op
    unit = match["unit"]
    for words, implied in ((_AT_LEAST_WORDS, GE), (_AT_MOST_WORDS, LE), (_APPROX_WORDS, None)):
        for word in words:
            if unit.endswith(word):
                unit = unit[: -len(word)]
                op = op or implied
    if unit[:1] in ("余", "多") and len(unit) > 1:  # "7000余件": about 7000 件
        unit = unit[1:]
    number = Decimal(match["num"].replace(",", ""))
    return Quantity(op, number, unit, plain(number) + unit)


class UnitMismatch(Exception):
    pass


def comparable(actual: Quantity, target: Quantity) -> tuple[Decimal, Decimal]:
    """The actual and target values in one unit: 万元 and 元 convert; a value with no unit is taken in the
    other's unit as it stands (never rescaled: 0.93 against 95% is 0.93%)."""
    a, t = actual.value, target.value
    if actual.unit == target.unit or not actual.unit or not target.unit:
        return a, t
    if actual.unit in MONEY_UNITS and target.unit in MONEY_UNITS:
        return a * MONEY_UNITS[actual.unit], t * MONEY_UNITS[target.unit]
    raise UnitMismatch(f"年度指标值的单位是“{target.unit}”，实际完成值的单位是“{actual.unit}”")


def plain(value: Decimal, digits: int | None = None) -> str:
    """A number as written in a table: no trailing zeros ("20", "18.57", "7.5")."""
    from decimal import ROUND_HALF_UP

    if digits is not None:
        value = value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# --------------------------------------------------------------------------------------------- deadlines

@dataclass(frozen=True)
class Deadline:
    """A day a 时效 target allows, or the day an actual was reached."""

    day: dt.date
    text: str  # as written
    year_inferred: bool = False  # an actual written without a year (see the module's rule)


ON_TIME = ("按期完成", "如期完成", "按时完成", "提前完成", "按计划完成", "按期", "如期", "按时", "提前")
_LEADING = re.compile(r"^(?:<=|≤|≦|=|==|<|不晚于|不迟于|于|在)")
_TRAILING = re.compile(r"(?:(?:之|以)?前|以内|内)?(?:完成|完工|实施完毕|结束|到位|支付完毕|验收)?(?:前)?$")
_YMD = re.compile(r"(?:(\d{4})[年./-])?(\d{1,2})[月./-](\d{1,2})[日号]?")
_YM = re.compile(r"(?:(\d{4})[年./-])?(\d{1,2})月?(?:底|末|份|月底)?")
_YEAR_END = re.compile(r"(\d{4}年)?(?:年底|年末|年内|年度内|全年|下半年|本年度?|当年)")
_HALF = re.compile(r"(\d{4}年)?上半年")
_QUARTER = re.compile(r"(\d{4}年)?第?([一二三四1-4])季度")
_QUARTERS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def parse_deadline(text: object, year: int, report_date: dt.date | None = None, *,
                   actual: bool = False) -> Deadline | None:
    """The day `text` stands for as a deadline (a target) or a completion (an actual); None when it is no day.
    `year` is the budget year; `report_date` places an actual written without a year (module docstring)."""
    if text is None:
        return None
    if isinstance(text, (dt.date, dt.datetime)):
        day = text.date() if isinstance(text, dt.datetime) else text
        return Deadline(day, day.isoformat())
    written = str(text)
    leading = _LEADING.sub("", _fold(written))
    found = _match_day(leading) or _match_day(_TRAILING.sub("", leading))
    if found is None:
        return None
    given_year, month, day = found
    if given_year is not None:
        return _deadline(given_year, month, day, written, False)
    if not actual or report_date is None:
        return _deadline(year, month, day, written, False)
    for candidate_year in range(max(report_date.year, year), year - 1, -1):
        candidate = _deadline(candidate_year, month, day, written, True)
        if candidate is not None and candidate.day <= report_date:
            return candidate
    return _deadline(year, month, day, written, True)


def _match_day(folded: str) -> tuple[int | None, int, int | None] | None:
    """(year or None, month, day or None for the month's end) of a folded text."""
    if not folded:
        return None
    match = _YEAR_END.fullmatch(folded)
    if match:
        return _year(match.group(1)), 12, 31
    match = _HALF.fullmatch(folded)
    if match:
        return _year(match.group(1)), 6, 30
    match = _QUARTER.fullmatch(folded)
    if match:
        return _year(match.group(1)), _QUARTERS[match.group(2)] * 3, None
    match = _YMD.fullmatch(folded)
    if match and (match.group(1) or "月" in folded):
        return (int(match.group(1)) if match.group(1) else None), int(match.group(2)), int(match.group(3))
    match = _YM.fullmatch(folded)
    if match and (match.group(1) or "月" in folded) and "个" not in folded:
        return (int(match.group(1)) if match.group(1) else None), int(match.group(2)), None
    match = re.fullmatch(r"(\d{4})年(?:底|末)?", folded)
    if match:
        return int(match.group(1)), 12, 31
    return None


def _year(text: str | None) -> int | None:
    return int(text[:4]) if text else None


def _deadline(year: int, month: int, day: int | None, text: str, inferred: bool) -> Deadline | None:
    if not (1 <= month <= 12 and 1900 <= year <= 2100):
        return None
    last = calendar.monthrange(year, month)[1]
    try:
        return Deadline(dt.date(year, month, day or last), text, inferred)
    except ValueError:
        return None


def met_on_time(text: object) -> bool:
    """The actual says the deadline was met without giving a day (按期完成, 如期完成 …)."""
    return text is not None and _fold(str(text)) in ON_TIME


def chinese_day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
