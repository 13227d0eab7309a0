"""The combined document: all reports in order, each on a new page, styles and footers kept.

Real files (the bundled sample's four reports, from the session fixture `sample_run`); the LibreOffice
checks are skipped when soffice is absent."""

import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.enum.style import WD_STYLE_TYPE

from excel_eval.combine import CombineError, combine_reports
from excel_eval.pdf import convert_to_pdf, find_soffice

LABEL = "附件3"


def paragraphs(path):
    return docx.Document(str(path)).paragraphs


def pdf_pages(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def combined(sample_run, tmp_path_factory):
    folder = tmp_path_factory.mktemp("combined")
    return (combine_reports(sample_run.reports, folder / "附件3_全部报告.docx", label=LABEL),
            combine_reports(sample_run.reports, folder / "无标签.docx"))


@pytest.fixture(scope="module")
def pdfs(sample_run, combined, tmp_path_factory):
    """Each report and both combined documents as PDF, in one LibreOffice run."""
    if find_soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    made = convert_to_pdf([*sample_run.reports, *combined], tmp_path_factory.mktemp("pdf"))
    return made[:-2], made[-2], made[-1]


def test_sample_reports_hold_only_styled_paragraphs(sample_run):
    """What the simple merge relies on: no images, links, lists, tables, one section, same footers."""
    for report in sample_run.reports:
        doc = docx.Document(str(report))
        body = doc.element.body
        assert {child.tag for child in body} == {qn("w:p"), qn("w:sectPr")}
        assert not body.xpath(".//w:numPr | .//w:drawing | .//w:pict | .//w:hyperlink | .//w:tbl")
        assert len(doc.sections) == 1 and doc.settings.odd_and_even_pages_header_footer


def test_text_and_order(sample_run, combined):
    labelled, plain = combined
    expected = [p.text for report in sample_run.reports for p in paragraphs(report)]
    assert [p.text for p in paragraphs(plain)] == expected
    assert [p.text for p in paragraphs(labelled)] == [LABEL, *expected]


def test_each_report_starts_on_a_new_page(sample_run, combined):
    labelled, plain = combined
    for path, offset in ((plain, 0), (labelled, 1)):
        combined_paragraphs = paragraphs(path)
        start = offset
        for index, report in enumerate(sample_run.reports):
            first = combined_paragraphs[start]
            assert first.text == paragraphs(report)[0].text
            assert bool(first.paragraph_format.page_break_before) == (index > 0)
            start += len(paragraphs(report))
        breaks = [p for p in combined_paragraphs if p.paragraph_format.page_break_before]
        assert len(breaks) == len(sample_run.reports) - 1


def test_styles_kept(sample_run, combined):
    labelled, _ = combined
    expected = [p.style.name for report in sample_run.reports for p in paragraphs(report)]
    actual = [p.style.name for p in paragraphs(labelled)]
    assert actual == ["附件标签", *expected]
    assert {"报告标题", "副标题", "Heading 1", "Heading 2", "落款"} <= set(actual)


def test_one_section_with_odd_even_page_numbers(combined):
    doc = docx.Document(str(combined[0]))
    assert len(doc.sections) == 1
    assert len(doc.element.body.xpath(".//w:sectPr")) == 1
    assert doc.settings.odd_and_even_pages_header_footer
    section = doc.sections[0]
    for footer in (section.footer, section.even_page_footer):
        xml = footer._element.xml
        assert "PAGE" in xml and "—" in xml
    assert section._sectPr.find(qn("w:pgNumType")) is None  # numbering runs on through all reports


def test_pdf_pages_add_up(sample_run, pdfs):
    singles, labelled, plain = pdfs
    total = sum(pdf_pages(p) for p in singles)
    assert pdf_pages(plain) == total
    assert total <= pdf_pages(labelled) <= total + 1  # the label line may push the first report over


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_pdf_page_starts_and_numbers(sample_run, pdfs):
    singles, _, plain = pdfs
    text = subprocess.run(["pdftotext", "-layout", str(plain), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.split("\f")[:pdf_pages(plain)]
    for number, page in enumerate(pages, start=1):
        assert f"—{number}—" in squeeze(page)  # continuous page numbers
    start = 0
    for report, single in zip(sample_run.reports, singles):
        title = squeeze(paragraphs(report)[0].text)
        assert squeeze(pages[start]).startswith(title)
        start += pdf_pages(single)
    assert start == len(pages)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_pdf_label_first(pdfs):
    _, labelled, _ = pdfs
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(labelled), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert squeeze(text).startswith(squeeze(LABEL))


def first_lines(pdf: Path, count: int) -> list[tuple[float, float, str]]:
    """(xMin, yMin, text) of the first lines on page 1, as pdftotext lays them out."""
    xml = subprocess.run(["pdftotext", "-bbox-layout", "-f", "1", "-l", "1", str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    lines = re.findall(r'<line xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>(.*?)</line>', xml, re.S)
    return [(float(x), float(y), "".join(re.findall(r">([^<]+)</word>", words))) for x, y, words in lines[:count]]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_pdf_label_top_left_and_title_on_line_3(pdfs):
    """GB/T 9704 §8: "附件3" at the top left of the text block (left margin 28 mm = 79.4 pt), the title on the
    third line: two line pitches (2 × 28.9 pt) below where it stands without the label."""
    _, labelled, plain = pdfs
    (label_x, _, label), (_, title_y, title) = first_lines(labelled, 2)
    ((_, plain_title_y, plain_title),) = first_lines(plain, 1)
    assert label == LABEL and title == plain_title
    assert label_x == pytest.approx(28 / 25.4 * 72, abs=0.5)
    assert title_y - plain_title_y == pytest.approx(2 * 28.9, abs=0.2)


def test_empty_list(tmp_path):
    with pytest.raises(ValueError):
        combine_reports([], tmp_path / "x.docx")


def test_report_with_a_link_is_refused(sample_run, tmp_path):
    doc = docx.Document(str(sample_run.reports[1]))
    rid = doc.part.relate_to("https://example.com/", RT.HYPERLINK, is_external=True)
    doc.paragraphs[-1]._p.append(parse_xml(
        f'<w:hyperlink {nsdecls("w", "r")} r:id="{rid}"><w:r><w:t>链接</w:t></w:r></w:hyperlink>'))
    linked = tmp_path / "带链接.docx"
    doc.save(str(linked))
    with pytest.raises(CombineError, match="带链接.docx"):
        combine_reports([sample_run.reports[0], linked], tmp_path / "out.docx")


def test_missing_style_is_copied(sample_run, tmp_path):
    doc = docx.Document(str(sample_run.reports[1]))
    style = doc.styles.add_style("自定义说明", WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    doc.add_paragraph("说明文字", style="自定义说明")
    extra = tmp_path / "extra.docx"
    doc.save(str(extra))
    out = combine_reports([sample_run.reports[0], extra], tmp_path / "out.docx")
    last = paragraphs(out)[-1]
    assert (last.text, last.style.name) == ("说明文字", "自定义说明")


def test_label_style_created_when_missing_and_table_first(tmp_path):
    first, second = docx.Document(), docx.Document()
    first.add_paragraph("甲")
    second.add_table(rows=1, cols=1).cell(0, 0).text = "乙"
    first.save(str(tmp_path / "a.docx"))
    second.save(str(tmp_path / "b.docx"))
    out = combine_reports([tmp_path / "a.docx", tmp_path / "b.docx"], tmp_path / "out.docx", label="附件1")
    doc = docx.Document(str(out))
    label = doc.paragraphs[0]
    assert (label.text, label.style.name) == ("附件1", "附件标签")
    assert label.style.font.size.pt == 16
    assert label.style.element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    assert label.style.paragraph_format.space_after.twips == 578  # the title on line 3
    body = list(doc.element.body)
    table = body.index(doc.tables[0]._tbl)
    assert body[table - 1].xpath('.//w:br[@w:type="page"]')  # a page break before the table
