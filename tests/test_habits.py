"""The workbooks accountants really keep read exactly as the clean one does: same records, same reports,
same 汇总. Each test builds the standard workbook (tests/workbooks.standard_sheets) with one habit in tmp_path,
runs the whole pipeline and compares with the clean run."""

import dataclasses
import datetime as dt
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from excel_eval.pipeline import run
from excel_eval.problems import Problems
from excel_eval.render import document_text
from excel_eval.schema import BUDGET, DISBURSEMENTS
from excel_eval.reading import ROW, read_workbook

from workbooks import read_with_both_engines, standard_sheets, write_workbook

NOW = dt.datetime(2026, 11, 27, 9, 30)
NAME = "账.xlsx"


def write(path: Path, sheets: dict, *, before: dict | None = None, edit=None) -> Path:
    return write_workbook(path, sheets, before=before, edit=edit)


def outcome(book: Path) -> dict:
    """What a run makes of `book` (written into a sibling folder 'out'), free of row numbers and paths."""
    result = run(book, book.parent / "out", now=NOW)
    records = []
    for record in result.records:
        fields = dataclasses.asdict(record)
        fields.pop("excel_row")
        records.append(fields)
    summary = openpyxl.load_workbook(result.summary.target)["汇总"]
    return {
        "records": records,
        "reports": {p.name: document_text(p) for p in result.reports},
        "summary": [[c.value for c in row] for row in summary.iter_rows()],
        "links": [c.hyperlink.target if c.hyperlink else None for c in summary["L"]],
        "problems": [(p.code, p.severity, p.location) for p in result.problems],
    }


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    book = write(folder / NAME, standard_sheets())
    return outcome(book)


def reads_like_clean(clean: dict, book: Path, problems=()) -> None:
    read_with_both_engines(book)
    got = outcome(book)
    assert got["problems"] == list(problems)
    assert got["records"] == clean["records"]
    assert got["reports"] == clean["reports"]
    assert got["summary"] == clean["summary"]
    assert [Path(t).name if t else t for t in got["links"]] == [Path(t).name if t else t for t in clean["links"]]


def book_path(tmp_path: Path, name: str = NAME) -> Path:
    folder = tmp_path / "habit"
    folder.mkdir()
    return folder / name


def test_the_clean_workbook_runs_without_problems(clean):
    assert clean["problems"] == []
    assert len(clean["reports"]) == 2 and clean["records"][0]["figures"]["spent"] == 9500050


# --------------------------------------------------------------------------- where the table starts

def test_merged_title_rows_and_a_unit_line_above_every_header(tmp_path, clean):
    sheets = standard_sheets()
    before = {name: [[f"2021年度{name}表"], ["填报单位：某某县测试局", None, None, "单位：元"]] for name in sheets}

    def merge_titles(book):
        for ws in book.worksheets:
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(sheets[ws.title][0]))
            ws.merge_cells("A2:C2")

    book = write(book_path(tmp_path), sheets, before=before, edit=merge_titles)
    reads_like_clean(clean, book)
    data = read_workbook(book, Problems())
    assert list(data.get(DISBURSEMENTS).frame[ROW]) == [4, 5, 6]


def test_blank_rows_anywhere_in_the_table(tmp_path, clean):
    sheets = standard_sheets()
    for rows in sheets.values():
        width = len(rows[0])
        for index in range(len(rows) - 1, 0, -1):
            rows.insert(index, [None] * width)
        rows.append([None] * width)
        rows.append(["   ", None])  # only spaces is blank too
    reads_like_clean(clean, write(book_path(tmp_path), sheets))


def test_hidden_rows_are_data(tmp_path, clean):
    def hide(book):
        for ws in book.worksheets:
            ws.row_dimensions[2].hidden = True
            ws.row_dimensions[3].hidden = True

    reads_like_clean(clean, write(book_path(tmp_path), standard_sheets(), edit=hide))


def test_columns_in_any_order(tmp_path, clean):
    sheets = {name: [list(reversed(row)) for row in rows] for name, rows in standard_sheets().items()}
    reads_like_clean(clean, write(book_path(tmp_path), sheets))


