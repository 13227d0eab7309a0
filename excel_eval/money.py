"""Exact money amounts (integer fen) and dates read from workbook cells.

Every amount is held internally as an ``int`` number of fen (分, 1/100 元), so
no float drift can creep into totals or rates.  Cell values that cannot be
read raise :class:`ValueProblem`, whose message is written in Chinese for the
accountant who filled in the workbook: it quotes the bad value and says how to
fix it.
"""

from __future__ import annotations

import datetime
import math
import numbers
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

__all__ = [
    "UNITS",
    "ValueProblem",
    "is_blank",
    "parse_amount",
    "parse_date",
    "fen_to_yuan",
    "unit_from_header",
    "unit_from_line",
]

#: Supported amount units and their multiplier to 元.
UNITS: dict[str, int] = {"元": 1, "万元": 10000}

# Larger than any plausible project budget (1 万亿元); guards against garbage
# such as a float 1e300 and keeps Decimal arithmetic well inside its precision.
_MAX_YUAN = Decimal(10) ** 12

# Units that look like money units but are not supported: reading them as 元
# would silently be off by a factor of 1000 or more, so they are refused.
_UNSUPPORTED_UNITS = ("千元", "百万元", "亿元", "万亿元", "美元", "千万元")

_EXCEL_ERRORS = {
    "#REF!", "#VALUE!", "#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!",
    "#UNKNOWN!", "#GETTING_DATA", "#EXTERNAL!",
}
_EXCEL_ERROR_RE = re.compile(r"#[A-Z0-9/_]+[!?]?")

# Dash-like characters that NFKC leaves alone but people use as minus signs.
_DASHES = {0x2212: "-", 0x2010: "-", 0x2011: "-", 0x2012: "-", 0x2013: "-"}
# A cell holding only one of these means "nothing" in Chinese tables.
_PLACEHOLDER_DASHES = {"-", "--", "—", "——", "–", "−", "/", "\\", "无"}

_NUMBER_RE = re.compile(r"(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d*)?|\.\d+")

_DATE_FORMATS_HINT = "可用格式：2021-05-10、2021/5/10、2021.5.10、2021年5月10日、20210510"
_EXCEL_EPOCH = datetime.date(1899, 12, 30)  # 1900 date system, serials > 60
_EXCEL_EPOCH_1904 = datetime.date(1904, 1, 1)  # 1904 date system (Excel for Mac's old default)
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000     # 1954-10-03 .. 2119-01-10
_YEAR_MIN, _YEAR_MAX = 1900, 2100


class ValueProblem(ValueError):
    """A cell value that cannot be read.

    ``str(e)`` is a Chinese explanation saying what is wrong and how to fix
    it, e.g. ``'“三千”不是数字，请填写阿拉伯数字，如 3000'``.
    """


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def is_blank(value) -> bool:
    """True for an empty cell.

    Blank means ``None``, a string that is empty or whitespace only (including
    U+3000 and NBSP), and the "missing" markers pandas puts in empty cells
    (float NaN, ``pd.NA``, ``pd.NaT``).  A text "NaN" is *not* blank.
    """
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, float) and math.isnan(value):
        return True
    # pd.NA / pd.NaT, detected without importing pandas.
    return type(value).__name__ in ("NAType", "NaTType")


def _normalize_text(text: str) -> str:
    """Full-width → half-width (NFKC), dash variants → '-', outer spaces stripped."""
    return unicodedata.normalize("NFKC", text).translate(_DASHES).strip()


def _plain(d: Decimal) -> str:
    """Decimal without exponent and without trailing zeros: 395600, 39.56."""
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _excel_error_message(shown: str) -> str:
    return f"单元格显示 Excel 错误“{shown}”，说明公式有误，请修正公式或直接填写数字"


def _looks_like_excel_error(norm: str) -> bool:
    up = norm.upper()
    return up in _EXCEL_ERRORS or bool(_EXCEL_ERROR_RE.fullmatch(up))


# ---------------------------------------------------------------------------
# amounts
# ---------------------------------------------------------------------------

