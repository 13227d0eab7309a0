"""The streaming sheet reader (excel_eval.reading.stream): the values openpyxl reads, from hand-written parts
(shared strings with rich text, inline strings, dates, 1904 dates, gaps, cells without r, x: prefixes) and from
real files (openpyxl, LibreOffice, the sample workbook), in pieces of any size."""

from __future__ import annotations

import datetime as dt
import inspect
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.chart import BarChart, Reference
from workbooks import read_with_both_engines, standard_sheets, write_workbook

from excel_eval.reading import stream as xlsx_stream
from excel_eval.problems import Problems, UsageError
from excel_eval.resources import sample_workbook
from excel_eval.reading import read_workbook
from excel_eval.reading.engines import open_engine, open_openpyxl as _open_openpyxl
from excel_eval.reading.facts import cell_facts, cell_facts_stream
from excel_eval.reading.stream import open_stream

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"

# cellXfs: 0 General, 1 built-in date (14), 2 custom 年月日, 3 custom date-time, 4 #,##0.00, 5 built-in h:mm:ss (21),
# 6 custom elapsed time [h]:mm:ss, 7 custom with a quoted literal that is no date ("d"0)
STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{MAIN}"><numFmts count="4"><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/>
<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/><numFmt numFmtId="166" formatCode="[h]:mm:ss"/>
<numFmt numFmtId="167" formatCode="&quot;d&quot;0"/></numFmts>
<fonts count="1"><font><sz val="11"/></font></fonts><fills count="1"><fill><patternFill/></fill></fills>
<borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs>
<cellXfs count="8"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="164"/><xf numFmtId="165"/>
<xf numFmtId="4"/><xf numFmtId="21"/><xf numFmtId="166"/><xf numFmtId="167"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""


def worksheet(rows: str, tail: str = "", prefix: str = "") -> str:
    """A worksheet part with sheet data `rows` (written without prefix; `prefix` puts one on every element)."""
    xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}" xmlns:r="{REL}">'
           f'<dimension ref="A1"/><sheetData>{rows}</sheetData>{tail}<pageMargins left="0.7" right="0.7" top="0.75" '
           'bottom="0.75" header="0.3" footer="0.3"/></worksheet>')
    return prefixed(xml, prefix) if prefix else xml


def prefixed(xml: str, prefix: str) -> str:
    """The main-namespace elements of `xml` written as prefix:element (as some generators write them)."""
    xml = re.sub(r"<(/?)([A-Za-z][\w]*)(?=[\s/>])", rf"<\1{prefix}:\2", xml)
    return xml.replace(f'xmlns="{MAIN}"', f'xmlns:{prefix}="{MAIN}"')


def build(path: Path, sheets: dict[str, str], *, shared: list[str] | None = None, styles: str = STYLES,
          date1904: bool = False) -> Path:
    """A package written by hand: `sheets` title -> worksheet part, `shared` the <si> elements' XML."""
    overrides = [f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>',
                 f'<Override PartName="/xl/styles.xml" ContentType="{CT}.styles+xml"/>']
    rels = [f'<Relationship Id="rIdS" Type="{REL}/styles" Target="styles.xml"/>']
    entries = []
    for index, title in enumerate(sheets, 1):
        overrides.append(f'<Override PartName="/xl/worksheets/sheet{index}.xml" ContentType="{CT}.worksheet+xml"/>')
        rels.append(f'<Relationship Id="rId{index}" Type="{REL}/worksheet" Target="worksheets/sheet{index}.xml"/>')
        entries.append(f'<sheet name="{title}" sheetId="{index}" r:id="rId{index}"/>')
    if shared is not None:
        overrides.append(f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT}.sharedStrings+xml"/>')
        rels.append(f'<Relationship Id="rIdT" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                    'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
                    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/'
                    f'xml"/>{"".join(overrides)}</Types>')
        zf.writestr("_rels/.rels", f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" '
                    'Target="xl/workbook.xml"/></Relationships>')
        pr = '<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>"
        zf.writestr("xl/workbook.xml", f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">{pr}<sheets>{"".join(entries)}'
                    "</sheets></workbook>")
        zf.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{PKG}">{"".join(rels)}</Relationships>')
        zf.writestr("xl/styles.xml", styles)
        for index, xml in enumerate(sheets.values(), 1):
            zf.writestr(f"xl/worksheets/sheet{index}.xml", xml)
        if shared is not None:
            zf.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}" count="{len(shared)}" uniqueCount="{len(shared)}">'
                        f'{"".join(shared)}</sst>')
    return path