def test_english_sheet_and_header_names(tmp_path, clean):
    english = {
        "项目": ("projects", ["project_id", "project_name", "unit_name", "unit_short_name", "year", "project_type",
                             "template", "report_date"]),
        "预算": ("Budget", ["project_id", "source", "declared", "approved", "budget", "received", "received_date"]),
        "支出明细": (" disbursements ", ["PROJECT_ID", "date", "amount(元)", "category", "source", "voucher", "memo"]),
        "文字说明": ("narrative", ["project_id", "section", "text"]),
    }
    sheets = {}
    for name, rows in standard_sheets().items():
        title, header = english[name]
        sheets[title] = [header] + rows[1:]
    # full-width letters and brackets and stray spaces fold too
    sheets["Budget"][0][2] = "ｄｅｃｌａｒｅｄ（元）"
    sheets["Budget"][0][3] = " 批复数 (元) "
    reads_like_clean(clean, write(book_path(tmp_path), sheets))


def test_vertically_merged_project_numbers_repeat_on_every_row(tmp_path, clean):
    sheets = standard_sheets()
    narrative = sheets["文字说明"]
    spans = {}  # project -> (first, last) Excel row
    for index, row in enumerate(narrative[1:], start=2):
        first, _ = spans.get(row[0], (index, index))
        spans[row[0]] = (first, index)
    for first, last in spans.values():
        for index in range(first + 1, last + 1):
            narrative[index - 1][0] = None  # only the top cell of a merged range holds the value
    sheets["支出明细"][2][0] = None

    def merge(book):
        for first, last in spans.values():
            book["文字说明"].merge_cells(f"A{first}:A{last}")
        book["支出明细"].merge_cells("A2:A3")

    reads_like_clean(clean, write(book_path(tmp_path), sheets, edit=merge))


