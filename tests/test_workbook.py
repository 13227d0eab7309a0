"""Reading the standard workbook: headers, units, totals rows, row numbers."""

import datetime as dt

import pytest

from excel_eval.problems import Problems, UsageError
from excel_eval.schema import BUDGET, DISBURSEMENTS, PROJECTS
from excel_eval.reading import ROW, read_workbook

from workbooks import standard_sheets, write_workbook


def read(path):
    problems = Problems()
    return read_workbook(path, problems), problems


def test_reads_the_standard_workbook_exactly(tmp_path):
    data, problems = read(write_workbook(tmp_path / "b.xlsx", standard_sheets()))
    assert not problems.items
    projects = data.get(PROJECTS).frame
    assert list(projects["项目编号"]) == ["P1", "P2"]
    assert list(projects[ROW]) == [2, 3]
    assert projects["报告日期"][0] == dt.date(2022, 5, 10)
    ledger = data.get(DISBURSEMENTS).frame
    assert list(ledger["金额"]) == [5000025, 4500025, 80000]  # fen, exact
    assert data.get(DISBURSEMENTS).cell("金额", 4) == "C4"


def test_header_below_title_rows_and_unit_line_in_wan(tmp_path):
    sheets = standard_sheets()
    sheets["预算"] = [["项目编号", "资金来源", "申报数", "批复数", "全年预算数", "到位数"],
                    ["P1", "区本级资金", 10, "10", None, " 10.000000 "],
                    ["P2", "区级资金", 0.08, 0.08, 0.08, "0.012345"]]
    before = {"预算": [["2021年度项目预算表"], [None], ["单位：万元"]]}
    data, problems = read(write_workbook(tmp_path / "b.xlsx", sheets, before=before))
    assert not problems.items
    table = data.get(BUDGET)
    assert table.units["申报数"] == "万元"
    assert list(table.frame["申报数"]) == [10000000, 80000]
    assert table.frame["到位数"][1] == 12345  # 0.012345万元 = 123.45元
    assert list(table.frame[ROW]) == [5, 6]


def test_units_in_headers_win_over_the_default(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"][0][2] = "金额(万元)"
    sheets["支出明细"][1][2] = "5.000025"
    sheets["支出明细"][2][2] = "4.500025"
    sheets["支出明细"][3][2] = "0.08"
    data, problems = read(write_workbook(tmp_path / "b.xlsx", sheets))
    assert not problems.items
    assert list(data.get(DISBURSEMENTS).frame["金额"]) == [5000025, 4500025, 80000]


def test_totals_rows_are_not_data_and_are_checked(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"].append(["合计", None, 95800.5, None, None, None, None])
    sheets["支出明细"].append([" 总 计 ", None, 1, None, None, None, None])
    data, problems = read(write_workbook(tmp_path / "b.xlsx", sheets))
    assert len(data.get(DISBURSEMENTS).frame) == 3
    assert problems.codes() == ["total-mismatch"]
    assert problems.items[0].cell == "C6"


def test_blank_rows_are_skipped_and_row_numbers_kept(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"].insert(2, [None] * 7)
    data, problems = read(write_workbook(tmp_path / "b.xlsx", sheets))
    assert not problems.items
    assert list(data.get(DISBURSEMENTS).frame[ROW]) == [2, 4, 5]


def test_english_aliases_for_sheets_and_headers(tmp_path):
    sheets = standard_sheets()
    sheets["projects"] = sheets.pop("项目")
    sheets["projects"][0] = ["project_id", "project_name", "unit_name", "unit_short_name", "year", "project_type",
                             "template", "report_date"]
    data, problems = read(write_workbook(tmp_path / "b.xlsx", sheets))
    assert not problems.items
    assert data.get(PROJECTS).title == "projects"
    assert list(data.get(PROJECTS).frame["项目名称"]) == ["测试专项经费", "软件维护费"]


def test_bad_cells_are_located_problems(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"][2][2] = "三千"
    sheets["支出明细"][3][1] = "2021-02-30"
    sheets["项目"][1][1] = None
    data, problems = read(write_workbook(tmp_path / "b.xlsx", sheets))
    found = {(p.code, p.location) for p in problems}
    assert found == {("amount-invalid", "支出明细!C3"), ("date-invalid", "支出明细!B4"), ("cell-missing", "项目!B2")}
    assert all(p.severity == "错误" for p in problems)
    assert "三千" in next(p.message for p in problems if p.code == "amount-invalid")


def test_missing_sheet_and_column(tmp_path):
    sheets = standard_sheets()
    del sheets["文字说明"]
    sheets["预算"] = [row[:5] + row[6:] for row in sheets["预算"]]  # drop 到位数
    data, problems = read(write_workbook(tmp_path / "b.xlsx", sheets))
    assert sorted(problems.codes()) == ["column-missing", "sheet-missing"]
    assert any("到位数" in p.message for p in problems)


def test_project_number_typed_as_a_number_is_text(tmp_path):
    sheets = standard_sheets()
    sheets["项目"][1][0] = 1
    data, _ = read(write_workbook(tmp_path / "b.xlsx", sheets))
    assert data.get(PROJECTS).frame["项目编号"][0] == "1"


def test_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="找不到文件"):
        read(tmp_path / "nope.xlsx")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(UsageError, match="另存为"):
        read(tmp_path / "old.xls")
    (tmp_path / "text.xlsx").write_text("not a workbook")
    with pytest.raises(UsageError, match="不是 Excel 工作簿"):
        read(tmp_path / "text.xlsx")


def test_calamine_and_openpyxl_read_the_sample_alike():
    from excel_eval.resources import sample_workbook
    from workbooks import read_with_both_engines

    tables, problems = read_with_both_engines(sample_workbook())
    assert problems == [] and len(tables["支出明细"][1]) > 50
