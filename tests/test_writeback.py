"""Tests for excel_eval.writeback: lossless add/replace of one generated worksheet.

Real files in tmp_path, no mocks.  LibreOffice tests are skipped when `soffice` is absent.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import shutil
import struct
import subprocess
import time
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from excel_eval.writeback import (
    BarChart,
    Cell,
    ConditionalFormat,
    PageSetup,
    SheetSpec,
    Style,
    UnsafeXmlError,
    XlsxPackageError,
    replace_sheet,
    sheet_names,
)

SUMMARY = "汇总"
MONEY = Style(number_format="#,##0.00", border=True)
PCT = Style(number_format="0.00%", border=True)
CN_DATE = Style(number_format='yyyy"年"m"月"d"日"')
HEAD = Style(bold=True, fill="DDEBF7", horizontal="center", wrap=True, border=True)
LINK = Style(font_color="0563C1", underline=True)

WB_ROOT_EXCEL = (
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'mc:Ignorable="x15 xr xr6 xr10 xr2" '
    'xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main" '
    'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" '
    'xmlns:xr6="http://schemas.microsoft.com/office/spreadsheetml/2016/revision6" '
    'xmlns:xr10="http://schemas.microsoft.com/office/spreadsheetml/2016/revision10" '
    'xmlns:xr2="http://schemas.microsoft.com/office/spreadsheetml/2015/revision2">'
)
WB_EXCEL_EXTRA = (
    '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
    '<mc:Choice Requires="x15"><x15ac:absPath url="C:\\账务\\" '
    'xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac"/></mc:Choice>'
    "</mc:AlternateContent>"
    '<xr:revisionPtr revIDLastSave="0" documentId="8_{5A8C3F2E-0000-4000-8000-000000000001}" '
    'xr6:coauthVersionLast="47" xr6:coauthVersionMax="47" '
    'xr10:uidLastSave="{00000000-0000-0000-0000-000000000000}"/>'
)
STYLES_ROOT_EXCEL = (
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'mc:Ignorable="x14ac x16r2 xr" '
    'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
    'xmlns:x16r2="http://schemas.microsoft.com/office/spreadsheetml/2015/02/main" '
    'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision">'
)
STYLES_EXTLST = (
    '<extLst><ext uri="{EB79DEF2-80B8-43e5-95BD-54CBDDF9020C}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    '<x14:slicerStyles defaultSlicerStyle="SlicerStyleLight1"/></ext></extLst>'
)


# --------------------------------------------------------------------------- helpers


def tiny_png() -> bytes:
    """A 2x2 RGB PNG built with zlib/struct only."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00\x00\x80\xff" for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def rewrite_members(path: Path, edits: dict[str, bytes | None], extra: dict[str, bytes] | None = None) -> None:
    """Test-side helper to tweak a fixture zip (not the code under test)."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in edits:
                if edits[info.filename] is not None:
                    zout.writestr(info.filename, edits[info.filename])
            else:
                zout.writestr(info, zin.read(info))
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    tmp.replace(path)


def excelify(path: Path) -> None:
    """Give xlsxwriter's workbook.xml / styles.xml the root namespaces, mc:Ignorable and
    extension content Excel 365 writes, so we can check they survive untouched."""
    with zipfile.ZipFile(path) as z:
        wb = z.read("xl/workbook.xml").decode()
        st = z.read("xl/styles.xml").decode()
    wb = re.sub(r"<workbook [^>]*>", lambda m: WB_ROOT_EXCEL, wb, count=1)
    wb = wb.replace("<bookViews>", WB_EXCEL_EXTRA + "<bookViews>", 1)
    st = re.sub(r"<styleSheet [^>]*>", lambda m: STYLES_ROOT_EXCEL, st, count=1)
    st = st.replace("</styleSheet>", STYLES_EXTLST + "</styleSheet>")
    rewrite_members(path, {"xl/workbook.xml": wb.encode(), "xl/styles.xml": st.encode()})


def raw_members(path: Path) -> list[tuple[str, int, bytes]]:
    """(name, compression method, raw compressed bytes) of every member, in zip order."""
    out = []
    with zipfile.ZipFile(path) as z, open(path, "rb") as fp:
        for info in z.infolist():
            fp.seek(info.header_offset)
            header = fp.read(30)
            n, m = struct.unpack("<HH", header[26:30])
            fp.seek(n + m, 1)
            out.append((info.filename, info.compress_type, fp.read(info.compress_size)))
        assert z.testzip() is None
    return out


def member_bytes(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(name)


def summary_part(path: Path) -> str:
    """Zip name of the 汇总 worksheet part, resolved through workbook rels."""
    wb = member_bytes(path, "xl/workbook.xml").decode()
    rid = re.search(r'<(?:\w+:)?sheet name="汇总"[^>]*?r:id="([^"]+)"', wb).group(1)
    rels = member_bytes(path, "xl/_rels/workbook.xml.rels").decode()
    target = re.search(rf'Id="{rid}"[^>]*?Target="([^"]+)"|Target="([^"]+)"[^>]*?Id="{rid}"', rels)
    target = target.group(1) or target.group(2)
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def soffice_convert(src: Path, fmt: str, outdir: Path, profile: Path) -> Path:
    exe = shutil.which("soffice")
    if exe is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", fmt,
         "--outdir", str(outdir), str(src)],
        check=True, capture_output=True, timeout=300,
    )
    out = outdir / (src.stem + "." + fmt.split(":")[0])
    assert out.exists(), f"soffice produced no {out.name}"
    return out


def summary_spec(variant: int) -> SheetSpec:
    rows: list[list[object]] = [
        [Cell("2021年度项目支出绩效自评汇总", HEAD)],
        [Cell(h, HEAD) for h in ("序号", "项目", "预算数", "执行率", "日期", "报告")],
    ]
    n = 3 if variant == 1 else 5
    for i in range(1, n + 1):
        rows.append([
            i,
            f"项目{i}-v{variant}",
            Cell(Decimal(f"{i}1234.5{i}"), MONEY),
            Cell(0.9 + i / 1000, PCT),
            Cell(dt.date(2022, 5, i), CN_DATE),
            Cell(f"{i}_报告.docx", LINK, hyperlink=f"报告/{i}_x{variant}.docx"),
        ])
    return SheetSpec(
        name=SUMMARY,
        rows=rows,
        column_widths={1: 6, 2: 30, 3: 14, 4: 10, 5: 16, 6: 24},
        freeze="A3",
        merges=["A1:F1"],
        autofilter=f"A2:F{len(rows)}",
    )


def build_rich_workbook(path: Path, png: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    money = wb.add_format({"num_format": "#,##0.00"})
    pct = wb.add_format({"num_format": "0.0%", "bold": True})
    datef = wb.add_format({"num_format": "yyyy-mm-dd"})
    data = wb.add_worksheet("数据")
    params = wb.add_worksheet("参数")
    data.write_row(0, 0, ["项目", "预算", "支出", "执行率", "日期", "类别"])
    for r in range(1, 6):
        data.write_string(r, 0, f"项目{r}")
        data.write_number(r, 1, 1000 * r, money)
        data.write_number(r, 2, 900 * r + 0.5, money)
        data.write_formula(r, 3, f"=C{r + 1}/B{r + 1}", pct, (900 * r + 0.5) / (1000 * r))
        data.write_datetime(r, 4, dt.datetime(2021, r, 1), datef)
        data.write_string(r, 5, "经常性")
    data.conditional_format("C2:C6", {"type": "data_bar", "bar_solid": True, "data_bar_2010": True})
    data.add_sparkline("G2", {"range": "数据!B2:C2"})
    data.add_sparkline("G3", {"range": "数据!B3:C3", "type": "column"})
    data.data_validation("F2:F6", {"validate": "list", "source": "=参数!$A$1:$A$3"})
    data.write_comment("A1", "会计备注：请勿修改")
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"categories": "=数据!$A$2:$A$6", "values": "=数据!$C$2:$C$6", "name": "支出"})
    data.insert_chart("I2", chart)
    data.insert_image("I20", str(png))
    params.write_column(0, 0, ["经常性", "一次性", "追加"])
    params.write_number(0, 1, 0.06)
    wb.define_name("税率", "=参数!$B$1")
    wb.define_name("数据!本地合计", "=数据!$C$2:$C$6")
    wb.close()


@pytest.fixture()
def rich(tmp_path: Path) -> Path:
    png = tmp_path / "dot.png"
    png.write_bytes(tiny_png())
    path = tmp_path / "原始.xlsx"
    build_rich_workbook(path, png)
    excelify(path)
    return path


ALLOWED = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/styles.xml"}


def assert_only_allowed_changes(orig: Path, new: Path) -> tuple[str, str | None]:
    """Every original member other than the allowed ones is byte-identical (raw compressed
    bytes, same method, same order); new members come last.  Returns the summary part/rels."""
    part = summary_part(new)
    rels = part.rsplit("/", 1)[0] + "/_rels/" + part.rsplit("/", 1)[1] + ".rels"
    allowed = ALLOWED | {part, rels}
    before = raw_members(orig)
    after = raw_members(new)
    names_after = [n for n, _, _ in after]
    names_before = [n for n, _, _ in before]
    assert names_after[: len(names_before)] == names_before  # same order, nothing dropped
    assert set(names_after[len(names_before):]) <= {part, rels}
    after_by_name = {n: (m, raw) for n, m, raw in after}
    for name, method, raw in before:
        assert after_by_name[name][0] == method, name
        if name not in allowed:
            assert after_by_name[name][1] == raw, f"{name} changed"
    return part, (rels if rels in names_after else None)


# --------------------------------------------------------------------------- 1. rich workbook


def test_rich_workbook_is_preserved_across_two_runs(rich: Path, tmp_path: Path) -> None:
    out1, out2 = tmp_path / "第一次.xlsx", tmp_path / "第二次.xlsx"
    replace_sheet(rich, out1, summary_spec(1))
    replace_sheet(out1, out2, summary_spec(2), aliases=["汇总表"])

    assert sheet_names(rich) == ["数据", "参数"]
    assert sheet_names(out1) == ["数据", "参数", SUMMARY]
    assert sheet_names(out2) == ["数据", "参数", SUMMARY]

    part1, rels1 = assert_only_allowed_changes(rich, out1)
    part2, rels2 = assert_only_allowed_changes(rich, out2)
    assert part1 == part2 and rels1 == rels2 is not None
    # the rich content is still in the package, untouched
    names = set(zipfile.ZipFile(out2).namelist())
    assert {"xl/charts/chart1.xml", "xl/media/image1.png", "xl/comments1.xml"} <= names
    assert member_bytes(out2, "xl/media/image1.png") == tiny_png()
    sheet1 = member_bytes(out2, "xl/worksheets/sheet1.xml")
    assert b"x14:sparklineGroups" in sheet1 and b"x14:dataBar" in sheet1
    assert b"<dataValidation " in sheet1 and "参数!$A$1:$A$3".encode() in sheet1

    # second run: only the sheet part and its rels change; no growth elsewhere
    for name in ALLOWED:
        assert member_bytes(out1, name) == member_bytes(out2, name), name
    assert member_bytes(out1, part1) != member_bytes(out2, part2)

    # workbook.xml: exactly one <sheet> inserted, all else (mc:Ignorable, AlternateContent,
    # revisionPtr, definedNames with localSheetId) verbatim
    wb0 = member_bytes(rich, "xl/workbook.xml").decode()
    wb1 = member_bytes(out1, "xl/workbook.xml").decode()
    inserted = re.findall(r'<sheet name="汇总"[^>]*/>', wb1)
    assert len(inserted) == 1 and 'sheetId="3"' in inserted[0]
    assert wb1.replace(inserted[0], "") == wb0
    assert wb1.startswith(wb0[: wb0.index(">", wb0.index("<workbook")) + 1])
    assert WB_ROOT_EXCEL in wb1 and WB_EXCEL_EXTRA in wb1
    assert '<definedName name="本地合计" localSheetId="0">' in wb1

    rels0 = member_bytes(rich, "xl/_rels/workbook.xml.rels").decode()
    rels_1 = member_bytes(out1, "xl/_rels/workbook.xml.rels").decode()
    added_rel = re.findall(r"<Relationship [^>]*worksheets/sheet3\.xml[^>]*/>", rels_1)
    assert len(added_rel) == 1 and rels_1.replace(added_rel[0], "") == rels0
    ct0 = member_bytes(rich, "[Content_Types].xml").decode()
    ct1 = member_bytes(out1, "[Content_Types].xml").decode()
    added_ct = re.findall(r'<Override PartName="/xl/worksheets/sheet3\.xml"[^>]*/>', ct1)
    assert len(added_ct) == 1 and ct1.replace(added_ct[0], "") == ct0

    # styles.xml: root tag, existing entries and the x14 extLst are untouched; only appended
    st0 = member_bytes(rich, "xl/styles.xml").decode()
    st1 = member_bytes(out1, "xl/styles.xml").decode()
    assert STYLES_ROOT_EXCEL in st1 and st1.endswith(STYLES_EXTLST + "</styleSheet>")
    for group in ("fonts", "fills", "borders", "cellXfs"):
        old_body = re.search(rf"<{group} [^>]*>(.*?)</{group}>", st0, re.S).group(1)
        new_body = re.search(rf"<{group} [^>]*>(.*?)</{group}>", st1, re.S).group(1)
        assert new_body.startswith(old_body) and len(new_body) > len(old_body), group
        assert re.search(rf'<{group} count="(\d+)"', st1).group(1) == str(
            len(re.findall(r"<(?:font|fill|border|xf)[ >/]", new_body)))
    assert st1[st1.index("<cellStyles"):] == st0[st0.index("<cellStyles"):]

    # openpyxl reads our sheet back
    book = openpyxl.load_workbook(out2)
    ws = book[SUMMARY]
    assert ws.freeze_panes == "A3"
    assert ws["A1"].value == "2021年度项目支出绩效自评汇总" and ws["A1"].font.b
    assert ws["A1"].fill.fgColor.rgb == "FFDDEBF7"
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:F1"]
    assert ws.auto_filter.ref == "A2:F7"
    assert ws.column_dimensions["B"].width == 30
    assert ws.max_row == 7  # second run has 5 data rows
    assert ws["B7"].value == "项目5-v2"
    assert ws["C3"].value == pytest.approx(11234.51) and ws["C3"].number_format == "#,##0.00"
    assert ws["D3"].number_format == "0.00%"
    assert ws["E3"].value == dt.datetime(2022, 5, 1) and ws["E3"].number_format == 'yyyy"年"m"月"d"日"'
    assert ws["F3"].hyperlink.target == "报告/1_x2.docx"
    assert ws["F7"].hyperlink.target == "报告/5_x2.docx"
    assert ws["F3"].font.u == "single" and ws["F3"].font.color.rgb == "FF0563C1"
    assert ws["A3"].value == 1 and ws["A3"].data_type == "n"

    # the existing sheets' values (and formats) are unchanged
    before = openpyxl.load_workbook(rich)
    for name in ("数据", "参数"):
        old = [[(c.value, c.number_format) for c in row] for row in before[name].iter_rows()]
        new = [[(c.value, c.number_format) for c in row] for row in book[name].iter_rows()]
        assert old == new, name
    assert book.defined_names["税率"].attr_text == "参数!$B$1"
    assert before["数据"].data_validations.dataValidation[0].sqref == \
        book["数据"].data_validations.dataValidation[0].sqref


def test_dst_may_equal_src_and_output_is_deterministic(rich: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    shutil.copy(rich, a)
    replace_sheet(a, a, summary_spec(1))
    replace_sheet(rich, b, summary_spec(1))
    assert a.read_bytes() == b.read_bytes()
    assert not list(tmp_path.glob(".~*"))  # temp file cleaned up


# --------------------------------------------------------------------------- replacing an existing sheet


def build_with_old_summary(path: Path, png: Path, *, summary_name: str = SUMMARY) -> None:
    """数据, <old summary with drawing, comment, image>, 参数; the summary is the active tab."""
    wb = xlsxwriter.Workbook(str(path))
    data = wb.add_worksheet("数据")
    old = wb.add_worksheet(summary_name)
    params = wb.add_worksheet("参数")
    data.write_row(0, 0, ["a", 1, 2])
    data.insert_image("E2", str(png))  # same image bytes as on the old summary -> shared media
    old.write_row(0, 0, ["旧", "汇总"])
    old.write_url("A2", "external:旧报告/old.docx", string="旧链接")
    old.write_comment("A1", "旧批注")
    old.insert_image("D4", str(png))
    old.activate()
    params.write_formula("A1", f"='{summary_name}'!B1", None, "汇总")
    wb.define_name("参数!局部", "=参数!$A$1")
    wb.define_name(f"'{summary_name}'!打印区", f"='{summary_name}'!$A$1:$B$2")
    wb.close()


def test_replace_existing_sheet_keeps_position_id_rid_and_drops_its_own_parts(tmp_path: Path) -> None:
    png = tmp_path / "dot.png"
    png.write_bytes(tiny_png())
    src, out = tmp_path / "old.xlsx", tmp_path / "new.xlsx"
    build_with_old_summary(src, png)
    wb0 = member_bytes(src, "xl/workbook.xml").decode()
    old_sheet_tag = re.search(r'<sheet name="汇总"[^>]*/>', wb0).group(0)
    names0 = zipfile.ZipFile(src).namelist()
    assert "xl/drawings/drawing2.xml" in names0 and "xl/comments1.xml" in names0

    replace_sheet(src, out, summary_spec(1))
    assert sheet_names(out) == ["数据", SUMMARY, "参数"]
    wb1 = member_bytes(out, "xl/workbook.xml").decode()
    assert wb1 == wb0  # same name, sheetId, r:id, definedNames -> workbook.xml untouched
    assert old_sheet_tag in wb1
    assert member_bytes(out, "xl/_rels/workbook.xml.rels") == member_bytes(src, "xl/_rels/workbook.xml.rels")

    names1 = zipfile.ZipFile(out).namelist()
    # the old summary's exclusive parts are gone, with their content types
    gone = {"xl/drawings/drawing2.xml", "xl/drawings/_rels/drawing2.xml.rels", "xl/comments1.xml",
            "xl/drawings/vmlDrawing1.vml"}
    assert not gone & set(names1)
    ct = member_bytes(out, "[Content_Types].xml").decode()
    assert "/xl/drawings/drawing2.xml" not in ct and "/xl/comments1.xml" not in ct
    assert "/xl/drawings/drawing1.xml" in ct
    # the image shared with 数据 and everything else stays byte for byte
    before = {n: raw for n, _, raw in raw_members(src)}
    after = {n: raw for n, _, raw in raw_members(out)}
    for name in set(names1) - ALLOWED - {"xl/worksheets/sheet2.xml", "xl/worksheets/_rels/sheet2.xml.rels"}:
        assert after[name] == before[name], name
    assert [n for n in names0 if n not in gone] == names1  # order kept, nothing appended

    sheet_xml = member_bytes(out, "xl/worksheets/sheet2.xml").decode()
    assert 'tabSelected="1"' in sheet_xml  # it is still the active tab
    assert "<drawing" not in sheet_xml and "legacyDrawing" not in sheet_xml
    rels = member_bytes(out, "xl/worksheets/_rels/sheet2.xml.rels").decode()
    assert "old.docx" not in rels and "报告/1_x1.docx" in rels

    book = openpyxl.load_workbook(out)
    assert book.active.title == SUMMARY
    assert book[SUMMARY]["B3"].value == "项目1-v1"
    assert book["参数"]["A1"].value == "='汇总'!B1"
    assert "xl/media/image1.png" in names1  # shared with 数据's drawing, so kept
    assert b"drawing1.xml" in member_bytes(out, "xl/worksheets/_rels/sheet1.xml.rels")


def test_alias_match_renames_in_place(tmp_path: Path) -> None:
    png = tmp_path / "dot.png"
    png.write_bytes(tiny_png())
    src, out = tmp_path / "old.xlsx", tmp_path / "new.xlsx"
    build_with_old_summary(src, png, summary_name="Summary")
    replace_sheet(src, out, summary_spec(1), aliases=["  SUMMARY ", "汇总表"])
    assert sheet_names(out) == ["数据", SUMMARY, "参数"]
    wb0 = member_bytes(src, "xl/workbook.xml").decode()
    wb1 = member_bytes(out, "xl/workbook.xml").decode()
    assert wb1 == wb0.replace('<sheet name="Summary"', '<sheet name="汇总"', 1)


def test_new_sheet_keeps_local_sheet_ids_valid(tmp_path: Path) -> None:
    png = tmp_path / "dot.png"
    png.write_bytes(tiny_png())
    src, out = tmp_path / "old.xlsx", tmp_path / "new.xlsx"
    build_with_old_summary(src, png, summary_name="其他")
    replace_sheet(src, out, summary_spec(1))
    assert sheet_names(out) == ["数据", "其他", "参数", SUMMARY]
    book = openpyxl.load_workbook(out)
    assert "局部" in book["参数"].defined_names and "打印区" in book["其他"].defined_names
    assert book.active.title == "其他"
    assert 'tabSelected' not in member_bytes(out, "xl/worksheets/sheet4.xml").decode()


CALC_CHAIN = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<c r="B1" i="1"/><c r="C1"/><c r="A1" i="2"/><c r="A2"/><c r="C2" i="1"/><c r="D1" i="3"/><c r="D2"/>'
    "</calcChain>"
)


def add_calc_chain(path: Path, chain: str) -> None:
    ct = member_bytes(path, "[Content_Types].xml").decode().replace(
        "</Types>",
        '<Override PartName="/xl/calcChain.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>')
    rels = member_bytes(path, "xl/_rels/workbook.xml.rels").decode().replace(
        "</Relationships>",
        '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/calcChain" Target="calcChain.xml"/></Relationships>')
    rewrite_members(path, {"[Content_Types].xml": ct.encode(), "xl/_rels/workbook.xml.rels": rels.encode()},
                    {"xl/calcChain.xml": chain.encode()})


def test_calc_chain_entries_of_replaced_sheet_are_dropped(tmp_path: Path) -> None:
    png = tmp_path / "dot.png"
    png.write_bytes(tiny_png())
    src, out = tmp_path / "old.xlsx", tmp_path / "new.xlsx"
    build_with_old_summary(src, png)  # 汇总 has sheetId 2
    add_calc_chain(src, CALC_CHAIN)
    replace_sheet(src, out, summary_spec(1))
    chain = member_bytes(out, "xl/calcChain.xml").decode()
    assert '<c r="B1" i="1"/><c r="C1"/><c r="C2" i="1"/><c r="D1" i="3"/><c r="D2"/>' in chain

    # when every entry belonged to the replaced sheet the part, its rel and override go
    src2, out2 = tmp_path / "old2.xlsx", tmp_path / "new2.xlsx"
    build_with_old_summary(src2, png)
    add_calc_chain(src2, CALC_CHAIN.replace('i="1"', 'i="2"').replace('i="3"', 'i="2"'))
    replace_sheet(src2, out2, summary_spec(1))
    assert "xl/calcChain.xml" not in zipfile.ZipFile(out2).namelist()
    assert b"calcChain" not in member_bytes(out2, "xl/_rels/workbook.xml.rels")
    assert b"calcChain" not in member_bytes(out2, "[Content_Types].xml")
    openpyxl.load_workbook(out2)


# --------------------------------------------------------------------------- 2. xlsm


def test_xlsm_keeps_vba_project_and_macro_content_type(tmp_path: Path) -> None:
    vba = tmp_path / "vbaProject.bin"
    vba_bytes = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8  # dummy CFB-looking blob
    vba.write_bytes(vba_bytes)
    src, out = tmp_path / "宏.xlsm", tmp_path / "宏_out.xlsm"
    wb = xlsxwriter.Workbook(str(src))
    wb.add_worksheet("数据").write("A1", 42)
    wb.add_vba_project(str(vba))
    wb.close()
    ct0 = member_bytes(src, "[Content_Types].xml").decode()
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in ct0

    replace_sheet(src, out, summary_spec(1))
    assert member_bytes(out, "xl/vbaProject.bin") == vba_bytes
    ct1 = member_bytes(out, "[Content_Types].xml").decode()
    assert 'PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"' in ct1
    assert 'Extension="bin" ContentType="application/vnd.ms-office.vbaProject"' in ct1
    assert "vbaProject.bin" in member_bytes(out, "xl/_rels/workbook.xml.rels").decode()
    assert_only_allowed_changes(src, out)
    book = openpyxl.load_workbook(out, keep_vba=True)
    assert book.sheetnames == ["数据", SUMMARY] and book["数据"]["A1"].value == 42


# --------------------------------------------------------------------------- 3. LibreOffice-written workbook


def test_libreoffice_written_workbook(tmp_path: Path) -> None:
    made = tmp_path / "made" / "lo.xlsx"
    made.parent.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "明细"
    ws.append(["科目", "金额", "日期"])
    ws.append(["差旅费", 1234.5, dt.date(2021, 3, 4)])
    ws["B2"].number_format = "#,##0.00"
    ws["C2"].number_format = "yyyy-mm-dd"
    wb.create_sheet("备注")["A1"] = "说明"
    wb.save(made)
    profile = tmp_path / "lo_profile"
    lo_file = soffice_convert(made, "xlsx", tmp_path / "lo", profile)
    assert b"LibreOffice" in member_bytes(lo_file, "docProps/app.xml")

    out = tmp_path / "lo_out.xlsx"
    replace_sheet(lo_file, out, summary_spec(1))
    replace_sheet(out, tmp_path / "lo_out2.xlsx", summary_spec(2))
    out2 = tmp_path / "lo_out2.xlsx"
    assert sheet_names(out2) == ["明细", "备注", SUMMARY]
    assert_only_allowed_changes(lo_file, out)
    assert_only_allowed_changes(lo_file, out2)
    for name in ALLOWED:
        assert member_bytes(out, name) == member_bytes(out2, name), name

    book = openpyxl.load_workbook(out2)
    assert book["明细"]["B2"].value == 1234.5
    assert book[SUMMARY]["F3"].hyperlink.target == "报告/1_x2.docx"
    assert book[SUMMARY]["C3"].number_format == "#,##0.00"

    # LibreOffice itself reads the result: re-save through LO and check the values
    again = soffice_convert(out2, "xlsx", tmp_path / "lo_again", profile)
    lo_book = openpyxl.load_workbook(again)
    ws2 = lo_book[SUMMARY]
    assert ws2["B7"].value == "项目5-v2"
    assert ws2["C3"].value == pytest.approx(11234.51)
    assert ws2["E3"].value == dt.datetime(2022, 5, 1)
    assert lo_book["明细"]["A2"].value == "差旅费"


# --------------------------------------------------------------------------- 4. cell values


def test_text_values_numbers_and_dates(tmp_path: Path) -> None:
    src, out = tmp_path / "v.xlsx", tmp_path / "v_out.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    wb.add_worksheet("数据").write("A1", 1)
    wb.close()
    texts = ["=SUM(A1)", "+1", "-2", "@x", "&<>\"'", "a\x00b\x07c\x1fd", " 前后空格 ", "行1\n行2", "_x0041_"]
    rows = [texts, [
        Decimal("12345678901234.5600"), Decimal("1E+3"), Decimal("-0.000001"), 10**12, 0.1, -3.0,
        True, False, float("nan"), dt.datetime(2021, 12, 31, 12, 0), dt.time(6, 0),
    ]]
    replace_sheet(src, out, SheetSpec(SUMMARY, rows))
    xml = member_bytes(out, "xl/worksheets/sheet2.xml").decode()
    assert "<f>" not in xml and "&lt;" in xml and "\x00" not in xml
    assert "<v>12345678901234.56</v>" in xml and "<v>1000</v>" in xml and "<v>-0.000001</v>" in xml
    assert "E" not in re.sub(r"<[^>]+>|[^<]+(?=</t>)", "", xml)  # no exponent in numbers
    ws = openpyxl.load_workbook(out)[SUMMARY]
    got = [c.value for c in ws[1]]
    assert [c.data_type for c in ws[1][: len(texts)]] == ["s"] * len(texts)
    assert got[:8] == ["=SUM(A1)", "+1", "-2", "@x", "&<>\"'", "abcd", " 前后空格 ", "行1\n行2"]
    assert got[8] == "_x005F_x0041_"  # Excel/LibreOffice decode this back to the literal '_x0041_'
    r2 = [c.value for c in ws[2]]
    assert r2[:8] == [pytest.approx(12345678901234.56), 1000, pytest.approx(-1e-6), 10**12, 0.1, -3,
                      True, False]
    assert ws["I2"].value is None
    assert ws["J2"].value == dt.datetime(2021, 12, 31, 12, 0)
    assert ws["J2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert ws["K2"].value == dt.time(6, 0)


def test_date1904_workbook(tmp_path: Path) -> None:
    src, out = tmp_path / "d.xlsx", tmp_path / "d_out.xlsx"
    wb = xlsxwriter.Workbook(str(src), {"date_1904": True})
    wb.add_worksheet("数据").write_datetime("A1", dt.datetime(2021, 1, 1), wb.add_format({"num_format": "yyyy-mm-dd"}))
    wb.close()
    replace_sheet(src, out, SheetSpec(SUMMARY, [[dt.date(2022, 5, 10), dt.date(1900, 3, 1)]]))
    xml = member_bytes(out, "xl/worksheets/sheet2.xml").decode()
    assert "<v>43229</v>" in xml  # 1904 serial of 2022-05-10 (1900 system would be 44691)
    ws = openpyxl.load_workbook(out)[SUMMARY]
    assert ws["A1"].value == dt.datetime(2022, 5, 10)
    assert ws["B1"].value == "1900-03-01"  # before the 1904 epoch: kept readable as text


def test_1900_serials() -> None:
    from excel_eval.writeback.sheet import excel_serial as _excel_serial

    assert _excel_serial(dt.date(1900, 1, 1), False) == 1
    assert _excel_serial(dt.date(1900, 2, 28), False) == 59
    assert _excel_serial(dt.date(1900, 3, 1), False) == 61
    assert _excel_serial(dt.datetime(2022, 5, 10, 18), False) == 44691.75
    assert _excel_serial(dt.date(1899, 12, 31), False) is None
    # LibreOffice's dateCompatibility="false": plain 1899-12-30 base
    assert _excel_serial(dt.date(1900, 2, 28), False, False) == 60
    assert _excel_serial(dt.date(2022, 5, 10), False, False) == 44691
    assert _excel_serial(dt.date(2022, 5, 10), True) == 43229


def prefixify(xml: str, prefix: str) -> str:
    """Move the default namespace onto ``prefix`` (as the OpenXML SDK / some tools write)."""
    xml = re.sub(r"<(/?)([A-Za-z][\w.-]*)(?=[\s/>])", lambda m: f"<{m.group(1)}{prefix}:{m.group(2)}", xml)
    return xml.replace(' xmlns="', f' xmlns:{prefix}="', 1)


def test_prefixed_parts_are_edited_prefix_agnostically(tmp_path: Path) -> None:
    src, out = tmp_path / "p.xlsx", tmp_path / "p_out.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    wb.add_worksheet("数据").write("A1", 7)
    wb.close()
    parts = {"xl/workbook.xml": "x", "xl/styles.xml": "x", "[Content_Types].xml": "ct",
             "xl/_rels/workbook.xml.rels": "pr"}
    rewrite_members(src, {n: prefixify(member_bytes(src, n).decode(), p).encode() for n, p in parts.items()})
    replace_sheet(src, out, summary_spec(1))
    assert re.search(r'<x:sheet name="汇总" sheetId="2" r:id="rId\d+"/></x:sheets>',
                     member_bytes(out, "xl/workbook.xml").decode())
    styles = member_bytes(out, "xl/styles.xml").decode()
    assert "<x:numFmt numFmtId=\"164\"" in styles and "<xf " not in styles and "<x:xf " in styles
    assert "<ct:Override " in member_bytes(out, "[Content_Types].xml").decode()
    assert "<pr:Relationship " in member_bytes(out, "xl/_rels/workbook.xml.rels").decode()
    assert_only_allowed_changes(src, out)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["数据", SUMMARY]
    assert book[SUMMARY]["C3"].number_format == "#,##0.00" and book[SUMMARY]["A1"].font.b


def test_invalid_specs_are_rejected(tmp_path: Path) -> None:
    src = tmp_path / "s.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    wb.add_worksheet("数据")
    wb.close()
    for bad in (SheetSpec("a/b", []), SheetSpec("x" * 32, []), SheetSpec("ok", [], merges=["A1:B2", "B2:C3"]),
                SheetSpec("ok", [], freeze="1A"), SheetSpec("ok", [[Cell("x", Style(fill="blue"))]])):
        with pytest.raises(ValueError):
            replace_sheet(src, tmp_path / "bad.xlsx", bad)
    assert not (tmp_path / "bad.xlsx").exists()


# --------------------------------------------------------------------------- 5. XML bomb

BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="&lol9;" sheetId="1" r:id="rId1"/></sheets></workbook>"""


