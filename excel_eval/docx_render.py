"""docxtpl templates compiled once, rendered many times.

Plain docxtpl loads the template, parses every part, renders and saves the whole package again for each
report (about 30 ms). Here each part that docxtpl renders is prepared once, as docxtpl prepares it: its XML
as python-docx serializes it (so entities such as LibreOffice's `&quot;` are plain characters), cleaned by
docxtpl's own `patch_xml` and compiled by Jinja. Each report then renders only those parts, applies docxtpl's
own post-processing (`resolve_listing`, and for the main document `fix_tables`, which rebuilds a table's grid
after `{%tc %}`, `{% hm %}`, `{% colspan %}` or `{#tc #}`, and `fix_docpr_ids`, which renumbers pictures
repeated by a loop), and is written with every other member copied as raw compressed bytes (about 2 ms).

The parts are the ones docxtpl renders, found through the package's relationships: the main document (which
Word Online names `word/document2.xml`), its headers and footers, and the footnotes. A part without tags
once docxtpl has joined its runs is rendered once, at compile time. docxtpl's full render stays the
reference (`render_with_docxtpl`), used for the one case the compiled path does not cover (tags in the core
document properties); tests/test_docx_render.py compares the two on a template for each feature.

Two deliberate differences, both where docxtpl would give a broken or unsafe result: a part whose rendered
XML is not well-formed raises `RenderedXmlInvalid` (docxtpl silently drops what its recovering parser cannot
read), and footnotes are cleaned like the other parts and rendered once (docxtpl renders its raw XML, once
per section).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import io
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.oxml import serialize_part_xml
from docx.oxml.ns import qn
from docx.oxml.parser import parse_xml
from docxtpl import DocxTemplate
from jinja2 import Environment
from loguru import logger
from lxml import etree

from . import signoff, zipraw

TAG_START = re.compile(r"\{[{%#]")  # where a Jinja tag starts: {{, {% or {#
_LISTING_CHARS = "\t\a\n\f"  # the characters docxtpl's resolve_listing turns into tabs, breaks, paragraphs
FOOTNOTES_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
# The core properties docxtpl renders (DocxTemplate.render_properties).
CORE_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")
_BODY_MARK = "excel-eval-body"
_STRICT = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)

# Relationship types from the main document to the parts a user sees and types tags into.
PART_KINDS = {RT.HEADER: "header", RT.FOOTER: "footer", RT.FOOTNOTES: "footnotes", RT.ENDNOTES: "endnotes",
              RT.COMMENTS: "comments"}


class RenderedXmlInvalid(Exception):
    """A part's rendered XML is not well-formed (tags that cut through the document's structure)."""

    def __init__(self, part: str, detail: str):
        super().__init__(f"{part}: {detail}")
        self.part = part


# ---------------------------------------------------------------------------------------------------------
# The package: which member is which part


@dataclass(frozen=True)
class PartRef:
    name: str  # zip member name, e.g. word/document2.xml
    kind: str  # document, header, footer, footnotes, endnotes, comments
    rel_id: str = ""  # the relationship id from the main document ("" for the main document itself)


def _rels_name(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def _targets(rels_xml: bytes | None, source: str) -> list[tuple[str, str, str]]:
    """(type, member name, id) of each internal relationship in a .rels part."""
    if not rels_xml:
        return []
    root = etree.fromstring(rels_xml, _STRICT)
    found = []
    for rel in root:
        if rel.get("TargetMode") == "External" or rel.get("Target") is None:
            continue
        target = rel.get("Target")
        name = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(posixpath.dirname(source), target))
        found.append((rel.get("Type", ""), name, rel.get("Id", "")))
    return found


def package_parts(read: Callable[[str], bytes | None]) -> list[PartRef]:
    """The main document and the parts it relates to (headers, footers, footnotes, endnotes, comments), found
    through the package's relationships. `read(name)` gives a member's bytes, or None when it is absent."""
    main = next((name for kind, name, _ in _targets(read("_rels/.rels"), "") if kind == RT.OFFICE_DOCUMENT), None)
    if main is None or read(main) is None:
        return []
    parts = [PartRef(main, "document")]
    for kind, name, rel_id in _targets(read(_rels_name(main)), main):
        if kind in PART_KINDS and read(name) is not None:
            parts.append(PartRef(name, PART_KINDS[kind], rel_id))
    return parts


# ---------------------------------------------------------------------------------------------------------
# The compiled template


@dataclass
class _Part:
    """One part docxtpl renders: a compiled Jinja template, or (no tags) its output computed once."""

    template: object | None
    finish: Callable[[str], bytes]
    constant: bytes | None = None


@dataclass
class _Text:
    """A part's text without tags, standing in for its Jinja template."""

    text: str

    def render(self, context: dict) -> str:
        return self.text


