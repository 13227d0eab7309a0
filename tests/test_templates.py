"""报告模板（templates/*.docx，由 templates/build_templates.py 生成）的版式与内容检查。"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import jinja2.sandbox
import pytest
from docx import Document
from docx.enum.text import WD_LINE_SPACING
from docx.oxml.ns import qn
from docxtpl import DocxTemplate

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
SRC_FILES = sorted((TEMPLATES_DIR / "src").glob("*.txt"))

# src 文件 STYLE 列 -> python-docx 中的样式名
STYLE_NAMES = {
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
DEFINED_STYLES = list(STYLE_NAMES.values()) + ["Footer"]

EXPECTED_EAST_ASIA = {
    "Normal": ("仿宋_GB2312", 16),
    "Heading 1": ("黑体", 16),
    "Heading 2": ("楷体_GB2312", 16),
    "Heading 3": ("仿宋_GB2312", 16),
    "报告标题": ("方正小标宋简体", 22),
    "附件标签": ("黑体", 16),
    "Footer": ("宋体", 14),
}


def _src_rows(src: Path) -> list[tuple[str, str]]:
    rows = []
    for line in src.read_text(encoding="utf-8").splitlines():
        if line.strip():
            style, _, text = line.partition("|")
            rows.append((style, text))
    return rows


@pytest.fixture(params=SRC_FILES, ids=lambda p: p.stem)
def src(request) -> Path:
    return request.param


@pytest.fixture
def docx_path(src) -> Path:
    path = TEMPLATES_DIR / f"{src.stem}.docx"
    assert path.exists(), f"缺少 {path.name}，请运行 templates/build_templates.py"
    return path


def test_src_files_exist():
    assert {p.stem for p in SRC_FILES} >= {"标准报告", "追加项目报告"}


def test_page_a4_and_margins(docx_path):
    section = Document(docx_path).sections[0]
    expected = {
        "page_width": 210, "page_height": 297,
        "top_margin": 37, "bottom_margin": 35, "left_margin": 28, "right_margin": 26,
    }
    for attr, mm in expected.items():
        assert getattr(section, attr).mm == pytest.approx(mm, abs=0.5), attr
    assert section.orientation == 0  # portrait


def _rfonts(element):
    rpr = element.find(qn("w:rPr"))
    assert rpr is not None
    rfonts = rpr.find(qn("w:rFonts"))
    assert rfonts is not None
    return rfonts


def test_styles_have_east_asian_fonts(docx_path):
    doc = Document(docx_path)
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rfonts = _rfonts(defaults.find(qn("w:rPrDefault")))
    assert rfonts.get(qn("w:eastAsia"))
    assert rfonts.get(qn("w:ascii")) and rfonts.get(qn("w:hAnsi"))
    for name in DEFINED_STYLES:
        rfonts = _rfonts(doc.styles[name].element)
        assert rfonts.get(qn("w:eastAsia")), name
        assert rfonts.get(qn("w:ascii")) and rfonts.get(qn("w:hAnsi")), name
        assert rfonts.get(qn("w:asciiTheme")) is None, name
        assert rfonts.get(qn("w:eastAsiaTheme")) is None, name
    for name, (font, size) in EXPECTED_EAST_ASIA.items():
        style = doc.styles[name]
        assert _rfonts(style.element).get(qn("w:eastAsia")) == font, name
        assert style.font.size.pt == size, name


def test_normal_and_heading_paragraph_format(docx_path):
    doc = Document(docx_path)
    normal = doc.styles["Normal"]
    assert normal.font.size.pt == 16
    pf = normal.paragraph_format
    assert pf.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert pf.line_spacing.pt == pytest.approx(28.9, abs=0.05)
    ind = normal.element.pPr.find(qn("w:ind"))
    assert ind.get(qn("w:firstLineChars")) == "200"
    for level, name in enumerate(["Heading 1", "Heading 2", "Heading 3"]):
        style = doc.styles[name]
        ppr = style.element.pPr
        assert ppr.find(qn("w:outlineLvl")).get(qn("w:val")) == str(level)
        assert ppr.find(qn("w:numPr")) is None
        assert style.font.color.rgb is None, f"{name} 不应带颜色"
        assert not style.font.bold
        assert style.paragraph_format.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    for name in ["报告标题", "副标题", "附件标签"]:
        assert doc.styles[name].base_style.name == "Normal"


def test_footer_page_numbers(docx_path):
    doc = Document(docx_path)
    section = doc.sections[0]
    for footer in (section.footer, section.even_page_footer):
        assert not footer.is_linked_to_previous
        xml = footer._element.xml
        assert "PAGE" in xml
        assert "—" in xml
    odd = section.footer.paragraphs[0].paragraph_format.alignment
    even = section.even_page_footer.paragraphs[0].paragraph_format.alignment
    assert (odd, even) == (2, 0)  # RIGHT, LEFT：页码在外侧


def test_settings_even_and_odd_headers(docx_path):
    settings = Document(docx_path).settings
    assert settings.element.find(qn("w:evenAndOddHeaders")) is not None
    assert settings.odd_and_even_pages_header_footer


def test_core_properties(docx_path):
    props = Document(docx_path).core_properties
    assert props.title == "excel-eval 模板"
    assert props.author == "excel-eval 模板"


TABLE_LINES = ("表格", "表头", "表格行")  # the lines of a table in a src file (build_templates.add_table)


def test_paragraphs_match_src(src, docx_path):
    doc = Document(docx_path)
    rows = [(style, text) for style, text in _src_rows(src) if style not in TABLE_LINES]
    paragraphs = [p for p in doc.paragraphs if p.style.name != "表后说明"]  # the space below a table
    assert [p.text for p in paragraphs] == [text for _, text in rows]
    assert [p.style.name for p in paragraphs] == [STYLE_NAMES[s] for s, _ in rows]
    # 每段只有一个 run，docxtpl 看到的标签不被拆开
    assert all(len(p.runs) == 1 for p in paragraphs)


# ---------------------------------------------------------------- 渲染
class Section(list):
    def __str__(self):
        return "".join(self)


def _env():
    env = jinja2.sandbox.SandboxedEnvironment(autoescape=True)
    env.filters.update({
        "金额": lambda v: f"{v}元",
        "万元": lambda v: f"{v}万元",
        "元": lambda v: f"{v}元",
        "百分比": lambda v: f"{v * 100:.2f}%",
        "大写金额": lambda v: f"大写{v}",
        "中文日期": lambda v: f"{v.year}年{v.month}月{v.day}日",
        "中文月份": lambda v: f"{v.year}年{v.month}月",
        "千分位": lambda v: f"{v:,.2f}",
    })
    return env


class _Sections(dict):
    """任何栏目都给两段文字，段落内容含栏目名，便于检查。"""

    def __missing__(self, key):
        return Section([f"{key}第一段<&>。", f"{key}第二段。"])


def _context():
    return {
        "单位名称": "攀枝花市仁和区信访局",
        "单位简称": "仁和区信访局",
        "项目名称": "仁和区信访工作专项经费",
        "预算年度": 2021,
        "申报数": Decimal("150000"),
        "批复数": Decimal("150000"),
        "全年预算数": Decimal("150000"),
        "到位数": Decimal("150000"),
        "支出数": Decimal("149700"),
        "到位率": Decimal("1"),
        "执行率": Decimal("0.998"),
        "到位日期": dt.date(2021, 6, 18),
        "报告日期": dt.date(2022, 3, 15),
        "资金来源": [{"名称": "区本级资金", "全年预算数": Decimal("150000"),
                   "到位数": Decimal("150000")}],
        "栏目": _Sections(偏差原因=Section(["部分差旅费用节约"])),
        "句子": {  # what excel_eval.sentences gives; the templates place it as it is
            "资金计划": "2021年，该项目资金计划150000元，均计划来自区本级资金。",
            "资金到位": "截至目前，该项目全区资金到位150000元，资金到位和资金计划相同，到位率100%，资金到位比较及时。",
            "资金使用": "截至目前，该项目资金支出149700元，执行率99.8%，与预算略有不符，不符原因是部分差旅费用节约。",
            "预算对比": "，与预算略有不符，不符原因是部分差旅费用节约。",
        },
    }


def test_render(src, docx_path, tmp_path):
    tpl = DocxTemplate(docx_path)
    tpl.render(_context(), jinja_env=_env())
    out = tmp_path / "out.docx"
    tpl.save(out)

    doc = Document(out)
    texts = [p.text for p in doc.paragraphs]
    full = "\n".join(texts)
    assert "{{" not in full and "{%" not in full
    assert "（仁和区信访工作专项经费）" in texts
    titles = [t.replace("{{ 预算年度 }}", "2021").replace("{{ 单位名称 }}", "攀枝花市仁和区信访局")
              for style, t in _src_rows(src) if style == "报告标题"]
    assert titles and all(title in texts for title in titles)
    assert "150000元" in full
    if "栏目.偏差原因" in src.read_text(encoding="utf-8"):
        assert "不符原因是部分差旅费用节约" in full
    assert texts[-2:] == ["攀枝花市仁和区信访局", "2022年3月15日"]
    # {%p for %} 展开成独立的正文段落；自动转义后再由 Word 显示为原字符
    loops = [p for p in doc.paragraphs if p.text == "财务管理第一段<&>。"]
    assert loops and all(p.style.name == "Normal" for p in loops)
    assert "财务管理第二段。" in texts
    # 页脚的页码域原样保留
    assert "PAGE" in doc.sections[0].footer._element.xml


# ---------------------------------------------------------------- 版心：每行 28 字
def _spacing(style) -> int | None:
    el = style.element.find(qn("w:rPr")).find(qn("w:spacing"))
    return None if el is None else int(el.get(qn("w:val")))


def test_text_styles_condensed_to_28_characters(docx_path):
    """156 mm = 8845 twips; 28 characters need a pitch ≤ 8845 / 28 = 315.9 twips; 3 号 is 320, so -5 twips
    (315 × 28 = 8820 fits, 315 × 29 = 9135 does not); the 2 号 title in proportion: 440 × 8845 / 8960 = 434.4,
    so -6. The grid sets the line pitch only (LibreOffice mis-lays a character grid)."""
    doc = Document(docx_path)
    for name in ("Normal", "Heading 1", "Heading 2", "Heading 3", "副标题", "落款", "落款日期", "附件标签"):
        assert _spacing(doc.styles[name]) == -5, name
    assert _spacing(doc.styles["报告标题"]) == -6
    assert _spacing(doc.styles["Footer"]) is None  # the page number is outside the text block
    grid = doc.sections[0]._sectPr.find(qn("w:docGrid"))
    assert (grid.get(qn("w:type")), grid.get(qn("w:linePitch")), grid.get(qn("w:charSpace"))) == ("lines", "578", None)


def test_widows_headings_and_hanging_punctuation(docx_path):
    doc = Document(docx_path)
    normal = doc.styles["Normal"].element.pPr
    assert normal.find(qn("w:widowControl")).get(qn("w:val")) == "1"
    # LibreOffice reads overflowPunct inverted: "1" keeps Word's hanging and stops LibreOffice's (which drops
    # the mark on justified lines)
    assert normal.find(qn("w:overflowPunct")).get(qn("w:val")) == "1"
    for name in ("Heading 1", "Heading 2", "Heading 3"):
        fmt = doc.styles[name].paragraph_format
        assert fmt.keep_with_next and fmt.keep_together, name
    assert doc.styles["落款"].paragraph_format.keep_with_next  # the name stays with the date


def test_signoff_and_label_layout(docx_path):
    doc = Document(docx_path)
    date = doc.styles["落款日期"].element.pPr.find(qn("w:ind"))
    assert date.get(qn("w:right")) == str(4 * 315) and date.get(qn("w:rightChars")) is None
    label = doc.styles["附件标签"].paragraph_format
    # GB/T 9704 §8: the label on line 1, the title on line 3
    assert label.space_after.twips == 578 and label.line_spacing.twips == 578


def test_the_build_script_reproduces_the_report_templates(src, docx_path, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_templates", TEMPLATES_DIR / "build_templates.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    out = tmp_path / docx_path.name
    builder.build(src, out)
    assert out.read_bytes() == docx_path.read_bytes(), "run templates/build_templates.py"


def test_a_table_in_a_report_template(tmp_path):
    """详细报告's payment table: its columns, the header row repeated on every page, the loop rows spanning the table."""
    doc = Document(TEMPLATES_DIR / "详细报告.docx")
    payments = doc.tables[0]
    assert [c.text for c in payments.rows[0].cells] == ["序号", "支付日期", "凭证号", "金额（元）", "支出类别", "摘要"]
    assert payments.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert [c.text for c in payments.rows[1].cells] == ["{%tr for 笔 in 支出明细 %}"] * 6  # one cell over six columns
    widths = [int(g.get(qn("w:w"))) for g in payments._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert abs(sum(widths) / 56.6929 - 156) < 0.5  # the text width, 156 mm
