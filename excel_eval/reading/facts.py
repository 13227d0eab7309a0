"""What a value reader does not show: formulas saved without a cached value, and Excel error values (#REF!…),
which calamine reads as empty cells. Found by byte scans of the worksheet parts, not by parsing them.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import defusedxml
import defusedxml.ElementTree as DET
from loguru import logger
from lxml import etree

from .package import MAIN_NS, sheet_parts
from .raw import column_index
from .stream import sheet_chunks

_HAS_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_F_END = re.compile(rb"f[\s>/]")  # how every formula element's name ends: a rare letter, so a fast search
_E_END = re.compile(rb"e[\"']")  # how t="e" (an error cell) ends


def _has_formula(data: bytes) -> bool:
    """A formula element in `data`: a search for how its name ends rules most parts out before the regular
    expression, which tries every '<' of the part (a search for "<f" stops at every '<' too)."""
    return _F_END.search(data) is not None and _HAS_FORMULA.search(data) is not None


def _has_error(data: bytes) -> bool:
    """An error cell (t="e") in `data`."""
    return _E_END.search(data) is not None and (b't="e"' in data or b"t='e'" in data)


_CELL_REF = re.compile(r"([A-Za-z]{1,3})(\d+)")


@dataclass
class CellFacts:
    """What a value reader does not show: formulas with no cached value, Excel error values (#REF!…), which
    calamine reads as empty cells, and the style of each cell whose number format changes what its value reads
    as (a percent, a unit; see numfmt). Keys are (row, column), 1-based."""

    uncached: dict[tuple[int, int], str] = field(default_factory=dict)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    styles: dict[tuple[int, int], int] = field(default_factory=dict)  # the cell style (s="…") of such cells
    formats: dict[tuple[int, int], object] = field(default_factory=dict)  # their NumberFormat (or numfmt.ShownAs)

    def __bool__(self) -> bool:
        return bool(self.uncached or self.errors or self.styles or self.formats)


_ERROR_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s([^>]*?\bt\s*=\s*[\"']e[\"'][^>]*)>(.*?)</(?:[A-Za-z_][\w.-]*:)?c>", re.S)
_ERROR_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v(?:\s[^>]*)?>(.*?)</", re.S)


def cell_facts(path: Path, titles: list[str], styles: frozenset[int] = frozenset()) -> dict[str, CellFacts]:
    """CellFacts of the sheets `titles`, in one extra pass over their XML (a byte search, not a parse);
    `styles` are the cell styles whose cells are listed (see CellFacts.styles)."""
    return _each_sheet(path, titles, lambda zf, name: _whole_part_facts(zf.read(name), styles), "cell scan")


# what a damaged package raises in a scan: the value reader reports it
_SCAN_ERRORS = (KeyError, zipfile.BadZipFile, etree.XMLSyntaxError, DET.ParseError, ValueError,
                defusedxml.DefusedXmlException)


def _each_sheet(path: str | Path, titles: list[str], facts_of: Callable[[zipfile.ZipFile, str], CellFacts],
                what: str) -> dict[str, CellFacts]:
    """facts_of(zip, part name) for each sheet of `titles` that the package has, kept when it found anything;
    a package the scan cannot read gives no facts (the value reader reports what is wrong with it)."""
    facts: dict[str, CellFacts] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            parts = sheet_parts(zf)
            for title in titles:
                name = parts.get(title)
                if name is None:
                    continue
                found = facts_of(zf, name)
                if found:
                    facts[title] = found
    except _SCAN_ERRORS as exc:
        logger.debug("{} skipped for {}: {!r}", what, path, exc)
    return facts


def _whole_part_facts(data: bytes, styles: frozenset[int]) -> CellFacts:
    found = CellFacts()
    if styles and _WITHOUT_REF.search(data):
        found.uncached, found.styles = _parse_sheet(data, styles)
    elif _has_formula(data):
        found.uncached = _scan_sheet(data)
    if _has_error(data):
        found.errors = _error_cells(data)
    if styles and not found.styles:
        found.styles = _styled_cells(data, styles)
    return found


def _styled_cells(data: bytes, styles: frozenset[int]) -> dict[tuple[int, int], int]:
    """(row, column) -> style of every cell with one of `styles`, by a byte search for their s="…"."""
    ids = b"|".join(str(i).encode() for i in sorted(styles))
    pattern = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s([^>]*?\bs\s*=\s*[\"'](" + ids + rb")[\"'][^>]*)>")
    cells = {}
    for match in pattern.finditer(data):
        ref = _ATTR_R.search(b" " + match.group(1))
        if ref:
            cells[(int(ref.group(2)), column_index(ref.group(1).decode()))] = int(match.group(2))
    return cells


def _error_cells(data: bytes) -> dict[tuple[int, int], str]:
    cells = {}
    for match in _ERROR_CELL.finditer(data):
        ref = _ATTR_R.search(b" " + match.group(1))
        value = _ERROR_VALUE.search(match.group(2))
        if ref and value:
            cells[(int(ref.group(2)), column_index(ref.group(1).decode()))] = value.group(1).decode("utf-8", "replace")
    return cells


_ROOT = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?worksheet[\s>]")
_ATTR_R = re.compile(rb'\sr\s*=\s*["\']([A-Za-z]{1,3})(\d+)["\']')
_ATTR_T = re.compile(rb'\st\s*=\s*["\'](\w+)["\']')
_XML_ENTITIES = {b"&amp;": b"&", b"&lt;": b"<", b"&gt;": b">", b"&quot;": b'"', b"&apos;": b"\'"}


def _scan_sheet(data: bytes) -> dict[tuple[int, int], str]:
    """Formula cells with no cached value in one worksheet part. Searches the bytes around each <f> (a sheet of
    50,000 rows takes a fraction of a second); a sheet whose cells carry no r="C14" is parsed instead."""
    root = _ROOT.search(data)
    prefix = (root.group(1) + b":") if root and root.group(1) else b""
    start = data.find(b"<" + prefix + b"sheetData")
    end = data.rfind(b"</" + prefix + b"sheetData>")
    if start < 0 or end < 0:
        return {}
    open_cell, close_cell = b"<" + prefix + b"c ", b"</" + prefix + b"c>"
    value = re.compile(rb"<" + re.escape(prefix) + rb"v(?:\s[^>]*)?(?:/>|>(.*?)</" + re.escape(prefix) + rb"v>)", re.S)
    formula = re.compile(rb"<" + re.escape(prefix) + rb"f(?:\s[^>]*)?(?:/>|>(.*?)</" + re.escape(prefix) + rb"f>)", re.S)
    cells: dict[tuple[int, int], str] = {}
    for match in formula.finditer(data, start, end):
        cell_start = data.rfind(open_cell, start, match.start())
        cell_end = data.find(close_cell, match.end(), end)
        tag_end = data.find(b">", cell_start)
        ref = _ATTR_R.search(data, cell_start, tag_end) if cell_start >= 0 else None
        if (ref is None or cell_end < 0 or data[tag_end - 1:tag_end] == b"/"
                or data.find(close_cell, cell_start, match.start()) >= 0):
            return _parse_sheet(data)[0]  # not the plain layout Excel, WPS and LibreOffice write: parse it
        cached = value.search(data, match.end(), cell_end)
        kind = _ATTR_T.search(data, cell_start, tag_end)
        text_result = kind is not None and kind.group(1) in (b"str", b"inlineStr")
        if cached is None or (not (cached.group(1) or b"").strip() and not text_result):
            text = match.group(1) or b""
            for entity, char in _XML_ENTITIES.items():
                text = text.replace(entity, char)
            text = text.decode("utf-8", errors="replace").strip()
            cells[(int(ref.group(2)), column_index(ref.group(1).decode()))] = f"={text}" if text else ""
    return cells


def _parse_sheet(data: bytes, styles: frozenset[int] = frozenset()
                 ) -> tuple[dict[tuple[int, int], str], dict[tuple[int, int], int]]:
    """_scan_sheet and _styled_cells for any layout (cells without r="…", odd spacing), by parsing; no DTD is
    loaded."""
    cells: dict[tuple[int, int], str] = {}
    styled: dict[tuple[int, int], int] = {}
    tags = [f"{{{ns}}}row" for ns in MAIN_NS]
    parser = etree.iterparse(io.BytesIO(data), events=("end",), tag=tags, resolve_entities=False,
                             no_network=True, load_dtd=False, huge_tree=True)
    row_number = 0
    for _, row in parser:
        row_number = int(row.get("r") or row_number + 1)
        column = 0
        for cell in row:
            if etree.QName(cell).localname != "c":
                continue
            ref = _CELL_REF.fullmatch(cell.get("r") or "")
            column = column_index(ref.group(1)) if ref else column + 1
            if ref:
                row_number = int(ref.group(2))
            style = cell.get("s")
            if styles and style and style.strip().isdigit() and int(style) in styles:
                styled[(row_number, column)] = int(style)
            formula = value = None
            for child in cell:
                local = etree.QName(child).localname
                if local == "f":
                    formula = child
                elif local == "v":
                    value = child
            # openpyxl writes <v></v> for a formula it cannot compute; an empty string result is t="str"
            if formula is not None and (value is None or (not (value.text or "").strip()
                                                          and cell.get("t") not in ("str", "inlineStr"))):
                text = (formula.text or "").strip()
                cells[(row_number, column)] = f"={text}" if text else ""
        row.clear()
        while row.getprevious() is not None:
            del row.getparent()[0]
    return cells, styled


# --------------------------------------------------------------------------- formula and error facts, streamed

_WITHOUT_REF = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:row|c)(?=[\s/>])(?![^>]*\sr\s*=)")


def cell_facts_stream(path: str | Path, titles: list[str], styles: frozenset[int] = frozenset()) -> dict:
    """cell_facts in constant memory: the same byte scans (_scan_sheet, _error_cells), run on
    pieces of whole rows as the part is decompressed, instead of on the whole part read into memory (a ledger
    part of 120 MB costs cell_facts ~240 MiB). A sheet whose formula or error cells sit in rows or cells with
    no r="…" (numbered by position, which a piece cannot know) is scanned whole, as cell_facts scans it."""
    return _each_sheet(path, titles, lambda zf, name: _streamed_part_facts(zf, name, styles), "streamed cell scan")


def _streamed_part_facts(zf: zipfile.ZipFile, name: str, styles: frozenset[int]) -> CellFacts:
    found = CellFacts()
    with zf.open(name) as part:
        for prefix, head, rows in sheet_chunks(part):
            formulas = _has_formula(rows)
            errors = _has_error(rows)
            if not (formulas or errors or styles):
                continue
            if _WITHOUT_REF.search(rows):  # scanned whole; a failure there loses this sheet's facts only
                try:
                    return _whole_part_facts(zf.read(name), styles)
                except _SCAN_ERRORS as exc:
                    logger.debug("cell scan skipped for {}: {!r}", name, exc)
                    return CellFacts()
            if styles:
                found.styles.update(_styled_cells(rows, styles))
            root = re.search(rb"<((?:[A-Za-z_][\w.-]*:)?worksheet)[\s>]", head)
            closing = b"</" + prefix + b"sheetData></" + (root.group(1) if root else b"worksheet") + b">"
            if formulas:
                found.uncached.update(_scan_sheet(head + rows + closing))
            if errors:
                found.errors.update(_error_cells(rows))
    return found
