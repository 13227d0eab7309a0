"""The 汇总 sheet as a reader sees it: totals, highlighting, the native chart, print setup; and what a write does
to the rest of the workbook. Real runs of the pipeline on copies of the sample workbook, no mocks."""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest
from openpyxl.chart import BarChart as OpenpyxlBarChart
from openpyxl.chart import Reference

from excel_eval.pipeline import run
from excel_eval.resources import sample_workbook
from excel_eval.schema import SUMMARY_HEADERS
from excel_eval.writeback.summary import summary_sheet

from workbooks import standard_workbook

NOW = dt.datetime(2026, 11, 27, 9, 30)
LATER = dt.datetime(2026, 12, 1, 16, 5)
NS = {
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
}
PROJECT_NAMES = ["仁和区矛盾纠纷排查化解、维稳、信访事项专项经费", "仁和区信访工作专项经费", "仁和区群众意见受理中心项目经费",
                 "用友A++财务软件运行维护服务费"]
RATES = [0.989, 0.998, 4367 / 5475, 1.0]


# --------------------------------------------------------------------------- helpers


def read(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(name)


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def rels_of(path: Path, part: str) -> list[dict]:
    d, b = posixpath.split(part)
    root = ET.fromstring(read(path, posixpath.join(d, "_rels", b + ".rels")))
    out = []
    for r in root:
        target = r.get("Target")
        resolved = None if r.get("TargetMode") == "External" else posixpath.normpath(
            posixpath.join("/" + d, target)).lstrip("/")
        out.append({"Id": r.get("Id"), "type": r.get("Type").rsplit("/", 1)[-1], "target": target, "part": resolved})
    return out


def summary_part(path: Path) -> str:
    wb = ET.fromstring(read(path, "xl/workbook.xml"))
    sheet = next(s for s in wb.iter() if s.tag.endswith("}sheet") and s.get("name") == "汇总")
    rid = next(v for k, v in sheet.attrib.items() if k.endswith("}id"))
    return next(r["part"] for r in rels_of(path, "xl/workbook.xml") if r["Id"] == rid)


def overrides(path: Path) -> dict[str, str]:
    root = ET.fromstring(read(path, "[Content_Types].xml"))
    return {o.get("PartName").lstrip("/"): o.get("ContentType") for o in root.findall("ct:Override", NS)}


def chart_parts(path: Path) -> tuple[str, str]:
    """(drawing part, chart part) of the 汇总 sheet, resolved through the relationships."""
    drawing = next(r["part"] for r in rels_of(path, summary_part(path)) if r["type"] == "drawing")
    chart = next(r["part"] for r in rels_of(path, drawing) if r["type"] == "chart")
    return drawing, chart


def reachable(path: Path) -> set[str]:
    """Every part reachable from the package relationships."""
    names = set(zipfile.ZipFile(path).namelist())
    seen: set[str] = set()
    root = ET.fromstring(read(path, "_rels/.rels"))
    todo = [r.get("Target").lstrip("/") for r in root]
    while todo:
        part = todo.pop()
        if part in seen or part not in names:
            continue
        seen.add(part)
        d, b = posixpath.split(part)
        if posixpath.join(d, "_rels", b + ".rels") in names:
            todo += [r["part"] for r in rels_of(path, part) if r["part"]]
    return seen


def assert_no_orphans(path: Path) -> None:
    names = set(zipfile.ZipFile(path).namelist())
    parts = {n for n in names if n != "[Content_Types].xml" and not n.endswith(".rels")}
    assert parts == reachable(path), "orphaned parts"
    for part in overrides(path):
        assert part in names, f"content type override for a missing part {part}"
    for n in names:
        if n.endswith(".rels") and n != "_rels/.rels":
            d, b = posixpath.split(n)
            assert posixpath.join(posixpath.dirname(d), b[: -len(".rels")]) in names, f"orphaned {n}"


@pytest.fixture()
def sample_copy(tmp_path: Path) -> Path:
    book = tmp_path / sample_workbook().name
    shutil.copy2(sample_workbook(), book)
    return book


# --------------------------------------------------------------------------- the sheet


def test_totals_row_sums_and_overall_rates(sample_run):
    ws = openpyxl.load_workbook(sample_run.workbook)["汇总"]
    assert [c.value for c in ws[2]] == list(SUMMARY_HEADERS)
    assert [ws.cell(r, 2).value for r in range(3, 7)] == PROJECT_NAMES
    total = [c.value for c in ws[7]]
    assert total[0] == "合计" and total[1] is None and total[2] is None
    for col in (3, 4, 6, 8):  # 全年预算数, 到位数, 支出数, 结余
        assert total[col] == pytest.approx(sum(ws.cell(r, col + 1).value for r in range(3, 7)))
    assert total[3:9] == [pytest.approx(109.83), pytest.approx(109.83), 1, pytest.approx(98.28),
                          pytest.approx(98.28 / 109.83), pytest.approx(11.55)]
    assert total[9:] == [None, None, None]
    assert ws.max_row == 7
    assert all(isinstance(v, (int, float)) for v in total[3:9])  # numbers, not formulas
    assert ws["D7"].number_format == "#,##0.00" and ws["H7"].number_format == "0.00%"
    assert all(ws.cell(7, c).font.b for c in (1, 4, 8))
    assert ws["A7"].border.top.style == "double" and ws["H7"].border.top.style == "double"
    assert ws["H6"].border.top.style == "thin"
    assert "A7:C7" in {str(r) for r in ws.merged_cells.ranges}
    assert ws.auto_filter.ref == "A2:L6"  # sorting or filtering leaves the totals row alone
    assert ws.row_dimensions[2].height == 30  # the wrapped header shows both lines
    assert ws.freeze_panes == "A3"


def test_print_setup_is_landscape_one_page_wide(sample_run):
    ws = openpyxl.load_workbook(sample_run.workbook)["汇总"]
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$2:$2"  # the header row on every page
    assert ws.print_area == "'汇总'!$A$1:$K$29"  # the table and the chart (16 + 4 rows from row 9); not the links
    assert [b.id for b in ws.row_breaks.brk] == [7]  # the chart (rows 9–29) starts a page of its own
    assert (ws.page_margins.left, ws.page_margins.right) == (0.4, 0.4) and ws.print_options.horizontalCentered


def test_printed_columns_fit_one_landscape_page_at_a_legible_scale(sample_run):
    """LibreOffice prints a column of width w about 7w pt wide (measured: 160 characters at 70%), A4 landscape
    between 0.4-inch margins holds 842 − 57.6 = 784.4 pt: 146 characters print at 784.4 / 1022 = 77%, so 11 pt
    text comes out at 8.4 pt."""
    ws = openpyxl.load_workbook(sample_run.workbook)["汇总"]
    widths = [ws.column_dimensions[c].width for c in "ABCDEFGHIJK"]
    assert sum(widths) <= 146
    assert 784.4 / (7 * sum(widths)) * 11 >= 8.0
    assert ws.column_dimensions["A"].width == 19  # "510411-2021-XF001" (17) and 2 to spare
    assert ws.column_dimensions["C"].width == 22  # "攀枝花市仁和区信访局": 10 wide characters, 20, and 2
    assert ws.column_dimensions["B"].width == 146 - 19 - 22 - 73  # the rest: 32 (the longest name needs 44)
    # the longest name (21 wide characters, 42) wraps into two lines in 32 − 1.5: its row is two lines high
    assert ws.row_dimensions[3].height == 32 and ws.row_dimensions[4].height is None
    assert ws["B3"].alignment.wrap_text and ws["C3"].alignment.wrap_text


def test_low_execution_rates_are_highlighted(sample_run):
    ws = openpyxl.load_workbook(sample_run.workbook)["汇总"]
    formats = list(ws.conditional_formatting)
    assert [str(cf.sqref) for cf in formats] == ["H3:H6"]  # the projects' 执行率, not the totals row
    (rule,) = formats[0].rules
    assert (rule.type, rule.operator, rule.formula, rule.priority) == ("cellIs", "lessThan", ["0.9"], 1)
    assert rule.dxf.fill.bgColor.rgb == "FFFFC7CE" and rule.dxf.font.color.rgb == "FF9C0006"
    assert [ws.cell(r, 8).value < 0.9 for r in range(3, 7)] == [False, False, True, False]  # XF003: 79.76%

    styles = read(sample_run.workbook, "xl/styles.xml").decode()
    assert styles.count("<dxfs") == 1 and '<dxfs count="1">' in styles
    # CT_Stylesheet order: … cellStyles, dxfs, tableStyles, colors …
    assert styles.index("</cellStyles>") < styles.index("<dxfs") < styles.index("<tableStyles")


def test_native_bar_chart_of_execution_rates(sample_run):
    book = sample_run.workbook
    part = summary_part(book)
    drawing, chart = chart_parts(book)
    names = zipfile.ZipFile(book).namelist()
    assert drawing in names and chart in names and drawing.startswith("xl/drawings/") and chart.startswith("xl/charts/")
    assert overrides(book)[drawing] == "application/vnd.openxmlformats-officedocument.drawing+xml"
    assert overrides(book)[chart] == "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"

    sheet = read(book, part).decode()
    rid = next(r["Id"] for r in rels_of(book, part) if r["type"] == "drawing")
    assert f'<drawing r:id="{rid}"/></worksheet>' in sheet
    # CT_Worksheet element order
    order = ["sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "autoFilter", "mergeCells",
             "conditionalFormatting", "hyperlinks", "printOptions", "pageMargins", "pageSetup", "rowBreaks", "drawing"]
    found = [_local(el.tag) for el in ET.fromstring(read(book, part))]
    assert found == order

    anchor = ET.fromstring(read(book, drawing)).find("xdr:twoCellAnchor", NS)
    assert anchor.find("xdr:from/xdr:row", NS).text == "8"  # below the table: 合计 is row 7, chart from row 9
    assert anchor.find("xdr:from/xdr:col", NS).text == "1"
    assert int(anchor.find("xdr:to/xdr:row", NS).text) > 20
    assert anchor.find(".//c:chart", NS) is not None

    root = ET.fromstring(read(book, chart))
    assert "".join(t.text for t in root.iterfind("c:chart/c:title//a:t", NS)) == "各项目执行率"
    assert root.find("c:chart/c:legend", NS) is None
    bar = root.find("c:chart/c:plotArea/c:barChart", NS)
    assert bar.find("c:barDir", NS).get("val") in ("bar", "col")
    assert bar.find("c:grouping", NS).get("val") == "clustered"
    (ser,) = bar.findall("c:ser", NS)
    assert ser.find("c:cat/c:strRef/c:f", NS).text == "'汇总'!$B$3:$B$6"
    assert ser.find("c:val/c:numRef/c:f", NS).text == "'汇总'!$H$3:$H$6"
    cats = ser.find("c:cat/c:strRef/c:strCache", NS)
    assert cats.find("c:ptCount", NS).get("val") == "4"
    assert [p.find("c:v", NS).text for p in cats.findall("c:pt", NS)] == PROJECT_NAMES
    vals = ser.find("c:val/c:numRef/c:numCache", NS)
    assert [float(p.find("c:v", NS).text) for p in vals.findall("c:pt", NS)] == pytest.approx(RATES)
    assert root.find("c:chart/c:plotArea/c:valAx/c:numFmt", NS).get("formatCode") == "0%"
    # the low bar (XF003, index 2) is drawn in red
    (point,) = ser.findall("c:dPt", NS)
    assert point.find("c:idx", NS).get("val") == "2"
    assert point.find(".//a:srgbClr", NS).get("val") == "C00000"
    assert_no_orphans(book)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def test_no_projects_means_no_totals_chart_or_highlighting(tmp_path):
    spec = summary_sheet([], {}, tmp_path / "x.xlsx", NOW)
    assert len(spec.rows) == 2 and not spec.charts and not spec.conditional_formats


def test_scores_argument_is_still_accepted(sample_run, tmp_path):
    records = sample_run.records
    scores = {records[0].project_id: (Decimal("92.5"), "优")}
    spec = summary_sheet(records, {}, tmp_path / "x.xlsx", NOW, scores)
    assert spec.rows[2][9].value == Decimal("92.5") and spec.rows[2][10].value == "优"
    assert spec.rows[-1][9].value is None  # the totals row leaves score and grade blank


# --------------------------------------------------------------------------- repeated writes


def test_second_run_neither_accumulates_nor_touches_other_parts(sample_copy):
    run(sample_copy, sample_copy.parent / "out", now=NOW)
    first_names = zipfile.ZipFile(sample_copy).namelist()
    first = members(sample_copy)
    run(sample_copy, sample_copy.parent / "out", now=LATER)
    second = members(sample_copy)
    assert zipfile.ZipFile(sample_copy).namelist() == first_names  # same members, same order
    part = summary_part(sample_copy)
    changed = {n for n in first if first[n] != second[n]}
    assert changed == {part}  # only the note's time stamp; styles, chart, drawing, rels, content types identical
    assert "2026-12-01 16:05" in second[part].decode()
    assert second["xl/styles.xml"].decode().count("<dxf>") == 1
    assert len([n for n in second if n.startswith("xl/charts/")]) == 1
    assert_no_orphans(sample_copy)

    run(sample_copy, sample_copy.parent / "out", now=LATER)
    assert members(sample_copy) == second  # deterministic


def test_users_own_chart_stays_byte_for_byte(tmp_path):
    book = standard_workbook(tmp_path / "账.xlsx")
    wb = openpyxl.load_workbook(book)
    ws = wb["预算"]
    chart = OpenpyxlBarChart()
    chart.add_data(Reference(ws, min_col=6, min_row=1, max_row=3), titles_from_data=True)
    ws.add_chart(chart, "J2")
    wb.save(book)
    original = members(book)
    users = {n for n in original if n.startswith(("xl/charts/", "xl/drawings/"))}
    assert "xl/charts/chart1.xml" in users and "xl/drawings/drawing1.xml" in users

    run(book, tmp_path / "out", now=NOW)
    after = members(book)
    for name in users:
        assert after[name] == original[name], name
    drawing, chart_part = chart_parts(book)
    assert drawing not in users and chart_part not in users  # fresh names, no collision
    assert (drawing, chart_part) == ("xl/drawings/drawing2.xml", "xl/charts/chart2.xml")
    assert_no_orphans(book)

    run(book, tmp_path / "out", now=LATER)
    again = members(book)
    assert set(again) == set(after)
    for name in users:
        assert again[name] == original[name], name
    assert chart_parts(book) == (drawing, chart_part)


# --------------------------------------------------------------------------- what it looks like


def _summary_page(pdf: Path) -> int:
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout).group(1))
    for page in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
                              check=True, capture_output=True, text=True).stdout
        if "本表由 excel-eval" in text:
            return page
    raise AssertionError("no 汇总 page in the PDF")