def stream_rows(path: Path, title: str | None = None) -> list[list]:
    names, load = open_stream(path)
    return list(load(title or names[0]).rows)


def trimmed(rows) -> list[list]:
    """Rows without trailing empty cells and trailing empty rows; "" as None (as the reader treats both)."""
    out = []
    for row in rows:
        row = [None if v == "" else v for v in row]
        while row and row[-1] is None:
            row.pop()
        out.append(row)
    while out and not out[-1]:
        out.pop()
    return out


def assert_same_as_openpyxl(path: Path) -> None:
    """Every worksheet reads as openpyxl reads it: names, values (rows trimmed), merged ranges."""
    names, load = open_stream(path)
    their_names, their_load = _open_openpyxl(path)
    assert names == their_names
    for title in names:
        ours, theirs = load(title), their_load(title)
        assert trimmed(ours.rows) == trimmed(theirs.rows), title
        assert sorted(ours.merged) == sorted(theirs.merged), title


def cell(ref: str, value: str = "", t: str | None = None, s: int | None = None, inner: str | None = None) -> str:
    attrs = f' r="{ref}"' if ref else ""
    attrs += f' s="{s}"' if s is not None else ""
    attrs += f' t="{t}"' if t else ""
    body = inner if inner is not None else (f"<v>{value}</v>" if value != "" else "")
    return f"<c{attrs}>{body}</c>" if body else f"<c{attrs}/>"


# --------------------------------------------------------------------------- values


def test_shared_strings_rich_text_phonetic_entities_and_escapes(tmp_path):
    shared = [
        "<si><t>项目编号</t></si>",
        '<si><r><rPr><b/><sz val="11"/></rPr><t>富</t></r><r><t xml:space="preserve"> 文本 </t></r></si>',
        '<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/></si>',
        "<si><t>A &amp; B &lt;C&gt; &quot;&apos; &#x4E2D;&#25991;</t></si>",
        "<si><t>第一行_x000D_\n第二行 _x005F_x0041_</t></si>",
        "<si><t/></si>",
    ]
    rows = "".join(f'<row r="{i + 1}">{cell(f"A{i + 1}", str(i), "s")}</row>' for i in range(len(shared)))
    book = build(tmp_path / "sst.xlsx", {"表": worksheet(rows)}, shared=shared)
    # the empty string of the last row is no value, and an empty row at the end is no row
    assert stream_rows(book) == [["项目编号"], ["富 文本 "], ["漢字"], ['A & B <C> "\' 中文'], ["第一行\r\n第二行 _x0041_"]]
    _, load = _open_openpyxl(book)
    assert trimmed(load("表").rows)[:4] == stream_rows(book)[:4]


