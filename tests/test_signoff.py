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


# --------------------------------------------------------------------------- the 落款 fitted as text

BODY_START = (f'<w:body xmlns:w="{W}" xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
              'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">')


def _p(text: str = "", style: str | None = None, ppr_extra: str = "", attrs: str = "") -> str:
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/>{ppr_extra}</w:pPr>' if style else (
        f"<w:pPr>{ppr_extra}</w:pPr>" if ppr_extra else "")
    runs = "".join(f"<w:r><w:t xml:space=\"preserve\">{piece}</w:t></w:r>" for piece in text.split("|")) if text else ""
    return f"<w:p{attrs}>{ppr}{runs}</w:p>"


def _in_text_box(inner: str) -> str:
    return (f'<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent>{inner}'
            f"</w:txbxContent></wps:txbx></w:drawing></mc:Choice></mc:AlternateContent></w:r></w:p>")


def _with_text_box(paragraph: str) -> str:
    """The paragraph with a text box (holding a paragraph) in a run of its own at its end."""
    box = _in_text_box(_p("框中"))[len("<w:p>"):-len("</w:p>")]
    return paragraph[:-len("</w:p>")] + box + "</w:p>"


NAMES = ["攀枝花市仁和区信访局", "攀枝花市仁和区人民政府信访局群众意见受理中心", "某某县&amp;测试局", "A&lt;B 单位", "", "仁和区|信访局"]
DATES = ["2022年5月10日", "2022年12月31日", "", "二〇二二年五月"]
EXTRAS = ["", '<w:ind w:right="100" w:rightChars="200"/>', '<w:ind w:left="10" w:endChars="3"/>', "<w:jc w:val=\"right\"/>",
          "<w:keepNext/><w:spacing w:before=\"0\"/>", "<w:rPr><w:b/><w:sz w:val=\"32\"/></w:rPr>",
          '<w:spacing w:line="240"/><w:jc w:val="center"/><w:rPr><w:b/></w:rPr>']


def _random_body(rng) -> str:
    """A body of plain paragraphs and 落款 blocks in every arrangement the fit looks at: text or none before,
    extra paragraph properties, a missing or misplaced date, two blocks in a row, and, now and then, forms that
    the text fit leaves to the parsed body (a 落款 in a text box, a table, comments, other quoting)."""
    parts = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.choice(["text", "text", "empty", "block", "block", "name-only", "date-only", "odd"])
        if kind == "text":
            parts.append(_p(rng.choice(["正文。", "最后一段|正文", "  ", "a&amp;b"]), rng.choice([None, "Body", None]),
                            rng.choice(EXTRAS), rng.choice(["", ' w:rsidR="00AB"'])))
        elif kind == "empty":
            parts.append(rng.choice([_p(), "<w:p/>", '<w:p w:rsidR="00AB"/>']))
        elif kind in ("block", "name-only"):
            parts.append(_p(rng.choice(NAMES), "SignOff", rng.choice(EXTRAS), rng.choice(["", ' w:rsidR="00AB"'])))
            if kind == "block":
                parts.append(_p(rng.choice(DATES), "SignOffDate", rng.choice(EXTRAS)))
        elif kind == "date-only":
            parts.append(_p(rng.choice(DATES), "SignOffDate", rng.choice(EXTRAS)))
        else:
            parts.append(rng.choice([
                _in_text_box(_p("框中的正文") + _p(NAMES[0], "SignOff") + _p(DATES[0], "SignOffDate")),
                _in_text_box(_p(NAMES[0], "SignOff")) + _p(DATES[0], "SignOffDate"),
                f"<w:tbl><w:tr><w:tc>{_p('表中')}{_p(NAMES[0], 'SignOff')}{_p(DATES[0], 'SignOffDate')}</w:tc></w:tr></w:tbl>",
                "<!-- 注释 -->" + _p("正文"),
                "<w:p><w:pPr><w:pStyle w:val='SignOff'/></w:pPr><w:r><w:t>单引号</w:t></w:r></w:p>",
                '<w:p><w:pPr><w:jc w:val="left"/><w:pStyle w:val="SignOffDate"/></w:pPr></w:p>',
                '<w:p><w:r><w:t>先有文字</w:t></w:r><w:pPr><w:pStyle w:val="SignOff"/></w:pPr></w:p>',
                '<w:p><w:pPr><w:pStyle w:val="SignOff"/></w:pPr><w:r><w:t/></w:r><w:r><w:t xml:space="preserve"/></w:r></w:p>',
                _with_text_box(_p(NAMES[0], "SignOff")) + _p(DATES[0], "SignOffDate"),
                _p(NAMES[0], "SignOff") + _with_text_box(_p(DATES[0], "SignOffDate")),
                _p(NAMES[0], "SignOff") + '<w:p><w:r><w:t>日期在前</w:t></w:r><w:pPr><w:pStyle w:val="SignOffDate"/></w:pPr></w:p>',
            ]))
    return BODY_START + "".join(parts) + "<w:sectPr/></w:body>"


def _canonical(xml: str) -> bytes:
    return etree.tostring(etree.fromstring(xml.encode("utf-8")), method="c14n")


def _fitted_tree(xml: str, style: SignOffStyle) -> bytes:
    body = etree.fromstring(xml.encode("utf-8"))
    signoff.fit(body, style)
    return etree.tostring(body, method="c14n")


def test_the_text_fit_is_the_tree_fit_on_every_arrangement():
    """fit_text gives what fit gives on the parsed body, or leaves the body to it (None); it takes the plain
    arrangements itself, and gives up on a 落款 it cannot place as text."""
    import random

    rng = random.Random(20261202)
    style = SignOffStyle()
    taken = left = 0
    for _ in range(3000):
        xml = _random_body(rng)
        fitted = signoff.fit_text(xml, style)
        if fitted is None:
            left += 1
            continue
        taken += 1
        assert _canonical(fitted) == _fitted_tree(xml, style), xml
    assert taken > 2000 and left > 100


def test_the_text_fit_takes_the_bundled_layout_and_gives_up_on_nested_paragraphs():
    plain = BODY_START + _p("正文。") + _p(NAMES[0], "SignOff") + _p(DATES[0], "SignOffDate") + "<w:sectPr/></w:body>"
    fitted = signoff.fit_text(plain, SignOffStyle())
    assert fitted is not None and _canonical(fitted) == _fitted_tree(plain, SignOffStyle())
    assert 'w:right="860"' in fitted and "<w:keepNext/>" in fitted
    boxed = BODY_START + _in_text_box(_p(NAMES[0], "SignOff") + _p(DATES[0], "SignOffDate")) + "</w:body>"
    assert signoff.fit_text(boxed, SignOffStyle()) is None
    quoted = plain.replace('w:val="SignOff"', "w:val='SignOff'")
    assert signoff.fit_text(quoted, SignOffStyle()) is None
    without = BODY_START + _p("正文。") + "</w:body>"
    assert signoff.fit_text(without, SignOffStyle()) is without