def test_a_merged_amount_is_not_repeated(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"][2][2] = None

    def merge(book):
        book["支出明细"].merge_cells("C2:C3")

    problems = Problems()
    data = read_workbook(write(book_path(tmp_path), sheets, edit=merge), problems)
    assert list(data.get(DISBURSEMENTS).frame["金额"]) == [5000025, None, 80000]
    assert [(p.code, p.location) for p in problems] == [("cell-missing", "支出明细!C3")]


# --------------------------------------------------------------------------- totals rows

def test_totals_rows_are_left_out_and_agree(tmp_path, clean):
    sheets = standard_sheets()
    ledger = sheets["支出明细"]
    # P1's two payments, a 小计, P2's payment, a 小计, then 合计 over both and a 总计 with the project cell empty
    ledger.insert(3, ["小计", None, 95000.5, None, None, None, None])
    ledger.append([" 小 计 ", None, "800.00", None, None, None, None])
    ledger.append(["合计：", None, 95800.5, None, None, None, None])
    ledger.append([None, "总计", 95800.5, None, None, None, None])
    sheets["预算"].append([None, "合计", 100800, 100800, None, "100,800.00", None])
    reads_like_clean(clean, write(book_path(tmp_path), sheets))


def test_a_total_that_disagrees_is_a_warning_naming_its_cell(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"].append(["合计", None, 95800.51, None, None, None, None])
    sheets["预算"].append(["合计", None, 100800, 100800, None, 100000, None])
    result = run(write(book_path(tmp_path), sheets), tmp_path / "habit" / "out", now=NOW)
    assert [(p.code, p.severity, p.location) for p in result.problems] == [
        ("total-mismatch", "警告", "预算!F4"), ("total-mismatch", "警告", "支出明细!C5")]
    assert len(result.reports) == 2  # warnings do not stop the run
    assert "100,800.00" in result.problems.items[0].message


# --------------------------------------------------------------------------- amounts and units

def test_amounts_as_text(tmp_path, clean):
    sheets = standard_sheets()
    sheets["支出明细"][1][2] = "50,000.25"
    sheets["支出明细"][2][2] = " 45000.25 "
    sheets["支出明细"][3][2] = "８００"  # full-width digits
    sheets["预算"][1][2:6] = ["100,000.00", "１００，０００", None, " 100000 "]
    reads_like_clean(clean, write(book_path(tmp_path), sheets))


def test_amounts_in_wan_by_a_unit_line_exact_to_the_fen(tmp_path, clean):
    sheets = standard_sheets()
    sheets["预算"][0][2:6] = ["申报数", "批复数", "全年预算数", "到位数"]
    sheets["预算"][1][2:6] = [10, "10", None, "１０.0000"]
    sheets["预算"][2][2:6] = [0.08, "0.08", 0.08, " 0.080000 "]
    sheets["支出明细"][0][2] = "金额"
    sheets["支出明细"][1][2] = 5.000025  # 50,000.25 元: six decimals of 万元 are exact fen
    sheets["支出明细"][2][2] = "4.500025"
    sheets["支出明细"][3][2] = 0.08
    before = {"预算": [["2021年度项目预算表"], ["单位：万元"]], "支出明细": [["（单位：万元）"]]}
    reads_like_clean(clean, write(book_path(tmp_path), sheets, before=before))


def test_units_in_headers_yuan_and_wan_mixed(tmp_path, clean):
    sheets = standard_sheets()
    sheets["预算"][0][2:6] = ["申报数（万元）", "批复数(元)", "全年预算数/万元", "到位数【元】"]
    sheets["预算"][1][2:6] = [10, 100000, None, 100000]
    sheets["预算"][2][2:6] = ["0.08", 800, 0.08, 800]
    sheets["支出明细"][0][2] = "金额（万元）"
    sheets["支出明细"][1][2] = "5.000025"
    sheets["支出明细"][2][2] = 4.500025
    sheets["支出明细"][3][2] = "0.0800"
    # a header unit wins over the unit line
    reads_like_clean(clean, write(book_path(tmp_path), sheets, before={"预算": [["单位：元"]]}))


def test_a_hundredth_of_a_fen_in_wan_is_exact(tmp_path):
    sheets = standard_sheets()
    sheets["预算"][0][5] = "到位数（万元）"
    sheets["预算"][1][5] = 0.012345
    sheets["预算"][2][5] = "0.012345"
    data = read_workbook(write(book_path(tmp_path), sheets), Problems())
    assert list(data.get(BUDGET).frame["到位数"]) == [12345, 12345]  # 123.45 元


# --------------------------------------------------------------------------- dates

def test_dates_as_date_cells_text_and_numbers(tmp_path, clean):
    sheets = standard_sheets()
    sheets["支出明细"][1][1] = "2021-03-05"
    sheets["支出明细"][2][1] = "2021/6/5"
    sheets["支出明细"][3][1] = "2021.12.16"
    sheets["预算"][1][6] = "2021年3月1日"
    sheets["预算"][2][6] = dt.datetime(2021, 5, 18, 14, 30)  # a date-time cell
    sheets["项目"][1][7] = 44691  # 2022-05-10 as a serial number formatted as a date
    sheets["项目"][2][7] = " 2022年5月10日 "

    def date_format(book):
        book["项目"]["H2"].number_format = "yyyy/m/d"

    book = write(book_path(tmp_path), sheets, edit=date_format)
    assert isinstance(openpyxl.load_workbook(book)["项目"]["H2"].value, dt.datetime)
    reads_like_clean(clean, book)


def test_dates_as_plain_serial_numbers_and_compact_text(tmp_path, clean):
    sheets = standard_sheets()
    sheets["支出明细"][1][1] = 44260  # 2021-03-05, General format
    sheets["支出明细"][2][1] = "20210605"
    sheets["支出明细"][3][1] = "２０２１－１２－１６"
    reads_like_clean(clean, write(book_path(tmp_path), sheets))


# --------------------------------------------------------------------------- formulas and other producers

def cache_formulas(path: Path, cached: dict[str, str], text: set[str] = frozenset()) -> None:
    """Give the formula cells `cached` ({'C2': '50000.25'}) of every sheet a cached value, as Excel saves them;
    cells in `text` hold a text result (t="str")."""
    rewritten = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("xl/worksheets/"):
                def fill(match):
                    ref = match.group(1)
                    if ref not in cached:
                        return match.group(0)
                    kind = ' t="str"' if ref in text else ""
                    return f'<c r="{ref}"{kind}{match.group(2)}><f>{match.group(3)}</f><v>{cached[ref]}</v></c>'
                data = re.sub(r'<c r="([A-Z]+\d+)"([^>]*)><f>(.*?)</f><v\s*/?>(?:</v>)?</c>',
                              fill, data.decode()).encode()
            dst.writestr(info, data)
    rewritten.replace(path)


def test_formula_cells_read_their_cached_values(tmp_path, clean):
    sheets = standard_sheets()
    sheets["支出明细"][1][2] = "=50000+0.25"
    sheets["支出明细"].append(["合计", None, "=SUM(C2:C4)", None, None, None, None])
    sheets["预算"][1][5] = "=D2"
    sheets["项目"][1][1] = '="测试专项"&"经费"'
    book = write(book_path(tmp_path), sheets)
    cache_formulas(book, {"C2": "50000.25", "C5": "95800.5", "F2": "100000", "B2": "测试专项经费"}, text={"B2"})
    reads_like_clean(clean, book)


def soffice(src: Path, fmt: str, outdir: Path) -> Path:
    exe = shutil.which("soffice")
    if exe is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    profile = outdir / "lo-profile"
    subprocess.run([exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", fmt,
                    "--outdir", str(outdir), str(src)], check=True, capture_output=True, timeout=300)
    out = outdir / f"{src.stem}.{fmt}"
    assert out.exists(), f"soffice made no {out.name}"
    return out


def test_a_workbook_saved_by_libreoffice_with_computed_formulas(tmp_path, clean):
    """openpyxl writes formulas without results; LibreOffice computes and caches them when it saves."""
    sheets = standard_sheets()
    sheets["支出明细"][1][2] = "=50000+0.25"
    sheets["支出明细"][3][2] = "=预算!F3"
    sheets["支出明细"].append(["合计", None, "=SUM(C2:C4)", None, None, None, None])
    made = write(tmp_path / NAME, sheets)
    saved = soffice(made, "xlsx", tmp_path / "habit")
    assert b"<v>95800.5</v>" in zipfile.ZipFile(saved).read("xl/worksheets/sheet3.xml")
    reads_like_clean(clean, saved)


def make_xlsm(xlsx: Path, xlsm: Path, vba: bytes) -> None:
    """The workbook at `xlsx` as a macro-enabled workbook with a (dummy) VBA project, as Excel keeps it."""
    with zipfile.ZipFile(xlsx) as src, zipfile.ZipFile(xlsm, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info).decode()
            if info.filename == "[Content_Types].xml":
                data = data.replace("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                    "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
                data = data.replace("<Default ", '<Default Extension="bin" ContentType="application/vnd.ms-office.'
                                    'vbaProject"/><Default ', 1)
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace("</Relationships>", '<Relationship Id="rIdVba" Type="http://schemas.microsoft'
                                    '.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
                                    "</Relationships>")
            dst.writestr(info, data)
        dst.writestr("xl/vbaProject.bin", vba)


def test_a_macro_workbook_reads_the_same_and_keeps_its_macros(tmp_path, clean):
    vba = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 4
    book = book_path(tmp_path, "账.xlsm")
    make_xlsm(write(tmp_path / NAME, standard_sheets()), book, vba)
    reads_like_clean(clean, book)
    with zipfile.ZipFile(book) as written:
        assert "汇总" in openpyxl.load_workbook(book, keep_vba=True).sheetnames
        assert written.read("xl/vbaProject.bin") == vba
        assert "macroEnabled.main+xml" in written.read("[Content_Types].xml").decode()
        assert "vbaProject.bin" in written.read("xl/_rels/workbook.xml.rels").decode()