def test_inline_strings_plain_rich_phonetic_cdata_and_line_ends(tmp_path):
    rows = "".join([
        '<row r="1">' + cell("A1", t="inlineStr", inner="<is><t>&#39033;&#30446; &amp; X</t></is>") + "</row>",
        '<row r="2">' + cell("A2", t="inlineStr", inner='<is><t xml:space="preserve">  空格  </t></is>') + "</row>",
        '<row r="3">' + cell("A3", t="inlineStr", inner="<is><r><rPr><i/></rPr><t>甲</t></r><r><t>乙</t></r>"
                                                       '<rPh sb="0" eb="1"><t>こう</t></rPh></is>') + "</row>",
        '<row r="4">' + cell("A4", t="inlineStr", inner="<is><t><![CDATA[a<b & c]]></t></is>") + "</row>",
        '<row r="5">' + cell("A5", t="inlineStr", inner="<is><t>一\r\n二&#13;三</t></is>") + "</row>",
        '<row r="6">' + cell("A6", t="inlineStr", inner="<is><t>_x0001_控制</t></is>") + "</row>",
        '<row r="7">' + cell("A7", t="inlineStr", inner="<is><t/></is>") + cell("B7", "1") + "</row>",
    ])
    book = build(tmp_path / "inline.xlsx", {"表": worksheet(rows)})
    assert stream_rows(book) == [["项目 & X"], ["  空格  "], ["甲乙"], ["a<b & c"], ["一\n二\r三"], ["\x01控制"],
                                 [None, 1]]
    _, load = _open_openpyxl(book)
    theirs = trimmed(load("表").rows)
    theirs[5][0] = "\x01控制"  # openpyxl leaves _x0001_ as written; the openpyxl engine decodes it the same
    assert theirs == stream_rows(book)


def test_numbers_booleans_formula_results_errors_and_iso_dates(tmp_path):
    row = "".join([
        cell("A1", "2021"), cell("B1", "1234.5", "n"), cell("C1", "1E3"), cell("D1", "-0.25"),
        cell("E1", "1", "b"), cell("F1", "0", "b"),
        cell("G1", t="str", inner="<f>A1&amp;\"x\"</f><v>2021x</v>"),
        cell("H1", t="e", inner="<f>1/0</f><v>#DIV/0!</v>"), cell("I1", t="e", value="#REF!"),
        cell("J1", inner="<f>A1+1</f><v>2022</v>"), cell("K1", inner='<f t="shared" ref="K1:K2" si="0">A1*2</f><v>4042</v>'),
        cell("L1", inner="<f>SUM(A1)</f><v></v>"), cell("M1", t="d", value="2021-05-10T08:30:00"),
        cell("N1", t="d", value="2021-05-10"), cell("O1", inner="<v/>"),
    ])
    book = build(tmp_path / "values.xlsx", {"表": worksheet(f'<row r="1">{row}</row>')})
    [values] = stream_rows(book)
    assert values == [2021, 1234.5, 1000.0, -0.25, True, False, "2021x", None, None, 2022, 4042, None,
                      dt.datetime(2021, 5, 10, 8, 30), dt.date(2021, 5, 10)]
    assert [type(v) for v in values[:4]] == [int, float, float, float]
    _, load = _open_openpyxl(book)
    [theirs] = trimmed(load("表").rows)
    assert theirs[:7] + theirs[9:] == values[:7] + values[9:]  # openpyxl shows the error text; cell_facts does here


def test_dates_by_built_in_and_custom_formats_times_and_elapsed_times(tmp_path):
    row = "".join([
        cell("A1", "44326", s=1), cell("B1", "44326", s=2), cell("C1", "44326.5", s=3), cell("D1", "44326", s=4),
        cell("E1", "0.75", s=5), cell("F1", "1.5", s=6), cell("G1", "44326", s=7), cell("H1", "44326"),
        cell("I1", "20", s=1), cell("J1", t="s", value="", s=1),
    ])
    book = build(tmp_path / "dates.xlsx", {"表": worksheet(f'<row r="1">{row}</row>')})
    [values] = stream_rows(book)
    assert values[:9] == [dt.datetime(2021, 5, 10), dt.datetime(2021, 5, 10), dt.datetime(2021, 5, 10, 12), 44326,
                          dt.time(18, 0), dt.timedelta(days=1.5), 44326, 44326, dt.datetime(1900, 1, 20)]
    assert_same_as_openpyxl(book)


def test_a_date_style_on_style_zero_applies_to_cells_without_s(tmp_path):
    styles = STYLES.replace('<cellXfs count="8"><xf numFmtId="0"/>', '<cellXfs count="8"><xf numFmtId="14"/>')
    rows = f'<row r="1">{cell("A1", "44326")}{cell("B1", "44326", s=4)}</row>'
    book = build(tmp_path / "style0.xlsx", {"表": worksheet(rows)}, styles=styles)
    assert stream_rows(book) == [[dt.datetime(2021, 5, 10), 44326]]
    assert_same_as_openpyxl(book)


