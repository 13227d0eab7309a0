"""docxtpl templates compiled once, rendered many times.

Plain docxtpl loads the template, parses every part, renders and saves the whole package again for each
report (about 40 ms). Here each template's parts with tags are prepared with docxtpl's own `patch_xml` and
compiled by Jinja once; each report renders only those parts, and its .docx is written with every other
member copied as raw compressed bytes (about 2 ms). docxtpl's full render stays the reference
(`render_with_docxtpl`), and a test compares the two documents' XML.

This relies on docxtpl internals (`patch_xml`, `resolve_listing`, the newline trick of `render_xml_part`),
pinned in pyproject.toml and checked by tests/test_docx_render.py.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from docxtpl import DocxTemplate
from jinja2 import Environment

from . import signoff, zipraw

_TAG = re.compile(r"\{[{%#]")
_BODY_OPEN = re.compile(r"<w:body(?:\s[^>]*)?>")
_TEMPLATE_PARTS = re.compile(r"^word/(document|header\d*|footer\d*)\.xml$")
# Tags that need docxtpl's post-processing of the whole tree (tables built by cell loops, images, sub-documents):
# a template that uses them renders through docxtpl itself.
_NEEDS_DOCXTPL = ("{%tc", "{% tc", "{{r ", "{{ r ", "InlineImage", "subdoc")


class CompiledDocx:
    """One template, prepared for many renders."""

    def __init__(self, source: Path | bytes, env: Environment):
        self.source = source.read_bytes() if isinstance(source, Path) else source
        self.env = env
        self._members, self._comment = zipraw.read_members(io.BytesIO(self.source))
        self._docxtpl = DocxTemplate(io.BytesIO(self.source))  # for its patch_xml and resolve_listing
        self._parts: dict[str, tuple[str, object, str]] = {}  # part -> (prefix, compiled template, suffix)
        self.fast = True
        styles = [m for m in self._members if m.name == "word/styles.xml"]
        self._signoff = signoff.read_style(_read(styles[0])) if styles else None  # layout: 落款 indents
        with_tags = []
        for member in self._members:
            if not _TEMPLATE_PARTS.match(member.name):
                continue
            xml = _read(member).decode("utf-8")
            if not _TAG.search(xml):
                continue
            with_tags.append(member.name)
            if any(marker in xml for marker in _NEEDS_DOCXTPL):
                self.fast = False
            prefix, inner, suffix = _split_body(xml) if member.name == "word/document.xml" else ("", xml, "")
            self._parts[member.name] = (prefix, self._compile(inner), suffix)
        for member in self._members:  # tags elsewhere (core properties, footnotes): let docxtpl do it all
            if member.name in ("docProps/core.xml", "word/footnotes.xml") and _TAG.search(_read(member).decode("utf-8", "replace")):
                self.fast = False

    def _compile(self, xml: str):
        patched = self._docxtpl.patch_xml(xml)
        # As docxtpl's render_xml_part: one paragraph per line, so that {%p %} tags work on whole lines.
        patched = re.sub(r"<w:p([ >])", r"\n<w:p\1", patched)
        return self.env.from_string(patched)

    def render_parts(self, context: dict) -> dict[str, bytes]:
        """The rendered XML of every part that holds tags."""
        rendered = {}
        for name, (prefix, template, suffix) in self._parts.items():
            xml = template.render(context)
            xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)
            xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
            xml = self._docxtpl.resolve_listing(xml)
            if name == "word/document.xml":  # layout: the 落款's indents depend on its text
                xml = signoff.fit_document_xml(prefix + xml + suffix, self._signoff)
                prefix = suffix = ""
            rendered[name] = (prefix + xml + suffix).encode("utf-8")
        return rendered

    def write(self, context: dict, out: Path) -> Path:
        if not self.fast:
            return render_with_docxtpl(self.source, context, self.env, out)
        parts = self.render_parts(context)
        members = [m.replaced(parts[m.name]) if m.name in parts else m for m in self._members]
        with open(out, "wb") as f:
            zipraw.write_zip(f, members, self._comment)
        return out


def render_with_docxtpl(source: Path | bytes, context: dict, env: Environment, out: Path) -> Path:
    """The reference: docxtpl's own load, render and save."""
    data = source.read_bytes() if isinstance(source, Path) else source
    document = DocxTemplate(io.BytesIO(data))
    document.render(context, jinja_env=env, autoescape=True)
    style = signoff.read_style(document.docx.styles.element.xml.encode("utf-8"))  # layout: 落款 indents
    if style is not None:
        signoff.fit(document.docx.element.body, style)
    document.save(out)
    return out


def _read(member: zipraw.RawMember) -> bytes:
    import zlib

    if member.data is not None:
        return member.data
    if member.method == 0:
        return member.raw
    return zlib.decompress(member.raw, -15)


def _split_body(xml: str) -> tuple[str, str, str]:
    """document.xml as (…<w:body>, the body's content, </w:body>…): docxtpl renders the body only."""
    opening = _BODY_OPEN.search(xml)
    closing = xml.rfind("</w:body>")
    if opening is None or closing < 0:
        raise ValueError("word/document.xml has no <w:body>")
    return xml[:opening.end()], xml[opening.end():closing], xml[closing:]
