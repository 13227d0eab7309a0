"""由 templates/src/*.txt 生成报告模板 templates/<同名>.docx。

用法（在仓库根目录）::

    .venv/bin/python templates/build_templates.py

src 文件每行一个段落，格式为 ``样式|文字``。文字中的 docxtpl/Jinja 标签原样写入，
且每段只有一个 run，保证 docxtpl 看到的标签不被拆开。

版式按 GB/T 9704-2012《党政机关公文格式》：A4，上 37 mm、下 35 mm、左 28 mm、
右 26 mm（版心 156 mm × 225 mm），正文 3 号仿宋_GB2312，固定行距 28.9 磅，
每页 22 行，每行 28 字（字符间距紧缩，见 CHARS_PER_LINE 处的说明）；页码 4 号半角宋体
“— 1 —”，单页居右、双页居左，各空一字。表格模板（自评表）不编页码。

样式都是真正的段落样式（Word/WPS 中可直接修改）：
    正文（Normal）、标题 1/2/3（Heading 1/2/3，保留大纲级别）、
    报告标题、副标题、落款、落款日期、附件标签。

其他模板（如表格版）可复用 :func:`new_document` 得到已设好页面、样式和页脚的空文档。
"""

from __future__ import annotations

import datetime as _dt
import io
import math
import sys
import zipfile
from pathlib import Path

from docx import Document
from lxml import etree
from docx.document import Document as DocumentObject
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Twips

TEMPLATES_DIR = Path(__file__).resolve().parent
SRC_DIR = TEMPLATES_DIR / "src"

# ---------------------------------------------------------------- 字体与尺寸
FONT_FANGSONG = "仿宋_GB2312"  # 正文、标题 3、落款
FONT_HEITI = "黑体"  # 标题 1、附件标签
FONT_KAITI = "楷体_GB2312"  # 标题 2、副标题
FONT_TITLE = "方正小标宋简体"  # 报告标题
FONT_SONGTI = "宋体"  # 页码
FONT_LATIN = "Times New Roman"  # 正文中的数字和西文

SIZE_2HAO = 22  # 2 号，磅
SIZE_3HAO = 16  # 3 号
SIZE_4HAO = 14  # 4 号

LINE_PITCH = 578  # 固定行距 28.9 磅（缇），225 mm 版心排 22 行
TITLE_LINE = 720  # 标题行固定行距 36 磅，2 号字不被裁切
CHAR_3HAO = 320  # 一个 3 号字宽（缇），首行缩进两字 = 640
CHAR_4HAO = 280  # 一个 4 号字宽（缇），页码空一字

# 页面（缇）：A4 210 × 297 mm；边距 上 37、下 35、左 28、右 26 mm
PAGE_WIDTH = 11906
PAGE_HEIGHT = 16838
MARGIN_TOP = 2098
MARGIN_BOTTOM = 1984
MARGIN_LEFT = 1587
MARGIN_RIGHT = 1474
HEADER_DISTANCE = 851  # 15 mm（不使用页眉）
FOOTER_DISTANCE = 1417  # 25 mm：页码一字线约在版心下边缘之下 7 mm

# 28 characters a line (GB/T 9704 §5.2.2). Sixteen-point characters at their natural pitch (320 twips) fit
# 27 to the 156 mm block (8845 twips); 28 need a pitch of at most 8845 / 28 = 315.9 twips. Word offers two
# ways: a character grid (docGrid type="linesAndChars" with charSpace=-849) or condensed character spacing
# (w:spacing in the run properties). LibreOffice 7.4 lays a negative charSpace grid out wrongly (15
# characters a line, measured), while Word, WPS and LibreOffice all honour character spacing. So the grid
# only sets the line pitch, and every style in the text block is condensed by CONDENSED(size): -5 twips for
# 3 号 (a pitch of 315 twips, 28 × 315 = 8820 ≤ 8845 < 29 × 315), -6 for the 2 号 title.
CHARS_PER_LINE = 28
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
DOC_GRID_TYPE = "lines"


def condensed(size_pt: float) -> int:
    """The character spacing (twentieths of a point, ≤ 0) that sets characters of `size_pt` at the body's
    pitch: 28 three-hao characters to the line, other sizes in proportion."""
    natural = size_pt * 20
    return math.floor(natural * TEXT_WIDTH / (CHARS_PER_LINE * CHAR_3HAO) - natural)


CHAR_PITCH = CHAR_3HAO + condensed(16)  # 315 twips: one character of the body, as set
SIGNOFF_DATE_INDENT = 4 * CHAR_PITCH  # 落款日期 右空四字

