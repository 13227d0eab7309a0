"""GB/T 9704 page layout, measured on PDFs that LibreOffice makes of the sample's reports, 自评表 and combined
document (one soffice call; skipped without LibreOffice or pdftotext): 28 characters on full body lines,
22 lines on full pages, nothing of the .docx missing, the 落款 centred, no heading alone at a page foot, no
page number on a one-page 自评表, no lonely character in a 自评表 cell, and a 自评表 of 12 indicators on one
page, of 20 on two with the header row repeated.

Page geometry (GB/T 9704 §5.2): A4 595.3 × 841.9 pt; text block from x = 28 mm = 79.4 pt, 156 mm = 442.2 pt
wide, from y = 37 mm = 104.9 pt, 225 mm = 637.8 pt high; 22 lines of 28.9 pt; 28 characters of 15.75 pt.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

import docx
import openpyxl
import pytest

from excel_eval.combine import combine_reports
from excel_eval.pdf import convert_to_pdf, find_soffice
from excel_eval.pdf_check import docx_text, lost_characters
from excel_eval.pipeline import run
from excel_eval.resources import sample_workbook

from test_scorecard import NOW

pytestmark = pytest.mark.skipif(find_soffice() is None or shutil.which("pdftotext") is None,
                                reason="LibreOffice (soffice) and pdftotext are needed")

MM = 72 / 25.4
LEFT, TOP, BLOCK_W, BLOCK_H = 28 * MM, 37 * MM, 156 * MM, 225 * MM
LINE = 28.9
CHAR = 15.75
XHTML = "{http://www.w3.org/1999/xhtml}"
NO_LINE_START = set("，。、；：？！）》」』】〕”’…—％%")
NO_LINE_END = set("（《「『【〔“‘")


# ------------------------------------------------------------------------------------------ fixtures

def _scorecard_workbook(folder: Path, extra: int) -> Path:
    """The sample with `extra` more indicators for 510411-2021-XF003 (9 of its own): the project with the
    longest goals, so the tallest form."""
    book = folder / f"指标{9 + extra}.xlsx"
    shutil.copy2(sample_workbook(), book)
    workbook = openpyxl.load_workbook(book)
    sheet = workbook["绩效指标"]
    texts = [("产出指标", "数量指标", "进京赴蓉值班值守及劝访接访批次", "≥15次", "17次"),
             ("产出指标", "质量指标", "疑难及无责任主体信访事项化解", "有效化解", "达成"),
             ("效益指标", "可持续影响指标", "视频接访、网上信访等网络办公正常运行", "正常运行", "达成"),
             ("满意度指标", "服务对象满意度指标", "来访群众满意度", "≥95%", "96%")]
    for number in range(extra):
        level1, level2, name, target, actual = texts[number % len(texts)]
        sheet.append(["510411-2021-XF003", level1, level2, name, target, actual, 1,
                      1 if target[0] not in "≥=≤" else None, None])
    workbook.save(book)
    return book


@pytest.fixture(scope="module")
def made(sample_run, tmp_path_factory):
    """Everything converted in one LibreOffice run: {name: (docx, pdf)}."""
    folder = tmp_path_factory.mktemp("layout")
    combined = combine_reports(sample_run.reports, folder / "合集.docx", label="附件3")
    forms = {}
    for extra in (3, 11):
        result = run(_scorecard_workbook(folder, extra), folder / f"out{extra}", now=NOW)
        forms[9 + extra] = next(p for p in result.scorecards if "XF003" in p.name)
        forms[9 + extra] = shutil.copy2(forms[9 + extra], folder / f"自评表{9 + extra}.docx")
    docs = [*sample_run.reports, *sample_run.scorecards, combined, *forms.values()]
    pdfs = convert_to_pdf(docs, folder / "pdf")
    return dict(zip(docs, pdfs)), forms


# ------------------------------------------------------------------------------------------ reading PDFs

def pdf_lines(pdf: Path) -> list[list[dict]]:
    """Each page's text lines: x0, x1, y0, text (pdftotext -bbox-layout)."""
    out = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    pages = []
    for page in ElementTree.fromstring(out).iter(f"{XHTML}page"):
        lines = []
        for line in page.iter(f"{XHTML}line"):
            words = list(line.iter(f"{XHTML}word"))
            lines.append({"x0": float(line.get("xMin")), "x1": float(line.get("xMax")),
                          "y0": float(line.get("yMin")), "y1": float(line.get("yMax")),
                          "text": "".join(w.text or "" for w in words),
                          "words": [(float(w.get("xMin")), float(w.get("yMin")), float(w.get("xMax")), w.text or "")
                                    for w in words]})
        pages.append(lines)
    return pages


