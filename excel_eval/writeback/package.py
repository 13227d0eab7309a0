"""The workbook's zip package: parts, relationships and content types, read from ONE open handle.

Reading the directory from one open of the file and the members' bytes from another would mix two versions
of a workbook that another program replaces in between ("bad local header"); here every read goes through
the same handle (or an in-memory snapshot), so a package is always read as one version.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from .. import zipraw
from .spec import XlsxPackageError
from .xmltext import local, parse_xml

CONTENT_TYPES = "[Content_Types].xml"
NS_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
MAX_PARSED_PART = 256 * 1024 * 1024  # refuse to inflate absurdly large XML parts


def rels_name(part: str) -> str:
    d, b = posixpath.split(part)
    return posixpath.join(d, "_rels", b + ".rels")


def source_of_rels(rels: str) -> str | None:
    d, b = posixpath.split(rels)
    if posixpath.basename(d) != "_rels" or not b.endswith(".rels"):
        return None
    return posixpath.join(posixpath.dirname(d), b[: -len(".rels")])


def resolve(source: str, target: str) -> str:
    """The part a relationship of `source` points to (its target is a URI reference)."""
    target = unquote(target.split("#", 1)[0])
    p = target if target.startswith("/") else posixpath.join("/" + posixpath.dirname(source), target)
    return posixpath.normpath(p).lstrip("/")


def rel_target(source_part: str, target_part: str) -> str:
    return posixpath.relpath("/" + target_part, "/" + posixpath.dirname(source_part))


def rels_xml(rels: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{NS_PKG_RELS}">{"".join(rels)}</Relationships>'
    ).encode("utf-8")


class Package:
    """A zip package opened once: `source` is a path, the package's bytes, or an open binary file."""

    def __init__(self, source: str | Path | bytes | BinaryIO):
        self.path = Path(source) if isinstance(source, (str, Path)) else None
        self._own = None
        if isinstance(source, (str, Path)):
            self._own = fp = open(source, "rb")
        elif isinstance(source, bytes):
            fp = io.BytesIO(source)
        else:
            fp = source
        self.fp = fp
        try:
            self.zf = zipfile.ZipFile(fp)
        except (zipfile.BadZipFile, EOFError) as exc:
            self.close()
            raise XlsxPackageError(
                f"{self.path or 'the workbook'} is not an xlsx/xlsm zip package (password-protected workbooks "
                f"and legacy .xls files are not supported)") from exc
        self.infos = self.zf.infolist()
        self.by_lower = {i.filename.lower(): i.filename for i in self.infos}
        self.comment = self.zf.comment

    def __enter__(self) -> "Package":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if getattr(self, "zf", None) is not None:
            self.zf.close()
        if self._own is not None:
            self._own.close()

    def name(self, part: str) -> str | None:
        return self.by_lower.get(part.lower())

    def read(self, part: str) -> bytes:
        name = self.name(part)
        if name is None:
            raise XlsxPackageError(f"missing package part {part}")
        info = self.zf.getinfo(name)
        if info.file_size > MAX_PARSED_PART:
            raise XlsxPackageError(f"{part} is implausibly large ({info.file_size} bytes)")
        try:
            return self.zf.read(info)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            raise XlsxPackageError(f"{part} cannot be read: {exc}") from exc

    def raw_member(self, info: zipfile.ZipInfo) -> zipraw.RawMember:
        try:
            return zipraw.read_member(self.fp, info)
        except zipraw.ZipRawError as exc:
            raise XlsxPackageError(str(exc)) from exc

    def check_member(self, info: zipfile.ZipInfo) -> None:
        try:
            zipraw.check_member(self.fp, info)
        except zipraw.ZipRawError as exc:
            raise XlsxPackageError(str(exc)) from exc

    def rels(self, source: str) -> list[dict]:
        """Relationships of a part ('' for the package): dicts with Id/Type/Target/external/part."""
        name = self.name(rels_name(source) if source else "_rels/.rels")
        if name is None:
            return []
        root = parse_xml(self.read(name), name)
        out = []
        for r in root:
            if local(r.tag) != "Relationship":
                continue
            external = r.get("TargetMode", "Internal") == "External"
            target = r.get("Target", "")
            out.append({"Id": r.get("Id", ""), "Type": r.get("Type", ""), "Target": target, "external": external,
                        "part": None if external else resolve(source, target)})
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
        raise XlsxPackageError(f"{self.path or 'the package'}: no workbook part found")

    def exclusively_owned(self, sheet_part: str) -> list[str]:
        """Parts reachable from ``sheet_part`` that nothing outside that subtree references."""
        incoming, outgoing = self._reference_graph()
        dead = {sheet_part.lower()}
        changed = True
        while changed:
            changed = False
            for src in list(dead):
                for tgt in outgoing.get(src, ()):
                    if tgt not in dead and tgt in self.by_lower and incoming.get(tgt, set()) <= dead:
                        dead.add(tgt)
                        changed = True
        dead.discard(sheet_part.lower())
        return sorted(self.by_lower[d] for d in dead)

    def _reference_graph(self) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        incoming: dict[str, set[str]] = {}
        outgoing: dict[str, set[str]] = {}
        for info in self.infos:
            source = source_of_rels(info.filename)
            if source is None and info.filename.lower() != "_rels/.rels":
                continue
            source = (source or "").lower()
            for r in self.rels(source):
                if r["part"] is not None:
                    incoming.setdefault(r["part"].lower(), set()).add(source)
                    outgoing.setdefault(source, set()).add(r["part"].lower())
        return incoming, outgoing


def sheet_names(path: str | Path) -> list[str]:
    """Sheet names in workbook order (parsed with defusedxml)."""
    with Package(path) as pkg:
        wb = pkg.workbook_part()
        root = parse_xml(pkg.read(wb), wb)
        names = []
        for sheets in root:
            if local(sheets.tag) == "sheets":
                names.extend(s.get("name", "") for s in sheets if local(s.tag) == "sheet")
        return names


_MINIMAL = {
    CONTENT_TYPES: (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/theme/theme1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/></Types>'),
    "_rels/.rels": (
        f'<Relationships xmlns="{NS_PKG_RELS}"><Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<bookViews><workbookView/></bookViews><sheets></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{NS_PKG_RELS}"><Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
        'Target="styles.xml"/><Relationship Id="rId2" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme" '
        'Target="theme/theme1.xml"/></Relationships>'),
    "xl/styles.xml": (
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="宋体"/><family val="2"/><charset val="134"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
}


def minimal_workbook() -> bytes:
    """A workbook package with no sheets yet, for a generated sheet that needs a workbook of its own."""
    from openpyxl.writer.theme import theme_xml  # Office's default theme, which a workbook part must have

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, xml in _MINIMAL.items():
            zf.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + xml)
        zf.writestr("xl/theme/theme1.xml", theme_xml)
    return out.getvalue()