def _page_text(pdf: Path, page: int, *extra: str) -> str:
    return subprocess.run(["pdftotext", *extra, "-f", str(page), "-l", str(page), str(pdf), "-"],
                          check=True, capture_output=True, text=True).stdout


def _pixels(pdf: Path, page: int, folder: Path) -> list[tuple[int, int, int]]:
    from PIL import Image

    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page), str(pdf),
                    str(folder / f"summary{page}")], check=True)
    (png,) = folder.glob(f"summary{page}*.png")
    data = Image.open(png).convert("RGB").tobytes()
    return [tuple(data[i:i + 3]) for i in range(0, len(data), 3)]


def _count(pixels, rgb: tuple[int, int, int], tol: int = 12) -> int:
    return sum(all(abs(p[i] - rgb[i]) <= tol for i in range(3)) for p in pixels)


def test_libreoffice_prints_the_summary_legibly(sample_run, tmp_path):
    """Landscape, the table on one page with text of 8 pt or more, the chart on the next page under the
    repeated header row, the highlight and the red bar visible."""
    soffice = shutil.which("soffice")
    if soffice is None or not all(shutil.which(t) for t in ("pdftoppm", "pdftotext", "pdfinfo")):
        pytest.skip("LibreOffice / poppler not installed")
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(sample_run.workbook)],
                   check=True, capture_output=True, timeout=300)
    pdf = tmp_path / (sample_run.workbook.stem + ".pdf")
    page = _summary_page(pdf)
    table, chart = _page_text(pdf, page), _page_text(pdf, page + 1)
    assert "合计" in table and "79.76%" in table and "各项目执行率" not in table
    assert "报告文件" not in table  # the links' column is for the screen
    assert "各项目执行率" in chart and "合计" not in chart and "项目名称" in chart  # header row repeated

    bbox = _page_text(pdf, page, "-bbox")
    width, height = (float(v) for v in re.search(r'<page width="([\d.]+)" height="([\d.]+)"', bbox).groups())
    assert width > height  # landscape A4: 842 × 595 pt
    assert abs(width - 842) < 2 and abs(height - 595) < 2
    word = "根据本工作簿自动生成，每次运行都会整表替换，请不要在本表中填写或修改内容。金额单位：万元。"
    x0, x1 = (float(v) for v in re.search(rf'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">{word}<',
                                          bbox).groups())
    assert (x1 - x0) / len(word) >= 8.0  # a Chinese character is as wide as the text is high: 8 pt or more
    assert (x1 - x0) / len(word) >= 11 * 0.70  # the 11 pt text prints at 70% or more

    pixels = _pixels(pdf, page, tmp_path)
    assert _count(pixels, (0xFF, 0xC7, 0xCE)) > 20  # the highlighted 执行率 cell of XF003
    bars = _pixels(pdf, page + 1, tmp_path)
    assert _count(bars, (0xC0, 0x00, 0x00)) > 200  # its red bar
    assert _count(bars, (0x5B, 0x9B, 0xD5)) > 3 * _count(bars, (0xC0, 0x00, 0x00))  # the three other bars