@pytest.mark.parametrize("member", ["xl/workbook.xml", "xl/styles.xml"])
def test_xml_bomb_is_refused_quickly(tmp_path: Path, member: str) -> None:
    src, out = tmp_path / "bomb.xlsx", tmp_path / "bomb_out.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    wb.add_worksheet("数据")
    wb.close()
    rewrite_members(src, {member: BOMB.encode()})
    start = time.monotonic()
    with pytest.raises(UnsafeXmlError, match="XML bomb"):
        replace_sheet(src, out, summary_spec(1))
    if member == "xl/workbook.xml":
        with pytest.raises(UnsafeXmlError):
            sheet_names(src)
    assert time.monotonic() - start < 5
    assert not out.exists()
    assert issubclass(UnsafeXmlError, XlsxPackageError)


def test_not_a_zip_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "encrypted.xlsx"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    with pytest.raises(XlsxPackageError, match="password-protected"):
        sheet_names(bad)


# --------------------------------------------------------------------------- 6. LibreOffice opens it


def test_libreoffice_opens_rich_result(rich: Path, tmp_path: Path) -> None:
    out = tmp_path / "结果.xlsx"
    replace_sheet(rich, out, summary_spec(1))
    profile = tmp_path / "lo_profile"
    pdf = soffice_convert(out, "pdf", tmp_path / "pdf", profile)
    assert pdf.stat().st_size > 1000 and pdf.read_bytes().startswith(b"%PDF")
    again = soffice_convert(out, "xlsx", tmp_path / "lo_again", profile)
    ws = openpyxl.load_workbook(again)[SUMMARY]
    assert ws["B5"].value == "项目3-v1"  # (headless LO drops freeze panes of any file on re-save)
    assert ws["C5"].value == pytest.approx(31234.53)
    assert ws["A1"].font.b and ws["A1"].fill.fgColor.rgb.endswith("DDEBF7")  # LO kept our styles
    assert ws["C3"].number_format == "#,##0.00" and ws["C3"].border.left.style == "thin"
    assert ws["F3"].hyperlink.target.endswith("1_x1.docx")


