"""The number format of each cell style (styles.xml's cellXfs) and the workbook's date system."""

from __future__ import annotations

import functools
import zipfile
from dataclasses import dataclass

import defusedxml.ElementTree as DET

from .numfmt import NumberFormat
from .package import workbook_part, workbook_rels
from .serials import BUILTIN_FORMATS

# Formats Excel builds in for Chinese locales (ids 27–36 and 50–58 are dates there; not in BUILTIN_FORMATS).
_CHINESE_DATES = {27: 'yyyy"年"m"月"', 28: 'm"月"d"日"', 29: 'm"月"d"日"', 30: "m-d-yy", 31: 'yyyy"年"m"月"d"日"',
                  32: 'h"时"mm"分"', 33: 'h"时"mm"分"ss"秒"', 34: 'h"时"mm"分"', 35: 'h"时"mm"分"ss"秒"',
                  36: 'yyyy"年"m"月"', 50: 'yyyy"年"m"月"', 51: 'm"月"d"日"', 52: 'yyyy"年"m"月"', 53: 'm"月"d"日"',
                  54: 'm"月"d"日"', 55: 'h"时"mm"分"', 56: 'h"时"mm"分"ss"秒"', 57: 'yyyy"年"m"月"', 58: 'm"月"d"日"'}


@dataclass(frozen=True)
class BookStyles:
    """What the reader needs from a package's workbook and styles parts."""

    formats: tuple[str, ...]  # the number format code of each cell style, by its index (s="…")
    date1904: bool  # the workbook counts dates from 1904 (Excel for Mac's old default)
    recorded: bool = True  # the file's number formats were read (not for .xlsb)

    def number_format(self, style: int) -> NumberFormat:
        return _parsed(self.formats[style] if 0 <= style < len(self.formats) else "General")

    @functools.cached_property
    def meaningful(self) -> frozenset[int]:
        """The styles whose number format changes what a number in them reads as (numfmt.changes_meaning)."""
        return frozenset(i for i, code in enumerate(self.formats) if _parsed(code).changes_meaning)


NO_STYLES = BookStyles((), False)


@functools.lru_cache(maxsize=512)
def _parsed(code: str) -> NumberFormat:
    return NumberFormat.parse(code)


def book_styles(zf: zipfile.ZipFile) -> BookStyles:
    workbook = workbook_part(zf)
    if workbook is None:
        return BookStyles((), False)
    date1904 = False
    for element in DET.fromstring(zf.read(workbook)).iter():
        if element.tag.rsplit("}", 1)[-1] == "workbookPr":
            date1904 = (element.get("date1904") or "").strip().lower() in ("1", "true")
    names = {n.lower(): n for n in zf.namelist()}
    member = next((m for t, m in workbook_rels(zf, workbook).values() if t.endswith("/styles")), None)
    folder = workbook.rsplit("/", 1)[0] if "/" in workbook else ""
    member = member or names.get(f"{folder}/styles.xml".lstrip("/").lower())
    return BookStyles(format_codes(zf.read(member)) if member else (), date1904)


def format_codes(styles_xml: bytes) -> tuple[str, ...]:
    """The format code of every cellXfs entry, built-in ids resolved."""
    root = DET.fromstring(styles_xml)
    custom: dict[int, str] = {}
    ids: list[int] = []
    for element in root:
        local = element.tag.rsplit("}", 1)[-1]
        if local == "numFmts":
            for fmt in element:
                try:
                    custom[int(fmt.get("numFmtId", ""))] = fmt.get("formatCode", "")
                except ValueError:
                    pass
        elif local == "cellXfs":
            for xf in element:
                try:
                    ids.append(int(xf.get("numFmtId", 0)))
                except ValueError:
                    ids.append(0)
    return tuple(custom.get(i) or BUILTIN_FORMATS.get(i) or _CHINESE_DATES.get(i) or "General" for i in ids)
