"""Add or replace ONE generated worksheet in a workbook package, changing nothing else.

* the generated worksheet part (and its own ``_rels`` for hyperlinks and its drawing) is written fresh;
* ``xl/workbook.xml``, its ``.rels``, ``[Content_Types].xml`` and ``xl/styles.xml`` get minimal *textual*
  edits (xmltext.Doc), so everything else in those parts stays exactly as it was;
* every other zip member is copied as its raw compressed bytes (same name, same order, same compression
  method); new members go at the end.

Parts that only the replaced sheet referenced (its drawing, that drawing's charts and images, comments, …)
are dropped; when the new sheet needs a part of the same kind, the freed name is reused in place, so repeated
runs neither accumulate parts nor reorder the package. Part names never collide with the user's own parts.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable

from .. import zipraw
from .chart import DML_STRICT, DML_TRANSITIONAL, build_chart_xml, build_drawing_xml
from .package import CONTENT_TYPES, Package, rel_target, rels_name, rels_xml
from .refs import col_letter, parse_range, quoted_sheet
from .sheet import SheetContext, build_sheet_xml
from .spec import SheetSpec, XlsxPackageError
from .styles import Styles
from .xmltext import ILLEGAL_XML_CHARS, Doc, TEl, esc_attr, esc_text, local, ns, prefix_for

CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
NS_MAIN_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
NS_MAIN_TRANSITIONAL = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R_TRANSITIONAL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_BEFORE_DEFINED_NAMES = ("sheets", "functionGroups", "externalReferences")  # CT_Workbook order


@dataclass
class _Workbook:
    """The parts of the package a splice edits, parsed once."""

    pkg: Package
    part: str
    doc: Doc
    rels_doc: Doc
    rels: list[dict]
    ct: Doc
    styles_doc: Doc
    ns_main: str
    ns_r: str
    ws_rel_type: str
    sheets: list[TEl]
    overrides: dict[str, TEl] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        return posixpath.dirname(self.part)


@dataclass
class _Slot:
    """Where the generated sheet goes: its part, its index among the sheets, and what it replaces."""

    part: str
    position: int
    sheet_id: str = ""
    existing: TEl | None = None  # the <sheet> element of the sheet replaced; None for a new sheet
    dead: list[str] = field(default_factory=list)  # parts only the replaced sheet referenced


@dataclass
class _Edits:
    replaced: dict[str, bytes | None] = field(default_factory=dict)  # zip name -> new data (None = drop)
    added: list[tuple[str, bytes]] = field(default_factory=list)


def check_sheet_name(name: str) -> None:
    if not name.strip():
        raise ValueError("sheet name must not be empty")
    if len(name) > 31:
        raise ValueError(f"sheet name longer than 31 characters: {name!r}")
    if _INVALID_SHEET_CHARS.search(name) or name.startswith("'") or name.endswith("'"):
        raise ValueError(f"invalid characters in sheet name: {name!r}")
    if ILLEGAL_XML_CHARS.search(name):
        raise ValueError(f"control characters in sheet name: {name!r}")
    if name.casefold() == "history":
        raise ValueError("'History' is a reserved sheet name")


def replace_sheet(src: str | Path | bytes | BinaryIO, dst: str | Path, sheet: SheetSpec, *,
                  aliases: Iterable[str] = ()) -> None:
    """Write a copy of workbook ``src`` to ``dst`` in which the worksheet named ``sheet.name`` (or any of
    ``aliases``, compared case-insensitively after trimming) is replaced by ``sheet``, or added as the last
    sheet when absent. Everything else is copied byte for byte. ``dst`` is written through a temporary file
    in its folder and then renamed, so ``dst`` may even be ``src``."""
    members, comment = splice(src, sheet, aliases)
    dst = Path(dst)
    fd, tmp = tempfile.mkstemp(prefix=dst.name + ".", suffix=".excel-eval-tmp", dir=dst.parent or ".")
    try:
        with os.fdopen(fd, "wb") as out:
            write_members(out, members, comment)
        if isinstance(src, (str, Path)):
            shutil.copymode(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_members(out: BinaryIO, members: list[zipraw.RawMember], comment: bytes) -> None:
    try:
        zipraw.write_zip(out, members, comment)
    except zipraw.ZipRawError as exc:
        raise XlsxPackageError(f"workbooks needing zip64 are not supported: {exc}") from exc


def splice(source: str | Path | bytes | BinaryIO, sheet: SheetSpec, aliases: Iterable[str] = ()
           ) -> tuple[list[zipraw.RawMember], bytes]:
    """The members of the new package (raw where unchanged) and the archive comment."""
    check_sheet_name(sheet.name)
    with Package(source) as pkg:
        book = _open_workbook(pkg)
        slot = _find_slot(book, sheet, list(aliases))
        edits = _Edits()
        styles = Styles(book.styles_doc)
        extra, drawing_target = _chart_parts(book, slot, sheet)
        ctx = SheetContext(styles, book.ns_main, book.ns_r, *_date_system(book.doc),
                           tab_selected=slot.position == _active_tab(book.doc),
                           hyperlink_rel_type=book.ws_rel_type.rsplit("/", 1)[0] + "/hyperlink",
                           drawing_target=drawing_target)
        ws_xml, ws_rels = build_sheet_xml(sheet, ctx)
        if ws_rels is not None:
            extra = {rels_name(slot.part): (ws_rels, None), **extra}
        if slot.existing is not None:
            _replace_existing(book, slot, sheet, ws_xml, extra, edits)
        else:
            _append_new(book, slot, sheet, ws_xml, edits)
        _place_extra(book, extra, edits)
        _set_print_names(book, slot, sheet)
        styles.apply()
        _finish_documents(book, edits)
        return _members(pkg, edits), pkg.comment


def preflight(pkg: Package, sheet_name: str = "", aliases: Iterable[str] = ()) -> None:
    """Raise XlsxPackageError when a splice into `pkg` would fail: the parts it edits are parsed, the sheet
    it replaces is found, and every member's local header is checked (without reading the members' data)."""
    book = _open_workbook(pkg)
    Styles(book.styles_doc)
    if sheet_name:
        _find_slot(book, SheetSpec(sheet_name, []), list(aliases))
    for info in pkg.infos:
        pkg.check_member(info)


# --------------------------------------------------------------------------- reading the workbook


def _open_workbook(pkg: Package) -> _Workbook:
    if pkg.name(CONTENT_TYPES) is None:
        raise XlsxPackageError(f"missing {CONTENT_TYPES}")
    part = pkg.workbook_part()
    doc = Doc(pkg.read(part), part)
    rels_part = pkg.name(rels_name(part))
    if rels_part is None:
        raise XlsxPackageError(f"missing {rels_name(part)}")
    rels = pkg.rels(part)
    styles_part = next((pkg.name(r["part"]) for r in rels if r["Type"].endswith("/styles") and not r["external"]),
                       None)
    if styles_part is None:
        raise XlsxPackageError("workbook has no styles part")  # every Excel/LO file has one
    ct = Doc(pkg.read(CONTENT_TYPES), pkg.name(CONTENT_TYPES))
    sheets = _sheet_elements(doc)
    book = _Workbook(pkg, part, doc, Doc(pkg.read(rels_part), rels_part), rels, ct,
                     Doc(pkg.read(styles_part), styles_part), ns(doc.et_root.tag) or NS_MAIN_TRANSITIONAL,
                     _ns_r(sheets), next((r["Type"] for r in rels if r["Type"].endswith("/worksheet")),
                                         NS_R_TRANSITIONAL + "/worksheet"), sheets)
    book.overrides = {el.et.get("PartName", "").lstrip("/").lower(): el
                      for el in ct.root.children if el.local == "Override"}
    return book


def _sheet_elements(doc: Doc) -> list[TEl]:
    sheets = doc.root.find("sheets")
    if sheets is None:
        raise XlsxPackageError(f"{doc.part}: no <sheets> element")
    return sheets.findall("sheet")


def _rid_of(el: TEl) -> str | None:
    return next((v for k, v in el.et.attrib.items() if k.startswith("{") and local(k) == "id"), None)


def _ns_r(sheets: list[TEl]) -> str:
    """The relationships namespace the workbook's sheets use (transitional or strict)."""
    for s in sheets:
        for k in s.et.attrib:
            if k.startswith("{") and local(k) == "id":
                return ns(k)
    return NS_R_TRANSITIONAL