def test_the_1904_date_system(tmp_path):
    rows = f'<row r="1">{cell("A1", "1", s=1)}{cell("B1", "42864", s=1)}{cell("C1", "42864.25", s=3)}</row>'
    book = build(tmp_path / "mac.xlsx", {"表": worksheet(rows)}, date1904=True)
    assert stream_rows(book) == [[dt.datetime(1904, 1, 2), dt.datetime(2021, 5, 10), dt.datetime(2021, 5, 10, 6)]]
    assert_same_as_openpyxl(book)


# --------------------------------------------------------------------------- positions


def test_gaps_between_rows_and_columns_keep_their_places(tmp_path):
    rows = (f'<row r="2">{cell("B2", "1")}</row>'
            f'<row r="3" spans="1:5"><c r="A3" s="4"/></row>'  # a styled empty cell: an empty row
            f'<row r="5">{cell("A5", "2")}{cell("E5", "3")}</row>'
            f'<row r="6"/>'
            f'<row r="8">{cell("C8", "4")}</row>'
            f'<row r="20" customHeight="1" ht="30"><c r="F20" s="1"/></row>')  # styled, empty: no rows at the end
    book = build(tmp_path / "gaps.xlsx", {"表": worksheet(rows)})
    # rows are as long as the longest so far, empty rows as long as the row after them
    assert stream_rows(book) == [
        [None] * 2, [None, 1], [None] * 5, [None] * 5, [2, None, None, None, 3],
        [None] * 5, [None] * 5, [None, None, 4, None, None]]
    assert_same_as_openpyxl(book)


def test_cells_and_rows_without_r_are_placed_in_sequence(tmp_path):
    rows = ('<row><c t="inlineStr"><is><t>a</t></is></c><c><v>1</v></c><c r="E1"><v>5</v></c><c><v>6</v></c></row>'
            "<row><c/><c><v>2</v></c></row>"
            f'<row r="5">{cell("", "3")}</row>'
            f'<row>{cell("B6", "4")}</row>')
    book = build(tmp_path / "no_r.xlsx", {"表": worksheet(rows)})
    assert stream_rows(book) == [["a", 1, None, None, 5, 6], [None, 2, None, None, None, None],
                                 [None] * 6, [None] * 6, [3, None, None, None, None, None],
                                 [None, 4, None, None, None, None]]
    assert_same_as_openpyxl(book)


def test_attributes_in_any_order_and_quoting(tmp_path):
    rows = ("<row r='1' spans='1:3'><c t='inlineStr' r='A1'><is><t>甲</t></is></c>"
            '<c s="1" r="B1" t="n" cm="1"><v>44326</v></c><c  r = "C1"  ><v>7</v></c>'
            '<c r="d1" vm="1"><v>8</v></c></row>')
    book = build(tmp_path / "attrs.xlsx", {"表": worksheet(rows)})
    assert stream_rows(book) == [["甲", dt.datetime(2021, 5, 10), 7, 8]]


