"""Number formats of the workbooks that are not .xlsx: what an .xls records in its cell formats (read with
xlrd), what an .ods records as each cell's value type and shown text, and nothing for an .xlsb (calamine
reads its values; its formats are not read, so a number's unit in a text column cannot be known).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from loguru import logger
from lxml import etree

from .facts import CellFacts
from .numfmt import general_text
from .package import ODS, XLS
from .styles import BookStyles

_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_NUMERIC = ("float", "percentage", "currency")
_SHOWN_NUMBER = re.compile(r"\D*?-?[\d,]*\.?\d+(\D*)")


@dataclass(frozen=True)
class ShownAs:
    """The format of one .ods cell, known from the text the file records as shown: "93%", "12个"."""

    text: str
    percent: bool
    unit: str
    supported = True
    main = None
    code = ""

    def show(self, number) -> str:
        return self.text

    def value(self, number) -> Decimal:
        exact = number if isinstance(number, Decimal) else Decimal(str(number))
        return Decimal(format(exact.scaleb(2), "f")) if self.percent else exact


def foreign_facts(path: Path, kind: str, titles: list[str]) -> tuple[BookStyles, dict[str, CellFacts]]:
    """The workbook's styles and the facts of the sheets `titles`, for an .xls, .ods or .xlsb."""
    try:
        if kind == XLS:
            return _xls_facts(path, titles)
        if kind == ODS:
            return BookStyles((), False), _ods_facts(path, titles)
    except Exception as exc:  # noqa: BLE001 - a file calamine reads but this does not: formats unknown
        logger.debug("number formats of {} not read: {!r}", path, exc)
    return BookStyles((), False, recorded=False), {}


def _xls_facts(path: Path, titles: list[str]) -> tuple[BookStyles, dict[str, CellFacts]]:
    import xlrd

    book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True)
    try:
        codes = tuple(book.format_map[xf.format_key].format_str if xf.format_key in book.format_map else "General"
                      for xf in book.xf_list)
        styles = BookStyles(codes, bool(book.datemode))
        meaningful = styles.meaningful
        facts: dict[str, CellFacts] = {}
        for title in titles:
            sheet = book.sheet_by_name(title)
            found = CellFacts()
            for r in range(sheet.nrows):
                for c, kind in enumerate(sheet.row_types(r)):
                    if kind == xlrd.XL_CELL_NUMBER:
                        xf = sheet.cell_xf_index(r, c)
                        if xf in meaningful:
                            found.formats[(r + 1, c + 1)] = styles.number_format(xf)
            if found:
                facts[title] = found
            book.unload_sheet(title)
        return styles, facts
    finally:
        book.release_resources()


def _ods_facts(path: Path, titles: list[str]) -> dict[str, CellFacts]:
    """(row, column) -> ShownAs of every number cell whose shown text is not the plain number (a percent, a
    unit, leading zeros), from content.xml."""
    wanted = set(titles)
    facts: dict[str, CellFacts] = {}
    with zipfile.ZipFile(path) as zf, zf.open("content.xml") as part:
        events = etree.iterparse(part, events=("start", "end"), resolve_entities=False, no_network=True,
                                 load_dtd=False, huge_tree=True)
        table, row = None, 0
        for event, element in events:
            local = etree.QName(element).localname
            if local == "table" and element.tag == f"{{{_TABLE_NS}}}table":
                if event == "start":
                    name = element.get(f"{{{_TABLE_NS}}}name")
                    table, row = (CellFacts() if name in wanted else None), 0
                    if table is not None:
                        facts[name] = table
                continue
            if event != "end" or local != "table-row":
                continue
            repeat = int(element.get(f"{{{_TABLE_NS}}}number-rows-repeated", "1"))
            if table is not None:
                _ods_row(element, row + 1, table)
            row += repeat
            element.clear()
    return {name: found for name, found in facts.items() if found}


def _ods_row(element, row: int, facts: CellFacts) -> None:
    column = 0
    for cell in element:
        repeat = int(cell.get(f"{{{_TABLE_NS}}}number-columns-repeated", "1"))
        kind = cell.get(f"{{{_OFFICE_NS}}}value-type")
        if kind in _NUMERIC and repeat < 1000:
            shown = "\n".join("".join(p.itertext()) for p in cell if etree.QName(p).localname == "p").strip()
            value = cell.get(f"{{{_OFFICE_NS}}}value")
            fmt = _ods_format(kind, shown, value)
            if fmt is not None:
                for offset in range(repeat):
                    facts.formats[(row, column + offset + 1)] = fmt
        column += repeat


def _ods_format(kind: str, shown: str, value: str | None) -> ShownAs | None:
    if not shown or value is None:
        return None
    if kind == "percentage":
        return ShownAs(shown, True, "%")
    try:
        plain = general_text(Decimal(value))
    except ArithmeticError:
        return None
    if shown == plain or shown.replace(",", "") == plain:
        return None
    match = _SHOWN_NUMBER.fullmatch(shown)
    return ShownAs(shown, False, match.group(1).strip()) if match else None