# --------------------------------------------------------------------------- 7. conditional formatting, charts


RED = ConditionalFormat("D3:D7", "lessThan", "0.9025", style=Style(font_color="9C0006", fill="FFC7CE"))


def charted_spec(variant: int, *, charts: bool = True) -> SheetSpec:
    """summary_spec plus a 'cellIs' rule on 执行率, print setup and a bar chart of 执行率 by 项目."""
    spec = summary_spec(variant)
    last = len(spec.rows)
    spec.conditional_formats = [replace_range(RED, f"D3:D{last}"),
                                ConditionalFormat(f"C3:C{last}", "between", "0", "20000", Style(bold=True))]
    spec.page_setup = PageSetup(landscape=True, fit_to_width=1)
    if charts:
        spec.charts = [BarChart("各项目执行率", f"B3:B{last}", f"D3:D{last}", f"B{last + 2}:E{last + 18}",
                                series_name="执行率", number_format="0%", label_format="0.00%",
                                point_colors={0: "C00000"}, axis_min=0)]
    return spec


def replace_range(cf: ConditionalFormat, rng: str) -> ConditionalFormat:
    return ConditionalFormat(rng, cf.operator, cf.formula, cf.formula2, cf.style)


def part_rels(path: Path, part: str) -> list[tuple[str, str | None]]:
    """(relationship type suffix, resolved target part) of ``part`` ('' = the package)."""
    d, b = posixpath.split(part)
    name = posixpath.join(d, "_rels", b + ".rels") if part else "_rels/.rels"
    names = zipfile.ZipFile(path).namelist()
    if name not in names:
        return []
    out = []
    for m in re.finditer(r"<Relationship ([^>]*)/>", member_bytes(path, name).decode()):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        external = attrs.get("TargetMode") == "External"
        target = attrs["Target"]
        resolved = None if external else (target.lstrip("/") if target.startswith("/") else
                                          posixpath.normpath(posixpath.join(d, target)))
        out.append((attrs["Type"].rsplit("/", 1)[-1], resolved))
    return out