def body_lines(page: list[dict]) -> list[dict]:
    """The lines inside the text block (the page number below it left out)."""
    return [line for line in page if line["y0"] < TOP + BLOCK_H - 5]


def full_width(text: str) -> bool:
    return all(unicodedata.east_asian_width(ch) in "WF" for ch in text)


def at_margin(line: dict) -> bool:
    return abs(line["x0"] - LEFT) < 1.5


def indented(line: dict) -> bool:  # a paragraph's first line: two characters in
    return abs(line["x0"] - LEFT - 2 * CHAR) < 1.5


def reports(made) -> list[tuple[Path, Path]]:
    return [(d, p) for d, p in made[0].items() if "自评表" not in d.name]


# ------------------------------------------------------------------------------------------ the reports

def _pushed(line: dict, following: dict | None) -> bool:
    """True when a line is short because the line breaker could not end it otherwise: the next line starts
    with a character that carries a closing mark, with an opening mark, or with a number or Latin word."""
    if following is None:
        return False
    text = following["text"].replace(" ", "")
    return (len(text) > 1 and text[1] in NO_LINE_START) or text[:1] in NO_LINE_END or text[:1].isascii()


def test_28_characters_on_full_body_lines(made):
    counted = Counter()
    for docx_path, pdf in reports(made):
        for page in pdf_lines(pdf):
            lines = body_lines(page)
            for line, following in zip(lines, lines[1:] + [None]):
                inside = following is not None and at_margin(following)  # the paragraph goes on
                text = line["text"].replace(" ", "")
                if not inside or not full_width(text):
                    continue
                expected = 28 if at_margin(line) else 26 if indented(line) else None
                if expected is None:
                    continue
                assert len(text) == expected or (len(text) < expected and _pushed(line, following)), \
                    (pdf.name, text)
                counted[len(text) == expected] += 1
    assert counted[True] >= 150, counted  # most full lines hold exactly 28 (26 after the indent)


def test_22_lines_on_full_pages(made):
    full = 0
    for docx_path, pdf in reports(made):
        pages = [body_lines(page) for page in pdf_lines(pdf)]
        for number, (page, following) in enumerate(zip(pages, pages[1:]), 1):
            if number > 1 and "合" not in pdf.name:  # every line on the 28.9 pt grid (page 1 has the title)
                # the glyph boxes of 黑体, 楷体 and 仿宋 sit up to 1.5 pt apart within a line
                offsets = [((line["y0"] - page[0]["y0"]) / LINE) % 1 for line in page]
                assert all(min(o, 1 - o) < 2 / LINE for o in offsets), (pdf.name, number, offsets)
            if not at_margin(following[0]) or any(line["y1"] - line["y0"] > 24 for line in page):
                continue  # the page ends with a paragraph (keep rules may leave lines free), or holds a title
            continued = next((i for i, line in enumerate(following) if not at_margin(line)), len(following))
            widow = continued == 2  # one line moved down so that two stand together
            assert len(page) == 22 or (widow and len(page) == 21), (pdf.name, len(page), page[-1]["text"])
            full += len(page) == 22
    assert full >= 5