# The parts rendered for each document are deflated at level 1: half the time of zlib's default level 6 (0.1 ms
# a report), and about a tenth larger (3.6 KB instead of 3.3 KB for a report's body). The parts that never change
# are deflated once per template, at the default level.
RENDERED_LEVEL = 1

Adjust = Callable[[etree._Element], None]  # changes a rendered document body in place


class CompiledDocx:
    """One template, prepared for many renders. `adjust`, when given, changes each rendered document body
    (the w:body element, after docxtpl's fixes) before it is written, as a caller would change the body of
    docxtpl's rendered document before saving it."""

    def __init__(self, source: Path | bytes, env: Environment, adjust: Adjust | None = None):
        self.source = source.read_bytes() if isinstance(source, Path) else source
        self.env = env
        self.adjust = adjust
        self._members, self._comment = zipraw.read_members(io.BytesIO(self.source))
        self._docxtpl = DocxTemplate(io.BytesIO(self.source))  # its cleaning and fixes, on python-docx's parts
        self._docxtpl.init_docx()
        self._parts: dict[str, _Part] = {}
        names = {m.name for m in self._members}
        document = self._docxtpl.docx
        self.fast = not any(TAG_START.search(getattr(document.core_properties, p) or "") for p in CORE_PROPERTIES)
        self._add(document.part, self._docxtpl.patch_xml(self._docxtpl.get_xml()), self._document_finish())
        for rel in document.part.rels.values():
            if rel.reltype in (RT.HEADER, RT.FOOTER) and not rel.is_external and rel.target_part.blob:
                part = rel.target_part
                self._add(part, self._docxtpl.patch_xml(self._docxtpl.get_part_xml(part)), _reparsed(part))
        for part in document.part.package.iter_parts():
            if part.content_type == FOOTNOTES_TYPE:
                xml = etree.tostring(etree.fromstring(part.blob, _STRICT), encoding="unicode")
                self._add(part, self._docxtpl.patch_xml(xml), _checked(part))
        if not set(self._parts) <= names:
            self.fast = False  # part names that are not plain member names: let docxtpl write the package
        # parts without tags are the same in every report: compressed once
        self._packed = {m.name: m.replaced(self._parts[m.name].constant).packed() for m in self._members
                        if m.name in self._parts and self._parts[m.name].template is None}

    @property
    def document(self):
        """The template as python-docx reads it (its styles, for instance); not to be changed."""
        return self._docxtpl.docx

    def _add(self, part, patched: str, finish: Callable[[str], bytes]) -> None:
        # As docxtpl's render_xml_part: one paragraph per line, so that {%p %} tags work on whole lines.
        source = re.sub(r"<w:p([ >])", r"\n<w:p\1", patched)
        if TAG_START.search(patched):
            entry = _Part(compiled_template(self.env, source), finish)
        else:  # text without tags renders as itself (the part's XML has no carriage returns for Jinja to change)
            entry = _Part(None, finish, self._finish(_Part(_Text(source), finish), {}))
        self._parts[str(part.partname).lstrip("/")] = entry

    def _document_finish(self) -> Callable[[str], bytes]:
        """The main part: the rendered body in the document as python-docx serializes it, after docxtpl's
        table-grid and picture-id fixes."""
        root = copy.deepcopy(self._docxtpl.docx.element)
        root.replace(root.body, etree.Comment(_BODY_MARK))
        prefix, suffix = serialize_part_xml(root).split(f"<!--{_BODY_MARK}-->".encode())
        name = str(self._docxtpl.docx.part.partname).lstrip("/")

        # layout: the 落款's indents, from the template's styles, read when a rendered body has a 落款
        style = functools.cache(lambda: _signoff_style(self._docxtpl.docx))

        def finish(body: str) -> bytes:
            data = body.encode("utf-8")
            fit = f'w:val="{signoff.NAME_STYLE}"' in body and style() is not None
            if "<w:tbl" not in body and "docPr" not in body and self.adjust is None:
                # most bodies: checked without building their tree, and their 落款 fitted as text
                check_well_formed(data, name)
                fitted = signoff.fit_text(body, style()) if fit else body
                if fitted is not None:
                    return prefix + (data if fitted is body else fitted.encode("utf-8")) + suffix
            try:
                tree = etree.fromstring(data, _STRICT)  # parsed from bytes: a third faster than from text
            except etree.XMLSyntaxError as exc:
                raise RenderedXmlInvalid(name, str(exc)) from exc
            if "<w:tbl" in body and _grid_mismatched(tree):
                tree = self._docxtpl.fix_tables(body)  # parses the body again (most bodies need no fix)
            if "docPr" in body:
                self._docxtpl.docx_ids_index = 1000  # as docxtpl's render_init, once per report
                self._docxtpl.fix_docpr_ids(tree)
            if self.adjust is not None:
                self.adjust(tree)
            if fit:  # layout: the 落款's indents depend on its rendered text
                signoff.fit(tree, style())
            if "<w:tbl" in body or "docPr" in body or fit or self.adjust is not None:
                data = etree.tostring(tree, encoding="utf-8", xml_declaration=False)
            return prefix + data + suffix

        return finish

    def _finish(self, part: _Part, context: dict) -> bytes:
        xml = part.template.render(context)
        # docxtpl's render_xml_part after rendering: undo the line trick, unescape {_{ … }_}, resolve \n \t \a \f.
        xml = xml.replace("\n<w:p ", "<w:p ").replace("\n<w:p>", "<w:p>")  # as re.sub(r"\n<w:p([ >])", …), faster
        xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        if any(c in xml for c in _LISTING_CHARS):  # else resolve_listing changes nothing (and costs a regex a run)
            xml = self._docxtpl.resolve_listing(xml)
        return part.finish(xml)

    def render_parts(self, context: dict) -> dict[str, bytes]:
        """The rendered XML of every part docxtpl renders, by member name."""
        return {name: part.constant if part.template is None else self._finish(part, context)
                for name, part in self._parts.items()}

    def package(self, context: dict) -> bytes:
        """The rendered document, as the bytes of its file."""
        out = io.BytesIO()
        if not self.fast:
            render_with_docxtpl(self.source, context, self.env, out, self.adjust)
            return out.getvalue()
        parts = {name: self._finish(part, context) for name, part in self._parts.items() if part.template is not None}
        members = [m.replaced(parts[m.name]) if m.name in parts else self._packed.get(m.name, m)
                   for m in self._members]
        zipraw.write_zip(out, members, self._comment, level=RENDERED_LEVEL)
        return out.getvalue()

    def write(self, context: dict, out: Path) -> Path:
        out.write_bytes(self.package(context))
        return out


