"""Read the standard workbook into one DataFrame per sheet.

Headers are found in the first 10 rows, units (元/万元) come from the headers or a unit line, amounts become
exact fen, dates become dates, and every record keeps its Excel row number for messages. Totals rows
(合计/总计/小计/本月合计/累计) are set aside and checked against the rows they cover. Formula cells give their
cached values; a formula saved without one is reported (cell_facts). A package with a DTD in any XML
part is refused before it is parsed (refuse_unsafe_xml). Nothing outside this module knows about Excel cells.
"""

from __future__ import annotations

import io
import itertools
import posixpath
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterable, Iterator

import defusedxml
import defusedxml.ElementTree as DET
import openpyxl
import pandas as pd
from loguru import logger
from lxml import etree
from openpyxl.utils import get_column_letter

from . import money
from .problems import Problems, UsageError
from .schema import AMOUNT, DATE, INPUT_SHEETS, INTEGER, NUMBER, TEXT, Column, Sheet, normalize_name, sheet_matches

HEADER_SEARCH_ROWS = 10
ROW = "_row"  # the Excel row number of a record, kept as a column of every frame


@dataclass
class Table:
    """One sheet of the workbook, read: `frame` has a column per schema column (canonical names) plus `_row`."""

    schema: Sheet
    title: str  # the sheet's name as the user wrote it
    frame: pd.DataFrame
    letters: dict[str, str] = field(default_factory=dict)  # canonical column -> column letter
    units: dict[str, str] = field(default_factory=dict)  # amount column -> 元 / 万元

    def cell(self, column: str, row: int) -> str:
        """The cell reference of `column` in Excel row `row`, e.g. 'C14' (just the row when the column is absent)."""
        letter = self.letters.get(column)
        return f"{letter}{row}" if letter else f"第{row}行"


@dataclass
class WorkbookData:
    path: Path
    tables: dict[str, Table]  # by canonical sheet name; optional sheets may be absent

    def get(self, sheet: Sheet) -> Table | None:
        return self.tables.get(sheet.name)


@dataclass
class RawSheet:
    """A sheet's cell values as a reader engine gives them: rows from A1, None for an empty cell."""

    title: str
    rows: Iterable[list]  # read lazily: a sheet is converted row by row, never held whole
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # (min_col, min_row, max_col, max_row)


ENGINES = ("calamine", "openpyxl", "stream")
# Measured on a 2-core machine (benchmarks/): calamine reads fastest but holds a whole sheet in memory (about
# 160 MiB for a 120 MB ledger part of 250,000 rows); the stream engine reads rows straight from the zip in
# constant memory, about 20% slower. "auto" takes calamine below this much sheet XML and streams above it.
STREAM_FROM_BYTES = 64 * 1024 * 1024


def read_workbook(path: str | Path, problems: Problems, engine: str = "auto") -> WorkbookData:
    """Read every input sheet of the workbook at `path`; bad cells become problems, never exceptions.

    `engine` reads the cell values: "calamine" (fast), "stream" (constant memory), "openpyxl" (the
    reference), or "auto"; all give the same tables (tests compare them on every workbook habit).
    """
    from .xlsx_stream import cell_facts_stream, open_stream

    path = Path(path)
    check_package(path)
    if engine == "auto":
        engine = "stream" if _sheet_xml_size(path) > STREAM_FROM_BYTES else "calamine"
    if engine == "stream":
        names, load = open_stream(path)
    else:
        names, load = _open_calamine(path) if engine == "calamine" else _open_openpyxl(path)
    titles = {sheet.name: next((t for t in names if sheet_matches(sheet, t)), None) for sheet in INPUT_SHEETS}
    facts = cell_facts_stream(path, [t for t in titles.values() if t])
    tables: dict[str, Table] = {}
    for sheet in INPUT_SHEETS:
        title = titles[sheet.name]
        if title is None:
            if sheet.required:
                problems.error(
                    "sheet-missing",
                    f"工作簿中没有“{sheet.name}”工作表（也可命名为 {sheet.alias}）。请按标准工作簿添加这张表，"
                    f"表头为：{'、'.join(c.name for c in sheet.required_columns)}。",
                    sheet=sheet.name,
                )
            continue
        raw = load(title)
        found = facts.get(title, CellFacts())
        _apply_facts(raw, found)
        table = read_sheet(raw, sheet, problems, found.uncached)
        if table is not None:
            tables[sheet.name] = table
    return WorkbookData(path, tables)