def assert_package_consistent(path: Path) -> None:
    """Every part is reachable through relationships, every rels file has its source part and every
    content-type override names an existing part: nothing orphaned, nothing dangling."""
    names = set(zipfile.ZipFile(path).namelist())
    seen: set[str] = set()
    todo = [t for _, t in part_rels(path, "") if t]
    while todo:
        part = todo.pop()
        if part in seen:
            continue
        assert part in names, f"dangling relationship to {part}"
        seen.add(part)
        todo += [t for _, t in part_rels(path, part) if t]
    parts = {n for n in names if n != "[Content_Types].xml" and not n.endswith(".rels")}
    assert parts == seen, f"orphans: {parts - seen}"
    for n in names:
        if n.endswith(".rels") and n != "_rels/.rels":
            d, b = posixpath.split(n)
            assert posixpath.join(posixpath.dirname(d), b[:-5]) in names, f"orphaned {n}"
    for part in re.findall(r'PartName="/([^"]+)"', member_bytes(path, "[Content_Types].xml").decode()):
        assert part in names, f"override for missing {part}"


def summary_chart(path: Path) -> tuple[str, str]:
    part = summary_part(path)
    drawing = next(t for kind, t in part_rels(path, part) if kind == "drawing")
    chart = next(t for kind, t in part_rels(path, drawing) if kind == "chart")
    return drawing, chart