CORE_TITLE = "excel-eval 模板"
CORE_DATE = _dt.datetime(2024, 1, 1, 0, 0, 0)
ZIP_DATE = (2024, 1, 1, 0, 0, 0)

# src 文件中的 STYLE 列 -> 文档中的样式名（python-docx 用英文名识别内置样式）
SRC_STYLES = {
    "报告标题": "报告标题",
    "副标题": "副标题",
    "标题 1": "Heading 1",
    "标题 2": "Heading 2",
    "标题 3": "Heading 3",
    "正文": "Normal",
    "落款": "落款",
    "落款日期": "落款日期",
    "附件标签": "附件标签",
}

# 取消从正文继承的首行缩进
_NO_INDENT = {"firstLineChars": 0, "firstLine": 0}


def _rpr_xml(east_asia: str, latin: str, size_pt: float, on_pitch: bool = True) -> str:
    """Run properties; `on_pitch` condenses the characters to the body's 28 a line (see CONDENSED)."""
    half = int(round(size_pt * 2))
    spacing = f'<w:spacing w:val="{condensed(size_pt)}"/>' if on_pitch else ""
    return (
        f"<w:rPr {nsdecls('w')}>"
        f'<w:rFonts w:ascii="{latin}" w:hAnsi="{latin}" w:eastAsia="{east_asia}"'
        f' w:cs="{latin}" w:hint="eastAsia"/>'
        f"{spacing}"
        f'<w:sz w:val="{half}"/><w:szCs w:val="{half}"/>'
        f"</w:rPr>"
    )


def _ppr_xml(
    *,
    jc: str | None = None,
    line: int | None = LINE_PITCH,
    line_rule: str = "exact",
    before: int | None = None,
    after: int | None = None,
    ind: dict | None = None,
    outline: int | None = None,
    widow_control: bool | None = None,
    snap_to_grid: bool | None = None,
    keep_next: bool = False,
    keep_lines: bool = False,
    overflow_punct: bool | None = None,
) -> str:
    """按 CT_PPrBase 的元素顺序拼 pPr。"""
    parts = []
    if keep_next:
        parts.append("<w:keepNext/>")
    if keep_lines:
        parts.append("<w:keepLines/>")
    if widow_control is not None:
        parts.append(f'<w:widowControl w:val="{int(widow_control)}"/>')
    if overflow_punct is not None:
        parts.append(f'<w:overflowPunct w:val="{int(overflow_punct)}"/>')
    if snap_to_grid is not None:
        parts.append(f'<w:snapToGrid w:val="{int(snap_to_grid)}"/>')
    spacing = {}
    if before is not None:
        spacing["w:before"] = before
    if after is not None:
        spacing["w:after"] = after
    if line is not None:
        spacing["w:line"] = line
        spacing["w:lineRule"] = line_rule
    if spacing:
        attrs = " ".join(f'{k}="{v}"' for k, v in spacing.items())
        parts.append(f"<w:spacing {attrs}/>")
    if ind:
        attrs = " ".join(f'w:{k}="{v}"' for k, v in ind.items())
        parts.append(f"<w:ind {attrs}/>")
    if jc is not None:
        parts.append(f'<w:jc w:val="{jc}"/>')
    if outline is not None:
        parts.append(f'<w:outlineLvl w:val="{outline}"/>')
    return f"<w:pPr {nsdecls('w')}>{''.join(parts)}</w:pPr>"


def _set_style_props(style, ppr: str | None, rpr: str | None) -> None:
    """用给定的 pPr/rPr 整体替换样式原有的段落/字符属性。"""
    el = style.element
    for tag in ("w:pPr", "w:rPr"):
        for old in el.findall(qn(tag)):
            el.remove(old)
    # pPr、rPr 排在 name/basedOn/.../rsid 之后、tblPr 等之前
    anchor = None
    for tag in ("w:tblPr", "w:trPr", "w:tcPr", "w:tblStylePr"):
        anchor = el.find(qn(tag))
        if anchor is not None:
            break
    for xml in (ppr, rpr):
        if xml is None:
            continue
        new = parse_xml(xml)
        if anchor is not None:
            anchor.addprevious(new)
        else:
            el.append(new)


