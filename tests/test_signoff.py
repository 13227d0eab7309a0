"""The 落款's indents: the date four characters in from the right margin, the name centred over it."""

import zipfile
from pathlib import Path

from docx import Document
from lxml import etree

from excel_eval import signoff
from excel_eval.signoff import SignOffStyle

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}


def body_xml(name: str, date: str) -> str:
    def p(style, text):
        ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        return f"<w:p>{ppr}<w:r><w:t>{text}</w:t></w:r></w:p>"
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{W}"><w:body>'
            f'{p(None, "最后一段正文。")}{p("SignOff", name)}{p("SignOffDate", date)}<w:sectPr/></w:body></w:document>')


def indents(xml: str) -> list[str | None]:
    """The right indent of each paragraph, None where it has none."""
    root = etree.fromstring(xml.encode())
    found = [p.find("w:pPr/w:ind", NS) for p in root.iter(f"{{{W}}}p")]
    return [None if ind is None else ind.get(f"{{{W}}}right") for ind in found]


def test_bundled_template_metrics():
    for name in ("标准报告", "追加项目报告"):
        with zipfile.ZipFile(TEMPLATES / f"{name}.docx") as z:
            style = signoff.read_style(z.read("word/styles.xml"))
        # 3 号 = 320 twips, condensed by 5 twips; a digit is half of 320, condensed by 5; 右空四字 = 4 × 315
        assert style == SignOffStyle(full=315, half=155, date_indent=1260)


def test_name_centred_over_the_date():
    xml = signoff.fit_document_xml(body_xml("攀枝花市仁和区信访局", "2022年5月10日"), SignOffStyle())
    # name: 10 × 315 = 3150. date: 年 月 日 3 × 315 = 945; the digits 2022 5 10, 7 × 155 = 1085; five
    # boundaries between Chinese and digits × 64 (a fifth of 320) = 320; 2350 in all.
    date_width = 3 * 315 + 7 * 155 + 5 * 64
    assert date_width == 2350
    name_indent = 1260 + (2350 - 3150) // 2  # 860: the name's centre is the date's centre
    assert indents(xml) == [None, str(name_indent), "1260"]
    root = etree.fromstring(xml.encode())
    first = next(root.iter(f"{{{W}}}p"))
    assert first.find("w:pPr/w:keepNext", NS) is not None  # the last text is kept with the 落款


def test_long_name_moves_the_date_left():
    name = "攀枝花市仁和区人民政府信访局群众意见受理中心"  # 22 characters: centred over the date it would cross
    xml = signoff.fit_document_xml(body_xml(name, "2022年5月10日"), SignOffStyle())
    name_width = 22 * 315
    date_indent = (name_width - 2350 + 1) // 2
    assert indents(xml) == [None, str(date_indent + (2350 - name_width) // 2), str(date_indent)]
    assert date_indent + (2350 - name_width) // 2 == 0  # the name ends at the right margin


def test_no_signoff_leaves_the_xml_alone():
    xml = body_xml("x", "y").replace("SignOff", "Other")
    assert signoff.fit_document_xml(xml, SignOffStyle()) == xml
    assert signoff.fit_document_xml(body_xml("x", "y"), None) == body_xml("x", "y")


def test_reports_have_fitted_indents(sample_run):
    for report in sample_run.reports:
        paragraphs = Document(report).paragraphs
        name, date = paragraphs[-2], paragraphs[-1]
        assert (name.style.name, date.style.name) == ("落款", "落款日期")
        assert date.paragraph_format.right_indent.twips == 1260
        expected = 1260 + (SignOffStyle().width(date.text) - SignOffStyle().width(name.text)) // 2
        assert name.paragraph_format.right_indent.twips == expected
        assert paragraphs[-3].paragraph_format.keep_with_next
