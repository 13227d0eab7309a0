"""Excel's dates as the stream engine reads them, the way openpyxl reads them (tests/test_reading_stream.py
compares the two): serial numbers in the 1900 or 1904 date system, ISO 8601 values of t="d" cells, which number
formats make a number a date or an elapsed time, and the number formats Excel builds in.

Kept here so that reading a workbook does not import openpyxl (a sixth of a second at start-up), which stays the
reference engine and the fallback for packages the others cannot follow.
"""

from __future__ import annotations

import datetime as dt
import re

WINDOWS_EPOCH = dt.datetime(1899, 12, 30)  # the 1900 date system, with Excel's 29 February 1900
MAC_EPOCH = dt.datetime(1904, 1, 1)  # the 1904 date system
SECONDS_A_DAY = 86400

# The number formats Excel builds in (styles.xml gives only an id for them), by id; ECMA-376 18.8.30.
BUILTIN_FORMATS = {
    0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 5: '"$"#,##0_);("$"#,##0)',
    6: '"$"#,##0_);[Red]("$"#,##0)', 7: '"$"#,##0.00_);("$"#,##0.00)', 8: '"$"#,##0.00_);[Red]("$"#,##0.00)',
    9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "# ?/?", 13: "# ??/??", 14: "mm-dd-yy", 15: "d-mmm-yy",
    16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM", 19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss",
    22: "m/d/yy h:mm", 37: "#,##0_);(#,##0)", 38: "#,##0_);[Red](#,##0)", 39: "#,##0.00_);(#,##0.00)",
    40: "#,##0.00_);[Red](#,##0.00)", 41: r'_(* #,##0_);_(* \(#,##0\);_(* "-"_);_(@_)',
    42: r'_("$"* #,##0_);_("$"* \(#,##0\);_("$"* "-"_);_(@_)',
    43: r'_(* #,##0.00_);_(* \(#,##0.00\);_(* "-"??_);_(@_)',
    44: r'_("$"* #,##0.00_)_("$"* \(#,##0.00\)_("$"* "-"??_)_(@_)', 45: "mm:ss", 46: "[h]:mm:ss",
    47: "mmss.0", 48: "##0.0E+0", 49: "@",
}

_QUOTED_OR_BRACKETED = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')  # literals, colours, locales
_DATE_CODE = re.compile(r"(?<![_\\])[dmhysDMHYS]")
_ELAPSED = re.compile(r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.I)


def is_date_format(code: str | None) -> bool:
    """The format shows a number as a date or a time: a d, m, h, y or s in its first section, outside quoted
    text and brackets other than [h], [m], [s]."""
    if code is None:
        return False
    return _DATE_CODE.search(_QUOTED_OR_BRACKETED.sub("", code.split(";")[0])) is not None


def is_timedelta_format(code: str | None) -> bool:
    """The format shows elapsed time ([h]:mm:ss, [mm]:ss…)."""
    if code is None:
        return False
    return _ELAPSED.search(code.split(";")[0]) is not None


def from_excel(value: int | float, epoch: dt.datetime = WINDOWS_EPOCH, timedelta: bool = False):
    """A serial number as a datetime (a time for a fraction of a day; a timedelta, to the millisecond, for an
    elapsed time). In the 1900 system, serials below 60 are a day later: Excel counts 29 February 1900."""
    if timedelta:
        elapsed = dt.timedelta(days=value)
        if elapsed.microseconds:
            elapsed = dt.timedelta(seconds=elapsed.total_seconds() // 1,
                                   microseconds=round(elapsed.microseconds, -3))
        return elapsed
    day, fraction = divmod(value, 1)
    diff = dt.timedelta(milliseconds=round(fraction * SECONDS_A_DAY * 1000))
    if 0 <= value < 1 and diff.days == 0:
        minutes, seconds = divmod(diff.seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return dt.time(hours, minutes, seconds, diff.microseconds)
    if 0 < value < 60 and epoch == WINDOWS_EPOCH:
        day += 1
    return epoch + dt.timedelta(days=day) + diff


_ISO = re.compile(r"(?P<date>(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2}))?T?"
                  r"(?P<time>(?P<hour>\d{2}):(?P<minute>\d{2})(:(?P<second>\d{2})(?P<microsecond>\.\d{1,3})?)?)?Z?")
_ISO_DURATION = re.compile(r"PT((?P<hours>\d+)H)?((?P<minutes>\d+)M)?((?P<seconds>\d+(\.\d{1,3})?)S)?")


def from_iso8601(text: str):
    """The value of a t="d" cell: a date, a time, a datetime or (as Excel writes in strict mode) a duration;
    None for an empty text. Raises ValueError for anything else."""
    if not text:
        return None
    match = _ISO.match(text)
    if match and any(match.groups()):
        parts = match.groupdict(0)
        for key in ("year", "month", "day", "hour", "minute", "second"):
            if parts[key]:
                parts[key] = int(parts[key])
        if parts["microsecond"]:
            parts["microsecond"] = int(float(parts["microsecond"]) * 1_000_000)
        if not parts["date"]:
            return dt.time(parts["hour"], parts["minute"], parts["second"], parts["microsecond"])
        if not parts["time"]:
            return dt.date(parts["year"], parts["month"], parts["day"])
        return dt.datetime(parts["year"], parts["month"], parts["day"], parts["hour"], parts["minute"],
                           parts["second"], parts["microsecond"])
    match = _ISO_DURATION.match(text)
    if match and any(match.groups()):
        return dt.timedelta(**{key: float(value) if value else 0 for key, value in match.groupdict(0).items()})
    raise ValueError(f"Invalid datetime value {text}")
