"""Small .docx templates written as raw WordprocessingML, the way Word and LibreOffice store them: runs split
where an editor splits them (formatting changes, spell-check marks), quotes as `&quot;` as LibreOffice writes
them, headers, footers, footnotes and endnotes, pictures, and a main part that Word Online names
`word/document2.xml`. python-docx cannot write most of these, so the package is assembled here."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS = (f'xmlns:w="{W}" xmlns:r="{R}" '
      'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
      'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
      'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"')
CT = "application/vnd.openxmlformats-officedocument.wordprocessingml"
BOLD = "<w:b/>"
RED = '<w:color w:val="FF0000"/>'


def escape(text: str, quotes: bool = False) -> str:
    """Text as stored in a <w:t>: LibreOffice writes " as &quot; (`quotes`), Word writes it as is."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quotes else text


def run(text: str, rpr: str = "", quotes: bool = False) -> str:
    props = f"<w:rPr>{rpr}</w:rPr>" if rpr else ""
    return f'<w:r>{props}<w:t xml:space="preserve">{escape(text, quotes)}</w:t></w:r>'


def para(*content: str, style: str = "") -> str:
    """A paragraph of runs (strings are plain runs, already built runs pass through)."""
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    runs = "".join(c if c.startswith("<") else run(c) for c in content)
    return f"<w:p>{ppr}{runs}</w:p>"


def cell(*paragraphs: str, width: int = 2000, span: int = 1) -> str:
    grid = f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
    body = "".join(p if p.startswith("<w:p") else para(p) for p in paragraphs) or "<w:p/>"
    return f'<w:tc><w:tcPr><w:tcW w:w="{width * span}" w:type="dxa"/>{grid}</w:tcPr>{body}</w:tc>'


def row(*cells: str) -> str:
    return "<w:tr>" + "".join(c if c.startswith("<w:tc") else cell(c) for c in cells) + "</w:tr>"


def table(*rows: str, columns: int, width: int = 2000) -> str:
    grid = "".join(f'<w:gridCol w:w="{width}"/>' for _ in range(columns))
    return (f'<w:tbl><w:tblPr><w:tblW w:w="{width * columns}" w:type="dxa"/></w:tblPr><w:tblGrid>{grid}'
            f"</w:tblGrid>{''.join(rows)}</w:tbl>")


def picture(rel_id: str = "rIdImage1", pic_id: int = 1) -> str:
    """An inline picture run (docPr id as Word numbers it)."""
    size = 'cx="360000" cy="360000"'
    return (
        f'<w:r><w:drawing><wp:inline><wp:extent {size}/><wp:docPr id="{pic_id}" name="图片 {pic_id}"/>'
        '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
        f'<pic:pic><pic:nvPicPr><pic:cNvPr id="{pic_id}" name="logo.png"/><pic:cNvPicPr/></pic:nvPicPr>'
        f'<pic:blipFill><a:blip r:embed="{rel_id}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
        f'<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext {size}/></a:xfrm><a:prstGeom prst="rect"/></pic:spPr>'
        "</pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r>")


def png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class Package:
    """A .docx: the body's XML and the optional parts around it."""

    body: str
    main: str = "word/document.xml"
    headers: dict[str, str] = field(default_factory=dict)  # type (default, first, even) -> content XML
    footers: dict[str, str] = field(default_factory=dict)
    footnotes: list[str] = field(default_factory=list)  # the content XML of each footnote
    endnotes: list[str] = field(default_factory=list)
    images: int = 0  # pictures rIdImage1… (word/media/image1.png…)
    sections: int = 1  # a section break before the last section (the first sections have no references)
    pretty: bool = False  # newlines and indentation between elements, as some tools write
    title: str = "模板"  # the core property

    def to_bytes(self) -> bytes:
        folder, name = self.main.rsplit("/", 1)
        parts: dict[str, str | bytes] = {}
        rels = []
        overrides = {f"/{self.main}": f"{CT}.document.main+xml", "/docProps/core.xml":
                     "application/vnd.openxmlformats-package.core-properties+xml"}
        references = ""
        for kind, items in (("header", self.headers), ("footer", self.footers)):
            for number, (where, content) in enumerate(items.items(), start=1):
                rel_id, target = f"rId{kind}{number}", f"{kind}{number}.xml"
                tag = "w:hdr" if kind == "header" else "w:ftr"
                parts[f"{folder}/{target}"] = f'<{tag} {NS}>{content}</{tag}>'
                rels.append((rel_id, kind, target))
                overrides[f"/{folder}/{target}"] = f"{CT}.{kind}+xml"
                references += f'<w:{kind}Reference w:type="{where}" r:id="{rel_id}"/>'
        for kind, notes in (("footnote", self.footnotes), ("endnote", self.endnotes)):
            if notes:
                separators = (f'<w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{kind}>'
                              f'<w:{kind} w:type="continuationSeparator" w:id="0"><w:p><w:r>'
                              f"<w:continuationSeparator/></w:r></w:p></w:{kind}>")
                items = "".join(f'<w:{kind} w:id="{i}">{c}</w:{kind}>' for i, c in enumerate(notes, start=1))
                parts[f"{folder}/{kind}s.xml"] = f'<w:{kind}s {NS}>{separators}{items}</w:{kind}s>'
                rels.append((f"rId{kind}s", f"{kind}s", f"{kind}s.xml"))
                overrides[f"/{folder}/{kind}s.xml"] = f"{CT}.{kind}s+xml"
        for number in range(1, self.images + 1):
            parts[f"{folder}/media/image{number}.png"] = png()
            rels.append((f"rIdImage{number}", "image", f"media/image{number}.png"))
        breaks = '<w:p><w:pPr><w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:pPr></w:p>' * (self.sections - 1)
        sect = f'<w:sectPr>{references}<w:pgSz w:w="11906" w:h="16838"/><w:titlePg/></w:sectPr>'
        document = f'<w:document {NS}><w:body>{self.body}{breaks}{sect}</w:body></w:document>'
        if self.pretty:
            document = document.replace("><w:p>", ">\n  <w:p>").replace("</w:p><", "</w:p>\n  <")
        parts[self.main] = document
        if rels:
            parts[f"{folder}/_rels/{name}.rels"] = _rels(
                (rel_id, f"{REL}/{kind}", target) for rel_id, kind, target in rels)
        parts["_rels/.rels"] = _rels([
            ("rId1", f"{REL}/officeDocument", self.main),
            ("rId2", "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
             "docProps/core.xml")])
        parts["docProps/core.xml"] = (
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
            f' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{escape(self.title)}</dc:title></cp:coreProperties>')
        defaults = ('<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                    '<Default Extension="xml" ContentType="application/xml"/>'
                    '<Default Extension="png" ContentType="image/png"/>')
        parts["[Content_Types].xml"] = (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' + defaults
            + "".join(f'<Override PartName="{k}" ContentType="{v}"/>' for k, v in overrides.items()) + "</Types>")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for member in ("[Content_Types].xml", "_rels/.rels", *sorted(k for k in parts if k not in
                                                                          ("[Content_Types].xml", "_rels/.rels"))):
                content = parts[member]
                data = content if isinstance(content, bytes) else (
                    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n" + content).encode("utf-8")
                archive.writestr(member, data)
        return out.getvalue()


def _rels(items) -> str:
    body = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{target}"/>' for i, t, target in items)
    return f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{body}</Relationships>'