# --------------------------------------------------------------------------- other formats


def test_an_ods_workbook_gets_a_summary_workbook_of_its_own(sample_run, tmp_path):
    from excel_eval.writeback.save import write_summary

    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice not installed")
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "ods", "--outdir", str(tmp_path), str(sample_workbook())],
                   check=True, capture_output=True, timeout=300)
    ods = tmp_path / (sample_workbook().stem + ".ods")
    before = ods.read_bytes()
    reports = dict(zip((r.project_id for r in sample_run.records), sample_run.reports))
    out = tmp_path / "out"
    out.mkdir()
    result = write_summary(ods, lambda target: summary_sheet(sample_run.records, reports, target, NOW), out,
                           "20261127-093000")
    assert ods.read_bytes() == before and not result.in_workbook and result.backup is None
    assert result.target == out / (ods.stem + "_汇总.xlsx")
    assert "OpenDocument（.ods）" in result.reason
    book = openpyxl.load_workbook(result.target)
    assert book.sheetnames == ["汇总"]
    ws = book["汇总"]
    assert [c.value for c in ws[2]] == list(SUMMARY_HEADERS)
    assert [ws.cell(r, 2).value for r in range(3, 7)] == PROJECT_NAMES
    link = ws["L3"].hyperlink.target
    assert (result.target.parent / link).resolve() == sample_run.reports[0].resolve()