def _date_system(doc: Doc) -> tuple[bool, bool]:
    """(date1904, dateCompatibility) of workbookPr."""
    pr = doc.root.find("workbookPr")
    date1904 = pr is not None and pr.et.get("date1904", "0").lower() in ("1", "true")
    compat1900 = pr is None or pr.et.get("dateCompatibility", "1").lower() in ("1", "true")
    return date1904, compat1900


def _active_tab(doc: Doc) -> int:
    views = doc.root.find("bookViews")
    if views is None or not views.children:
        return 0
    try:
        return int(views.children[0].et.get("activeTab", "0"))
    except ValueError:
        return 0


def _key(name: str) -> str:
    return name.strip().casefold()


# --------------------------------------------------------------------------- where the sheet goes


def _find_slot(book: _Workbook, sheet: SheetSpec, aliases: list[str]) -> _Slot:
    """The sheet to replace (exact name first, then aliases), or a new part at the end."""
    for key in [_key(sheet.name)] + [_key(a) for a in aliases if _key(a)]:
        for i, s in enumerate(book.sheets):
            if _key(s.et.get("name", "")) == key:
                return _existing_slot(book, i)
    taken = set(book.pkg.by_lower) | set(book.overrides)
    n = 1
    while posixpath.join(book.folder, f"worksheets/sheet{n}.xml").lower() in taken:
        n += 1
    return _Slot(posixpath.join(book.folder, f"worksheets/sheet{n}.xml"), len(book.sheets))


