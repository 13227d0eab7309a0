"""Template filters that format amounts, rates and dates the way Chinese
performance self-evaluation reports write them.

Used in Word templates with Chinese names, e.g. ``{{ 批复数|金额 }}``,
``{{ 执行率|百分比 }}``, ``{{ 批复数|大写金额 }}``.

Conventions:

* Money arrives as yuan (元), normally a ``Decimal`` such as
  ``money.fen_to_yuan(fen)``; int, float and numeric strings are accepted too
  and converted through ``Decimal(str(v))``, never ``Decimal(float)``.
* Rates arrive as fractions: ``Decimal('0.989')`` is 98.9%.
* Rounding is half-up (四舍五入) everywhere; trailing zeros are dropped.
* No filter raises on a missing value: ``None``, blank strings, pandas NaN /
  NA / NaT and Jinja2's (non-strict) ``Undefined`` all give ``''`` so the
  report shows a blank instead of crashing.  ``StrictUndefined`` still raises.
"""

from __future__ import annotations

import numbers
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Callable

from .money import ValueProblem, is_blank, parse_date

try:  # Jinja2 is a project dependency, but keep this module importable without it.
    from jinja2 import StrictUndefined as _StrictUndefined
    from jinja2 import Undefined as _Undefined
except ImportError:  # pragma: no cover
    _Undefined = _StrictUndefined = None

__all__ = [
    "money_text",
    "wan_yuan",
    "yuan",
    "thousands",
    "percent",
    "rmb_upper",
    "chinese_date",
    "chinese_month",
    "FILTERS",
    "FILTER_HELP",
]

_WAN = Decimal(10000)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def _missing(v) -> bool:
    """True for values that should render as ''."""
    if _Undefined is not None and isinstance(v, _Undefined):
        if isinstance(v, _StrictUndefined):
            str(v)  # raises jinja2.UndefinedError, as strict mode intends
        return True
    return is_blank(v)


def _to_decimal(v) -> Decimal:
    """A number-like value → finite Decimal (caller has handled missing values)."""
    if isinstance(v, bool):
        raise ValueProblem(f"“{v}”是逻辑值，不是数字，无法按数字格式显示")
    if isinstance(v, Decimal):
        d = v
    elif isinstance(v, numbers.Integral):
        d = Decimal(int(v))
    elif isinstance(v, numbers.Real):
        d = Decimal(str(v))
    elif isinstance(v, str):
        text = unicodedata.normalize("NFKC", v).strip().replace(",", "")
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise ValueProblem(f"“{v.strip()}”不是数字，无法按数字格式显示") from None
    else:
        raise ValueProblem(f"“{v}”不是数字，无法按数字格式显示")
    if not d.is_finite():
        raise ValueProblem(f"“{v}”不是有效数字，无法按数字格式显示")
    return d


