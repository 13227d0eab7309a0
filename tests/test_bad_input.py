"""Bad input: every problem located, in Chinese, all at once; errors stop the run before anything is written;
usage errors exit 2 without a traceback; unsafe files are refused."""

import csv
import datetime as dt
import faulthandler
import re
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from excel_eval.cli import main
from excel_eval.pipeline import PROBLEMS_FILE, check, run
from excel_eval.problems import WorkbookError

from workbooks import read_with_both_engines, standard_sheets, write_workbook

NOW = dt.datetime(2026, 11, 27, 9, 30)


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def found(tmp_path: Path, sheets: dict) -> list[tuple[str, str, str]]:
    """(code, severity, location) of every problem `excel-eval check` finds in `sheets`."""
    book = write_workbook(tmp_path / "账.xlsx", sheets)
    read_with_both_engines(book)
    return [(p.code, p.severity, p.location) for p in check(book).problems]


ERROR, WARNING = "错误", "警告"


# --------------------------------------------------------------------------- one problem each

def test_a_non_numeric_amount(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"][2][2] = "三千"
    sheets["预算"][1][5] = "#REF!"
    sheets["预算"][2][2] = "39.56万"  # a unit in the cell that contradicts the 元 header
    # one bad cell is one problem: P1's unreadable 到位数 is not also reported as spending above received
    assert found(tmp_path, sheets) == [("amount-invalid", ERROR, "预算!F2"), ("amount-invalid", ERROR, "预算!C3"),
                                       ("amount-invalid", ERROR, "支出明细!C3")]


def test_an_unreadable_approved_amount_is_one_problem(tmp_path):
    sheets = standard_sheets()
    sheets["预算"][1][3] = "十万"
    assert found(tmp_path, sheets) == [("amount-invalid", ERROR, "预算!D2")]


def test_an_unknown_and_a_duplicate_project_number(tmp_path):
    sheets = standard_sheets()
    sheets["项目"].append(list(sheets["项目"][2]))
    sheets["文字说明"][3][0] = "P3"
    assert found(tmp_path, sheets) == [("project-duplicate", ERROR, "项目!A4"), ("project-unknown", ERROR, "文字说明!A4"),
                                       ("section-missing", ERROR, "文字说明")]


def test_a_missing_sheet_and_missing_columns(tmp_path):
    sheets = standard_sheets()
    del sheets["文字说明"]
    sheets["支出明细"] = [row[:1] + row[2:] for row in sheets["支出明细"]]  # no 支付日期
    assert found(tmp_path, sheets) == [("column-missing", ERROR, "支出明细"), ("sheet-missing", ERROR, "文字说明")]


def test_impossible_dates(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"][1][1] = "2021-02-30"
    sheets["支出明细"][2][1] = "2021年13月1日"
    sheets["预算"][1][6] = "明年"
    assert found(tmp_path, sheets) == [("date-invalid", ERROR, "预算!G2"), ("date-invalid", ERROR, "支出明细!B2"),
                                       ("date-invalid", ERROR, "支出明细!B3")]


def test_a_zero_budget(tmp_path):
    sheets = standard_sheets()
    sheets["预算"][2][4] = 0  # P2's 全年预算数
    assert found(tmp_path, sheets) == [("budget-zero", ERROR, "项目!A3")]


def test_empty_required_cells(tmp_path):
    sheets = standard_sheets()
    sheets["项目"][1][2] = "  "
    sheets["支出明细"][3][0] = None
    sheets["文字说明"][2][2] = None
    assert found(tmp_path, sheets) == [("cell-missing", ERROR, "项目!C2"), ("cell-missing", ERROR, "支出明细!A4"),
                                       ("cell-missing", ERROR, "文字说明!C3")]


def test_payments_totalling_below_zero(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"].append(["P2", dt.date(2021, 12, 20), "-1,000.00", None, None, None, "红字冲销"])
    sheets["支出明细"].append(["P2", dt.date(2021, 12, 21), -50.5, None, None, None, "红字冲销"])
    sheets["支出明细"].append(["P1", dt.date(2021, 12, 22), -5, None, None, None, "P1 的冲销，P1 合计仍为正"])
    book = write_workbook(tmp_path / "账.xlsx", sheets)
    [problem] = check(book).problems
    # located at the first reversal of P2 (800 − 1,000 − 50.50 = −250.50), listing every reversal of P2 only
    assert (problem.code, problem.location, problem.value) == ("spending-negative", "支出明细!C5", "-250.50")
    assert "支出明细!C5（-1,000.00 元）、C6（-50.50 元）。" in problem.message and "C7" not in problem.message


def test_spending_above_the_money_received_hints_at_wan(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"][3][2] = 8000
    book = write_workbook(tmp_path / "账.xlsx", sheets)
    problems = check(book).problems
    assert [(p.code, p.severity, p.location) for p in problems] == [("spending-above-received", WARNING, "项目!A3")]
    assert "万元" in problems.items[0].message
    assert len(run(book, tmp_path / "out", now=NOW).reports) == 2  # a warning does not stop the run


def test_payments_outside_the_budget_year(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"][3][1] = "2022/1/5"
    assert found(tmp_path, sheets) == [("date-outside-year", WARNING, "支出明细!B4")]


def test_no_projects_at_all(tmp_path):
    sheets = {name: rows[:1] for name, rows in standard_sheets().items()}
    sheets["项目"].append([None] * 8)
    assert found(tmp_path, sheets) == [("no-projects", ERROR, "项目")]


def test_narrative_sections_unused_and_missing(tmp_path):
    sheets = standard_sheets()
    sheets["文字说明"] = [r for r in sheets["文字说明"] if r[:2] != ["P2", "组织架构"]]
    sheets["文字说明"].append(["P1", "组织架构", "P1 的常规模板没有这一栏。"])
    assert found(tmp_path, sheets) == [("section-unused", WARNING, "文字说明!B15"), ("section-missing", ERROR, "文字说明")]


def test_a_formula_with_no_cached_value(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"][2][2] = "=40000+5000.25"  # openpyxl saves formulas without a result
    sheets["支出明细"].append(["合计", None, "=SUM(C2:C4)", None, None, None, None])
    book = write_workbook(tmp_path / "账.xlsx", sheets)
    problems = check(book).problems
    assert [(p.code, p.severity, p.location, p.value) for p in problems] == [
        ("formula-no-value", ERROR, "支出明细!C3", "=40000+5000.25"),
        ("formula-no-value", WARNING, "支出明细!C5", "=SUM(C2:C4)"),  # a total is not data: only not checked
    ]
    assert all("打开并保存" in p.message and "WPS" in p.message for p in problems)


def test_a_row_of_formulas_with_no_values_is_not_skipped_as_blank(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"].append(["=A4", "=B4", "=C4", None, None, None, None])
    locations = [(p.code, p.location) for p in check(write_workbook(tmp_path / "账.xlsx", sheets)).problems]
    assert locations == [("formula-no-value", f"支出明细!{c}5") for c in "ABC"]


def test_a_column_named_twice_is_a_warning(tmp_path):
    sheets = standard_sheets()
    for row in sheets["支出明细"]:
        row.append("金额" if row[0] == "项目编号" else 1)
    assert found(tmp_path, sheets) == [("column-duplicate", WARNING, "支出明细!H1")]


# --------------------------------------------------------------------------- all at once

def test_every_problem_is_reported_in_one_run_and_written_to_a_csv_excel_reads(tmp_path):
    sheets = standard_sheets()
    sheets["项目"][2][1] = None                               # 项目!B3 empty
    sheets["项目"][2][4] = "二〇二一"                          # 项目!E3 not an integer
    sheets["预算"][1][2] = "十万"                              # 预算!C2 not a number
    sheets["预算"].append(["P9", None, 1, 1, 1, 1, None])     # 预算!A4 unknown project
    sheets["支出明细"][1][1] = "2021-02-30"                   # 支出明细!B2 impossible date
    sheets["支出明细"][2][2] = "=1+1"                          # 支出明细!C3 formula, no value
    sheets["支出明细"][2][1] = dt.date(2020, 12, 31)           # 支出明细!B3 outside the year (warning)
    book = write_workbook(tmp_path / "账.xlsx", sheets)
    before = book.read_bytes()

    with pytest.raises(WorkbookError) as caught:
        run(book, tmp_path / "out", now=NOW)
    expected = [
        ("cell-missing", ERROR, "项目!B3"), ("integer-invalid", ERROR, "项目!E3"),
        ("amount-invalid", ERROR, "预算!C2"), ("date-invalid", ERROR, "支出明细!B2"),
        ("formula-no-value", ERROR, "支出明细!C3"), ("project-unknown", ERROR, "预算!A4"),
        ("date-outside-year", WARNING, "支出明细!B3"),
    ]
    problems = caught.value.problems
    assert [(p.code, p.severity, p.location) for p in problems] == expected
    assert book.read_bytes() == before and not list((tmp_path / "out").glob("*.docx"))

    problems_file = tmp_path / "out" / PROBLEMS_FILE
    assert caught.value.problems_file == problems_file
    assert problems_file.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to show Chinese
    with open(problems_file, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["级别", "代码", "工作表", "单元格", "内容", "说明"]
    assert [(r[1], r[0], f"{r[2]}!{r[3]}") for r in rows[1:]] == expected
    formula_row = next(r for r in rows if r[1] == "formula-no-value")
    assert formula_row[4] == "'=1+1"  # never a live formula when Excel opens the CSV
    assert all(r[5] and any("\u4e00" <= ch <= "\u9fff" for ch in r[5]) for r in rows[1:])


def test_every_message_says_where_and_how(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"][1][2] = "三千"
    sheets["支出明细"][2][1] = "2021-02-30"
    sheets["项目"][1][1] = None
    for problem in check(write_workbook(tmp_path / "账.xlsx", sheets)).problems:
        assert problem.sheet and problem.cell
        assert "请" in problem.message  # says what to do


# --------------------------------------------------------------------------- the command line

def test_check_exits_1_on_errors_0_on_warnings_only(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"][3][1] = "2022/1/5"
    result = invoke("check", write_workbook(tmp_path / "warn.xlsx", sheets))
    assert result.exit_code == 0 and "支出明细!B4" in result.output and "[警告]" in result.output
    sheets["支出明细"][3][2] = "三千"
    result = invoke("check", write_workbook(tmp_path / "bad.xlsx", sheets))
    assert result.exit_code == 1 and "[错误] 支出明细!C4" in result.output
    assert not (tmp_path / "out").exists()  # check writes nothing


def test_run_with_errors_exits_1_and_names_the_problems_file(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"][3][2] = "三千"
    result = invoke("run", write_workbook(tmp_path / "账.xlsx", sheets), "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert str(tmp_path / "out" / PROBLEMS_FILE) in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name, content, words", [
    ("没有.xlsx", None, "找不到文件"),
    ("旧.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "另存为"),
    ("加密.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "密码"),
    ("文本.xlsx", "项目编号,金额\nP1,100\n".encode(), "不是 Excel 工作簿"),
    ("空.xlsx", b"", "不是 Excel 工作簿"),
    ("文档.xlsx", None, "已损坏"),  # a zip, but a Word document
])
def test_files_that_are_not_workbooks_exit_2_without_traceback(tmp_path, name, content, words):
    path = tmp_path / name
    if name == "文档.xlsx":
        docx.Document().save(str(path))
    elif content is not None:
        path.write_bytes(content)
    for command in (["check", path], ["run", path, "-o", tmp_path / "out"]):
        result = invoke(*command)
        assert result.exit_code == 2, result.output
        assert words in result.output and "Traceback" not in result.output
    assert "Traceback" in invoke("check", path, "--debug").output  # only with --debug


def test_a_read_only_workbook_gets_its_summary_beside_the_reports(tmp_path):
    book = write_workbook(tmp_path / "账.xlsx", standard_sheets())
    before = book.read_bytes()
    book.chmod(0o444)
    try:
        result = invoke("run", book, "-o", tmp_path / "out")
    finally:
        book.chmod(0o644)
    assert result.exit_code == 0, result.output
    assert "工作簿是只读文件" in result.output and str(tmp_path / "out" / "账_汇总.xlsx") in result.output
    assert book.read_bytes() == before


# --------------------------------------------------------------------------- safety

BOMB = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                   for i in range(1, 10))
        + b"]>\n")


def xlsxwriter_workbook(path: Path, sheets: dict) -> Path:
    """The sheets written by xlsxwriter, which (unlike openpyxl) keeps text in xl/sharedStrings.xml as Excel does."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date)
                elif value is not None:
                    ws.write(r, c, value)
    book.close()
    return path


def plant_bomb(book: Path, part: str) -> Path:
    """Put a billion-laughs DTD into `part` of the workbook, using its last entity in the first cell text."""
    bombed = book.with_name(f"炸弹_{part.replace('/', '_')}.xlsx")
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(bombed, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == part:
                body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
                body = body.replace(b"<t>P1</t>", b"<t>&lol9;</t>", 1)
                data = BOMB + body
            dst.writestr(info, data)
    return bombed


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_an_xml_bomb_is_refused_quickly(tmp_path, part):
    book = xlsxwriter_workbook(tmp_path / "账.xlsx", standard_sheets())
    assert part in zipfile.ZipFile(book).namelist() and not check(book).problems.items
    bombed = plant_bomb(book, part)
    faulthandler.dump_traceback_later(60, exit=True)  # a bomb that went off would hang the suite, not fail it
    try:
        result = invoke("check", bombed)
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert result.exit_code == 2 and "不安全" in result.output and "Traceback" not in result.output


def test_a_dtd_hidden_past_the_prolog_scan_is_still_refused(tmp_path):
    """Padding before the DTD defeats the quick scan; openpyxl's defusedxml parser refuses it then."""
    book = xlsxwriter_workbook(tmp_path / "账.xlsx", standard_sheets())
    bombed = tmp_path / "padded.xlsx"
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(bombed, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/sharedStrings.xml":
                data = b"<!--" + b" " * 70_000 + b"-->" + BOMB.split(b"?>", 1)[1] + data.split(b"?>", 1)[-1]
            dst.writestr(info, data)
    result = invoke("check", bombed)
    assert result.exit_code == 2 and "不安全" in result.output


def test_narrative_with_markup_and_control_characters_renders_as_written(tmp_path):
    sheets = standard_sheets()
    # Excel keeps a control character in a cell as _x0001_; openpyxl reads it back as the character
    sheets["文字说明"][1][2] = "A&B <c> \"d\" 'e' _x0001__x000B_结束。"
    book = write_workbook(tmp_path / "账.xlsx", sheets)
    texts = openpyxl.load_workbook(book)
    texts["项目"]["B2"].value = "=1+1 专项"  # text that looks like a formula, as typed after a '
    texts["项目"]["B2"].data_type = "s"
    texts["项目"]["C3"].value = "@某局"
    texts.save(book)
    assert check(book).problems.items == []

    result = run(book, tmp_path / "out", now=NOW)
    text = "\n".join(p.text for p in docx.Document(str(result.reports[0])).paragraphs)
    assert "A&B <c> \"d\" 'e' 结束" in text
    summary = openpyxl.load_workbook(book)["汇总"]
    assert summary["B3"].value == "=1+1 专项" and summary["B3"].data_type == "s"
    assert summary["C4"].value == "@某局" and summary["C4"].data_type == "s"


# --------------------------------------------------------------------------- finding formulas with no value

MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@pytest.mark.parametrize("cells, expected", [
    ('<c r="A1"><f>SUM(B1:B2)</f><v>3</v></c>', {}),                               # Excel: cached
    ('<c r="A1"><f>SUM(B1:B2)</f></c>', {(1, 1): "=SUM(B1:B2)"}),                   # no <v>
    ('<c r="A1"><f>SUM(B1:B2)</f><v></v></c>', {(1, 1): "=SUM(B1:B2)"}),            # openpyxl
    ('<c r="A1" t="str"><f>IF(B1,"x","")</f><v></v></c>', {}),                      # an empty text result
    ('<c r="C1" t="str"><f>"a"&amp;"b"</f><v>ab</v></c><c r="D1"><f>"&lt;"&amp;B1</f><v/></c>',
     {(1, 4): '="<"&B1'}),
    ('<c r="A1"><f t="shared" ref="A1:A2" si="0">B1*2</f><v>2</v></c></row><row r="2">'
     '<c r="A2"><f t="shared" si="0"/></c>', {(2, 1): ""}),                          # a shared formula's follower
    ('<c r="AB7" s="1" t="n"><f aca="false">1+1</f></c>', {(7, 28): "=1+1"}),
    ('<c><f>1+1</f><v>2</v></c><c><f>2+2</f></c>', {(1, 2): "=2+2"}),               # no r="…": parsed
])
def test_formula_cells_with_no_cached_value_are_found(cells, expected):
    from excel_eval.reading.facts import _parse_sheet, _scan_sheet

    for prefix in ("", "x:"):
        xml = f'<?xml version="1.0"?><worksheet {MAIN}><sheetData><row r="1">{cells}</row></sheetData>' \
              '<extLst><ext><x14:dataValidation xmlns:x14="x"><xm:f xmlns:xm="m">选项!A1</xm:f></x14:dataValidation>' \
              '</ext></extLst></worksheet>'
        if prefix:
            xml = xml.replace(MAIN, MAIN.replace("xmlns=", "xmlns:x="))
            xml = re.sub(r"<(/?)(worksheet|sheetData|row|c|f|v|extLst|ext)\b", rf"<\1{prefix}\2", xml)
        data = xml.encode()
        assert _scan_sheet(data) == expected, prefix
        assert _parse_sheet(data)[0] == expected, prefix