def _apply_facts(raw: RawSheet, facts: CellFacts) -> None:
    """Put error values where the engine showed an empty cell, and make room for formula cells past the
    engine's last row or column (a row of formulas without values is not blank)."""
    positions = list(facts.errors) + list(facts.uncached)
    if positions:
        raw.rows = _with_facts(raw.rows, facts.errors, max(r for r, _ in positions), max(c for _, c in positions))


def _with_facts(rows: Iterable[list], errors: dict[tuple[int, int], str], height: int, width: int) -> Iterator[list]:
    by_row: dict[int, list[tuple[int, str]]] = {}
    for (r, c), text in errors.items():
        by_row.setdefault(r, []).append((c, text))
    number = 0
    for number, row in enumerate(rows, 1):
        if len(row) < width:
            row = list(row) + [None] * (width - len(row))
        for c, text in by_row.get(number, ()):
            if row[c - 1] is None:
                row[c - 1] = text
        yield row
    for _ in range(number, height):
        yield [None] * width


def _sheet_xml_size(path: Path) -> int:
    with zipfile.ZipFile(path) as zf:
        return sum(i.file_size for i in zf.infolist() if i.filename.lower().startswith("xl/worksheets/"))


def _open_calamine(path: Path):
    """Worksheet names and a loader, with python-calamine; openpyxl when calamine cannot read the file."""
    try:
        from python_calamine import CalamineWorkbook, SheetTypeEnum

        book = CalamineWorkbook.from_path(str(path))
        names = [m.name for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
    except Exception as exc:  # a package calamine does not understand: openpyxl explains it, or reads it
        logger.debug("calamine could not open {}: {!r}; reading with openpyxl", path, exc)
        return _open_openpyxl(path)

    def load(title: str) -> RawSheet:
        sheet = book.get_sheet_by_name(title)
        merged = [(c1 + 1, r1 + 1, c2 + 1, r2 + 1) for (r1, c1), (r2, c2) in (sheet.merged_cell_ranges or [])]
        return RawSheet(title, _calamine_rows(sheet), merged)

    return names, load


def _open_openpyxl(path: Path):
    book = open_workbook(path)
    names = [ws.title for ws in book.worksheets]  # not chart sheets

    def load(title: str) -> RawSheet:
        ws = book[title]
        rows = ([_unescape(v) if isinstance(v, str) and "_x" in v else v for v in r]
                for r in ws.iter_rows(min_row=1, min_col=1, max_row=ws.max_row, max_col=ws.max_column,
                                      values_only=True))
        return RawSheet(title, rows, [m.bounds for m in ws.merged_cells])

    return names, load


def _calamine_rows(sheet) -> Iterator[list]:
    """Rows from A1 with None for empty cells (calamine starts its rows at the first used column)."""
    start = sheet.start
    pad = [None] * (start[1] if start else 0)
    for row in sheet.iter_rows():
        yield pad + [None if v == "" else v for v in row]


# --------------------------------------------------------------------------- opening the file

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .et, and password-protected .xlsx
_PROLOG_BYTES = 64 * 1024


def check_package(path: Path) -> None:
    """Usage errors before any reading: a missing file, an .xls, an encrypted or non-zip file, unsafe XML."""
    if not path.exists():
        raise UsageError(f"找不到文件：{path}。请检查文件名和所在文件夹。")
    if path.is_dir():
        raise UsageError(f"{path} 是一个文件夹，不是工作簿。请指定 .xlsx 文件。")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise UsageError(
            f"{path.name} 是旧版 Excel 97-2003 格式（.xls），无法直接读取。请在 Excel 或 WPS 中打开它，"
            "选择“文件 → 另存为”，保存类型选“Excel 工作簿（*.xlsx）”，再用新文件运行。"
        )
    try:
        with open(path, "rb") as f:
            magic = f.read(len(_OLE_MAGIC))
    except OSError as exc:
        raise UsageError(f"无法打开 {path.name}：{exc.strerror or exc}。请检查文件是否存在、是否有读取权限。") from exc
    if magic == _OLE_MAGIC:
        raise UsageError(
            f"{path.name} 不是 .xlsx 格式：它要么设置了打开密码（加密的工作簿），要么是改了扩展名的旧版 .xls / WPS .et 文件。"
            "请在 Excel 或 WPS 中打开它，取消打开密码（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码），"
            "或选择“文件 → 另存为”保存为“Excel 工作簿（*.xlsx）”，再用新文件运行。"
        )
    if not zipfile.is_zipfile(path):
        raise UsageError(f"{path.name} 不是 Excel 工作簿（.xlsx/.xlsm）。请在 Excel 或 WPS 中另存为 .xlsx 后再运行。")
    refuse_unsafe_xml(path)


def open_workbook(path: Path):
    """Open the workbook with openpyxl, cached values of formulas; a damaged package is a usage error."""
    check_package(path)
    try:
        return openpyxl.load_workbook(path, data_only=True, keep_vba=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged package
        if _caused_by(exc, defusedxml.DefusedXmlException):  # a DTD hidden beyond the prolog scan
            raise UsageError(_unsafe_message(path)) from exc
        logger.debug("openpyxl could not load {}: {!r}", path, exc)
        raise UsageError(
            f"无法读取工作簿 {path.name}：文件已损坏，或不是 Excel 工作簿。请在 Excel 或 WPS 中打开它，"
            "选择“文件 → 另存为”保存为“Excel 工作簿（*.xlsx）”，再用新文件运行。"
        ) from exc


def _caused_by(exc: BaseException, kind: type) -> bool:
    """`exc` or an exception it was raised from (openpyxl wraps parser errors in ValueError)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _unsafe_message(path: Path) -> str:
    return (f"{path.name} 中含有不安全的 XML 内容（DOCTYPE/实体定义，可能是“XML 炸弹”），为安全起见拒绝读取。"
            "Excel 和 WPS 保存的工作簿不会有这种内容：请确认文件来源，或在 Excel/WPS 中打开后另存为新的 .xlsx 再运行。")


def refuse_unsafe_xml(path: Path) -> None:
    """Refuse a package any of whose XML parts declares a DTD (billion laughs, external entities).

    Office never writes a DOCTYPE, so its mere presence is refused, before any parser sees the part; only the
    start of each part is read (a DTD must come before the root element). openpyxl parses with defusedxml as a
    second line of defence, and any reader that replaces it (calamine) is covered by this check too."""
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.is_dir() or not info.filename.lower().endswith((".xml", ".rels", ".vml")):
                    continue
                with zf.open(info) as part:
                    if _declares_dtd(part):
                        raise UsageError(_unsafe_message(path))
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
        # RuntimeError: an encrypted zip member; NotImplementedError: an unknown compression method
        logger.debug("unreadable package {}: {!r}", path, exc)
        raise UsageError(
            f"无法读取工作簿 {path.name}：文件已损坏。请在 Excel 或 WPS 中打开它并另存为 .xlsx，再用新文件运行。"
        ) from exc


def _declares_dtd(part) -> bool:
    """Whether the XML read from `part` declares a DTD before its root element. Reads only the prolog (the
    declaration, comments and processing instructions before the root), however long it is."""
    data = b""
    while True:
        chunk = part.read(_PROLOG_BYTES)
        data += chunk
        verdict = _prolog_verdict(data, complete=not chunk)
        if verdict is not None:
            return verdict
        if len(data) > 256 * _PROLOG_BYTES:  # a prolog of 16 MB is no spreadsheet's
            return True


def _prolog_verdict(data: bytes, complete: bool) -> bool | None:
    """True: a DTD; False: the root element comes first; None: read more."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="ignore")
    else:
        text = data.decode("utf-8", errors="ignore").lstrip("\ufeff")
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if text.startswith("<?", i) or text.startswith("<!--", i):
            closing = "?>" if text[i + 1] == "?" else "-->"
            end = text.find(closing, i + 2)
            if end < 0:
                return False if complete else None
            i = end + len(closing)
            continue
        if text.startswith("<!", i):
            return True
        if i >= len(text) - 1 and not complete:
            return None
        return False


# --------------------------------------------------------------------------- formulas with no cached value

_MAIN_NS = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main")
_REL_NS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
           "http://purl.oclc.org/ooxml/officeDocument/relationships")
_HAS_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_CELL_REF = re.compile(r"([A-Za-z]{1,3})(\d+)")


@dataclass
class CellFacts:
    """What a value reader does not show: formulas with no cached value, and Excel error values (#REF!…),
    which calamine reads as empty cells. Keys are (row, column), 1-based."""

    uncached: dict[tuple[int, int], str] = field(default_factory=dict)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)