def _setup_doc_defaults(doc: DocumentObject) -> None:
    styles_el = doc.styles.element
    defaults = styles_el.find(qn("w:docDefaults"))
    if defaults is not None:
        styles_el.remove(defaults)
    half = SIZE_3HAO * 2
    defaults = parse_xml(
        f"<w:docDefaults {nsdecls('w')}>"
        "<w:rPrDefault><w:rPr>"
        f'<w:rFonts w:ascii="{FONT_LATIN}" w:hAnsi="{FONT_LATIN}"'
        f' w:eastAsia="{FONT_FANGSONG}" w:cs="{FONT_LATIN}" w:hint="eastAsia"/>'
        f'<w:kern w:val="2"/><w:sz w:val="{half}"/><w:szCs w:val="{half}"/>'
        '<w:lang w:val="en-US" w:eastAsia="zh-CN" w:bidi="ar-SA"/>'
        "</w:rPr></w:rPrDefault>"
        '<w:pPrDefault><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/>'
        "</w:pPr></w:pPrDefault>"
        "</w:docDefaults>"
    )
    styles_el.insert(0, defaults)


def _builtin(doc: DocumentObject, name: str):
    return doc.styles[name]


def _custom(doc: DocumentObject, name: str, style_id: str, next_name: str = "Normal"):
    styles = doc.styles
    if name in [s.name for s in styles]:
        style = styles[name]
    else:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.element.styleId = style_id
    style.base_style = styles["Normal"]
    style.next_paragraph_style = styles[next_name]
    style.quick_style = True
    style.hidden = False
    style.unhide_when_used = False
    style.priority = 1
    return style


def _sync_linked_char_style(doc: DocumentObject, para_style, rpr: str) -> None:
    """内置标题的链接字符样式（Heading 1 Char 等）也改成同样的字体。"""
    link = para_style.element.find(qn("w:link"))
    if link is None:
        return
    style_id = link.get(qn("w:val"))
    for style in doc.styles:
        if style.type == WD_STYLE_TYPE.CHARACTER and style.style_id == style_id:
            _set_style_props(style, None, rpr)


def setup_styles(doc: DocumentObject) -> None:
    """docDefaults、正文、标题 1/2/3、页脚和自定义样式。"""
    _setup_doc_defaults(doc)
    # Word and WPS indent by firstLineChars (2 字符, as their dialogs show it); LibreOffice by firstLine,
    # two characters at the condensed pitch, so that the first line keeps to the columns of the others.
    indent2 = {"firstLineChars": 200, "firstLine": 2 * CHAR_PITCH}

    # Widow/orphan control on (a single line never left at the top or foot of a page).
    # Hanging punctuation: LibreOffice 7.4 drops a full-width mark that hangs past the right edge of a
    # justified line (measured: 1 to 3 marks lost in each sample report). It also reads w:overflowPunct
    # the wrong way round (val="1" turns hanging off), so val="1" keeps Word's and WPS's own default, the
    # mark may hang (允许标点溢出边界), while LibreOffice moves the line's last character down with the mark
    # instead, and nothing is lost.
    normal = _builtin(doc, "Normal")
    _set_style_props(
        normal,
        _ppr_xml(jc="both", line=LINE_PITCH, before=0, after=0, ind=indent2,
                 widow_control=True, overflow_punct=True),
        _rpr_xml(FONT_FANGSONG, FONT_LATIN, SIZE_3HAO),
    )

    headings = {
        "Heading 1": (FONT_HEITI, FONT_HEITI, 0),
        "Heading 2": (FONT_KAITI, FONT_KAITI, 1),
        "Heading 3": (FONT_FANGSONG, FONT_LATIN, 2),
    }
    for name, (east_asia, latin, level) in headings.items():
        style = _builtin(doc, name)
        rpr = _rpr_xml(east_asia, latin, SIZE_3HAO)
        _set_style_props(
            style,
            # kept with the next paragraph and in one piece: never alone at a page foot; no built-in
            # spacing, colour or bold
            _ppr_xml(jc="both", line=LINE_PITCH, before=0, after=0, ind=indent2,
                     outline=level, keep_next=True, keep_lines=True),
            rpr,
        )
        style.next_paragraph_style = doc.styles["Normal"]
        _sync_linked_char_style(doc, style, rpr)

    custom = [
        # 名称, styleId, 段落属性, 字符属性
        ("报告标题", "ReportTitle",
         _ppr_xml(jc="center", line=TITLE_LINE, ind=_NO_INDENT),
         _rpr_xml(FONT_TITLE, FONT_TITLE, SIZE_2HAO)),
        ("副标题", "ReportSubtitle",
         _ppr_xml(jc="center", line=LINE_PITCH, before=LINE_PITCH // 2,
                  after=LINE_PITCH, ind=_NO_INDENT),
         _rpr_xml(FONT_KAITI, FONT_KAITI, SIZE_3HAO)),
        # 落款 (GB/T 9704 §7.3.5): two lines below the text, the date right-aligned four characters in,
        # the unit name centred over the date. The name's right indent depends on the two texts and is
        # set in each report (excel_eval/signoff.py); the style's value is the date's.
        ("落款", "SignOff",
         _ppr_xml(jc="right", line=LINE_PITCH, before=2 * LINE_PITCH, keep_next=True,
                  ind={**_NO_INDENT, "right": SIGNOFF_DATE_INDENT}),
         _rpr_xml(FONT_FANGSONG, FONT_LATIN, SIZE_3HAO)),
        ("落款日期", "SignOffDate",
         _ppr_xml(jc="right", line=LINE_PITCH, ind={**_NO_INDENT, "right": SIGNOFF_DATE_INDENT}),
         _rpr_xml(FONT_FANGSONG, FONT_LATIN, SIZE_3HAO)),
        # 附件 label (GB/T 9704 §8): 3 号黑体 at the top left, the title on the third line
        ("附件标签", "AttachmentLabel",
         _ppr_xml(jc="left", line=LINE_PITCH, after=LINE_PITCH, ind=_NO_INDENT),
         _rpr_xml(FONT_HEITI, FONT_HEITI, SIZE_3HAO)),
    ]
    for name, style_id, ppr, rpr in custom:
        style = _custom(doc, name, style_id)
        _set_style_props(style, ppr, rpr)
    doc.styles["报告标题"].next_paragraph_style = doc.styles["副标题"]
    doc.styles["落款"].next_paragraph_style = doc.styles["落款日期"]

    # 页脚（页码）：4 号宋体，不对齐网格，单倍行距
    footer = _builtin(doc, "Footer")
    footer_rpr = _rpr_xml(FONT_SONGTI, FONT_SONGTI, SIZE_4HAO, on_pitch=False)
    _set_style_props(
        footer,
        _ppr_xml(line=240, line_rule="auto", before=0, after=0, ind=_NO_INDENT,
                 snap_to_grid=False),
        footer_rpr,
    )
    _sync_linked_char_style(doc, footer, footer_rpr)