def compiled_template(env: Environment, source: str):
    """`env.from_string(source)`, its Python bytecode kept between runs in Jinja's own bytecode cache (a folder
    in the system's temporary folder): compiling a report's body takes about 30 ms, loading it 1 ms. The entry
    is named by everything the code depends on (the source, the environment's options, the versions); a cache
    that cannot be read or written is left aside."""
    import jinja2
    from jinja2.bccache import FileSystemBytecodeCache

    global _bytecode
    if _bytecode is None:
        try:
            _bytecode = FileSystemBytecodeCache(BYTECODE_FOLDER, "excel-eval-%s.cache")
        except (OSError, RuntimeError) as exc:  # no safe temporary folder
            logger.debug("Jinja bytecode cache unavailable: {!r}", exc)
            _bytecode = False
    if not _bytecode:
        return env.from_string(source)
    name = "|".join(map(str, (jinja2.__version__, type(env).__name__, env.autoescape, env.keep_trailing_newline,
                             hashlib.sha256(source.encode("utf-8")).hexdigest())))
    try:
        bucket = _bytecode.get_bucket(env, name, None, source)
        code = bucket.code
    except Exception as exc:  # noqa: BLE001 - an unreadable or damaged entry: compiled afresh
        logger.debug("Jinja bytecode cache entry unreadable: {!r}", exc)
        bucket, code = None, None
    if code is None:
        code = env.compile(source)
        if bucket is not None:
            bucket.code = code
            try:
                _bytecode.set_bucket(bucket)
            except Exception as exc:  # noqa: BLE001 - a full or read-only disk: compiled again next time
                logger.debug("Jinja bytecode cache not written: {!r}", exc)
    return env.template_class.from_code(env, code, env.make_globals(None), None)


BYTECODE_FOLDER: str | None = None  # None: Jinja's default (a folder of this user's in the temporary folder)
_bytecode = None  # the cache, made on first use; False when there is none