_ERROR_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s([^>]*?\bt\s*=\s*[\"']e[\"'][^>]*)>(.*?)</(?:[A-Za-z_][\w.-]*:)?c>", re.S)
_ERROR_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v(?:\s[^>]*)?>(.*?)</", re.S)


def cell_facts(path: Path, titles: list[str]) -> dict[str, CellFacts]:
    """CellFacts of the sheets `titles`, in one extra pass over their XML (a byte search, not a parse)."""
    facts: dict[str, CellFacts] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            parts = _sheet_parts(zf)
            for title in titles:
                name = parts.get(title)
                if name is None:
                    continue
                data = zf.read(name)
                found = CellFacts()
                if _HAS_FORMULA.search(data):
                    found.uncached = _scan_sheet(data)
                if b't="e"' in data or b"t='e'" in data:
                    found.errors = _error_cells(data)
                if found.uncached or found.errors:
                    facts[title] = found
    except (KeyError, zipfile.BadZipFile, etree.XMLSyntaxError, DET.ParseError, ValueError,
            defusedxml.DefusedXmlException) as exc:
        logger.debug("cell scan skipped for {}: {!r}", path, exc)
    return facts


def _error_cells(data: bytes) -> dict[tuple[int, int], str]:
    cells = {}
    for match in _ERROR_CELL.finditer(data):
        ref = _ATTR_R.search(b" " + match.group(1))
        value = _ERROR_VALUE.search(match.group(2))
        if ref and value:
            cells[(int(ref.group(2)), _column_index(ref.group(1).decode()))] = value.group(1).decode("utf-8", "replace")
    return cells


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> zip member name of its worksheet part."""
    names = {n.lower(): n for n in zf.namelist()}
    workbook = names.get("xl/workbook.xml")
    for rel in DET.fromstring(zf.read(names["_rels/.rels"])) if "_rels/.rels" in names else []:
        if rel.get("Type", "").endswith("/officeDocument"):
            workbook = names.get(_resolve("", rel.get("Target", "")).lower(), workbook)
    if workbook is None:
        return {}
    folder, base = posixpath.split(workbook)
    rels_name = names.get(posixpath.join(folder, "_rels", base + ".rels").lower())
    targets = {}
    if rels_name:
        for rel in DET.fromstring(zf.read(rels_name)):
            if rel.get("TargetMode") != "External":
                targets[rel.get("Id")] = _resolve(workbook, rel.get("Target", ""))
    parts = {}
    for element in DET.fromstring(zf.read(workbook)).iter():
        if element.tag.rsplit("}", 1)[-1] != "sheet":
            continue
        rid = next((v for k, v in element.attrib.items() if k.startswith("{") and k.split("}")[0][1:] in _REL_NS
                    and k.endswith("}id")), None)
        target = targets.get(rid)
        if target and target.lower() in names:
            parts[element.get("name", "")] = names[target.lower()]
    return parts


def _resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target)).lstrip("/")


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
            return _parse_sheet(data)  # not the plain layout Excel, WPS and LibreOffice write: parse it
        cached = value.search(data, match.end(), cell_end)
        kind = _ATTR_T.search(data, cell_start, tag_end)
        text_result = kind is not None and kind.group(1) in (b"str", b"inlineStr")
        if cached is None or (not (cached.group(1) or b"").strip() and not text_result):
            text = match.group(1) or b""
            for entity, char in _XML_ENTITIES.items():
                text = text.replace(entity, char)
            text = text.decode("utf-8", errors="replace").strip()
            cells[(int(ref.group(2)), _column_index(ref.group(1).decode()))] = f"={text}" if text else ""
    return cells


def _parse_sheet(data: bytes) -> dict[tuple[int, int], str]:
    """_scan_sheet for any layout (cells without r="…", odd spacing), by parsing; no DTD is loaded."""
    cells: dict[tuple[int, int], str] = {}
    tags = [f"{{{ns}}}row" for ns in _MAIN_NS]
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
            column = _column_index(ref.group(1)) if ref else column + 1
            if ref:
                row_number = int(ref.group(2))
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
    return cells


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index


# --------------------------------------------------------------------------- one sheet

_TOTALS = re.compile(r"^(?:(本页|本月|本季度?|全年|本年|总)?(合计|总计|小计|累计))[:：]?$")
# A totals row of one level covers the data rows since the last totals row of the same or a higher level.
_SUBTOTAL, _TOTAL, _GRAND_TOTAL, _CUMULATIVE = 1, 2, 3, 0
_EXCEL_ERROR = re.compile(r"#(?:REF!|VALUE!|DIV/0!|N/A|NAME\?|NULL!|NUM!|SPILL!|CALC!|GETTING_DATA)")
_FILLED_KINDS = (TEXT, DATE, INTEGER)  # vertically merged cells of these repeat; merged amounts are not copied


def read_sheet(ws: RawSheet, sheet: Sheet, problems: Problems,
               uncached: dict[tuple[int, int], str] | None = None) -> Table | None:
    """Read one sheet. `uncached` holds the sheet's formula cells with no cached value (see cell_facts)."""
    uncached = uncached or {}
    stream = iter(ws.rows)
    rows = list(itertools.islice(stream, HEADER_SEARCH_ROWS))  # the header is in these
    header_index, positions, duplicates = _find_header(rows, sheet)
    missing = [c for c in sheet.required_columns if c.name not in positions]
    if missing:
        where = f"第{header_index + 1}行" if positions else f"前{HEADER_SEARCH_ROWS}行"
        for column in missing:
            problems.error(
                "column-missing",
                f"“{ws.title}”表{where}中没有找到必填列“{column.name}”（也可写作 {column.alias}）。"
                f"请在表头行加上这一列，表头须在前{HEADER_SEARCH_ROWS}行内、同一行中。",
                sheet=ws.title,
            )
        return None

    header = rows[header_index]
    for name, (first, again) in duplicates.items():
        problems.warning(
            "column-duplicate",
            f"表头中“{name}”出现了两次（{get_column_letter(first + 1)}{header_index + 1} 和 "
            f"{get_column_letter(again + 1)}{header_index + 1}），只读取了第一列。请删除或改名多余的一列。",
            sheet=ws.title, cell=f"{get_column_letter(again + 1)}{header_index + 1}", value=header[again],
        )
    default_unit = _unit_line(rows[:header_index], ws.title, problems) or "元"
    units: dict[str, str] = {}
    for column in sheet.columns:
        if column.kind == AMOUNT and column.name in positions:
            text = str(header[positions[column.name]])
            try:
                _, unit = money.unit_from_header(text)
            except money.ValueProblem as exc:
                problems.error("unit-unsupported", f"表头“{text}”：{exc}。",
                               sheet=ws.title, cell=f"{get_column_letter(positions[column.name] + 1)}{header_index + 1}",
                               value=text)
                unit = None
            units[column.name] = unit or default_unit
    letters = {name: get_column_letter(index + 1) for name, index in positions.items()}
    table = Table(sheet, ws.title, pd.DataFrame(), letters, units)
    filled = [positions[c.name] for c in sheet.columns if c.kind in _FILLED_KINDS and c.name in positions]
    data_rows = _merged_filled(itertools.chain(rows[header_index + 1:], stream), ws.merged, header_index + 2, filled)

    names = [c.name for c in sheet.columns] + [ROW]
    columns: dict[str, list] = {name: [] for name in names}  # column-wise: no per-row objects are kept
    covered = {level: _Span() for level in (_SUBTOTAL, _TOTAL, _GRAND_TOTAL, _CUMULATIVE)}
    present = [(c.name, positions[c.name]) for c in sheet.columns if c.name in positions]
    for excel_row, values in enumerate(data_rows, header_index + 2):
        cells = {name: values[position] for name, position in present if position < len(values)}
        formulas = {name: uncached[(excel_row, positions[name] + 1)] for name in cells
                    if (excel_row, positions[name] + 1) in uncached} if uncached else {}
        if not formulas and all(v is None or money.is_blank(v) for v in cells.values()):
            continue
        level = _totals_level(values, positions, sheet)
        if level is not None:
            for name, formula in formulas.items():
                problems.warning(
                    "formula-no-value",
                    f"合计行的公式 {formula or '（共享公式）'} 没有保存计算结果，无法核对这个合计（合计行不参与计算，不影响报告）。"
                    "请在 Excel 或 WPS 中打开并保存一次工作簿，再重新运行。",
                    sheet=table.title, cell=table.cell(name, excel_row), value=formula,
                )
            _check_totals(table, excel_row, {k: v for k, v in cells.items() if k not in formulas},
                          covered[level], problems)
            for lower in range(1, level + 1):
                covered[lower] = _Span()
            continue
        record = _convert_row(table, excel_row, cells, problems, formulas)
        for name in names:
            columns[name].append(record.get(name))
        for span in covered.values():
            span.add(record, table.units)

    # object columns keep ints (fen) exact and blanks as None; pandas would otherwise make floats and NaN
    table.frame = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in columns.items()})
    return table