def parse_amount(value, unit: str = "元") -> int:
    """A cell value in ``unit`` (元 or 万元) → fen (int).

    Accepts int, float (converted through its shortest decimal repr, so float
    residue like 395600.00000000006 disappears), Decimal, and text such as
    ``'395,600.00'``, ``'３９５６００'``, ``'￥800'``, ``'800元'``,
    ``'(1,200.00)'`` (accounting negative).  More precision than the fen is
    rounded half-up.  Blank values raise ``ValueProblem('金额为空')``; use
    :func:`is_blank` first if blank is allowed.
    """
    if unit not in UNITS:
        raise ValueError(f"unsupported unit {unit!r}; expected one of {sorted(UNITS)}")
    if is_blank(value):
        raise ValueProblem("金额为空")
    if isinstance(value, bool):
        raise ValueProblem(f"“{value}”是逻辑值（TRUE/FALSE），不是金额，请填写数字")

    if isinstance(value, int):
        amount = Decimal(value)
        shown = str(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueProblem(f"“{value}”不是有效数字，请填写金额数字，如 3000")
        amount, shown = value, str(value)
    elif isinstance(value, numbers.Integral):          # numpy integers
        amount = Decimal(int(value))
        shown = str(value)
    elif isinstance(value, numbers.Real):              # float, numpy floats
        f = float(value)
        if not math.isfinite(f):
            raise ValueProblem(f"“{value}”不是有效数字（可能是公式除以零等原因），请检查该单元格")
        # str() of a float is its shortest round-trip repr; never Decimal(float).
        amount, shown = Decimal(str(value)), str(value)
    elif isinstance(value, str):
        amount = _parse_amount_text(value, unit)
        shown = value.strip()
    else:
        raise ValueProblem(f"“{value}”不是金额，请填写数字，如 3000")

    if abs(amount) * UNITS[unit] >= _MAX_YUAN:
        raise ValueProblem(f"“{shown}”{unit}金额过大，请检查是否多写了数字或单位填错")
    with localcontext() as ctx:
        ctx.prec = 60
        fen = (amount * UNITS[unit] * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(fen)


def _parse_amount_text(raw: str, unit: str) -> Decimal:
    shown = raw.strip()
    s = _normalize_text(raw)
    if _looks_like_excel_error(s):
        raise ValueProblem(_excel_error_message(shown))
    if s in _PLACEHOLDER_DASHES:
        raise ValueProblem(f"“{shown}”不是金额；金额为零请填写 0，没有金额请留空")

    # Spaces between digits act as thousands separators ("395 600"); others go.
    s = re.sub(r"(?<=\d)\s+(?=\d)", ",", s)
    s = re.sub(r"\s+", "", s)

    negative = False
    m = re.fullmatch(r"\((.*)\)", s)
    if m:                                   # accounting negative: (1,200.00)
        negative, s = True, m.group(1)
    m = re.fullmatch(r"([+-]?)(¥?)([+-]?)(.*)", s)
    sign1, _, sign2, s = m.groups()
    if sign1 and sign2 or (negative and (sign1 or sign2)):
        raise ValueProblem(f"“{shown}”的正负号重复，请只保留一个负号，如 -1200")
    if "-" in (sign1, sign2):
        negative = not negative

    # A unit written in the cell must agree with the header's unit.
    cell_unit = None
    if s.endswith("万元"):
        cell_unit, s = "万元", s[:-2]
    elif s.endswith("万"):
        cell_unit, s = "万元", s[:-1]
    elif s.endswith("元"):
        cell_unit, s = "元", s[:-1]
    if cell_unit is not None and cell_unit != unit:
        raise ValueProblem(_unit_mismatch_message(shown, s, cell_unit, unit))

    if not _NUMBER_RE.fullmatch(s):
        raise ValueProblem(_not_a_number_message(shown, s))
    amount = Decimal(s.replace(",", ""))
    return -amount if negative else amount


def _unit_mismatch_message(shown: str, number: str, cell_unit: str, unit: str) -> str:
    example = ""
    if _NUMBER_RE.fullmatch(number):
        d = Decimal(number.replace(",", ""))
        converted = d * UNITS[cell_unit] / UNITS[unit]
        example = f"，如 {_plain(converted)}"
    return (f"表头单位是“{unit}”，但单元格“{shown}”写的是“{cell_unit}”。"
            f"请只填写数字，并按表头单位（{unit}）填写{example}")


def _not_a_number_message(shown: str, s: str) -> str:
    low = s.lower()
    if low in ("nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"):
        return f"“{shown}”不是有效数字，请填写金额数字，如 3000"
    if re.fullmatch(r"\d+(?:\.\d*)?e[+-]?\d+", low):
        return f"“{shown}”是科学计数法，请直接填写完整数字，如 100000"
    if s.count(".") > 1:
        return f"“{shown}”含有多个小数点，请检查后只保留一个小数点，如 1200.50"
    if "%" in s:
        return f"“{shown}”是百分比，不是金额，请填写金额数字"
    if re.fullmatch(r"[\d,.]+", s) and "," in s:
        return f"“{shown}”的千分位逗号位置不对，请去掉逗号直接填写数字，如 1234.50"
    return f"“{shown}”不是数字，请填写阿拉伯数字，如 3000"


def fen_to_yuan(fen: int) -> Decimal:
    """Exact conversion: 39560000 → Decimal('395600.00')."""
    if isinstance(fen, bool) or not isinstance(fen, numbers.Integral):
        raise TypeError(f"fen must be an int, got {type(fen).__name__}")
    return Decimal(int(fen)).scaleb(-2)


# ---------------------------------------------------------------------------
# units in headers and above tables
# ---------------------------------------------------------------------------

_HEADER_BRACKET_RE = re.compile(
    r"^(?P<name>.*?)\s*[（(【\[]\s*(?:金额)?(?:单位\s*[:：]\s*)?(?:人民币)?\s*"
    r"(?P<unit>[^()（）【】\[\]]*?)\s*[)）】\]]\s*$",
    re.S,
)
_HEADER_SLASH_RE = re.compile(r"^(?P<name>.*?)\s*[/／]\s*(?P<unit>[^/／]+?)\s*$", re.S)


def _canonical_unit(text: str) -> str | None:
    """'万元'/'万' → '万元', '元' → '元'; unsupported money units raise; else None."""
    t = text.strip()
    if t in ("万元", "万"):
        return "万元"
    if t == "元":
        return "元"
    if t in _UNSUPPORTED_UNITS:
        raise ValueProblem(f"不支持金额单位“{t}”，请把该表改用“元”或“万元”填写")
    return None


def unit_from_header(header) -> tuple[str, str | None]:
    """Split a column header into (name, unit).

    '批复数（万元）' → ('批复数', '万元'); '金额(元)' → ('金额', '元');
    '批复数/万元' → ('批复数', '万元'); '金额' → ('金额', None).
    Full- and half-width brackets, 【】 and [], line breaks and spaces are
    accepted.  A bracket that is not a unit (e.g. '完成率(%)') leaves the
    header whole with unit None.  Unsupported money units such as 千元 raise
    ValueProblem rather than be mistaken for 元.
    """
    if header is None:
        return "", None
    text = str(header).strip()
    for regex in (_HEADER_BRACKET_RE, _HEADER_SLASH_RE):
        m = regex.match(text)
        if m and m.group("name").strip():
            unit = _canonical_unit(m.group("unit"))
            if unit is not None:
                return m.group("name").strip(), unit
    return text, None


_LINE_RE = re.compile(
    r"(?:^|[\s(（])(?:金额|资金)?单位\s*[:：]\s*(?:人民币)?\s*(?P<unit>[^\s()（）:：]+?)\s*[)）]?\s*$"
)


def unit_from_line(text) -> str | None:
    """Unit from a line above a table, or None.

    '单位：万元', '单位:元', '（单位：万元）', '金额单位：万元' → '万元'/'元'.
    The unit statement may end a longer line ('填报单位：某局  单位：万元');
    '填报单位：某局' alone gives None.  An unsupported money unit
    ('单位：千元') raises ValueProblem instead of silently defaulting.
    """
    if not isinstance(text, str):
        return None
    s = unicodedata.normalize("NFKC", text).strip()
    m = _LINE_RE.search(s)
    if not m:
        return None
    unit = m.group("unit")
    if unit in ("万元", "元"):
        return unit
    if unit in _UNSUPPORTED_UNITS:
        raise ValueProblem(f"“{text.strip()}”：不支持金额单位“{unit}”，请把该表改用“元”或“万元”填写")
    return None


# ---------------------------------------------------------------------------
# dates
# ---------------------------------------------------------------------------

_TIME = r"(?:(?:\s+|T)\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?)?"
_DATE_SEP_RE = re.compile(r"(\d{4})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})" + _TIME)
_DATE_CN_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?" + _TIME)
_DATE_COMPACT_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")


def parse_date(value, date1904: bool = False) -> datetime.date:
    """A cell value → ``datetime.date``.

    Accepts date/datetime/pandas.Timestamp, Excel serial numbers
    (20000–80000, in the 1900 date system or, with ``date1904``, the 1904
    one), 8-digit numbers like 20210510, and text in the formats listed in the
    error message (full-width digits allowed).
    """
    if is_blank(value):
        raise ValueProblem("日期为空")
    if isinstance(value, datetime.datetime):        # includes pandas.Timestamp
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, bool):
        raise ValueProblem(f"“{value}”不是日期。{_DATE_FORMATS_HINT}")
    if type(value).__name__ == "datetime64":        # numpy.datetime64
        try:
            import pandas as pd
            return pd.Timestamp(value).date()
        except Exception:
            raise ValueProblem(f"“{value}”不是日期。{_DATE_FORMATS_HINT}") from None
    if isinstance(value, (numbers.Real, Decimal)):
        return _date_from_number(value, date1904)
    if isinstance(value, str):
        return _date_from_text(value)
    raise ValueProblem(f"“{value}”不是日期。{_DATE_FORMATS_HINT}")


def _date_from_number(value, date1904: bool = False) -> datetime.date:
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        d = Decimal("NaN")
    if d.is_finite():
        if d == d.to_integral_value() and 19000101 <= d <= 21001231:
            return _make_date(str(int(d)), *_ymd(int(d)))
        if _SERIAL_MIN <= d < _SERIAL_MAX:
            epoch = _EXCEL_EPOCH_1904 if date1904 else _EXCEL_EPOCH
            return epoch + datetime.timedelta(days=int(d))   # drop time of day
    raise ValueProblem(f"“{value}”不像日期（若是 Excel 日期序号，应在 {_SERIAL_MIN}–{_SERIAL_MAX} 之间）。"
                       f"{_DATE_FORMATS_HINT}")


def _ymd(n: int) -> tuple[int, int, int]:
    """20210510 → (2021, 5, 10)."""
    return n // 10000, n // 100 % 100, n % 100


def _date_from_text(raw: str) -> datetime.date:
    shown = raw.strip()
    s = _normalize_text(raw)
    if _looks_like_excel_error(s):
        raise ValueProblem(f"单元格显示 Excel 错误“{shown}”，说明公式有误，请修正公式或直接填写日期")
    for regex in (_DATE_SEP_RE, _DATE_CN_RE):
        m = regex.fullmatch(s)
        if m:
            g = m.groups()
            y, mo, d = (g[0], g[2], g[3]) if regex is _DATE_SEP_RE else g[:3]
            return _make_date(shown, int(y), int(mo), int(d))
    m = _DATE_COMPACT_RE.fullmatch(s)
    if m:
        return _make_date(shown, *map(int, m.groups()))
    raise ValueProblem(f"“{shown}”不是可识别的日期。{_DATE_FORMATS_HINT}")


def _make_date(shown: str, y: int, m: int, d: int) -> datetime.date:
    fix = "请按 2021-05-10 的格式填写"
    if not _YEAR_MIN <= y <= _YEAR_MAX:
        raise ValueProblem(f"{shown} 的年份 {y} 不合理，{fix}")
    if not 1 <= m <= 12:
        raise ValueProblem(f"{shown} 不是有效日期（没有{m}月），{fix}")
    try:
        return datetime.date(y, m, d)
    except ValueError:
        if m == 2 and d == 29:
            why = f"{y}年不是闰年，2月没有29日"
        elif d < 1:
            why = f"没有{d}日"
        else:
            why = f"{m}月没有{d}日"
        raise ValueProblem(f"{shown} 不是有效日期（{why}），{fix}") from None