def test_chart_and_conditional_formats_in_rich_workbook(rich: Path, tmp_path: Path) -> None:
    out1, out2 = tmp_path / "一.xlsx", tmp_path / "二.xlsx"
    replace_sheet(rich, out1, charted_spec(1))
    replace_sheet(out1, out2, charted_spec(2))
    before = raw_members(rich)
    names0 = [n for n, _, _ in before]
    assert {"xl/charts/chart1.xml", "xl/drawings/drawing1.xml"} <= set(names0)  # the user's own chart

    for out in (out1, out2):
        after = {n: (m, raw) for n, m, raw in raw_members(out)}
        names = [n for n, _, _ in raw_members(out)]
        assert names[: len(names0)] == names0
        assert names[len(names0):] == ["xl/worksheets/sheet3.xml", "xl/worksheets/_rels/sheet3.xml.rels",
                                       "xl/drawings/drawing2.xml", "xl/drawings/_rels/drawing2.xml.rels",
                                       "xl/charts/chart2.xml"]
        for name, method, raw in before:  # the user's chart, drawing, image, comments: byte for byte
            if name not in ALLOWED:
                assert after[name] == (method, raw), name
        assert summary_chart(out) == ("xl/drawings/drawing2.xml", "xl/charts/chart2.xml")
        assert_package_consistent(out)

    # second run: styles, content types, rels untouched; the chart part carries the new cached values
    # (and the drawing the new anchor below the longer table)
    for name in ALLOWED | {"xl/drawings/_rels/drawing2.xml.rels"}:
        assert member_bytes(out1, name) == member_bytes(out2, name), name
    ct = member_bytes(out2, "[Content_Types].xml").decode()
    assert ct.count('PartName="/xl/charts/chart2.xml" ContentType="application/vnd.openxmlformats-'
                    'officedocument.drawingml.chart+xml"') == 1
    assert ct.count('PartName="/xl/drawings/drawing2.xml" ContentType="application/vnd.openxmlformats-'
                    'officedocument.drawing+xml"') == 1
    chart = member_bytes(out2, "xl/charts/chart2.xml").decode()
    assert "<c:f>'汇总'!$B$3:$B$7</c:f>" in chart and "<c:f>'汇总'!$D$3:$D$7</c:f>" in chart
    assert '<c:ptCount val="5"/><c:pt idx="0"><c:v>项目1-v2</c:v></c:pt>' in chart
    assert '<c:pt idx="4"><c:v>0.905</c:v></c:pt>' in chart and "<c:formatCode>0.00%</c:formatCode>" in chart
    assert "<c:legend>" not in chart and '<c:numFmt formatCode="0%" sourceLinked="0"/>' in chart

    sheet = member_bytes(out2, "xl/worksheets/sheet3.xml").decode()
    assert sheet.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet ')
    assert re.search(r"</mergeCells><conditionalFormatting sqref=\"D3:D7\"><cfRule type=\"cellIs\" "
                     r'dxfId="(\d+)" priority="1" operator="lessThan"><formula>0.9025</formula></cfRule>'
                     r'</conditionalFormatting><conditionalFormatting sqref="C3:C7"><cfRule type="cellIs" '
                     r'dxfId="(\d+)" priority="2" operator="between"><formula>0</formula><formula>20000</formula>'
                     r"</cfRule></conditionalFormatting><hyperlinks>", sheet)
    assert sheet.index("<pageMargins") < sheet.index("<pageSetup") < sheet.index('<drawing r:id="rId6"/>')
    assert "<sheetPr><pageSetUpPr fitToPage=\"1\"/></sheetPr><dimension" in sheet
    assert "relationships/drawing\" Target=\"../drawings/drawing2.xml\"" in member_bytes(
        out2, "xl/worksheets/_rels/sheet3.xml.rels").decode()

    ws = openpyxl.load_workbook(out2)[SUMMARY]
    rules = {str(cf.sqref): cf.rules[0] for cf in ws.conditional_formatting}
    assert rules["D3:D7"].dxf.fill.bgColor.rgb == "FFFFC7CE" and rules["D3:D7"].dxf.font.color.rgb == "FF9C0006"
    assert rules["C3:C7"].dxf.font.b and rules["C3:C7"].formula == ["0", "20000"]
    assert ws.page_setup.orientation == "landscape"