def _round(d: Decimal, digits: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        return d.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def _plain(d: Decimal, digits: int) -> str:
    """Round half-up to ``digits`` decimals, drop trailing zeros, never '-0'."""
    s = format(_round(d, digits), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def _check_digits(digits) -> int:
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 8:
        raise ValueError(f"digits must be an int between 0 and 8, got {digits!r}")
    return digits


# ---------------------------------------------------------------------------
# money
# ---------------------------------------------------------------------------

def money_text(v) -> str:
    """金额: 1万元 and above in 万元 ('39.56万元'), below in 元 ('800元').

    The threshold is applied to the unrounded absolute value in 元, so
    9999.999 gives '10000元' rather than '1万元'.
    """
    if _missing(v):
        return ""
    d = _to_decimal(v)
    if abs(d) >= _WAN:
        return _plain(d / _WAN, 2) + "万元"
    return _plain(d, 2) + "元"


def wan_yuan(v, digits: int = 2) -> str:
    """万元: always in 万元, ``digits`` decimals at most (800 → '0.08万元')."""
    if _missing(v):
        return ""
    return _plain(_to_decimal(v) / _WAN, _check_digits(digits)) + "万元"


def yuan(v, digits: int = 2) -> str:
    """元: always in 元, no thousands separator ('395600元', '1234.5元')."""
    if _missing(v):
        return ""
    return _plain(_to_decimal(v), _check_digits(digits)) + "元"


def thousands(v, digits: int = 2) -> str:
    """千分位: an amount as a ledger writes it, with thousands separators and ``digits`` decimals, no unit
    ('1,600,000.00'), for the cells of a table headed 金额（元）."""
    if _missing(v):
        return ""
    rounded = _round(_to_decimal(v), _check_digits(digits))
    return f"{abs(rounded) if rounded == 0 else rounded:,.{digits}f}"  # never -0.00


def percent(v, digits: int = 2) -> str:
    """百分比: a fraction as a percentage (0.989 → '98.9%'); None → ''."""
    if _missing(v):
        return ""
    return _plain(_to_decimal(v) * 100, _check_digits(digits)) + "%"


_UPPER_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_IN_SECTION = ("", "拾", "佰", "仟")
_SECTIONS = ("", "万", "亿", "万亿")
_UPPER_MAX_YUAN = 10 ** 16


def _section_upper(g: int) -> str:
    """0 < g < 10000 → e.g. 7000 → '柒仟', 50 → '伍拾', 1009 → '壹仟零玖'."""
    out, zero = "", False
    for pos in (3, 2, 1, 0):
        digit = g // 10 ** pos % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _UPPER_DIGITS[digit] + _IN_SECTION[pos]
    return out


def _integer_upper(n: int) -> str:
    """n > 0 yuan → capital digits without '元'."""
    groups = []
    while n:
        n, g = divmod(n, 10000)
        groups.append(g)
    out, gap = "", False
    for idx in range(len(groups) - 1, -1, -1):
        g = groups[idx]
        if g == 0:
            gap = bool(out)
            continue
        # A skipped section or leading zeros inside this section → one 零.
        if out and (gap or g < 1000):
            out += "零"
        out += _section_upper(g) + _SECTIONS[idx]
        gap = False
    return out


def rmb_upper(v) -> str:
    """大写金额 per 《支付结算办法》: 395600 → '人民币叁拾玖万伍仟陆佰元整'.

    * 整 after 元 when there are no 角分, after 角 when there is no 分
      ('…元伍角整'), never after 分.
    * A single 零 for any run of zeros inside the number.
    * 零 after 元 when the 元 digit is 0 and 角 is not ('壹仟陆佰捌拾元零叁角贰分'),
      and when 角 is 0 but 分 is not ('…元零陆分').
    * 0 → '人民币零元整'; less than 1元 → '人民币伍角整' (no 零元).
    * Negative: '人民币负捌佰元整'.
    Amounts are rounded half-up to the fen first.
    """
    if _missing(v):
        return ""
    d = _to_decimal(v)
    fen = int(_round(abs(d) * 100, 0))
    whole, rest = divmod(fen, 100)
    jiao, fen_digit = divmod(rest, 10)
    if whole >= _UPPER_MAX_YUAN:
        raise ValueProblem(f"“{v}”元金额过大，无法写成大写金额")
    if fen == 0:
        return "人民币零元整"
    body = ""
    if whole:
        body = _integer_upper(whole) + "元"
    if rest == 0:
        body += "整"
    else:
        if whole and (whole % 10 == 0 or jiao == 0):
            body += "零"
        if jiao:
            body += _UPPER_DIGITS[jiao] + "角"
        body += (_UPPER_DIGITS[fen_digit] + "分") if fen_digit else "整"
    return "人民币" + ("负" if d < 0 else "") + body


# ---------------------------------------------------------------------------
# dates
# ---------------------------------------------------------------------------

def chinese_date(d) -> str:
    """中文日期: '2022年5月10日' (no leading zeros).

    Accepts date, datetime, pandas.Timestamp and date strings
    ('2022-05-10', '2022/5/10', '2022年5月10日', …; see money.parse_date).
    """
    if _missing(d):
        return ""
    day = parse_date(d)
    return f"{day.year}年{day.month}月{day.day}日"


_YEAR_MONTH_RE = re.compile(r"(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*月?")


def chinese_month(d) -> str:
    """中文月份: '2021年5月'. Also accepts year-month strings ('2021-05', '2021年5月')."""
    if _missing(d):
        return ""
    if isinstance(d, str):
        m = _YEAR_MONTH_RE.fullmatch(unicodedata.normalize("NFKC", d).strip())
        if m:
            year, month = int(m.group(1)), int(m.group(2))
            if not 1 <= month <= 12:
                raise ValueProblem(f"{d.strip()} 不是有效月份（没有{month}月），请按 2021-05 的格式填写")
            return f"{year}年{month}月"
    day = parse_date(d)
    return f"{day.year}年{day.month}月"


# ---------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------

FILTERS: dict[str, Callable] = {
    "金额": money_text,
    "万元": wan_yuan,
    "元": yuan,
    "千分位": thousands,
    "百分比": percent,
    "大写金额": rmb_upper,
    "中文日期": chinese_date,
    "中文月份": chinese_month,
}

FILTER_HELP: dict[str, str] = {
    "金额": "金额：1万元以上写作“39.56万元”，不足1万元写作“800元”（四舍五入，去掉末尾的0）",
    "万元": "万元：一律以万元表示，如“0.08万元”；默认保留两位小数，可写 万元(4) 保留四位",
    "元": "元：一律以元表示，不加千分位逗号，如“395600元”“1234.5元”",
    "千分位": "千分位：按账簿写法，带千分位逗号和两位小数、不带单位，如“1,600,000.00”，用于表头写明“（元）”的表格",
    "百分比": "百分比：把比率写成百分数，如 0.989 写作“98.9%”，最多两位小数",
    "大写金额": "大写金额：按《支付结算办法》写中文大写，如“人民币叁拾玖万伍仟陆佰元整”",
    "中文日期": "中文日期：写作“2022年5月10日”",
    "中文月份": "中文月份：写作“2021年5月”",
}