class _NoTree:
    """A parser target that builds nothing: the parse only checks that the XML is well-formed."""

    def close(self) -> None:
        return None


_CHECKING = etree.XMLParser(target=_NoTree(), resolve_entities=False, no_network=True, huge_tree=True)


def check_well_formed(data: bytes, name: str) -> None:
    """Raise RenderedXmlInvalid unless `data` is well-formed XML with its namespace prefixes declared: what
    parsing it into a tree would refuse, in half the time (a parser with a target reports an undeclared prefix
    in its error log only)."""
    try:
        etree.fromstring(data, _CHECKING)
    except etree.XMLSyntaxError as exc:
        raise RenderedXmlInvalid(name, str(exc)) from exc
    errors = [e for e in _CHECKING.error_log if e.level >= etree.ErrorLevels.ERROR]
    if errors:
        raise RenderedXmlInvalid(name, f"{errors[0].message} (line {errors[0].line})")


_TBL, _TBL_GRID, _GRID_COL, _TR, _TC = qn("w:tbl"), qn("w:tblGrid"), qn("w:gridCol"), qn("w:tr"), qn("w:tc")
_TC_PR, _GRID_SPAN, _VAL = qn("w:tcPr"), qn("w:gridSpan"), qn("w:val")


def _grid_mismatched(body: etree._Element) -> bool:
    """True when docxtpl's fix_tables would change a table of the rendered body: a row with more cells than
    the grid has columns, or a grid with more columns than its widest row spans (a loop of {%tc %} tags, a
    removed cell). Anything it would not read as it expects is left to it as well."""
    try:
        for table in body.iter(_TBL):
            columns = sum(1 for _ in first_child(table, _TBL_GRID).iterchildren(_GRID_COL))
            widest = 0
            for row in table.iter(_TR):
                cells = list(row.iterchildren(_TC))
                if len(cells) > columns:
                    return True
                spans = 0
                for cell in cells:
                    properties = first_child(cell, _TC_PR)
                    span = None if properties is None else first_child(properties, _GRID_SPAN)
                    spans += 1 if span is None else int(span.get(_VAL))
                widest = max(widest, spans)
            if columns > widest:
                return True
    except (AttributeError, TypeError, ValueError):
        return True
    return False


def first_child(element: etree._Element, tag: str) -> etree._Element | None:
    """The first child `tag` of `element`, or None: element.find(tag) without its path machinery (a few times
    faster; laying out a form asks it thousands of times)."""
    return next(element.iterchildren(tag), None)


def _reparsed(part) -> Callable[[str], bytes]:
    """Headers and footers: docxtpl loads the rendered XML as a new python-docx part, which saves it again."""
    name = str(part.partname).lstrip("/")

    def finish(xml: str) -> bytes:
        try:
            return serialize_part_xml(parse_xml(xml.encode("utf-8")))
        except etree.XMLSyntaxError as exc:
            raise RenderedXmlInvalid(name, str(exc)) from exc

    return finish


def _checked(part) -> Callable[[str], bytes]:
    """Footnotes: docxtpl stores the rendered XML as it is."""
    name = str(part.partname).lstrip("/")

    def finish(xml: str) -> bytes:
        try:
            etree.fromstring(xml, _STRICT)
        except etree.XMLSyntaxError as exc:
            raise RenderedXmlInvalid(name, str(exc)) from exc
        return xml.encode("utf-8")

    return finish


def _signoff_style(document):
    """The 落款 metrics of a python-docx Document's styles part, None when it has none (python-docx's
    `document.styles` would add a styles part to a package without one)."""
    for rel in document.part.rels.values():
        if rel.reltype == RT.STYLES and not rel.is_external:
            return signoff.read_style(rel.target_part.blob)
    return None


def render_with_docxtpl(source: Path | bytes, context: dict, env: Environment, out: Path | BinaryIO,
                        adjust: Adjust | None = None) -> Path | BinaryIO:
    """The reference: docxtpl's own load, render and save, into the file `out` or a stream (`adjust` changes the
    rendered body before saving)."""
    data = source.read_bytes() if isinstance(source, Path) else source
    document = DocxTemplate(io.BytesIO(data))
    document.render(context, jinja_env=env, autoescape=True)
    if adjust is not None:
        adjust(document.docx.element.body)
    style = _signoff_style(document.docx)  # layout: the 落款's indents
    if style is not None:
        signoff.fit(document.docx.element.body, style)
    document.save(out)
    return out