def test_sheet_xml_with_an_x_prefix(tmp_path):
    book = write_workbook(tmp_path / "plain.xlsx", standard_sheets())
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(tmp_path / "x.xlsx", "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("xl/worksheets/"):
                data = prefixed(data.decode(), "x").encode()
                assert b"<x:row" in data and b"<x:c " in data
            dst.writestr(info, data)
    assert_same_as_openpyxl(tmp_path / "x.xlsx")
    assert stream_rows(tmp_path / "x.xlsx", "支出明细") == stream_rows(book, "支出明细")
    read_with_both_engines(tmp_path / "x.xlsx")


def test_prefixed_hand_written_parts(tmp_path):
    rows = (f'<row r="1">{cell("A1", t="inlineStr", inner="<is><r><t>甲</t></r><r><t>乙</t></r></is>")}'
            f'{cell("B1", "44326", s=1)}{cell("C1", inner="<f>1+1</f><v>2</v>")}</row>')
    tail = '<mergeCells count="1"><mergeCell ref="C1:D1"/></mergeCells>'
    book = build(tmp_path / "x.xlsx", {"表": worksheet(rows, tail, prefix="x")})
    _, load = open_stream(book)
    raw = load("表")
    assert list(raw.rows) == [["甲乙", dt.datetime(2021, 5, 10), 2]]
    assert raw.merged == [(3, 1, 4, 1)]
    assert_same_as_openpyxl(book)


def test_merged_cells_and_rows_as_wide_as_the_merges(tmp_path):
    def edit(ws):
        ws.merge_cells("A1:G1")
        ws.merge_cells("A3:A5")
        ws.merge_cells("J2:J4")

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "支出明细"
    ws.append(["某某局支出明细"])
    for n in range(2, 7):
        ws.append([f"P{n}", n])
    edit(ws)
    book.save(tmp_path / "merged.xlsx")
    _, load = open_stream(tmp_path / "merged.xlsx")
    raw = load("支出明细")
    assert sorted(raw.merged) == [(1, 1, 7, 1), (1, 3, 1, 5), (10, 2, 10, 4)]
    rows = list(raw.rows)
    assert all(len(row) >= 10 for row in rows)  # the reader fills cells merged down in place
    assert_same_as_openpyxl(tmp_path / "merged.xlsx")


def test_a_title_merged_across_the_whole_row_does_not_widen_the_rows(tmp_path):
    rows = f'<row r="1">{cell("A1", "1")}</row><row r="2">{cell("B2", "2")}</row>'
    tail = '<mergeCells count="2"><mergeCell ref="A1:XFD1"/><mergeCell ref="C2:C3"/></mergeCells>'
    _, load = open_stream(build(tmp_path / "wide.xlsx", {"表": worksheet(rows, tail)}))
    raw = load("表")
    assert raw.merged == [(1, 1, 16384, 1), (3, 2, 3, 3)]
    assert list(raw.rows) == [[1, None, None], [None, 2, None]]


# --------------------------------------------------------------------------- files, pieces, the package


def test_the_sample_workbook_reads_as_openpyxl_reads_it():
    assert_same_as_openpyxl(sample_workbook())
    read_with_both_engines(sample_workbook())


@pytest.mark.parametrize("chunk", [1, 7, 64, 1000])
def test_pieces_of_any_size_read_the_same(tmp_path, monkeypatch, chunk):
    """A piece ends after a </row>; rows longer than a piece, and a piece that ends inside a tag, still read."""
    def edit(book):
        book["支出明细"].merge_cells("A2:A3")

    sheets = standard_sheets()
    sheets["支出明细"].insert(1, ["长" * 3000, None, 1])
    book = tmp_path / "pieces.xlsx"
    write_workbook(book, sheets)
    whole = {title: list(open_stream(book)[1](title).rows) for title in open_stream(book)[0]}
    monkeypatch.setattr(xlsx_stream, "CHUNK", chunk)
    names, load = open_stream(book)
    assert {title: list(load(title).rows) for title in names} == whole
    assert_same_as_openpyxl(book)


def test_rows_are_read_lazily(tmp_path, monkeypatch):
    book = write_workbook(tmp_path / "lazy.xlsx", {"表": [["编号", "金额"]] + [[f"P{n}", n] for n in range(3000)]})
    monkeypatch.setattr(xlsx_stream, "CHUNK", 4096)
    reads = []
    original = zipfile.ZipExtFile.read

    def counting(self, n=-1):
        data = original(self, n)
        reads.append(len(data))
        return data

    _, load = open_stream(book)
    raw = load("表")
    assert inspect.isgenerator(raw.rows)
    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting)
    assert next(iter(raw.rows)) == ["编号", "金额"]
    assert sum(reads) <= 3 * 4096  # one piece, not the whole part
    assert sum(1 for _ in raw.rows) == 3000