def test_dxfs_created_in_place_appended_or_reused(tmp_path: Path) -> None:
    def book(name: str, *, same_dxf: bool = False, other_dxf: bool = False) -> Path:
        path = tmp_path / name
        wb = xlsxwriter.Workbook(str(path))
        ws = wb.add_worksheet("数据")
        ws.write("A1", 0.5)
        if same_dxf or other_dxf:
            color = {"bg_color": "#FFC7CE", "font_color": "#9C0006"} if same_dxf else {"bg_color": "#C6EFCE"}
            ws.conditional_format("A1:A3", {"type": "cell", "criteria": "<", "value": 0.9,
                                            "format": wb.add_format(color)})
        wb.close()
        return path

    # xlsxwriter writes <dxfs count="0"/>: it is opened up
    src = book("empty.xlsx")
    assert '<dxfs count="0"/>' in member_bytes(src, "xl/styles.xml").decode()
    out = tmp_path / "empty_out.xlsx"
    replace_sheet(src, out, charted_spec(1, charts=False))
    st = member_bytes(out, "xl/styles.xml").decode()
    assert re.search(r'<dxfs count="2"><dxf><font><color rgb="FF9C0006"/></font><fill><patternFill>'
                     r'<bgColor rgb="FFFFC7CE"/></patternFill></fill></dxf><dxf><font><b/></font></dxf></dxfs>'
                     r"<tableStyles ", st)
    again = tmp_path / "empty_again.xlsx"
    replace_sheet(out, again, charted_spec(2, charts=False))
    assert member_bytes(again, "xl/styles.xml").decode() == st  # reused, no growth

    # no <dxfs> at all: inserted after <cellStyles>, before <tableStyles>
    rewrite_members(src, {"xl/styles.xml": st_without_dxfs(member_bytes(src, "xl/styles.xml").decode()).encode()})
    replace_sheet(src, out, charted_spec(1, charts=False))
    st = member_bytes(out, "xl/styles.xml").decode()
    assert re.search(r'</cellStyles><dxfs count="2"><dxf>.*</dxf></dxfs><tableStyles ', st)
    openpyxl.load_workbook(out)

    # an identical dxf of the user's is shared; a different one keeps its index
    src = book("same.xlsx", same_dxf=True)
    replace_sheet(src, out, charted_spec(1, charts=False))
    st = member_bytes(out, "xl/styles.xml").decode()
    assert '<dxfs count="2">' in st and 'dxfId="0" priority="1"' in member_bytes(
        out, "xl/worksheets/sheet2.xml").decode()
    src = book("other.xlsx", other_dxf=True)
    replace_sheet(src, out, charted_spec(1, charts=False))
    assert '<dxfs count="3">' in member_bytes(out, "xl/styles.xml").decode()
    assert member_bytes(out, "xl/worksheets/sheet1.xml") == member_bytes(src, "xl/worksheets/sheet1.xml")