def test_an_xls_workbook_is_never_changed(sample_run, tmp_path):
    from excel_eval.writeback.save import write_summary

    xls = tmp_path / "旧账.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))  # an OLE2 compound file's header
    result = write_summary(xls, lambda target: summary_sheet(sample_run.records, {}, target, NOW), tmp_path,
                           "20261127-093000")
    assert xls.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" and len(xls.read_bytes()) == 512
    assert result.target == tmp_path / "旧账_汇总.xlsx" and "Excel 97-2003（.xls）" in result.reason
    assert openpyxl.load_workbook(result.target).sheetnames == ["汇总"]


def test_report_links_are_the_relative_paths_to_each_report(tmp_path):
    """The links of one run (the folder's link made once) are the report's path relative to the workbook's
    folder, percent-encoded where a URI reference needs it: beside it, below it, beside its folder."""
    from excel_eval.writeback.summary import _linker

    book = tmp_path / "单位" / "账.xlsx"
    cases = {
        book.parent / "P1 #2_经费%.docx": "P1%20%232_经费%25.docx",
        book.parent / "output" / "账 2021" / "P1_经费.docx": "output/账%202021/P1_经费.docx",
        tmp_path / "报告" / "P1_经费.docx": "../报告/P1_经费.docx",
        tmp_path / "P1_a:b.docx": "../P1_a%3Ab.docx",
    }
    link = _linker(book)
    for report, expected in cases.items():
        assert link(report) == expected
        assert link(report) == expected  # the folder's link, remembered


def test_a_link_percent_encodes_every_ascii_character_a_uri_reference_cannot_hold():
    """RFC 3986: unreserved characters, sub-delims, '/' and '@' stay; every other ASCII character is
    percent-encoded; characters beyond ASCII stay as they are (an IRI, as Excel writes it)."""
    from excel_eval.writeback.summary import uri_reference

    kept = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=/@")
    text = "".join(chr(c) for c in range(128)) + "报告_第1号.docx"
    expected = "".join(ch if ch in kept or ord(ch) > 127 else "%%%02X" % ord(ch) for ch in text)
    assert uri_reference(text) == expected
    assert uri_reference("out/P1 #2_经费%.docx") == "out/P1%20%232_经费%25.docx"


def test_widths_count_a_chinese_character_as_two_units():
    from excel_eval.writeback.summary import text_units

    assert [text_units(t) for t in ("BM-00001", "第1号专项经费", "", None, "Ａ全角")] == [8, 13, 0, 0, 6]
