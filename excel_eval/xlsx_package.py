"""Lossless edits of an .xlsx / .xlsm package: add or replace ONE generated worksheet.

openpyxl's load + save rewrites the whole package and silently drops charts, images,
sparklines, slicers, x14 data validation / conditional formatting and more.  This module
instead edits the zip directly:

* the generated worksheet part (and its own ``_rels`` for hyperlinks) is written fresh;
* ``xl/workbook.xml``, ``xl/_rels/workbook.xml.rels``, ``[Content_Types].xml`` and
  ``xl/styles.xml`` get minimal *textual* edits (insert an element before a closing tag,
  replace one attribute value) so namespaces, ``mc:Ignorable`` prefixes, extension lists
  and everything else in those parts stay exactly as they were;
* every other zip member is copied as its raw compressed bytes (same name, same order,
  same compression method); new members go at the end.

All XML that comes from the user's file is parsed with :mod:`defusedxml`; DTDs and entity
declarations (billion laughs, external entities) are refused with :class:`UnsafeXmlError`.

Besides cells the generated sheet can carry conditional formatting (``cellIs`` rules whose
``<dxf>`` formats are appended to — or found again in — ``styles.xml``), print settings and
native bar/column charts.  A chart is a drawing part (``xl/drawings/drawingN.xml``) plus a chart
part (``xl/charts/chartN.xml``) with cached values taken from the sheet's own cells, so it
renders without recalculation.  Parts that only the replaced sheet referenced (its drawing,
that drawing's charts, images, comments, …) are dropped; when the new sheet needs a part of the
same kind, the freed name is reused in place, so repeated runs neither accumulate parts nor
reorder the package.  Part names never collide with the user's own drawings and charts.

Public API: :class:`Style`, :class:`Cell`, :class:`ConditionalFormat`, :class:`BarChart`,
:class:`PageSetup`, :class:`SheetSpec`, :func:`replace_sheet`, :func:`sheet_names`.
"""

from __future__ import annotations

import codecs
import datetime as dt
import math
import numbers
import os
import posixpath
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote
from xml.etree.ElementTree import Element

import defusedxml
import defusedxml.ElementTree as DET

from . import zipraw

__all__ = [
    "Style",
    "Cell",
    "ConditionalFormat",
    "BarChart",
    "PageSetup",
    "SheetSpec",
    "replace_sheet",
    "sheet_names",
    "XlsxPackageError",
    "UnsafeXmlError",
]


# --------------------------------------------------------------------------- errors


class XlsxPackageError(Exception):
    """The workbook package cannot be edited (malformed, unsupported, …)."""


class UnsafeXmlError(XlsxPackageError):
    """A part of the workbook contains a DTD / entity declarations (e.g. an XML bomb)."""


# --------------------------------------------------------------------------- public data


@dataclass(frozen=True)
class Style:
    """A cell format; equal Styles share one ``cellXfs`` entry."""

    number_format: str | None = None  # e.g. '#,##0.00', '0.00%', 'yyyy"年"m"月"d"日"'
    bold: bool = False
    font_color: str | None = None  # 'FF0000' style RGB (or 8-digit ARGB)
    fill: str | None = None  # solid fill RGB, e.g. 'DDEBF7'
    wrap: bool = False
    horizontal: str | None = None  # 'center', 'left', 'right', …
    border: bool = False  # thin border all round
    underline: bool = False  # for hyperlinks (blue + underline via font_color)
    top_border: str | None = None  # top edge style ('thin', 'medium', 'double', …), e.g. above a totals row


@dataclass(frozen=True)
class Cell:
    value: object  # None, str, bool, int, float, Decimal, date / datetime / time
    style: Style | None = None
    hyperlink: str | None = None  # relative path / URL (external rel) or '#Sheet!A1' (internal)


@dataclass(frozen=True)
class ConditionalFormat:
    """A ``cellIs`` rule: cells in ``range`` whose value satisfies ``operator`` get ``style``.

    Only the font (bold, underline, font_color), the fill and the borders of ``style`` apply;
    it is written as a ``<dxf>`` in styles.xml (an identical existing one is reused).
    """

    range: str  # e.g. 'H3:H6'; several ranges separated by spaces
    operator: str  # lessThan, lessThanOrEqual, greaterThan, greaterThanOrEqual, equal, notEqual,
    #                between, notBetween
    formula: str  # e.g. '0.9' (a formula without the leading '=')
    formula2: str | None = None  # the upper bound for between / notBetween
    style: Style = Style(font_color="9C0006", fill="FFC7CE")  # Excel's "light red fill, dark red text"


@dataclass
class BarChart:
    """A native clustered bar (horizontal) or column chart of one series from this sheet.

    ``categories`` and ``values`` are ranges on the generated sheet (one row or one column,
    same length); the chart caches the labels and numbers found there in ``SheetSpec.rows``.
    """

    title: str
    categories: str  # e.g. 'B3:B6'
    values: str  # e.g. 'H3:H6'
    anchor: str  # the cells the chart covers, e.g. 'B9:H26'
    series_name: str | None = None
    number_format: str = "General"  # value axis, e.g. '0%'
    label_format: str | None = None  # show data labels in this format, e.g. '0.00%'; None = no labels
    horizontal: bool = True  # bars (True) or columns (False)
    color: str = "4472C4"  # bar fill RGB
    point_colors: dict[int, str] = field(default_factory=dict)  # 0-based point -> fill RGB
    axis_min: float | None = None
    axis_max: float | None = None


@dataclass(frozen=True)
class PageSetup:
    landscape: bool = False
    paper_size: int | None = 9  # 9 = A4
    fit_to_width: int | None = None  # scale to this many pages wide (height unlimited)


@dataclass
class SheetSpec:
    name: str
    rows: list[list[object | Cell]]  # row-major from A1; plain values are wrapped as Cell(value)
    column_widths: dict[int, float] = field(default_factory=dict)  # 1-based column -> width
    row_heights: dict[int, float] = field(default_factory=dict)  # 1-based row -> height in points
    freeze: str | None = None  # top-left unfrozen cell, e.g. 'A3'
    merges: list[str] = field(default_factory=list)  # e.g. ['A1:L1']
    autofilter: str | None = None  # e.g. 'A2:L10'
    conditional_formats: list[ConditionalFormat] = field(default_factory=list)
    charts: list[BarChart] = field(default_factory=list)
    page_setup: PageSetup | None = None


# --------------------------------------------------------------------------- constants

_CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
_CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
_NS_MAIN_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
_DML_TRANSITIONAL = {
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
}
_DML_STRICT = {
    "a": "http://purl.oclc.org/ooxml/drawingml/main",
    "c": "http://purl.oclc.org/ooxml/drawingml/chart",
    "xdr": "http://purl.oclc.org/ooxml/drawingml/spreadsheetDrawing",
}
_CF_OPERATORS = {"lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual", "equal", "notEqual",
                 "between", "notBetween"}
_BORDER_STYLES = {"thin", "medium", "thick", "double", "dashed", "dotted", "hair", "mediumDashed",
                  "dashDot", "mediumDashDot", "dashDotDot", "mediumDashDotDot", "slantDashDot"}
_NS_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_NS_MAIN_TRANSITIONAL = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_R_TRANSITIONAL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_RT_WORKSHEET_TRANSITIONAL = _NS_R_TRANSITIONAL + "/worksheet"
_CONTENT_TYPES = "[Content_Types].xml"

_MAX_PARSED_PART = 256 * 1024 * 1024  # refuse to inflate absurdly large XML parts
_MAX_ROWS = 1_048_576
_MAX_COLS = 16_384
_MAX_CELL_TEXT = 32_767

_BUILTIN_NUMFMTS = {
    "General": 0,
    "0": 1,
    "0.00": 2,
    "#,##0": 3,
    "#,##0.00": 4,
    "0%": 9,
    "0.00%": 10,
    "0.00E+00": 11,
    "# ?/?": 12,
    "# ??/??": 13,
    "@": 49,
}
_DEFAULT_DATE_FMT = "yyyy-mm-dd"
_DEFAULT_DATETIME_FMT = "yyyy-mm-dd hh:mm:ss"
_DEFAULT_TIME_FMT = "hh:mm:ss"