def st_without_dxfs(styles: str) -> str:
    return re.sub(r"<dxfs[^>]*/>|<dxfs[^>]*>.*?</dxfs>", "", styles, flags=re.S)


def build_with_old_charted_summary(path: Path) -> None:
    """数据 with a chart of its own, an old 汇总 with its own chart, 参数."""
    wb = xlsxwriter.Workbook(str(path))
    data = wb.add_worksheet("数据")
    old = wb.add_worksheet(SUMMARY)
    wb.add_worksheet("参数").write("A1", 1)
    data.write_column("A1", [1, 2, 3])
    own = wb.add_chart({"type": "line"})
    own.add_series({"values": "=数据!$A$1:$A$3"})
    data.insert_chart("C2", own)
    old.write_column("A1", [4, 5, 6])
    old_chart = wb.add_chart({"type": "pie"})
    old_chart.add_series({"values": "='汇总'!$A$1:$A$3"})
    old.insert_chart("C2", old_chart)
    wb.close()


def test_old_summary_chart_is_dropped_or_its_names_reused(tmp_path: Path) -> None:
    src = tmp_path / "old.xlsx"
    build_with_old_charted_summary(src)
    old_drawing, old_chart = summary_chart(src)
    data_drawing = next(t for k, t in part_rels(src, "xl/worksheets/sheet1.xml") if k == "drawing")
    data_chart = next(t for k, t in part_rels(src, data_drawing) if k == "chart")
    assert len({old_drawing, old_chart, data_drawing, data_chart}) == 4
    names0 = zipfile.ZipFile(src).namelist()

    # without a chart: the drawing -> chart chain of the old 汇总 goes, with its content types
    plain = tmp_path / "plain.xlsx"
    replace_sheet(src, plain, summary_spec(1))
    names = zipfile.ZipFile(plain).namelist()
    gone = {old_drawing, old_chart, posixpath.join("xl/drawings/_rels", posixpath.basename(old_drawing) + ".rels")}
    assert not gone & set(names) and gone <= set(names0)
    ct = member_bytes(plain, "[Content_Types].xml").decode()
    assert f"/{old_drawing}" not in ct and f"/{old_chart}" not in ct and f"/{data_chart}" in ct
    assert_package_consistent(plain)

    # with a chart: the freed names are reused in place: same members, same order, nothing appended
    charted = tmp_path / "charted.xlsx"
    replace_sheet(src, charted, charted_spec(1))
    assert zipfile.ZipFile(charted).namelist() == names0
    assert summary_chart(charted) == (old_drawing, old_chart)
    for name in (data_drawing, data_chart, "xl/worksheets/sheet1.xml", "xl/worksheets/_rels/sheet1.xml.rels"):
        assert member_bytes(charted, name) == member_bytes(src, name), name
    assert b"'\xe6\xb1\x87\xe6\x80\xbb'!$D$3:$D$5" in member_bytes(charted, old_chart)
    assert_package_consistent(charted)
    # and again: stable
    again = tmp_path / "again.xlsx"
    replace_sheet(charted, again, charted_spec(1))
    assert raw_members(again) == raw_members(charted)

    # from plain (no chart) to charted: fresh names that avoid 数据's chart
    fresh = tmp_path / "fresh.xlsx"
    replace_sheet(plain, fresh, charted_spec(1))
    drawing, chart = summary_chart(fresh)
    assert drawing not in (data_drawing,) and chart != data_chart
    assert member_bytes(fresh, data_chart) == member_bytes(src, data_chart)
    assert_package_consistent(fresh)
    book = openpyxl.load_workbook(fresh)
    assert book.sheetnames == ["数据", SUMMARY, "参数"]