def test_chart_sheets_are_not_listed(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "项目"
    book.active.append(["项目编号"])
    chart_sheet = book.create_chartsheet("图表")
    chart = BarChart()
    chart.add_data(Reference(book["项目"], min_col=1, min_row=1, max_row=1))
    chart_sheet.add_chart(chart)
    book.create_sheet("预算").append(["项目编号", "批复数（元）"])
    book.save(tmp_path / "chart.xlsx")
    assert open_stream(tmp_path / "chart.xlsx")[0] == ["项目", "预算"]
    assert_same_as_openpyxl(tmp_path / "chart.xlsx")


def test_read_workbook_with_the_stream_engine(tmp_path):
    book = write_workbook(tmp_path / "账.xlsx", standard_sheets())
    problems = Problems()
    data = read_workbook(book, problems, engine="stream")
    assert not list(problems)
    assert [round(v, 2) for v in data.tables["支出明细"].frame["金额"]] == [5000025, 4500025, 80000]
    read_with_both_engines(book)


def test_a_libreoffice_saved_file(tmp_path):
    exe = shutil.which("soffice")
    if exe is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    sheets = standard_sheets()
    sheets["支出明细"].append(["合计", None, "=SUM(C2:C4)", None, None, None, None])
    made = write_workbook(tmp_path / "账.xlsx", sheets)
    out = tmp_path / "lo"
    subprocess.run([exe, f"-env:UserInstallation={(out / 'profile').as_uri()}", "--headless", "--convert-to", "xlsx",
                    "--outdir", str(out), str(made)], check=True, capture_output=True, timeout=300)
    saved = out / "账.xlsx"
    assert b't="s"' in zipfile.ZipFile(saved).read("xl/worksheets/sheet3.xml")  # shared strings, as Excel writes
    assert_same_as_openpyxl(saved)
    assert stream_rows(saved, "支出明细")[-1][:3] == ["合计", None, 95800.5]
    read_with_both_engines(saved)


def test_a_package_it_cannot_follow_is_left_to_openpyxl(tmp_path):
    book = write_workbook(tmp_path / "账.xlsx", standard_sheets())
    broken = tmp_path / "无工作簿.xlsx"
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            if info.filename not in ("xl/workbook.xml",):
                dst.writestr(info, src.read(info))
    with pytest.raises(UsageError):
        open_engine(broken, "stream")  # openpyxl explains it


# --------------------------------------------------------------------------- cell facts, streamed


@pytest.mark.parametrize("chunk", [1 << 20, 50])
def test_cell_facts_stream_finds_what_cell_facts_finds(tmp_path, monkeypatch, chunk):
    sheets = standard_sheets()
    sheets["支出明细"][1][2] = "=50000+0.25"  # openpyxl saves no cached value
    sheets["支出明细"].append(["合计", None, "=SUM(C2:C4)", None, None, None, None])
    book = write_workbook(tmp_path / "账.xlsx", sheets)
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(tmp_path / "err.xlsx", "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = re.sub(rb'<c r="F3"([^>]*)>.*?</c>', rb'<c r="F3" t="e"><f>#REF!+1</f><v>#REF!</v></c>', data)
            dst.writestr(info, data)
    monkeypatch.setattr(xlsx_stream, "CHUNK", chunk)
    for path in (book, tmp_path / "err.xlsx"):
        titles = open_stream(path)[0]
        expected = cell_facts(path, titles)
        assert expected  # the test means something
        assert cell_facts_stream(path, titles) == expected
    assert cell_facts_stream(tmp_path / "err.xlsx", titles)["预算"].errors == {(3, 6): "#REF!"}


def test_cell_facts_stream_scans_rows_without_r_whole(tmp_path):
    rows = f'<row><c><f>1+1</f></c><c t="e"><v>#N/A</v></c></row><row r="3">{cell("B3", inner="<f>A1</f>")}</row>'
    book = build(tmp_path / "no_r.xlsx", {"表": worksheet(rows)})
    assert cell_facts_stream(book, ["表"]) == cell_facts(book, ["表"])
    assert cell_facts_stream(book, ["表"])["表"].uncached == {(1, 1): "=1+1", (3, 2): "=A1"}


def test_dates_formats_and_merged_ranges_are_decoded_as_openpyxl_decodes_them():
    """The stream engine's own date code (reading/serials.py, so that a run does not import openpyxl) gives
    openpyxl's values: serials in both date systems (29 Feb 1900, times, elapsed times), ISO values, which
    formats are dates, the built-in formats, merged ranges."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601

    from excel_eval.reading import serials

    def outcome(function, *args):
        try:
            return function(*args)
        except (ValueError, OverflowError) as exc:
            return type(exc)

    assert (serials.WINDOWS_EPOCH, serials.MAC_EPOCH) == (WINDOWS_EPOCH, MAC_EPOCH)
    assert serials.BUILTIN_FORMATS == BUILTIN_FORMATS
    serial_numbers = [0, 0.25, 0.999999, 0.9999999, 1, 1.5, 59, 59.75, 60, 60.5, 61, 44197, 44197.123456789,
                      2958465.99999, 36526.000005787]
    for epoch in (WINDOWS_EPOCH, MAC_EPOCH):
        for value in serial_numbers:
            for elapsed in (False, True):
                assert outcome(serials.from_excel, value, epoch, elapsed) == outcome(from_excel, value, epoch,
                                                                                    elapsed), value
    for text in ("2021-03-01", "2021-03-01T08:30:00", "2021-03-01T08:30:15.25Z", "08:30", "T08:30:05",
                 "PT1H30M", "PT45.5S", "", "2021-13-01", "yesterday"):
        assert outcome(serials.from_iso8601, text) == outcome(from_ISO8601, text), text
    codes = [*BUILTIN_FORMATS.values(), 'yyyy"年"m"月"d"日"', '"d"0', "[h]:mm:ss", "[mm]:ss", "[Red]0.00",
             "[$-804]yyyy/m/d", r"0\d", "_d0", "#,##0;[Red]-#,##0;0;@", "[ss].000", None]
    for code in codes:
        assert serials.is_date_format(code) == is_date_format(code), code
        assert serials.is_timedelta_format(code) == is_timedelta_format(code), code
    part = "".join(f'<mergeCell ref="{ref}"/>' for ref in ("A1:B2", "c3:D10", "AA100:XFD1048576", "E5"))
    assert xlsx_stream._MERGE_CELL.findall(part.encode())  # the references the scan finds
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("s.xml", f'<worksheet xmlns="{MAIN}"><sheetData/><mergeCells>{part}</mergeCells></worksheet>')
    with zipfile.ZipFile(package) as zf:
        assert xlsx_stream._merged_cells(zf, "s.xml") == [range_boundaries(r.upper()) for r in
                                                           ("A1:B2", "c3:D10", "AA100:XFD1048576", "E5")]


@pytest.mark.parametrize("xml, formula, error", [
    (b'<c r="A1"><f>SUM(B1:B2)</f><v>3</v></c>', True, False),
    (b'<c r="A1"><f t="shared" si="0"/></c>', True, False),
    (b'<x:c r="A1"><x:f>1+1</x:f></x:c>', True, False),
    (b'<c r="A1"><f\n>1</f></c>', True, False),
    (b'<c r="A1" t="e"><v>#REF!</v></c>', False, True),
    (b"<c r='A1' t='e'><v>#N/A</v></c>", False, True),
    (b'<c r="A1" t="inlineStr"><is><t>font of <fish> t=e</t></is></c><font/><fill/>', False, False),
    (b'<c r="A1" s="1" t="s"><v>0</v></c>', False, False),
])
def test_the_quick_searches_for_formulas_and_errors(xml, formula, error):
    """The searches that rule a piece of sheet XML out before the scans find every formula and error cell."""
    from excel_eval.reading.facts import _has_error, _has_formula

    assert (_has_formula(xml), _has_error(xml)) == (formula, error)