def _existing_slot(book: _Workbook, index: int) -> _Slot:
    el = book.sheets[index]
    rel = {r["Id"]: r for r in book.rels}.get(_rid_of(el) or "")
    name = el.et.get("name")
    if rel is None or rel["external"]:
        raise XlsxPackageError(f"sheet {name!r} has no relationship")
    if not rel["Type"].endswith("/worksheet"):
        raise XlsxPackageError(f"sheet {name!r} is not a worksheet ({rel['Type'].rsplit('/', 1)[-1]})")
    part = book.pkg.name(rel["part"]) or rel["part"]
    return _Slot(part, index, el.et.get("sheetId", ""), el, book.pkg.exclusively_owned(part))


def _chart_parts(book: _Workbook, slot: _Slot, sheet: SheetSpec) -> tuple[dict, str | None]:
    """The drawing and chart parts the sheet needs: {part: (data, content type)}, and the drawing's target."""
    if not sheet.charts:
        return {}, None
    freed = {d.lower() for d in slot.dead} | {rels_name(d).lower() for d in slot.dead}
    taken = (set(book.pkg.by_lower) | set(book.overrides)) - freed

    def allocate(pattern: str) -> str:
        k = 1
        while posixpath.join(book.folder, pattern.format(k)).lower() in taken:
            k += 1
        name = posixpath.join(book.folder, pattern.format(k))
        taken.add(name.lower())
        return name

    dml = DML_STRICT if book.ns_main == NS_MAIN_STRICT else DML_TRANSITIONAL
    drawing = allocate("drawings/drawing{}.xml")
    charts = [allocate("charts/chart{}.xml") for _ in sheet.charts]
    chart_rel_type = book.ws_rel_type.rsplit("/", 1)[0] + "/chart"
    rids = [f"rId{i}" for i in range(1, len(charts) + 1)]
    extra = {drawing: (build_drawing_xml(sheet, rids, dml, book.ns_r), CT_DRAWING),
             rels_name(drawing): (rels_xml([
                 f'<Relationship Id="{rid}" Type="{esc_attr(chart_rel_type)}" '
                 f'Target="{esc_attr(rel_target(drawing, cp))}"/>' for rid, cp in zip(rids, charts)]), None)}
    for chart, cp in zip(sheet.charts, charts):
        extra[cp] = (build_chart_xml(sheet, chart, dml, book.ns_r), CT_CHART)
    return extra, rel_target(slot.part, drawing)


