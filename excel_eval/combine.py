"""All reports of a run in one .docx (e.g. for 附件3), each report starting on a new page.

The reports come from the bundled templates and hold only styled paragraphs, one section and the
template's odd/even page-number footers. So the merge is plain: the first report is the base (its
styles, footers, page setup and final section properties), the body paragraphs of every further report
are appended with "page break before" on their first paragraph. The whole document stays one section,
so the `— N —` footers keep alternating odd/even and the page numbers run on through all reports, as
one attachment is numbered.

Content that lives in other parts of a package (images, hyperlinks, footnotes, comments, list
numbering that differs from the base's) cannot be moved by copying body XML; such a report raises
CombineError instead of producing a broken document.
"""

from __future__ import annotations

import copy
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Pt, Twips
from docx.text.paragraph import Paragraph
from loguru import logger

LABEL_STYLE = "附件标签"
LABEL_STYLE_ID = "AttachmentLabel"
LABEL_FONT = "黑体"
LINE_PITCH = 578  # twips: 28.9 pt, GB/T 9704's 22 lines to the 225 mm text block

_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_W14_NS = "http://schemas.microsoft.com/office/word/2010/wordml"
_PART_REFERENCES = ("w:footnoteReference", "w:endnoteReference", "w:commentReference")
_STYLE_REFERENCES = ("w:pStyle", "w:rStyle", "w:tblStyle")


class CombineError(ValueError):
    """A report holds content the merge cannot carry over (the message is for the user)."""


def combine_reports(reports: list[Path], out_path: Path, label: str | None = None) -> Path:
    """Write `out_path`: every report in the given order, each starting on a new page, page numbers
    continuous; `label` (e.g. "附件3"), exactly as given, as the first paragraph in style 附件标签 (GB/T 9704
    §8: 3 号黑体 at the top left, the title on the third line). Returns `out_path`.

    Raises ValueError for an empty list, CombineError for a report with images, links, footnotes,
    comments or its own list numbering; PermissionError when `out_path` is open in Word/WPS.
    """
    reports = [Path(p) for p in reports]
    if not reports:
        raise ValueError("没有可合并的报告。")
    base = Document(str(reports[0]))
    body = base.element.body
    final_sect = body.sectPr  # the base's last section properties stay last
    base_numbering = _numbering_blob(base)

    for path in reports[1:]:
        src = Document(str(path))
        elements = [el for el in src.element.body if el is not src.element.body.sectPr]
        if not elements:
            continue
        _check_portable(path, src, elements, base_numbering)
        _warn_page_setup(path, final_sect, src.element.body.sectPr)
        _copy_missing_styles(base, src, elements)
        for el in elements:
            for node in el.iter():
                node.attrib.pop(f"{{{_W14_NS}}}paraId", None)  # must stay unique in Word
                node.attrib.pop(f"{{{_W14_NS}}}textId", None)
        _start_on_new_page(elements)
        for el in elements:
            final_sect.addprevious(el)

    if label:
        style = _label_style(base)
        first = body[0]
        paragraph = Paragraph(parse_xml(f"<w:p {nsdecls('w')}/>"), base._body)
        first.addprevious(paragraph._p)
        paragraph.style = style
        paragraph.add_run(label)

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    base.save(str(out_path))
    return out_path


def _start_on_new_page(elements: list) -> None:
    first = elements[0]
    if first.tag == qn("w:p"):
        first.get_or_add_pPr().pageBreakBefore_val = True
    else:  # a table (or other block) cannot carry pageBreakBefore: a page-break paragraph before it
        first.addprevious(parse_xml(f'<w:p {nsdecls("w")}><w:r><w:br w:type="page"/></w:r></w:p>'))
        elements.insert(0, first.getprevious())


def _check_portable(path: Path, src: DocumentObject, elements: list, base_numbering: bytes | None) -> None:
    for el in elements:
        for node in el.iter():
            if not isinstance(node.tag, str):
                continue
            if any(key.startswith(f"{{{_R_NS}}}") for key in node.attrib) or \
                    any(node.tag == qn(tag) for tag in _PART_REFERENCES):
                raise CombineError(f"{path.name} 含有图片、链接、脚注或批注等内容，暂不能合并；请单独提交该报告。")
            if node.tag == qn("w:numPr") and _numbering_blob(src) != base_numbering:
                raise CombineError(f"{path.name} 使用的自动编号与第一份报告的模板不同，暂不能合并。")


def _numbering_blob(doc: DocumentObject) -> bytes | None:
    try:
        return doc.part.part_related_by(RT.NUMBERING).blob
    except KeyError:
        return None


def _warn_page_setup(path: Path, base_sect, src_sect) -> None:
    def setup(sect):
        if sect is None:
            return None
        return [(el.tag, dict(el.attrib)) for tag in ("w:pgSz", "w:pgMar")
                if (el := sect.find(qn(tag))) is not None]
    if setup(src_sect) != setup(base_sect):
        logger.warning("{} 的页面设置与第一份报告不同，合并后按第一份报告的页面排版。", path.name)


def _copy_missing_styles(base: DocumentObject, src: DocumentObject, elements: list) -> None:
    """Styles a report uses that the base lacks (by styleId) come over with their basedOn/link/next chain."""
    base_styles, src_styles = base.styles.element, src.styles.element
    have = {s.get(qn("w:styleId")) for s in base_styles.findall(qn("w:style"))}
    todo = [node.get(qn("w:val")) for el in elements for tag in _STYLE_REFERENCES for node in el.iter(qn(tag))]
    while todo:
        style_id = todo.pop()
        if not style_id or style_id in have:
            continue
        have.add(style_id)
        found = [s for s in src_styles.findall(qn("w:style")) if s.get(qn("w:styleId")) == style_id]
        if not found:
            continue
        base_styles.append(copy.deepcopy(found[0]))
        for tag in ("w:basedOn", "w:link", "w:next"):
            ref = found[0].find(qn(tag))
            if ref is not None:
                todo.append(ref.get(qn("w:val")))


def _label_style(doc: DocumentObject):
    """The template's 附件标签 style, or a new one like it: 黑体 3 号 (16 pt), left, no indent, one empty line
    after it (at the 28.9 pt line pitch of the bundled templates) so that the title is on the third line."""
    try:
        return doc.styles[LABEL_STYLE]
    except KeyError:
        pass
    style = doc.styles.add_style(LABEL_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    ids = {s.style_id for s in doc.styles}
    if LABEL_STYLE_ID not in ids:
        style.style_id = LABEL_STYLE_ID
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    style.font.size = Pt(16)
    style.font.name = LABEL_FONT
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), LABEL_FONT)
    fmt = style.paragraph_format
    fmt.alignment = WD_ALIGN_PARAGRAPH.LEFT
    fmt.line_spacing = fmt.space_after = Twips(LINE_PITCH)
    ind = fmt.element.get_or_add_pPr().get_or_add_ind()
    for key in ("w:firstLineChars", "w:firstLine", "w:leftChars", "w:left"):
        ind.set(qn(key), "0")  # the *Chars values override Normal's two-character indent
    return style