class _Span:
    """The data rows a totals row covers: their amount sums and first and last row numbers."""

    def __init__(self):
        self.sums: dict[str, int] = {}
        self.first: int | None = None
        self.last: int | None = None

    def add(self, record: dict, units: dict[str, str]) -> None:
        if self.first is None:
            self.first = record[ROW]
        self.last = record[ROW]
        for name in units:
            value = record.get(name)
            if isinstance(value, int):
                self.sums[name] = self.sums.get(name, 0) + value


def _merged_filled(rows: Iterable[list], merged: list[tuple[int, int, int, int]], first_row: int,
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


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    """Excel keeps characters XML cannot hold (line feeds aside) as _x0001_, and a literal '_x' as _x005F_x;
    openpyxl hands them over as written."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


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
            key = normalize_name(_header_name(value))
            for column in sheet.columns:
                if key in (normalize_name(column.name), normalize_name(column.alias)):
                    if column.name in positions:
                        duplicates.setdefault(column.name, (positions[column.name], position))
                    else:
                        positions[column.name] = position
                    break
        if all(c.name in positions for c in sheet.required_columns):
            return index, positions, duplicates
        if len(positions) > len(best[1]):
            best = (index, positions, duplicates)
    return best


def _header_name(value: object) -> str:
    """A header's name without its unit: 批复数（万元） → 批复数."""
    try:
        return money.unit_from_header(str(value))[0]
    except money.ValueProblem:
        return str(value).split("（")[0].split("(")[0]


def _unit_line(rows: list, title: str, problems: Problems) -> str | None:
    for index, values in enumerate(rows):
        for position, value in enumerate(values):
            if isinstance(value, str):
                try:
                    unit = money.unit_from_line(value)
                except money.ValueProblem as exc:
                    problems.error("unit-unsupported", f"单位行“{value}”：{exc}。",
                                   sheet=title, cell=f"{get_column_letter(position + 1)}{index + 1}", value=value)
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
    if not isinstance(key, str):
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


def _check_totals(table: Table, excel_row: int, cells: dict, covered: "_Span", problems: Problems) -> None:
    for name, unit in table.units.items():
        value = cells.get(name)
        if money.is_blank(value):
            continue
        try:
            stated = money.parse_amount(value, unit)
        except money.ValueProblem:
            continue  # a totals row is not data; an unreadable total is only not checked
        computed = covered.sums.get(name, 0)
        if stated != computed:
            span = f"第{covered.first}–{covered.last}行" if covered.first is not None else "上方没有数据行"
            problems.warning(
                "total-mismatch",
                f"合计行的“{name}”为 {_show(stated, unit)}，但它所合计的各行（{span}）相加为 {_show(computed, unit)}。"
                "合计行不参与计算，报告按明细行计算；请核对合计公式或明细，使二者一致。",
                sheet=table.title, cell=table.cell(name, excel_row), value=value,
            )


def _show(fen: int, unit: str) -> str:
    """An amount in fen shown in `unit`: 1234567 → '12,345.67 元' or '1.234567 万元'."""
    if unit == "万元":
        text = format(Decimal(fen).scaleb(-6).normalize(), "f")
        return f"{text} 万元"
    return f"{money.fen_to_yuan(fen):,} 元"


def _convert_row(table: Table, excel_row: int, cells: dict, problems: Problems,
                 formulas: dict[str, str] | None = None) -> dict:
    record: dict = {ROW: excel_row}
    for column in table.schema.columns:
        value = cells.get(column.name)
        if value is None and column.name not in cells:
            record[column.name] = None
            continue
        if formulas and column.name in formulas:
            record[column.name] = None
            formula = formulas[column.name]
            problems.error(
                "formula-no-value",
                f"“{column.name}”是公式 {formula or '（共享公式）'}，但工作簿中没有保存它的计算结果"
                "（由其他程序生成、未在 Excel 中保存过的文件常见此情况）。请在 Excel 或 WPS 中打开并保存一次工作簿，再重新运行。",
                **_where(table, column, excel_row, formula),
            )
            continue
        if value is None or money.is_blank(value):
            record[column.name] = None
            if column.required:
                problems.error("cell-missing", f"“{column.name}”是必填项，不能为空，请填写。",
                               **_where(table, column, excel_row, value))
            continue
        if isinstance(value, str) and column.kind in (TEXT, INTEGER, NUMBER) and _EXCEL_ERROR.fullmatch(value.strip()):
            record[column.name] = None
            problems.error(
                f"{column.kind}-invalid",
                f"“{column.name}”显示 Excel 错误“{value.strip()}”，说明公式有误，请修正公式或直接填写内容。",
                **_where(table, column, excel_row, value))
            continue
        try:
            record[column.name] = _convert(value, column, table.units.get(column.name, "元"))
        except money.ValueProblem as exc:
            record[column.name] = None
            message = str(exc).rstrip("。")
            problems.error(f"{column.kind}-invalid", f"“{column.name}”：{message}。",
                           **_where(table, column, excel_row, value))
    return record


def _where(table: Table, column: Column, excel_row: int, value) -> dict:
    return {"sheet": table.title, "cell": table.cell(column.name, excel_row), "value": value}


def _convert(value, column: Column, unit: str):
    if column.kind == AMOUNT:
        return money.parse_amount(value, unit)
    if column.kind == DATE:
        return money.parse_date(value)
    if column.kind == INTEGER:
        return _to_integer(value)
    if column.kind == NUMBER:
        return _to_number(value)
    return _to_text(value)


def _to_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a project number typed as 1 is "1", not "1.0"
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()[:10] if hasattr(value, "date") else value.isoformat()
    return str(value).strip()


def _to_number(value, example: str = "10") -> Decimal:
    if isinstance(value, bool):
        raise money.ValueProblem(f"“{value}”不是数字，请填写阿拉伯数字，如 {example}")
    try:
        number = Decimal(unicodedata.normalize("NFKC", str(value)).strip().replace(",", ""))
    except InvalidOperation:
        raise money.ValueProblem(f"“{value}”不是数字，请填写阿拉伯数字，如 {example}") from None
    if not number.is_finite():
        raise money.ValueProblem(f"“{value}”不是数字，请填写阿拉伯数字，如 {example}")
    return number


def _to_integer(value) -> int:
    number = _to_number(value, "2021")
    if number != number.to_integral_value():
        raise money.ValueProblem(f"“{value}”不是整数，请填写如 2021 的整数")
    return int(number)