_ILLEGAL_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXCEL_ESCAPE_LIKE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


# --------------------------------------------------------------------------- small helpers


def _col_letter(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _parse_ref(ref: str) -> tuple[int, int]:
    """'B3' -> (row 3, col 2)."""
    m = _CELL_REF.match(ref.strip())
    if not m:
        raise ValueError(f"invalid cell reference: {ref!r}")
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    row = int(m.group(2))
    if not (1 <= col <= _MAX_COLS and 1 <= row <= _MAX_ROWS):
        raise ValueError(f"cell reference out of range: {ref!r}")
    return row, col


def _parse_range(ref: str) -> tuple[int, int, int, int]:
    parts = ref.strip().split(":")
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2:
        raise ValueError(f"invalid range: {ref!r}")
    r1, c1 = _parse_ref(parts[0])
    r2, c2 = _parse_ref(parts[1])
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def _range_str(r1: int, c1: int, r2: int, c2: int) -> str:
    a = f"{_col_letter(c1)}{r1}"
    b = f"{_col_letter(c2)}{r2}"
    return a if a == b else f"{a}:{b}"


def _clean_text(s: str) -> str:
    return _ILLEGAL_XML_CHARS.sub("", s)


def _esc_text(s: str) -> str:
    return (
        s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _esc_attr(s: str) -> str:
    return (
        _clean_text(s)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _ns(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _norm_color(value: str, what: str) -> str:
    v = value.strip().lstrip("#").upper()
    if not re.fullmatch(r"[0-9A-F]{6}([0-9A-F]{2})?", v):
        raise ValueError(f"{what} must be an RGB hex colour like 'FF0000', got {value!r}")
    return v if len(v) == 8 else "FF" + v


def _parse_xml(data: bytes, part: str) -> Element:
    """Parse a part from the user's file, refusing DTDs / entities (XML bombs)."""
    try:
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise UnsafeXmlError(
            f"refusing to parse {part}: it contains a DTD or entity declarations "
            f"(possible XML bomb): {exc!r}"
        ) from exc
    except Exception as exc:  # ParseError and friends
        raise XlsxPackageError(f"{part} is not well-formed XML: {exc}") from exc


def _decode(data: bytes, part: str) -> tuple[str, bytes, str]:
    """Return (text, bom, codec) so that bom + text.encode(codec) == data."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            break
    else:
        bom, codec = b"", "utf-8"
    try:
        text = data[len(bom):].decode(codec)
    except UnicodeDecodeError as exc:
        raise XlsxPackageError(f"{part}: unsupported text encoding ({exc})") from exc
    return text, bom, codec


# --------------------------------------------------------------------------- textual XML editing

_TOKEN = re.compile(
    r"<!--.*?-->"
    r"|<!\[CDATA\[.*?\]\]>"
    r"|<\?.*?\?>"
    r"|<!.*?>"
    r"|</(?P<close>[^\s>]+)\s*>"
    r"|<(?P<open>[^\s/>!?]+)(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(?P<selfclose>/?)>",
    re.S,
)
_ATTR = re.compile(r"([^\s=/>]+)\s*=\s*(\"[^\"]*\"|'[^']*')")


class _TEl:
    """Position information of one element in the XML text, paired with its ET element."""

    __slots__ = ("qname", "start", "open_end", "close_start", "end", "self_closing", "children", "et")

    def __init__(self, qname: str, start: int, open_end: int, self_closing: bool):
        self.qname = qname
        self.start = start
        self.open_end = open_end
        self.close_start = open_end if self_closing else -1
        self.end = open_end if self_closing else -1
        self.self_closing = self_closing
        self.children: list[_TEl] = []
        self.et: Element | None = None

    @property
    def prefix(self) -> str:
        return self.qname.split(":", 1)[0] + ":" if ":" in self.qname else ""

    @property
    def local(self) -> str:
        return self.qname.split(":", 1)[-1]

    def find(self, local: str) -> _TEl | None:
        for ch in self.children:
            if ch.local == local and ch.prefix == self.prefix:
                return ch
        return None

    def findall(self, local: str) -> list[_TEl]:
        return [ch for ch in self.children if ch.local == local and ch.prefix == self.prefix]


class _Doc:
    """An XML part that is edited by splicing text; untouched regions keep their bytes."""

    def __init__(self, data: bytes, part: str):
        self.part = part
        self.original = data
        self.et_root = _parse_xml(data, part)  # defusedxml first: refuses bombs before any scan
        self.text, self._bom, self._codec = _decode(data, part)
        self.root = self._scan()
        self._pair(self.root, self.et_root)
        self._edits: list[tuple[int, int, int, str]] = []

    # -- structure
    def _scan(self) -> _TEl:
        stack: list[_TEl] = []
        root: _TEl | None = None
        for m in _TOKEN.finditer(self.text):
            if m.group("open"):
                el = _TEl(m.group("open"), m.start(), m.end(), bool(m.group("selfclose")))
                if stack:
                    stack[-1].children.append(el)
                elif root is None:
                    root = el
                if not el.self_closing:
                    stack.append(el)
            elif m.group("close"):
                if not stack or stack[-1].qname != m.group("close"):
                    raise XlsxPackageError(f"{self.part}: unexpected closing tag {m.group('close')}")
                el = stack.pop()
                el.close_start, el.end = m.start(), m.end()
        if root is None or stack:
            raise XlsxPackageError(f"{self.part}: could not scan the XML structure")
        return root

    def _pair(self, tel: _TEl, et: Element) -> None:
        kids = list(et)
        if _local(et.tag) != tel.local or len(kids) != len(tel.children):
            raise XlsxPackageError(f"{self.part}: XML structure scan mismatch at <{tel.qname}>")
        tel.et = et
        for t, e in zip(tel.children, kids):
            self._pair(t, e)

    # -- edits (applied on to_bytes)
    def _edit(self, start: int, end: int, new: str) -> None:
        self._edits.append((start, end, len(self._edits), new))

    @property
    def changed(self) -> bool:
        return bool(self._edits)

    def set_attr(self, el: _TEl, name: str, value: str) -> None:
        open_tag = self.text[el.start:el.open_end]
        for m in _ATTR.finditer(open_tag, 1 + len(el.qname)):
            if m.group(1) == name:
                q = m.group(2)[0]
                self._edit(el.start + m.start(2), el.start + m.end(2), q + _esc_attr(value) + q)
                return
        tail = 2 if el.self_closing else 1
        self._edit(el.open_end - tail, el.open_end - tail, f' {name}="{_esc_attr(value)}"')

    def append_children(self, el: _TEl, xml: str) -> None:
        if el.self_closing:
            # '<x a="1"/>' -> '<x a="1">' + xml + '</x>'
            slash = self.text.rindex("/", el.start, el.open_end)
            self._edit(slash, el.open_end, f">{xml}</{el.qname}>")
        else:
            self._edit(el.close_start, el.close_start, xml)

    def insert_after_open(self, el: _TEl, xml: str) -> None:
        if el.self_closing:
            self.append_children(el, xml)
        else:
            self._edit(el.open_end, el.open_end, xml)

    def insert_after(self, el: _TEl, xml: str) -> None:
        self._edit(el.end, el.end, xml)

    def remove(self, el: _TEl) -> None:
        self._edit(el.start, el.end, "")

    def to_bytes(self) -> bytes:
        if not self._edits:
            return self.original
        out: list[str] = []
        pos = 0
        for start, end, _seq, new in sorted(self._edits):
            if start < pos:
                raise XlsxPackageError(f"{self.part}: overlapping edits")  # pragma: no cover
            out.append(self.text[pos:start])
            out.append(new)
            pos = end
        out.append(self.text[pos:])
        return self._bom + "".join(out).encode(self._codec)


# --------------------------------------------------------------------------- zip I/O


def _rels_name(part: str) -> str:
    d, b = posixpath.split(part)
    return posixpath.join(d, "_rels", b + ".rels")


def _source_of_rels(rels: str) -> str | None:
    d, b = posixpath.split(rels)
    if posixpath.basename(d) != "_rels" or not b.endswith(".rels"):
        return None
    return posixpath.join(posixpath.dirname(d), b[: -len(".rels")])


def _resolve(source: str, target: str) -> str:
    target = unquote(target.split("#", 1)[0])
    if target.startswith("/"):
        p = target
    else:
        p = posixpath.join("/" + posixpath.dirname(source), target)
    return posixpath.normpath(p).lstrip("/")


class _Package:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.zf = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile as exc:
            raise XlsxPackageError(
                f"{self.path} is not an xlsx/xlsm zip package (password-protected workbooks "
                f"and legacy .xls files are not supported)"
            ) from exc
        self.infos = self.zf.infolist()
        self.by_lower = {i.filename.lower(): i.filename for i in self.infos}

    def close(self) -> None:
        self.zf.close()

    def name(self, part: str) -> str | None:
        return self.by_lower.get(part.lower())

    def read(self, part: str) -> bytes:
        name = self.name(part)
        if name is None:
            raise XlsxPackageError(f"missing package part {part}")
        info = self.zf.getinfo(name)
        if info.file_size > _MAX_PARSED_PART:
            raise XlsxPackageError(f"{part} is implausibly large ({info.file_size} bytes)")
        return self.zf.read(info)

    def rels(self, source: str) -> list[dict]:
        """Relationships of a part ('' for the package): dicts with Id/Type/Target/mode/part."""
        name = self.name(_rels_name(source) if source else "_rels/.rels")
        if name is None:
            return []
        root = _parse_xml(self.read(name), name)
        out = []
        for r in root:
            if _local(r.tag) != "Relationship":
                continue
            mode = r.get("TargetMode", "Internal")
            target = r.get("Target", "")
            out.append(
                {
                    "Id": r.get("Id", ""),
                    "Type": r.get("Type", ""),
                    "Target": target,
                    "external": mode == "External",
                    "part": None if mode == "External" else _resolve(source, target),
                }
            )
        return out

    def workbook_part(self) -> str:
        for r in self.rels(""):
            if r["Type"].endswith("/officeDocument") and not r["external"]:
                name = self.name(r["part"])
                if name:
                    return name
        name = self.name("xl/workbook.xml")
        if name:
            return name
        raise XlsxPackageError(f"{self.path}: no workbook part found")


def _workbook_sheets(doc: _Doc) -> list[_TEl]:
    sheets = doc.root.find("sheets")
    if sheets is None:
        raise XlsxPackageError(f"{doc.part}: no <sheets> element")
    return sheets.findall("sheet")


def _rid_of(el: Element) -> str | None:
    for k, v in el.attrib.items():
        if k.startswith("{") and _local(k) == "id":
            return v
    return None


def sheet_names(path: str | Path) -> list[str]:
    """Sheet names in workbook order (parsed with defusedxml)."""
    pkg = _Package(path)
    try:
        wb = pkg.workbook_part()
        root = _parse_xml(pkg.read(wb), wb)
        names = []
        for sheets in root:
            if _local(sheets.tag) == "sheets":
                names.extend(s.get("name", "") for s in sheets if _local(s.tag) == "sheet")
        return names
    finally:
        pkg.close()


# --------------------------------------------------------------------------- styles


def _norm_el(el: Element) -> tuple:
    return (
        _local(el.tag),
        tuple(sorted((_local(k), v) for k, v in el.attrib.items())),
        tuple(_norm_el(c) for c in el),
    )


def _ser_el(el: Element, prefix: str) -> str:
    tag = prefix + _local(el.tag)
    attrs = "".join(f' {k}="{_esc_attr(v)}"' for k, v in el.attrib.items())
    kids = "".join(_ser_el(c, prefix) for c in el)
    return f"<{tag}{attrs}>{kids}</{tag}>" if kids else f"<{tag}{attrs}/>"


def _E(tag: str, attrib: dict | None = None, *children: Element) -> Element:
    el = Element(tag, attrib or {})
    el.extend(children)
    return el


class _Styles:
    """Finds or appends the cellXfs entries for our Styles in styles.xml (append-only)."""

    def __init__(self, doc: _Doc):
        self.doc = doc
        root = doc.root
        self.prefix = root.prefix
        self.numfmts_el = root.find("numFmts")
        self.numfmts: dict[str, int] = {}
        self.max_numfmt = 163
        if self.numfmts_el is not None:
            for nf in self.numfmts_el.findall("numFmt"):
                try:
                    nid = int(nf.et.get("numFmtId", ""))
                except ValueError:
                    continue
                self.max_numfmt = max(self.max_numfmt, nid)
                self.numfmts.setdefault(nf.et.get("formatCode", ""), nid)
        self.groups = {}
        for local in ("fonts", "fills", "borders", "cellXfs", "dxfs"):
            el = root.find(local)
            kids = [c for c in el.children] if el is not None else []
            self.groups[local] = {
                "el": el,
                "count": len(kids),
                "index": {},
                "new": [],
            }
            for i, c in enumerate(kids):
                self.groups[local]["index"].setdefault(_norm_el(c.et), i)
        csx = root.find("cellStyleXfs")
        self.has_cell_style_xfs = csx is not None and bool(csx.children)
        fonts = self.groups["fonts"]["el"]
        self.font0 = fonts.children[0].et if fonts is not None and fonts.children else None
        self.new_numfmts: list[tuple[int, str]] = []
        self.cache: dict[Style, int] = {}

    def _intern(self, group: str, el: Element) -> int:
        g = self.groups[group]
        if g["el"] is None and group != "dxfs":  # a missing <dxfs> is created by apply()
            raise XlsxPackageError(f"styles.xml has no <{group}> element")
        key = _norm_el(el)
        if key not in g["index"]:
            g["index"][key] = g["count"] + len(g["new"])
            g["new"].append(el)
        return g["index"][key]

    def _numfmt(self, code: str) -> int:
        if code in _BUILTIN_NUMFMTS:
            return _BUILTIN_NUMFMTS[code]
        if code not in self.numfmts:
            self.max_numfmt += 1
            self.numfmts[code] = self.max_numfmt
            self.new_numfmts.append((self.max_numfmt, code))
        return self.numfmts[code]

    def _font(self, st: Style) -> int:
        if not (st.bold or st.underline or st.font_color):
            return 0
        base = list(self.font0) if self.font0 is not None else [
            _E("sz", {"val": "11"}),
            _E("name", {"val": "Calibri"}),
        ]
        kids: list[Element] = []
        if st.bold:
            kids.append(_E("b"))
        if st.underline:
            kids.append(_E("u"))
        color_done = False
        for c in base:
            loc = _local(c.tag)
            if loc in ("b", "u"):
                continue
            if loc == "color" and st.font_color:
                kids.append(_E("color", {"rgb": _norm_color(st.font_color, "font_color")}))
                color_done = True
                continue
            kids.append(_E(loc, {_local(k): v for k, v in c.attrib.items()}))
        if st.font_color and not color_done:
            at = next((i for i, k in enumerate(kids) if k.tag in ("name", "family", "charset", "scheme")),
                      len(kids))
            kids.insert(at, _E("color", {"rgb": _norm_color(st.font_color, "font_color")}))
        return self._intern("fonts", _E("font", {}, *kids))

    def _fill(self, st: Style) -> int:
        if not st.fill:
            return 0
        el = _E(
            "fill",
            {},
            _E(
                "patternFill",
                {"patternType": "solid"},
                _E("fgColor", {"rgb": _norm_color(st.fill, "fill")}),
                _E("bgColor", {"indexed": "64"}),
            ),
        )
        return self._intern("fills", el)

    @staticmethod
    def _border_el(st: Style) -> Element | None:
        if not (st.border or st.top_border):
            return None
        if st.top_border is not None and st.top_border not in _BORDER_STYLES:
            raise ValueError(f"invalid border style: {st.top_border!r}")
        sides = []
        for side in ("left", "right", "top", "bottom"):
            kind = (st.top_border or "thin") if side == "top" else ("thin" if st.border else None)
            sides.append(_E(side, {"style": kind}, _E("color", {"indexed": "64"})) if kind else _E(side))
        return _E("border", {}, *sides, _E("diagonal"))

    def _border(self, st: Style) -> int:
        el = self._border_el(st)
        return 0 if el is None else self._intern("borders", el)

    def dxf(self, st: Style) -> int:
        """The index of a differential format (conditional formatting) for ``st``."""
        if st.number_format or st.wrap or st.horizontal:
            raise ValueError("conditional formats support font, fill and border only")
        kids: list[Element] = []
        font = []
        if st.bold:
            font.append(_E("b"))
        if st.underline:
            font.append(_E("u"))
        if st.font_color:
            font.append(_E("color", {"rgb": _norm_color(st.font_color, "font_color")}))
        if font:
            kids.append(_E("font", {}, *font))
        if st.fill:  # Excel's own dxf form: the solid colour is the pattern's bgColor
            kids.append(_E("fill", {}, _E("patternFill", {}, _E("bgColor", {"rgb": _norm_color(st.fill, "fill")}))))
        border = self._border_el(st)
        if border is not None:
            kids.append(border)
        if not kids:
            raise ValueError("a conditional format needs a font colour, bold, underline, fill or border")
        return self._intern("dxfs", _E("dxf", {}, *kids))

    def xf(self, st: Style | None) -> int:
        if st is None or st == Style():
            return 0
        if st in self.cache:
            return self.cache[st]
        if st.horizontal is not None and st.horizontal not in {
            "general", "left", "center", "right", "fill", "justify", "centerContinuous", "distributed",
        }:
            raise ValueError(f"invalid horizontal alignment: {st.horizontal!r}")
        num = self._numfmt(st.number_format) if st.number_format else 0
        font, fill, border = self._font(st), self._fill(st), self._border(st)
        attrs = {"numFmtId": str(num), "fontId": str(font), "fillId": str(fill), "borderId": str(border)}
        if self.has_cell_style_xfs:
            attrs["xfId"] = "0"
        if num:
            attrs["applyNumberFormat"] = "1"
        if font:
            attrs["applyFont"] = "1"
        if fill:
            attrs["applyFill"] = "1"
        if border:
            attrs["applyBorder"] = "1"
        align = {}
        if st.horizontal:
            align["horizontal"] = st.horizontal
        if st.wrap:
            align["wrapText"] = "1"
        kids = []
        if align:
            attrs["applyAlignment"] = "1"
            kids.append(_E("alignment", align))
        idx = self._intern("cellXfs", _E("xf", attrs, *kids))
        self.cache[st] = idx
        return idx

    def apply(self) -> None:
        doc, p = self.doc, self.prefix
        if self.new_numfmts:
            xml = "".join(
                f'<{p}numFmt numFmtId="{i}" formatCode="{_esc_attr(code)}"/>' for i, code in self.new_numfmts
            )
            if self.numfmts_el is None:
                n = len(self.new_numfmts)
                doc.insert_after_open(doc.root, f'<{p}numFmts count="{n}">{xml}</{p}numFmts>')
            else:
                total = len(self.numfmts_el.children) + len(self.new_numfmts)
                doc.set_attr(self.numfmts_el, "count", str(total))
                doc.append_children(self.numfmts_el, xml)
        for local, g in self.groups.items():
            if not g["new"]:
                continue
            xml = "".join(_ser_el(e, p) for e in g["new"])
            if g["el"] is not None:
                doc.set_attr(g["el"], "count", str(g["count"] + len(g["new"])))
                doc.append_children(g["el"], xml)
                continue
            # only <dxfs> may be missing: it goes after cellStyles (CT_Stylesheet element order)
            assert local == "dxfs"
            el = f'<{p}dxfs count="{len(g["new"])}">{xml}</{p}dxfs>'
            anchor = None
            for before in ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles"):
                found = doc.root.find(before)
                anchor = found if found is not None else anchor
            if anchor is None:
                doc.insert_after_open(doc.root, el)
            else:
                doc.insert_after(anchor, el)


# --------------------------------------------------------------------------- worksheet XML


def _excel_serial(value: dt.date | dt.datetime, date1904: bool, compat1900: bool = True) -> float | None:
    """Excel serial number, or None when the date precedes the workbook's epoch.

    ``compat1900`` is workbookPr/@dateCompatibility (default true: Excel's 1900 system with
    its fictitious 1900-02-29).  LibreOffice writes dateCompatibility="false", meaning a plain
    1899-12-30 base; both agree from 1900-03-01 on.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        day = value.date()
        frac = (value - dt.datetime.combine(day, dt.time())).total_seconds() / 86400.0
    else:
        day, frac = value, 0.0
    if date1904:
        n = (day - dt.date(1904, 1, 1)).days
        if n < 0:
            return None
    elif not compat1900:
        n = (day - dt.date(1899, 12, 30)).days
        if n < 1:
            return None
    else:
        n = (day - dt.date(1899, 12, 31)).days
        if n < 1:
            return None
        if n >= 60:  # Excel's fictitious 1900-02-29
            n += 1
    return n + frac


def _num_str(value) -> str | None:
    """Plain number text for <v>, or None for NaN; raises OverflowError for infinities."""
    if isinstance(value, Decimal):
        if value.is_nan():
            return None
        if value.is_infinite():
            raise OverflowError
        s = format(value, "f")
        if "." in s:
            s = s.rstrip("0").rstrip(".")
        return "0" if s in ("", "-0") else s
    if isinstance(value, numbers.Integral):
        return str(int(value))
    f = float(value)
    if math.isnan(f):
        return None
    if math.isinf(f):
        raise OverflowError
    if f.is_integer() and abs(f) < 1e16:
        return str(int(f))
    return repr(f)


def _is_missing(value) -> bool:
    try:
        return value != value  # NaN, pandas NaT
    except Exception:
        return False


def _build_sheet_xml(
    spec: SheetSpec,
    styles: _Styles,
    *,
    ns_main: str,
    ns_r: str,
    date1904: bool,
    compat1900: bool = True,
    tab_selected: bool,
    hyperlink_rel_type: str,
    drawing_target: str | None = None,
) -> tuple[bytes, bytes | None]:
    """Return (worksheet xml, worksheet rels xml or None).  ``drawing_target`` is the
    drawing part relative to the sheet part, when the sheet has charts."""
    cells_xml: list[str] = []
    hyperlinks: list[tuple[str, str]] = []  # (ref, target)
    max_row = max_col = 0
    if len(spec.rows) > _MAX_ROWS:
        raise ValueError("too many rows for a worksheet")
    for r_idx, row in enumerate(spec.rows, start=1):
        if len(row) > _MAX_COLS:
            raise ValueError(f"row {r_idx} has too many columns")
        parts: list[str] = []
        for c_idx, item in enumerate(row, start=1):
            cell = item if isinstance(item, Cell) else Cell(item)
            value, st = cell.value, cell.style
            ref = f"{_col_letter(c_idx)}{r_idx}"
            if _is_missing(value):
                value = None
            t = v = None
            inline = None
            if value is None:
                pass
            elif isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b":
                t, v = "b", "1" if value else "0"
            elif isinstance(value, (dt.date, dt.datetime)):
                serial = _excel_serial(value, date1904, compat1900)
                if serial is None:  # before the epoch: keep it readable as text
                    inline = value.isoformat()
                else:
                    v = _num_str(serial)
                    if st is None or st.number_format is None:
                        fmt = _DEFAULT_DATETIME_FMT if isinstance(value, dt.datetime) else _DEFAULT_DATE_FMT
                        st = replace(st or Style(), number_format=fmt)
            elif isinstance(value, dt.time):
                secs = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
                v = _num_str(secs / 86400.0)
                if st is None or st.number_format is None:
                    st = replace(st or Style(), number_format=_DEFAULT_TIME_FMT)
            elif isinstance(value, (numbers.Number, Decimal)) and not isinstance(value, complex):
                try:
                    v = _num_str(value)
                except OverflowError:
                    t, v = "e", "#NUM!"
            else:
                inline = str(value)
            s = styles.xf(st)
            if value is None and s == 0 and not cell.hyperlink:
                continue
            attrs = f' r="{ref}"' + (f' s="{s}"' if s else "")
            if inline is not None:
                text = _clean_text(inline)[:_MAX_CELL_TEXT]
                text = _EXCEL_ESCAPE_LIKE.sub(r"_x005F_\1", text)
                parts.append(
                    f'<c{attrs} t="inlineStr"><is><t xml:space="preserve">{_esc_text(text)}</t></is></c>'
                )
            elif v is not None:
                parts.append(f'<c{attrs}{f" t={chr(34)}{t}{chr(34)}" if t else ""}><v>{v}</v></c>')
            else:
                parts.append(f"<c{attrs}/>")
            if cell.hyperlink:
                hyperlinks.append((ref, cell.hyperlink))
            max_row = max(max_row, r_idx)
            max_col = max(max_col, c_idx)
        height = spec.row_heights.get(r_idx)
        ht = ""
        if height is not None:
            height = float(height)
            if not 0 <= height <= 409:
                raise ValueError(f"row height out of range: {height}")
            ht = f' ht="{height:g}" customHeight="1"'
        if parts or ht:
            cells_xml.append(f'<row r="{r_idx}"{ht}>{"".join(parts)}</row>')

    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n']
    out.append(f'<worksheet xmlns="{ns_main}" xmlns:r="{ns_r}">')
    ps = spec.page_setup
    if ps is not None and ps.fit_to_width:
        out.append('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>')
    out.append(f'<dimension ref="{_range_str(1, 1, max_row, max_col) if max_row else "A1"}"/>')

    view = f'<sheetView{" tabSelected=" + chr(34) + "1" + chr(34) if tab_selected else ""} workbookViewId="0">'
    if spec.freeze:
        frow, fcol = _parse_ref(spec.freeze)
        xs, ys = fcol - 1, frow - 1
        top_left = f"{_col_letter(fcol)}{frow}"
        if xs or ys:
            active = "bottomRight" if xs and ys else ("bottomLeft" if ys else "topRight")
            pane = "<pane"
            if xs:
                pane += f' xSplit="{xs}"'
            if ys:
                pane += f' ySplit="{ys}"'
            pane += f' topLeftCell="{top_left}" activePane="{active}" state="frozen"/>'
            view += pane
            if xs and ys:
                view += '<selection pane="topRight"/><selection pane="bottomLeft"/>'
            view += f'<selection pane="{active}" activeCell="{top_left}" sqref="{top_left}"/>'
    view += "</sheetView>"
    out.append(f"<sheetViews>{view}</sheetViews>")
    out.append('<sheetFormatPr defaultRowHeight="15"/>')

    if spec.column_widths:
        cols = []
        for col, width in sorted(spec.column_widths.items()):
            col = int(col)
            if not 1 <= col <= _MAX_COLS:
                raise ValueError(f"column index out of range: {col}")
            width = float(width)
            if not 0 <= width <= 255:
                raise ValueError(f"column width out of range: {width}")
            cols.append(f'<col min="{col}" max="{col}" width="{width:g}" customWidth="1"/>')
        out.append(f"<cols>{''.join(cols)}</cols>")

    out.append(f"<sheetData>{''.join(cells_xml)}</sheetData>" if cells_xml else "<sheetData/>")

    if spec.autofilter:
        out.append(f'<autoFilter ref="{_range_str(*_parse_range(spec.autofilter))}"/>')
    if spec.merges:
        rects = [_parse_range(m) for m in spec.merges]
        for i, a in enumerate(rects):
            if a[0] == a[2] and a[1] == a[3]:
                raise ValueError(f"merge range is a single cell: {spec.merges[i]!r}")
            for b in rects[:i]:
                if a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]:
                    raise ValueError(f"overlapping merge ranges: {spec.merges[i]!r}")
        merges = "".join(f'<mergeCell ref="{_range_str(*r)}"/>' for r in rects)
        out.append(f'<mergeCells count="{len(rects)}">{merges}</mergeCells>')

    for priority, cf in enumerate(spec.conditional_formats, start=1):
        out.append(_conditional_formatting_xml(cf, priority, styles))

    rels: list[str] = []
    if hyperlinks:
        links = []
        for ref, target in hyperlinks:
            target = _clean_text(target)
            if target.startswith("#"):
                links.append(f'<hyperlink ref="{ref}" location="{_esc_attr(target[1:])}"/>')
                continue
            rid = f"rId{len(rels) + 1}"
            rels.append(
                f'<Relationship Id="{rid}" Type="{_esc_attr(hyperlink_rel_type)}" '
                f'Target="{_esc_attr(target)}" TargetMode="External"/>'
            )
            links.append(f'<hyperlink ref="{ref}" r:id="{rid}"/>')
        out.append(f"<hyperlinks>{''.join(links)}</hyperlinks>")
    out.append('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>')
    if ps is not None:
        attrs = ""
        if ps.paper_size:
            attrs += f' paperSize="{int(ps.paper_size)}"'
        attrs += f' orientation="{"landscape" if ps.landscape else "portrait"}"'
        if ps.fit_to_width:
            attrs += f' fitToWidth="{int(ps.fit_to_width)}" fitToHeight="0"'
        out.append(f"<pageSetup{attrs}/>")
    if drawing_target is not None:
        rid = f"rId{len(rels) + 1}"
        drawing_rel_type = hyperlink_rel_type.rsplit("/", 1)[0] + "/drawing"
        rels.append(f'<Relationship Id="{rid}" Type="{_esc_attr(drawing_rel_type)}" '
                    f'Target="{_esc_attr(drawing_target)}"/>')
        out.append(f'<drawing r:id="{rid}"/>')
    out.append("</worksheet>")
    rels_xml = _rels_xml(rels) if rels else None
    return "".join(out).encode("utf-8"), rels_xml


def _rels_xml(rels: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_NS_PKG_RELS}">{"".join(rels)}</Relationships>'
    ).encode("utf-8")


def _formula_xml(formula: str) -> str:
    f = _clean_text(str(formula)).strip()
    if f.startswith("="):
        f = f[1:]
    if not f:
        raise ValueError("empty formula in a conditional format")
    return f"<formula>{_esc_text(f)}</formula>"


def _sqref(ranges: str) -> str:
    refs = [_range_str(*_parse_range(r)) for r in ranges.split()]
    if not refs:
        raise ValueError("conditional format without a range")
    return " ".join(refs)


def _conditional_formatting_xml(cf: ConditionalFormat, priority: int, styles: _Styles) -> str:
    if cf.operator not in _CF_OPERATORS:
        raise ValueError(f"invalid conditional format operator: {cf.operator!r}")
    two = cf.operator in ("between", "notBetween")
    if two != (cf.formula2 is not None):
        raise ValueError(f"operator {cf.operator!r} needs {'two formulas' if two else 'one formula'}")
    formulas = _formula_xml(cf.formula) + (_formula_xml(cf.formula2) if two else "")
    dxf = styles.dxf(cf.style)
    return (
        f'<conditionalFormatting sqref="{_sqref(cf.range)}">'
        f'<cfRule type="cellIs" dxfId="{dxf}" priority="{priority}" operator="{cf.operator}">'
        f"{formulas}</cfRule></conditionalFormatting>"
    )


# --------------------------------------------------------------------------- charts


def _spec_value(spec: SheetSpec, row: int, col: int) -> object:
    if row > len(spec.rows) or col > len(spec.rows[row - 1]):
        return None
    item = spec.rows[row - 1][col - 1]
    value = item.value if isinstance(item, Cell) else item
    return None if _is_missing(value) else value


def _line_cells(spec: SheetSpec, ref: str, what: str) -> tuple[str, list[object]]:
    """A one-row or one-column range -> (absolute '$B$3:$B$6', cell values)."""
    r1, c1, r2, c2 = _parse_range(ref)
    if r1 != r2 and c1 != c2:
        raise ValueError(f"chart {what} must be one row or one column: {ref!r}")
    cells = [(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
    absolute = f"${_col_letter(c1)}${r1}" + ("" if (r1, c1) == (r2, c2) else f":${_col_letter(c2)}${r2}")
    return absolute, [_spec_value(spec, r, c) for r, c in cells]


def _rich_text(text: str, size: int, bold: bool) -> str:
    b = ' b="1"' if bold else ' b="0"'
    return (
        f'<c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="{size}"{b}/></a:pPr>'
        f'<a:r><a:rPr lang="zh-CN" sz="{size}"{b}/><a:t>{_esc_text(_clean_text(text))}</a:t></a:r>'
        f"</a:p></c:rich></c:tx>"
    )


def _solid(rgb: str, what: str) -> str:
    return f'<a:solidFill><a:srgbClr val="{_norm_color(rgb, what)[2:]}"/></a:solidFill>'


def _build_chart_xml(spec: SheetSpec, chart: BarChart, dml: dict[str, str], ns_r: str) -> bytes:
    sheet_ref = "'" + spec.name.replace("'", "''") + "'!"
    cat_ref, cats = _line_cells(spec, chart.categories, "categories")
    val_ref, vals = _line_cells(spec, chart.values, "values")
    if len(cats) != len(vals):
        raise ValueError(f"chart categories {chart.categories!r} and values {chart.values!r} differ in length")
    _parse_range(chart.anchor)

    str_pts = []
    for i, v in enumerate(cats):
        if v is None:
            continue
        if isinstance(v, (numbers.Number, Decimal)) and not isinstance(v, bool):
            text = _num_str(v) or ""
        else:
            text = str(v)
        str_pts.append(f'<c:pt idx="{i}"><c:v>{_esc_text(_clean_text(text))}</c:v></c:pt>')
    num_pts = []
    for i, v in enumerate(vals):
        if isinstance(v, bool) or not isinstance(v, (numbers.Number, Decimal)):
            continue
        try:
            text = _num_str(float(v) if isinstance(v, Decimal) else v)
        except OverflowError:
            continue
        if text is not None:
            num_pts.append(f'<c:pt idx="{i}"><c:v>{text}</c:v></c:pt>')
    value_fmt = next(
        (c.style.number_format for _pos, c in _cells_in(spec, chart.values) if isinstance(c, Cell) and c.style
         and c.style.number_format), "General",
    )

    ser = ['<c:ser><c:idx val="0"/><c:order val="0"/>']
    if chart.series_name:
        ser.append(f"<c:tx><c:v>{_esc_text(_clean_text(chart.series_name))}</c:v></c:tx>")
    ser.append(f"<c:spPr>{_solid(chart.color, 'chart color')}</c:spPr>")
    ser.append('<c:invertIfNegative val="0"/>')
    for idx, rgb in sorted(chart.point_colors.items()):
        if not 0 <= int(idx) < len(vals):
            raise ValueError(f"chart point index out of range: {idx}")
        ser.append(f'<c:dPt><c:idx val="{int(idx)}"/><c:invertIfNegative val="0"/><c:bubble3D val="0"/>'
                   f"<c:spPr>{_solid(rgb, 'point color')}</c:spPr></c:dPt>")
    if chart.label_format:
        ser.append(
            f'<c:dLbls><c:numFmt formatCode="{_esc_attr(chart.label_format)}" sourceLinked="0"/>'
            '<c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>'
            '<c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="900"/></a:pPr>'
            '<a:endParaRPr lang="zh-CN"/></a:p></c:txPr>'
            '<c:showLegendKey val="0"/><c:showVal val="1"/><c:showCatName val="0"/><c:showSerName val="0"/>'
            '<c:showPercent val="0"/><c:showBubbleSize val="0"/></c:dLbls>'
        )
    ser.append(
        f"<c:cat><c:strRef><c:f>{_esc_text(sheet_ref + cat_ref)}</c:f><c:strCache>"
        f'<c:ptCount val="{len(cats)}"/>{"".join(str_pts)}</c:strCache></c:strRef></c:cat>'
    )
    ser.append(
        f"<c:val><c:numRef><c:f>{_esc_text(sheet_ref + val_ref)}</c:f><c:numCache>"
        f"<c:formatCode>{_esc_text(value_fmt)}</c:formatCode>"
        f'<c:ptCount val="{len(vals)}"/>{"".join(num_pts)}</c:numCache></c:numRef></c:val>'
    )
    ser.append("</c:ser>")

    cat_pos, val_pos = ("l", "b") if chart.horizontal else ("b", "l")
    # horizontal bars list the first category at the top; the value axis then crosses at the
    # maximum category so it stays at the bottom
    cat_orient = "maxMin" if chart.horizontal else "minMax"
    val_scaling = '<c:orientation val="minMax"/>'
    if chart.axis_max is not None:
        val_scaling += f'<c:max val="{_num_str(chart.axis_max)}"/>'
    if chart.axis_min is not None:
        val_scaling += f'<c:min val="{_num_str(chart.axis_min)}"/>'
    title = ""
    if chart.title:
        title = f'<c:title>{_rich_text(chart.title, 1200, True)}<c:overlay val="0"/></c:title>'
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<c:chartSpace xmlns:c="{dml["c"]}" xmlns:a="{dml["a"]}" xmlns:r="{ns_r}">'
        '<c:roundedCorners val="0"/>'
        f'<c:chart>{title}<c:autoTitleDeleted val="{0 if chart.title else 1}"/><c:plotArea><c:layout/>'
        f'<c:barChart><c:barDir val="{"bar" if chart.horizontal else "col"}"/><c:grouping val="clustered"/>'
        f'<c:varyColors val="0"/>{"".join(ser)}<c:gapWidth val="60"/>'
        '<c:axId val="510000001"/><c:axId val="510000002"/></c:barChart>'
        f'<c:catAx><c:axId val="510000001"/><c:scaling><c:orientation val="{cat_orient}"/></c:scaling>'
        f'<c:delete val="0"/><c:axPos val="{cat_pos}"/><c:numFmt formatCode="General" sourceLinked="0"/>'
        '<c:majorTickMark val="none"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        '<c:crossAx val="510000002"/><c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/>'
        '<c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
        f'<c:valAx><c:axId val="510000002"/><c:scaling>{val_scaling}</c:scaling><c:delete val="0"/>'
        f'<c:axPos val="{val_pos}"/><c:majorGridlines/>'
        f'<c:numFmt formatCode="{_esc_attr(chart.number_format)}" sourceLinked="0"/>'
        '<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        f'<c:crossAx val="510000001"/><c:crosses val="{"max" if chart.horizontal else "autoZero"}"/>'
        '<c:crossBetween val="between"/></c:valAx>'
        '</c:plotArea><c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart>'
        '<c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="900"/></a:pPr>'
        '<a:endParaRPr lang="zh-CN"/></a:p></c:txPr>'
        "</c:chartSpace>"
    )
    return xml.encode("utf-8")


def _cells_in(spec: SheetSpec, ref: str) -> list[tuple[tuple[int, int], object]]:
    r1, c1, r2, c2 = _parse_range(ref)
    out = []
    for r in range(r1, r2 + 1):
        for c in range(c1, c2 + 1):
            if r <= len(spec.rows) and c <= len(spec.rows[r - 1]):
                out.append(((r, c), spec.rows[r - 1][c - 1]))
    return out


def _build_drawing_xml(spec: SheetSpec, chart_rids: list[str], dml: dict[str, str], ns_r: str) -> bytes:
    anchors = []
    for i, (chart, rid) in enumerate(zip(spec.charts, chart_rids), start=1):
        r1, c1, r2, c2 = _parse_range(chart.anchor)
        name = _esc_attr(chart.title or f"Chart {i}")
        anchors.append(
            '<xdr:twoCellAnchor editAs="oneCell">'
            f"<xdr:from><xdr:col>{c1 - 1}</xdr:col><xdr:colOff>0</xdr:colOff>"
            f"<xdr:row>{r1 - 1}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
            f"<xdr:to><xdr:col>{c2}</xdr:col><xdr:colOff>0</xdr:colOff>"
            f"<xdr:row>{r2}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>"
            f'<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="{i + 1}" name="{name}"/>'
            "<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>"
            '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
            f'<a:graphic><a:graphicData uri="{dml["c"]}">'
            f'<c:chart xmlns:c="{dml["c"]}" xmlns:r="{ns_r}" r:id="{rid}"/>'
            "</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<xdr:wsDr xmlns:xdr="{dml["xdr"]}" xmlns:a="{dml["a"]}">{"".join(anchors)}</xdr:wsDr>'
    ).encode("utf-8")


# --------------------------------------------------------------------------- replace_sheet


def _check_sheet_name(name: str) -> None:
    if not name.strip():
        raise ValueError("sheet name must not be empty")
    if len(name) > 31:
        raise ValueError(f"sheet name longer than 31 characters: {name!r}")
    if _INVALID_SHEET_CHARS.search(name) or name.startswith("'") or name.endswith("'"):
        raise ValueError(f"invalid characters in sheet name: {name!r}")
    if _ILLEGAL_XML_CHARS.search(name):
        raise ValueError(f"control characters in sheet name: {name!r}")
    if name.casefold() == "history":
        raise ValueError("'History' is a reserved sheet name")


def _key(name: str) -> str:
    return name.strip().casefold()


def _rel_target(source_part: str, target_part: str) -> str:
    return posixpath.relpath("/" + target_part, "/" + posixpath.dirname(source_part))


def replace_sheet(
    src: str | Path, dst: str | Path, sheet: SheetSpec, *, aliases: Iterable[str] = ()
) -> None:
    """Write a copy of workbook ``src`` to ``dst`` in which the worksheet named
    ``sheet.name`` (or any of ``aliases``, compared case-insensitively after trimming) is
    replaced by ``sheet``, or added as the last sheet when absent.  Everything else is copied
    byte for byte.  ``dst`` is written through a temporary file in its directory and then
    atomically renamed, so ``dst`` may even be ``src``.
    """
    _check_sheet_name(sheet.name)
    pkg = _Package(src)
    try:
        members = _plan(pkg, sheet, list(aliases))
        dst = Path(dst)
        fd, tmp = tempfile.mkstemp(prefix=".~" + dst.name, suffix=".tmp", dir=dst.parent or ".")
        os.close(fd)
        try:
            try:
                with open(tmp, "wb") as out:
                    zipraw.write_zip(out, members, pkg.zf.comment)
            except zipraw.ZipRawError as exc:
                raise XlsxPackageError(f"workbooks needing zip64 are not supported: {exc}") from exc
            try:
                shutil.copymode(pkg.path, tmp)
            except OSError:  # pragma: no cover - e.g. exotic filesystems
                pass
        except BaseException:
            os.unlink(tmp)
            raise
    finally:
        pkg.close()
    os.replace(tmp, dst)


def _plan(pkg: _Package, sheet: SheetSpec, aliases: list[str]) -> list[zipraw.RawMember]:
    wb_part = pkg.workbook_part()
    wb = _Doc(pkg.read(wb_part), wb_part)
    ns_main = _ns(wb.et_root.tag) or _NS_MAIN_TRANSITIONAL
    wb_rels_part = _rels_name(wb_part)
    wb_rels_name = pkg.name(wb_rels_part)
    if wb_rels_name is None:
        raise XlsxPackageError(f"missing {wb_rels_part}")
    wb_rels = _Doc(pkg.read(wb_rels_name), wb_rels_name)
    rels = pkg.rels(wb_part)
    rel_by_id = {r["Id"]: r for r in rels}
    ct = _Doc(pkg.read(_CONTENT_TYPES), _CONTENT_TYPES)

    sheet_els = _workbook_sheets(wb)
    ns_r = _NS_R_TRANSITIONAL
    for s in sheet_els:
        for k in s.et.attrib:
            if k.startswith("{") and _local(k) == "id":
                ns_r = _ns(k)
                break
    ws_rel_type = next(
        (r["Type"] for r in rels if r["Type"].endswith("/worksheet")),
        _RT_WORKSHEET_TRANSITIONAL,
    )
    hyperlink_rel_type = ws_rel_type.rsplit("/", 1)[0] + "/hyperlink"

    # which sheet to replace: exact name first, then aliases
    wanted = [_key(sheet.name)] + [_key(a) for a in aliases if _key(a)]
    target_idx = None
    for key in wanted:
        for i, s in enumerate(sheet_els):
            if _key(s.et.get("name", "")) == key:
                target_idx = i
                break
        if target_idx is not None:
            break

    workbook_pr = wb.root.find("workbookPr")
    date1904 = workbook_pr is not None and workbook_pr.et.get("date1904", "0").lower() in ("1", "true")
    compat1900 = workbook_pr is None or workbook_pr.et.get("dateCompatibility", "1").lower() in ("1", "true")
    book_views = wb.root.find("bookViews")
    active_tab = 0
    if book_views is not None and book_views.children:
        try:
            active_tab = int(book_views.children[0].et.get("activeTab", "0"))
        except ValueError:
            active_tab = 0

    styles_part = next(
        (pkg.name(r["part"]) for r in rels if r["Type"].endswith("/styles") and not r["external"]), None
    )
    if styles_part is None:
        raise XlsxPackageError("workbook has no styles part")  # every Excel/LO file has one
    styles_doc = _Doc(pkg.read(styles_part), styles_part)
    styles = _Styles(styles_doc)

    replaced: dict[str, bytes | None] = {}  # zip name -> new data (None = drop)
    added: list[tuple[str, bytes]] = []
    ct_overrides = {
        (el.et.get("PartName", "").lstrip("/")).lower(): el for el in ct.root.children if el.local == "Override"
    }

    wb_dir = posixpath.dirname(wb_part)
    dead: list[str] = []
    if target_idx is not None:
        sheet_el = sheet_els[target_idx]
        rid = _rid_of(sheet_el.et)
        rel = rel_by_id.get(rid or "")
        if rel is None or rel["external"]:
            raise XlsxPackageError(f"sheet {sheet_el.et.get('name')!r} has no relationship")
        if not rel["Type"].endswith("/worksheet"):
            raise XlsxPackageError(
                f"sheet {sheet_el.et.get('name')!r} is not a worksheet ({rel['Type'].rsplit('/', 1)[-1]})"
            )
        part = pkg.name(rel["part"]) or rel["part"]
        sheet_id = sheet_el.et.get("sheetId", "")
        if sheet_el.et.get("name") != sheet.name:
            wb.set_attr(sheet_el, "name", sheet.name)
        position = target_idx
        # parts that only the old sheet referenced (its drawing, that drawing's charts and
        # images, comments, …): dropped below unless a new part reuses the name
        dead = _exclusively_owned(pkg, part)
    else:
        existing_parts = set(pkg.by_lower) | set(ct_overrides)
        n = 1
        while posixpath.join(wb_dir, f"worksheets/sheet{n}.xml").lower() in existing_parts:
            n += 1
        part = posixpath.join(wb_dir, f"worksheets/sheet{n}.xml")
        sheet_id = ""
        position = len(sheet_els)

    # names for the chart parts: free in the package once the dead parts are gone
    freed = {d.lower() for d in dead} | {_rels_name(d).lower() for d in dead}
    taken = (set(pkg.by_lower) | set(ct_overrides)) - freed

    def allocate(pattern: str) -> str:
        k = 1
        while posixpath.join(wb_dir, pattern.format(k)).lower() in taken:
            k += 1
        name = posixpath.join(wb_dir, pattern.format(k))
        taken.add(name.lower())
        return name

    extra: dict[str, tuple[bytes, str | None]] = {}  # new part -> (data, content type; None for rels)
    drawing_target = None
    if sheet.charts:
        strict = ns_main == _NS_MAIN_STRICT
        dml = _DML_STRICT if strict else _DML_TRANSITIONAL
        drawing_part = allocate("drawings/drawing{}.xml")
        chart_parts = [allocate("charts/chart{}.xml") for _ in sheet.charts]
        chart_rel_type = ws_rel_type.rsplit("/", 1)[0] + "/chart"
        chart_rids = [f"rId{i}" for i in range(1, len(chart_parts) + 1)]
        drawing_target = _rel_target(part, drawing_part)
        extra[drawing_part] = (_build_drawing_xml(sheet, chart_rids, dml, ns_r), _CT_DRAWING)
        extra[_rels_name(drawing_part)] = (_rels_xml([
            f'<Relationship Id="{rid}" Type="{_esc_attr(chart_rel_type)}" '
            f'Target="{_esc_attr(_rel_target(drawing_part, cp))}"/>'
            for rid, cp in zip(chart_rids, chart_parts)
        ]), None)
        for chart, cp in zip(sheet.charts, chart_parts):
            extra[cp] = (_build_chart_xml(sheet, chart, dml, ns_r), _CT_CHART)

    ws_xml, ws_rels = _build_sheet_xml(
        sheet, styles, ns_main=ns_main, ns_r=ns_r, date1904=date1904, compat1900=compat1900,
        tab_selected=(position == active_tab), hyperlink_rel_type=hyperlink_rel_type,
        drawing_target=drawing_target,
    )
    own_rels = _rels_name(part)
    if ws_rels is not None:
        extra = {own_rels: (ws_rels, None), **extra}

    if target_idx is not None:
        if pkg.name(part):
            replaced[pkg.name(part)] = ws_xml
        else:
            added.append((part, ws_xml))
        if part.lower() not in ct_overrides:
            ct.append_children(ct.root, f'<{ct.root.prefix}Override PartName="/{_esc_attr(part)}" '
                                        f'ContentType="{_CT_WORKSHEET}"/>')
        extra_keys = {k.lower() for k in extra}
        for d in dead:
            if d.lower() not in extra_keys:
                replaced[pkg.name(d)] = None
                if d.lower() in ct_overrides:
                    ct.remove(ct_overrides[d.lower()])
            d_rels = pkg.name(_rels_name(d))
            if d_rels and d_rels.lower() not in extra_keys:
                replaced[d_rels] = None
        if pkg.name(own_rels) and own_rels.lower() not in extra_keys:
            replaced[pkg.name(own_rels)] = None
        _drop_calc_chain(pkg, wb_part, rels, sheet_id, wb_rels, ct, ct_overrides, replaced)
    else:
        ids = {r["Id"] for r in rels}
        k = 1 + max((int(m.group(1)) for i in ids if (m := re.fullmatch(r"rId(\d+)", i))), default=0)
        while f"rId{k}" in ids:
            k += 1
        rid = f"rId{k}"
        sheet_id = 1 + max((int(s.et.get("sheetId", "0")) for s in sheet_els
                            if s.et.get("sheetId", "").isdigit()), default=0)
        added.append((part, ws_xml))
        # workbook.xml: <sheet name=… sheetId=… r:id=…/> before </sheets>
        sheets_el = wb.root.find("sheets")
        r_prefix = _prefix_for(wb, ns_r)
        if r_prefix is None:
            r_attr = f'xmlns:r="{ns_r}" r:id="{rid}"'
        else:
            r_attr = f'{r_prefix}id="{rid}"'
        wb.append_children(
            sheets_el,
            f'<{sheets_el.prefix}sheet name="{_esc_attr(sheet.name)}" sheetId="{sheet_id}" {r_attr}/>',
        )
        wb_rels.append_children(
            wb_rels.root,
            f'<{wb_rels.root.prefix}Relationship Id="{rid}" Type="{_esc_attr(ws_rel_type)}" '
            f'Target="{_esc_attr(_rel_target(wb_part, part))}"/>',
        )
        ct.append_children(
            ct.root,
            f'<{ct.root.prefix}Override PartName="/{_esc_attr(part)}" ContentType="{_CT_WORKSHEET}"/>',
        )

    # the generated sheet rels, drawing and charts: in place when the name exists, else appended
    for new_part, (data, ctype) in extra.items():
        if pkg.name(new_part):
            replaced[pkg.name(new_part)] = data
        else:
            added.append((new_part, data))
        if ctype is None:
            continue
        override = ct_overrides.get(new_part.lower())
        if override is None:
            ct.append_children(ct.root, f'<{ct.root.prefix}Override PartName="/{_esc_attr(new_part)}" '
                                        f'ContentType="{ctype}"/>')
        elif override.et.get("ContentType") != ctype:
            ct.set_attr(override, "ContentType", ctype)

    styles.apply()
    for doc, name in ((wb, wb_part), (wb_rels, wb_rels_name), (ct, pkg.name(_CONTENT_TYPES)),
                      (styles_doc, styles_part)):
        if doc.changed and replaced.get(name, b"") is not None:
            replaced[name] = doc.to_bytes()

    members: list[zipraw.RawMember] = []
    with open(pkg.path, "rb") as fp:
        for info in pkg.infos:
            if info.filename in replaced:
                data = replaced[info.filename]
                if data is not None:
                    members.append(_read_member(fp, info).replaced(data))
            else:
                members.append(_read_member(fp, info))
    members.extend(zipraw.RawMember(name, data=data) for name, data in added)
    return members


def _read_member(fp, info: zipfile.ZipInfo) -> zipraw.RawMember:
    try:
        return zipraw.read_member(fp, info)
    except zipraw.ZipRawError as exc:
        raise XlsxPackageError(str(exc)) from exc


def _prefix_for(doc: _Doc, ns: str) -> str | None:
    """The prefix ('r:') bound to ``ns`` on the root element of ``doc``, if any."""
    open_tag = doc.text[doc.root.start:doc.root.open_end]
    for m in _ATTR.finditer(open_tag):
        name, value = m.group(1), m.group(2)[1:-1]
        if name.startswith("xmlns:") and value == ns:
            return name[len("xmlns:"):] + ":"
    return None


def _exclusively_owned(pkg: _Package, sheet_part: str) -> list[str]:
    """Parts reachable from ``sheet_part`` that nothing outside that subtree references."""
    incoming: dict[str, set[str]] = {}
    outgoing: dict[str, set[str]] = {}
    for info in pkg.infos:
        source = _source_of_rels(info.filename)
        if source is None and info.filename.lower() != "_rels/.rels":
            continue
        source = source or ""
        for r in pkg.rels(source):
            if r["part"] is None:
                continue
            tgt = r["part"].lower()
            incoming.setdefault(tgt, set()).add(source.lower())
            outgoing.setdefault(source.lower(), set()).add(tgt)
    dead = {sheet_part.lower()}
    changed = True
    while changed:
        changed = False
        for src in list(dead):
            for tgt in outgoing.get(src, ()):
                if tgt in dead or tgt not in pkg.by_lower:
                    continue
                if incoming.get(tgt, set()) <= dead:
                    dead.add(tgt)
                    changed = True
    dead.discard(sheet_part.lower())
    return sorted(pkg.by_lower[d] for d in dead)


def _drop_calc_chain(pkg, wb_part, rels, sheet_id, wb_rels, ct, ct_overrides, replaced) -> None:
    rel = next((r for r in rels if r["Type"].endswith("/calcChain") and not r["external"]), None)
    name = pkg.name(rel["part"]) if rel else None
    if name is None or not sheet_id:
        return
    doc = _Doc(pkg.read(name), name)
    cur = "0"
    keep, drop = [], []
    for c in doc.root.children:
        cur = c.et.get("i", cur)
        (drop if cur == sheet_id else keep).append((c, cur))
    if not drop:
        return
    if not keep:
        replaced[name] = None
        for r_el in wb_rels.root.children:
            if r_el.et.get("Id") == rel["Id"]:
                wb_rels.remove(r_el)
        if name.lower() in ct_overrides:
            ct.remove(ct_overrides[name.lower()])
        return
    for c, _ in drop:
        doc.remove(c)
    prev = None
    for c, eff in keep:
        if eff != prev and c.et.get("i") is None:
            doc.set_attr(c, "i", eff)
        prev = eff
    replaced[name] = doc.to_bytes()