# --------------------------------------------------------------------------- the edits


def _override(book: _Workbook, part: str, content_type: str) -> None:
    ct = book.ct
    ct.append_children(ct.root, f'<{ct.root.prefix}Override PartName="/{esc_attr(part)}" '
                                f'ContentType="{content_type}"/>')


def _replace_existing(book: _Workbook, slot: _Slot, sheet: SheetSpec, ws_xml: bytes, extra: dict,
                      edits: _Edits) -> None:
    pkg = book.pkg
    if slot.existing.et.get("name") != sheet.name:
        book.doc.set_attr(slot.existing, "name", sheet.name)
    if pkg.name(slot.part):
        edits.replaced[pkg.name(slot.part)] = ws_xml
    else:
        edits.added.append((slot.part, ws_xml))
    if slot.part.lower() not in book.overrides:
        _override(book, slot.part, CT_WORKSHEET)
    _drop_dead_parts(book, slot, {k.lower() for k in extra}, edits)
    _drop_calc_chain(book, slot.sheet_id, edits)


def _drop_dead_parts(book: _Workbook, slot: _Slot, reused: set[str], edits: _Edits) -> None:
    """Drop the parts only the old sheet referenced, unless the new sheet reuses their names."""
    pkg = book.pkg
    for d in slot.dead:
        if d.lower() not in reused:
            edits.replaced[pkg.name(d)] = None
            if d.lower() in book.overrides:
                book.ct.remove(book.overrides[d.lower()])
        d_rels = pkg.name(rels_name(d))
        if d_rels and d_rels.lower() not in reused:
            edits.replaced[d_rels] = None
    own_rels = pkg.name(rels_name(slot.part))
    if own_rels and own_rels.lower() not in reused:
        edits.replaced[own_rels] = None


def _append_new(book: _Workbook, slot: _Slot, sheet: SheetSpec, ws_xml: bytes, edits: _Edits) -> None:
    """A new <sheet> in workbook.xml with its relationship and content type."""
    ids = {r["Id"] for r in book.rels}
    k = 1 + max((int(m.group(1)) for i in ids if (m := re.fullmatch(r"rId(\d+)", i))), default=0)
    while f"rId{k}" in ids:
        k += 1
    rid = f"rId{k}"
    sheet_id = 1 + max((int(s.et.get("sheetId", "0")) for s in book.sheets if s.et.get("sheetId", "").isdigit()),
                       default=0)
    edits.added.append((slot.part, ws_xml))
    sheets_el = book.doc.root.find("sheets")
    r_prefix = prefix_for(book.doc, book.ns_r)
    r_attr = f'xmlns:r="{book.ns_r}" r:id="{rid}"' if r_prefix is None else f'{r_prefix}id="{rid}"'
    book.doc.append_children(
        sheets_el, f'<{sheets_el.prefix}sheet name="{esc_attr(sheet.name)}" sheetId="{sheet_id}" {r_attr}/>')
    rels = book.rels_doc
    rels.append_children(rels.root, f'<{rels.root.prefix}Relationship Id="{rid}" Type="{esc_attr(book.ws_rel_type)}" '
                                    f'Target="{esc_attr(rel_target(book.part, slot.part))}"/>')
    _override(book, slot.part, CT_WORKSHEET)


def _place_extra(book: _Workbook, extra: dict, edits: _Edits) -> None:
    """The sheet's rels, drawing and charts: in place when the name exists, else appended."""
    pkg = book.pkg
    for part, (data, content_type) in extra.items():
        if pkg.name(part):
            edits.replaced[pkg.name(part)] = data
        else:
            edits.added.append((part, data))
        if content_type is None:
            continue
        override = book.overrides.get(part.lower())
        if override is None:
            _override(book, part, content_type)
        elif override.et.get("ContentType") != content_type:
            book.ct.set_attr(override, "ContentType", content_type)