def test_invalid_conditional_formats_and_charts_are_rejected(tmp_path: Path) -> None:
    src = tmp_path / "s.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    wb.add_worksheet("数据")
    wb.close()
    rows = [["项目", "执行率"], ["甲", 0.5], ["乙", 0.95]]
    bad = [
        SheetSpec("ok", rows, conditional_formats=[ConditionalFormat("B2:B3", "smaller", "0.9")]),
        SheetSpec("ok", rows, conditional_formats=[ConditionalFormat("B2:B3", "between", "0.9")]),
        SheetSpec("ok", rows, conditional_formats=[ConditionalFormat("B2:B3", "lessThan", "0.9", "1")]),
        SheetSpec("ok", rows, conditional_formats=[ConditionalFormat("B2:B3", "lessThan", "0.9",
                                                                     style=Style(number_format="0%"))]),
        SheetSpec("ok", rows, conditional_formats=[ConditionalFormat("B2:B3", "lessThan", "0.9", style=Style())]),
        SheetSpec("ok", rows, conditional_formats=[ConditionalFormat("2B", "lessThan", "0.9")]),
        SheetSpec("ok", rows, charts=[BarChart("t", "A2:B3", "B2:B3", "D2:H10")]),
        SheetSpec("ok", rows, charts=[BarChart("t", "A2:A3", "B1:B3", "D2:H10")]),
        SheetSpec("ok", rows, charts=[BarChart("t", "A2:A3", "B2:B3", "D2:H10", point_colors={2: "FF0000"})]),
        SheetSpec("ok", rows, charts=[BarChart("t", "A2:A3", "B2:B3", "D2:H10", color="red")]),
        SheetSpec("ok", rows, charts=[BarChart("t", "A2:A3", "B2:B3", "nowhere")]),
        SheetSpec("ok", [[Cell(1, Style(top_border="wavy"))]]),
        SheetSpec("ok", rows, row_heights={1: 500}),
    ]
    for spec in bad:
        with pytest.raises(ValueError):
            replace_sheet(src, tmp_path / "bad.xlsx", spec)
    assert not (tmp_path / "bad.xlsx").exists()
    # a good one, written as columns, with a blank value and a date category
    good = SheetSpec("ok", rows + [[dt.date(2021, 1, 2), None]], row_heights={1: 30},
                     charts=[BarChart("", "A2:A4", "B2:B4", "D2:H10", horizontal=False)])
    replace_sheet(src, tmp_path / "good.xlsx", good)
    chart = member_bytes(tmp_path / "good.xlsx", "xl/charts/chart1.xml").decode()
    assert '<c:barDir val="col"/>' in chart and "<c:title>" not in chart
    assert '<c:autoTitleDeleted val="1"/>' in chart
    assert '<c:ptCount val="3"/><c:pt idx="0"><c:v>0.5</c:v></c:pt><c:pt idx="1"><c:v>0.95</c:v></c:pt>' \
           '</c:numCache>' in chart
    assert "<c:v>2021-01-02</c:v>" in chart
    assert '<row r="1" ht="30" customHeight="1">' in member_bytes(tmp_path / "good.xlsx",
                                                                   "xl/worksheets/sheet2.xml").decode()
    assert_package_consistent(tmp_path / "good.xlsx")