# ---------------------------------------------------------------- 页面与页脚
def setup_page(doc: DocumentObject) -> None:
    section = doc.sections[0]
    section.page_width = Twips(PAGE_WIDTH)
    section.page_height = Twips(PAGE_HEIGHT)
    section.top_margin = Twips(MARGIN_TOP)
    section.bottom_margin = Twips(MARGIN_BOTTOM)
    section.left_margin = Twips(MARGIN_LEFT)
    section.right_margin = Twips(MARGIN_RIGHT)
    section.header_distance = Twips(HEADER_DISTANCE)
    section.footer_distance = Twips(FOOTER_DISTANCE)
    section.gutter = Twips(0)
    sect_pr = section._sectPr
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        grid = parse_xml(f"<w:docGrid {nsdecls('w')}/>")
        sect_pr.append(grid)
    for key in list(grid.attrib):
        del grid.attrib[key]
    grid.set(qn("w:type"), DOC_GRID_TYPE)
    grid.set(qn("w:linePitch"), str(LINE_PITCH))


def _page_number_paragraph(paragraph, odd: bool) -> None:
    """“— N —”：单页居右空一字，双页居左空一字。"""
    p = paragraph._p
    for child in list(p):
        p.remove(child)
    if odd:
        ppr = '<w:pPr><w:pStyle w:val="Footer"/><w:ind w:right="%d"/><w:jc w:val="right"/></w:pPr>'
    else:
        ppr = '<w:pPr><w:pStyle w:val="Footer"/><w:ind w:left="%d"/><w:jc w:val="left"/></w:pPr>'
    xml = (
        f"<w:p {nsdecls('w')}>" + ppr % CHAR_4HAO
        + '<w:r><w:t xml:space="preserve">— </w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        "<w:r><w:t>1</w:t></w:r>"
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        '<w:r><w:t xml:space="preserve"> —</w:t></w:r>'
        "</w:p>"
    )
    for child in parse_xml(xml):
        p.append(child)


def setup_footers(doc: DocumentObject) -> None:
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    section.footer.is_linked_to_previous = False
    section.even_page_footer.is_linked_to_previous = False
    _page_number_paragraph(section.footer.paragraphs[0], odd=True)
    _page_number_paragraph(section.even_page_footer.paragraphs[0], odd=False)