def _normal(text: str) -> Counter:
    return Counter(ch for ch in unicodedata.normalize("NFKC", text) if not ch.isspace())


def test_no_character_of_the_docx_missing_from_the_pdf(made):
    for docx_path, pdf in made[0].items():
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert _normal(docx_text(docx_path)) - _normal(text) == Counter(), pdf.name  # pdftotext's reading
        assert lost_characters(docx_path, pdf) == [], pdf.name  # the check --pdf runs (pypdf's reading)


def test_signoff_centred_over_the_date_four_characters_in(made):
    for docx_path, pdf in reports(made):
        page = pdf_lines(pdf)[-1]
        date = next(i for i, line in enumerate(page) if re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", line["text"]))
        name, day = page[date - 1], page[date]
        assert (name["x0"] + name["x1"]) / 2 == pytest.approx((day["x0"] + day["x1"]) / 2, abs=1.0), pdf.name
        assert LEFT + BLOCK_W - day["x1"] == pytest.approx(4 * CHAR, abs=1.0), pdf.name
        assert day["y0"] - name["y0"] == pytest.approx(LINE, abs=0.6)


def test_no_heading_alone_at_a_page_foot(made):
    for docx_path, pdf in reports(made):
        headings = [p.text for p in docx.Document(str(docx_path)).paragraphs if p.style.name.startswith("Heading")]
        pages = [body_lines(page) for page in pdf_lines(pdf)]
        for page in pages[:-1]:
            last = page[-1]["text"].replace(" ", "")
            assert not any(h.replace(" ", "").endswith(last) for h in headings), (pdf.name, last)


# ------------------------------------------------------------------------------------------ the 自评表

def _segments(page: list[dict]) -> list[tuple[float, float, float, str]]:
    """The text pieces of a table page, one per cell line: words on one baseline less than 6 pt apart."""
    words = sorted((w for line in page for w in line["words"]), key=lambda w: (round(w[1], 1), w[0]))
    pieces: list[list] = []
    for x0, y0, x1, text in words:
        if pieces and abs(pieces[-1][1] - y0) < 0.2 and 0 <= x0 - pieces[-1][2] < 6:
            pieces[-1][2], pieces[-1][3] = x1, pieces[-1][3] + text
        else:
            pieces.append([x0, y0, x1, text])
    return [tuple(p) for p in pieces]


def lonely_wraps(pdf: Path) -> list[str]:
    """Cell lines that hold one character (punctuation aside) below a line of the same cell (12 pt above: the
    table text's exact line height; rows are at least 4.6 mm = 13 pt apart)."""
    found = []
    for page in pdf_lines(pdf):
        pieces = _segments(page)
        for x0, y0, x1, text in pieces:
            above = [p for p in pieces if abs(y0 - p[1] - 12.0) < 0.4 and min(x1, p[2]) > max(x0, p[0])]
            kept = [ch for ch in text if ch not in NO_LINE_START and ch not in "（《“"]
            if above and len(kept) <= 1:
                found.append(f"{above[0][3]}/{text}")
    return found


def test_scorecards_one_page_no_page_number_no_lonely_character(made, sample_run):
    for form in sample_run.scorecards:
        pdf = made[0][form]
        pages = pdf_lines(pdf)
        assert len(pages) == 1, pdf.name
        text = "".join(line["text"] for line in pages[0]).replace(" ", "")
        assert not re.search(r"—\d+—", text), pdf.name
        assert lonely_wraps(pdf) == [], pdf.name


def test_a_form_of_12_indicators_fits_one_page_and_20_run_on_with_the_header(made):
    converted, forms = made
    assert len(pdf_lines(converted[forms[12]])) == 1
    pages = pdf_lines(converted[forms[20]])
    assert len(pages) == 2
    second = "".join(line["text"] for line in pages[1]).replace(" ", "")
    for header in ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "偏差原因分析及改进措施"):
        assert header in second
    assert "总分" in second