_PRINT_NAMES = ("_xlnm.Print_Titles", "_xlnm.Print_Area")  # print settings: ours, like the sheet


def print_names(sheet: SheetSpec) -> list[tuple[str, str]]:
    """(name, formula) of the built-in defined names the sheet's print setup needs: print area and titles."""
    ps = sheet.page_setup
    names = []
    if ps is not None and ps.print_area:
        r1, c1, r2, c2 = parse_range(ps.print_area)
        area = f"${col_letter(c1)}${r1}:${col_letter(c2)}${r2}"
        names.append(("_xlnm.Print_Area", f"{quoted_sheet(sheet.name)}!{area}"))
    if ps is not None and ps.title_rows:
        first, last = ps.title_rows
        names.append(("_xlnm.Print_Titles", f"{quoted_sheet(sheet.name)}!${int(first)}:${int(last)}"))
    return names


def _set_print_names(book: _Workbook, slot: _Slot, sheet: SheetSpec) -> None:
    """Replace the print titles and print area scoped to the sheet by the ones the new sheet needs."""
    doc = book.doc
    defined = doc.root.find("definedNames")
    scope = str(slot.position)
    for el in defined.findall("definedName") if defined is not None else []:
        if el.et.get("localSheetId") == scope and el.et.get("name") in _PRINT_NAMES:
            doc.remove(el)
    p = doc.root.prefix
    xml = "".join(f'<{p}definedName name="{name}" localSheetId="{scope}">{esc_text(formula)}</{p}definedName>'
                  for name, formula in print_names(sheet))
    if not xml:
        return
    if defined is not None:
        doc.append_children(defined, xml)
        return
    anchor = None
    for before in _BEFORE_DEFINED_NAMES:
        anchor = doc.root.find(before) or anchor
    doc.insert_after(anchor, f"<{p}definedNames>{xml}</{p}definedNames>")


def _drop_calc_chain(book: _Workbook, sheet_id: str, edits: _Edits) -> None:
    """Remove the replaced sheet's entries from calcChain.xml (the whole part when nothing else is left)."""
    pkg = book.pkg
    rel = next((r for r in book.rels if r["Type"].endswith("/calcChain") and not r["external"]), None)
    name = pkg.name(rel["part"]) if rel else None
    if name is None or not sheet_id:
        return
    doc = Doc(pkg.read(name), name)
    keep, drop, cur = [], [], "0"
    for c in doc.root.children:
        cur = c.et.get("i", cur)
        (drop if cur == sheet_id else keep).append((c, cur))
    if not drop:
        return
    if not keep:
        edits.replaced[name] = None
        for r_el in book.rels_doc.root.children:
            if r_el.et.get("Id") == rel["Id"]:
                book.rels_doc.remove(r_el)
        if name.lower() in book.overrides:
            book.ct.remove(book.overrides[name.lower()])
        return
    for c, _ in drop:
        doc.remove(c)
    prev = None
    for c, eff in keep:
        if eff != prev and c.et.get("i") is None:
            doc.set_attr(c, "i", eff)
        prev = eff
    edits.replaced[name] = doc.to_bytes()


def _finish_documents(book: _Workbook, edits: _Edits) -> None:
    for doc in (book.doc, book.rels_doc, book.ct, book.styles_doc):
        if doc.changed and edits.replaced.get(doc.part, b"") is not None:
            data = doc.to_bytes()
            if data != doc.original:
                edits.replaced[doc.part] = data


def _members(pkg: Package, edits: _Edits) -> list[zipraw.RawMember]:
    members: list[zipraw.RawMember] = []
    for info in pkg.infos:
        if info.filename not in edits.replaced:
            members.append(pkg.raw_member(info))
        elif edits.replaced[info.filename] is not None:
            members.append(pkg.raw_member(info).replaced(edits.replaced[info.filename]))
    members.extend(zipraw.RawMember(name, data=data) for name, data in edits.added)
    return members