# ---------------------------------------------------------------- 设置与字体表
_FONT_TABLE = [
    # 名称, 替代名, panose, charset, family, pitch, sig
    (FONT_FANGSONG, "仿宋", "02010609030101010101", "86", "modern", "fixed",
     ("00000001", "080E0000", "00000010", "00000000", "00040000", "00000000")),
    (FONT_KAITI, "楷体", "02010609030101010101", "86", "modern", "fixed",
     ("00000001", "080E0000", "00000010", "00000000", "00040000", "00000000")),
    (FONT_HEITI, "SimHei", "02010609060101010101", "86", "modern", "fixed",
     ("800002BF", "38CF7CFA", "00000016", "00000000", "00040001", "00000000")),
    (FONT_SONGTI, "SimSun", "02010600030101010101", "86", "auto", "variable",
     ("00000003", "288F0000", "00000016", "00000000", "00040001", "00000000")),
    (FONT_TITLE, "宋体", "02000000000000000000", "86", "auto", "variable",
     ("00000001", "08010000", "00000000", "00000000", "00040000", "00000000")),
]


def setup_font_table(doc: DocumentObject) -> None:
    """在 fontTable.xml 登记中文字体，缺字体时 Word/WPS 按 GB2312 字符集和替代名替换。"""
    part = None
    for rel in doc.part.rels.values():
        if rel.reltype.endswith("/fontTable"):
            part = rel.target_part
    if part is None:
        return
    root = parse_xml(part.blob)
    existing = {f.get(qn("w:name")) for f in root.findall(qn("w:font"))}
    for name, alt, panose, charset, family, pitch, sig in _FONT_TABLE:
        if name in existing:
            continue
        root.append(parse_xml(
            f'<w:font {nsdecls("w")} w:name="{name}">'
            f'<w:altName w:val="{alt}"/><w:panose1 w:val="{panose}"/>'
            f'<w:charset w:val="{charset}"/><w:family w:val="{family}"/>'
            f'<w:pitch w:val="{pitch}"/>'
            f'<w:sig w:usb0="{sig[0]}" w:usb1="{sig[1]}" w:usb2="{sig[2]}"'
            f' w:usb3="{sig[3]}" w:csb0="{sig[4]}" w:csb1="{sig[5]}"/>'
            "</w:font>"
        ))
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                standalone=True)


def drop_unused_parts(doc: DocumentObject) -> None:
    """去掉 python-docx 默认模板带的 stylesWithEffects（Word 2010 会按其中的旧样式
    显示蓝色标题）和缩略图。"""
    for rels, reltype in (
        (doc.part.rels, "/stylesWithEffects"),
        (doc.part.package.rels, "/thumbnail"),
    ):
        for rid, rel in list(rels.items()):
            if rel.reltype.endswith(reltype):
                rels.pop(rid)


