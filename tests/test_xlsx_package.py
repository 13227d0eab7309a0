"""Tests for excel_eval.xlsx_package: lossless add/replace of one generated worksheet.

Real files in tmp_path, no mocks.  LibreOffice tests are skipped when `soffice` is absent.
"""

from __future__ import annotations

import datetime as dt
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

from excel_eval.xlsx_package import (
    Cell,
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
    from excel_eval.xlsx_package import _excel_serial

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