def setup_settings(doc: DocumentObject) -> None:
    settings = doc.settings.element
    lang = settings.find(qn("w:themeFontLang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")


def setup_core_properties(doc: DocumentObject) -> None:
    props = doc.core_properties
    props.title = CORE_TITLE
    props.author = CORE_TITLE
    props.last_modified_by = CORE_TITLE
    props.subject = "项目支出绩效自评报告"
    props.comments = ""
    props.keywords = ""
    props.category = ""
    props.revision = 1
    props.created = CORE_DATE
    props.modified = CORE_DATE


def new_document() -> DocumentObject:
    """空文档：A4 公文版心、全部样式、奇偶页页码、字体表和文档属性都已设置。"""
    doc = Document()
    body = doc.element.body
    for p in body.findall(qn("w:p")):
        body.remove(p)
    setup_styles(doc)
    setup_page(doc)
    setup_footers(doc)
    setup_settings(doc)
    setup_font_table(doc)
    setup_core_properties(doc)
    drop_unused_parts(doc)
    return doc


# ---------------------------------------------------------------- 正文
def read_src(src_path: Path) -> list[tuple[str, str]]:
    """读 src 文件，返回 [(STYLE, 文字), ...]；空行忽略。"""
    rows = []
    text = Path(src_path).read_text(encoding="utf-8")
    for lineno, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        style, sep, body = raw.partition("|")
        if not sep or (style not in SRC_STYLES and style not in TABLE_LINES):
            raise ValueError(f"{src_path}:{lineno}: 无法识别的行：{raw!r}")
        rows.append((style, body))
    return rows


def add_paragraph(doc: DocumentObject, style: str, text: str):
    """加一段，文字放在一个 run 里（标签不被拆开）。"""
    paragraph = doc.add_paragraph(style=doc.styles[SRC_STYLES[style]])
    paragraph.add_run(text)
    ppr = paragraph._p.pPr
    if ppr is not None and len(ppr) == 0:  # 正文（默认样式）不写空的 <w:pPr/>
        paragraph._p.remove(ppr)
    return paragraph


def save_deterministic(doc: DocumentObject, out_path: Path) -> None:
    """保存时固定 zip 内各文件的时间戳，同样的输入得到同样的字节。"""
    buf = io.BytesIO()
    doc.save(buf)
    buf.seek(0)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zout.writestr(zi, data)
    Path(out_path).write_bytes(out.getvalue())


def build(src_path: Path, out_path: Path) -> None:
    doc = new_document()
    add_body(doc, read_src(src_path))
    save_deterministic(doc, out_path)


# ---------------------------------------------------------------- 报告中的表格
# src 中连续的表格行组成一个表格（见 templates/src/详细报告.txt）：
#   表格|10中,30中,24中,28右,24中,40左   各列宽度（毫米）和对齐（左、中、右），开始一个表格
#   表头|序号‖支付日期‖…               表头行（跨页时重复），单元格之间用 ‖ 隔开
#   表格行|{%tr for 笔 in 支出明细 %}   只有一个单元格的行横跨全部列
#   表格行|<3>合计‖{{ 支出数|千分位 }}‖<2>   <n> 开头的单元格横跨 n 列
TABLE_LINES = ("表格", "表头", "表格行")
REPORT_TABLE_FONT = 10.5  # 五号


def add_body(doc: DocumentObject, rows: list[tuple[str, str]]) -> None:
    """The paragraphs of a src file, and its tables (a 表格 line and the table lines after it) where they stand."""
    table: list[tuple[str, str]] = []
    for style, text in rows:
        if style in ("表头", "表格行") and table:
            table.append((style, text))
            continue
        if table:
            add_table(doc, table)
            table = []
        if style in TABLE_LINES:
            table = [(style, text)]
        else:
            add_paragraph(doc, style, text)
    if table:
        add_table(doc, table)


def add_table(doc: DocumentObject, lines: list[tuple[str, str]]) -> None:
    """A table of a report template, in the table styles (表格文字, 表格段落) at 五号."""
    if lines[0][0] != "表格":
        raise ValueError(f"表格须以“表格|列宽”行开始：{lines[0][1]!r}")
    if "表格文字" not in [s.name for s in doc.styles]:
        setup_table_styles(doc, REPORT_TABLE_FONT)
    columns = [(float(c[:-1]), c[-1]) if c[-1] in _ALIGN else (float(c), "中") for c in lines[0][1].split(",")]
    rows = []
    for style, text in lines[1:]:
        cells, column = [], 0
        for piece in text.split("‖"):
            span_text = piece[1:].partition(">") if piece.startswith("<") else ("1", "", piece)
            span = len(columns) if "‖" not in text else int(span_text[0])
            cells.append({"文字": span_text[2], "跨列": span, "对齐": columns[column][1]})
            column += span
        rows.append({"单元格": cells})
    if lines[1][0] == "表头":
        rows[0]["表头"] = True  # repeated at the top of every page the table runs onto
    body = doc.element.body
    for xml in table_xml({"列宽": [w for w, _ in columns], "行": rows, "行高": 6}):
        body.insert(len(body) - 1, parse_xml(xml))  # before the final sectPr
    doc.add_paragraph(style=doc.styles["表后说明"])  # a little space below the table


# ---------------------------------------------------------------- 表格模板（绩效自评表）
# A table template is described by src/<name>.toml (rows of cells with spans and vertical merges) and built
# on new_document(): the same styles, fonts and font table, plus table styles, on its own page setup.

TABLE_FONT_TITLE = 18  # 小二
TABLE_FONT_SUBTITLE = 14  # 四号
TABLE_LINE_FACTOR = 8 / 7  # exact line height = font size × this: 12 pt for 五号 (10.5 pt)
CELL_MARGIN = 85  # twips (1.5 mm) left and right inside a cell
CELL_MARGIN_Y = 10  # twips (0.5 pt) above and below the text of a cell, so that two lines clear the borders
_MM = 56.6929  # twips per millimetre
_ALIGN = {"左": "left", "中": "center", "右": "right"}


def _twips(mm: float) -> int:
    return int(round(mm * _MM))


def setup_table_styles(doc: DocumentObject, size: float) -> None:
    """Paragraph styles of a table template: its title, subtitle, cell text (centred and left) and the note."""
    line = int(round(size * TABLE_LINE_FACTOR * 20))
    no_grid = {"snap_to_grid": False, "widow_control": False}
    custom = [
        ("表格标题", "TableTitle", _ppr_xml(jc="center", line=int(TABLE_FONT_TITLE * 1.3 * 20), ind=_NO_INDENT,
                                          **no_grid), _rpr_xml(FONT_TITLE, FONT_TITLE, TABLE_FONT_TITLE, on_pitch=False)),
        ("表格副标题", "TableSubtitle", _ppr_xml(jc="center", line=int(TABLE_FONT_SUBTITLE * 1.3 * 20), after=80,
                                             ind=_NO_INDENT, **no_grid),
         _rpr_xml(FONT_KAITI, FONT_KAITI, TABLE_FONT_SUBTITLE, on_pitch=False)),
        ("表格文字", "TableText", _ppr_xml(jc="center", line=line, ind=_NO_INDENT, **no_grid),
         _rpr_xml(FONT_FANGSONG, FONT_LATIN, size, on_pitch=False)),
        ("表格段落", "TableParagraph", _ppr_xml(jc="left", line=line, ind=_NO_INDENT, **no_grid),
         _rpr_xml(FONT_FANGSONG, FONT_LATIN, size, on_pitch=False)),
        ("表后说明", "TableNote", _ppr_xml(jc="left", line=line, before=60, ind=_NO_INDENT, **no_grid),
         _rpr_xml(FONT_FANGSONG, FONT_LATIN, size, on_pitch=False)),
    ]
    for name, style_id, ppr, rpr in custom:
        _set_style_props(_custom(doc, name, style_id), ppr, rpr)


def setup_table_page(doc: DocumentObject, landscape: bool, margins: list[float]) -> None:
    """A4 (landscape when asked) with the given margins in mm (top, bottom, left, right); no line grid, so that
    table rows keep their own height."""
    from docx.enum.section import WD_ORIENT

    section = doc.sections[0]
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Twips(PAGE_HEIGHT), Twips(PAGE_WIDTH)
    top, bottom, left, right = margins
    section.top_margin, section.bottom_margin = Twips(_twips(top)), Twips(_twips(bottom))
    section.left_margin, section.right_margin = Twips(_twips(left)), Twips(_twips(right))
    section.header_distance = Twips(_twips(8))
    section.footer_distance = Twips(_twips(8))
    grid = section._sectPr.find(qn("w:docGrid"))
    for key in list(grid.attrib):
        del grid.attrib[key]
    grid.set(qn("w:linePitch"), "312")


def _cell_spec(cell) -> dict:
    if isinstance(cell, str):
        return {"文字": cell}
    return dict(cell)


def _cell_xml(spec: dict, width: int) -> str:
    from xml.sax.saxutils import escape

    span = int(spec.get("跨列", 1))
    merge = spec.get("合并")
    align = spec.get("对齐", "中")
    style = "TableParagraph" if align == "左" else "TableText"
    props = [f'<w:tcW w:w="{width}" w:type="dxa"/>']
    if span > 1:
        props.append(f'<w:gridSpan w:val="{span}"/>')
    if merge == "起":
        props.append('<w:vMerge w:val="restart"/>')
    elif merge == "续":
        props.append("<w:vMerge/>")
    props.append('<w:vAlign w:val="center"/>')
    jc = "" if align in ("左", "中") else f'<w:jc w:val="{_ALIGN[align]}"/>'
    paragraphs = []
    for line in str(spec.get("文字", "")).split("\n") if merge != "续" else [""]:
        run = f'<w:r><w:t xml:space="preserve">{escape(line)}</w:t></w:r>' if line else ""
        paragraphs.append(f'<w:p><w:pPr><w:pStyle w:val="{style}"/>{jc}</w:pPr>{run}</w:p>')
    return f"<w:tc><w:tcPr>{''.join(props)}</w:tcPr>{''.join(paragraphs)}</w:tc>"


def _row_xml(number: int, row: dict, widths: list[int], spec: dict) -> str:
    cells = [_cell_spec(c) for c in row["单元格"]]
    if sum(int(c.get("跨列", 1)) for c in cells) != len(widths):
        raise ValueError(f"第 {number} 行的单元格跨列之和不等于 {len(widths)} 列")
    column, tcs = 0, []
    for cell in cells:
        span = int(cell.get("跨列", 1))
        tcs.append(_cell_xml(cell, sum(widths[column:column + span])))
        column += span
    height = _twips(row.get("行高", spec.get("行高", 7)))
    header = "<w:tblHeader/>" if row.get("表头") else ""
    return (f'<w:tr><w:trPr><w:cantSplit/><w:trHeight w:val="{height}" w:hRule="atLeast"/>{header}'
            f'<w:jc w:val="center"/></w:trPr>{"".join(tcs)}</w:tr>')


def _tbl_xml(rows: list[str], widths: list[int], bottom: bool) -> str:
    border = '<w:{0} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
    sides = ("top", "left", "bottom", "right", "insideH", "insideV") if bottom else \
        ("top", "left", "right", "insideH", "insideV")
    borders = "".join(border.format(side) for side in sides)
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    return (
        f"<w:tbl {nsdecls('w')}><w:tblPr>"
        f'<w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:jc w:val="center"/>'
        f"<w:tblBorders>{borders}</w:tblBorders>"
        '<w:tblLayout w:type="fixed"/>'
        f'<w:tblCellMar><w:top w:w="{CELL_MARGIN_Y}" w:type="dxa"/><w:left w:w="{CELL_MARGIN}" w:type="dxa"/>'
        f'<w:bottom w:w="{CELL_MARGIN_Y}" w:type="dxa"/><w:right w:w="{CELL_MARGIN}" w:type="dxa"/></w:tblCellMar>'
        '<w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" w:noHBand="0"'
        ' w:noVBand="0"/>'
        f"</w:tblPr><w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"
    )


# Between two parts of a table: Word joins tables that touch, and a header row repeats only at the top of a
# table, so a paragraph one twip high keeps them apart; the part above has no bottom border.
TABLE_JOINT = (f'<w:p {nsdecls("w")}><w:pPr><w:pStyle w:val="TableText"/>'
               '<w:spacing w:before="0" w:after="0" w:line="1" w:lineRule="exact"/>'
               '<w:rPr><w:sz w:val="2"/><w:szCs w:val="2"/></w:rPr></w:pPr></w:p>')


def table_xml(spec: dict) -> list[str]:
    """The <w:tbl> parts of a table template (a row with 分表 = true starts a new part, so that its rows with
    表头 = true repeat at the top of every page the part runs onto), each followed by TABLE_JOINT but the
    last: fixed column widths, single borders, rows that do not break across pages."""
    widths = [_twips(mm) for mm in spec["列宽"]]
    parts: list[list[str]] = [[]]
    for number, row in enumerate(spec["行"], 1):
        if row.get("分表") and parts[-1]:
            parts.append([])
        parts[-1].append(_row_xml(number, row, widths, spec))
    xml = []
    for index, rows in enumerate(parts):
        last = index == len(parts) - 1
        xml.append(_tbl_xml(rows, widths, bottom=last))
        if not last:
            xml.append(TABLE_JOINT)
    return xml


def build_table(src_path: Path, out_path: Path) -> None:
    """A table template from src/<name>.toml: title, subtitle, the table, a note below it. A form has no page
    numbers: it is one page (a long one runs on with its header row repeated)."""
    import tomllib

    spec = tomllib.loads(Path(src_path).read_text(encoding="utf-8"))
    doc = new_document()
    setup_table_styles(doc, float(spec.get("字号", 10.5)))
    setup_table_page(doc, bool(spec.get("横向", False)), spec.get("页边距", [25, 22, 25, 25]))
    section = doc.sections[0]
    section.footer.is_linked_to_previous = True  # drops the page-number footers
    section.even_page_footer.is_linked_to_previous = True
    doc.settings.odd_and_even_pages_header_footer = False
    doc.core_properties.subject = "项目支出绩效自评表"
    for style, key in (("表格标题", "标题"), ("表格副标题", "副标题")):
        if spec.get(key):
            doc.add_paragraph(spec[key], style=doc.styles[style])
    body = doc.element.body
    for xml in table_xml(spec):
        body.insert(len(body) - 1, parse_xml(xml))  # before the final sectPr
    if spec.get("表后"):
        doc.add_paragraph(spec["表后"], style=doc.styles["表后说明"])
    save_deterministic(doc, out_path)


def main(argv: list[str] | None = None) -> int:
    srcs = sorted(SRC_DIR.glob("*.txt"))
    if not srcs:
        print(f"没有找到 {SRC_DIR}/*.txt", file=sys.stderr)
        return 1
    for src in srcs:
        out = TEMPLATES_DIR / f"{src.stem}.docx"
        build(src, out)
        print(f"{src.relative_to(TEMPLATES_DIR.parent)} -> {out.relative_to(TEMPLATES_DIR.parent)}")
    for src in sorted(SRC_DIR.glob("*.toml")):  # table templates
        out = TEMPLATES_DIR / f"{src.stem}.docx"
        build_table(src, out)
        print(f"{src.relative_to(TEMPLATES_DIR.parent)} -> {out.relative_to(TEMPLATES_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
