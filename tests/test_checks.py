"""Rules within and across sheets: every problem located, all at once."""

import datetime as dt

from excel_eval.checks import validate
from excel_eval.problems import Problems
from excel_eval.render import load_templates
from excel_eval.reading import read_workbook

from workbooks import standard_sheets, write_workbook


def check(tmp_path, sheets):
    problems = Problems()
    data = read_workbook(write_workbook(tmp_path / "b.xlsx", sheets), problems)
    validate(data, load_templates(), problems)
    return problems


def test_the_standard_workbook_is_clean(tmp_path):
    assert check(tmp_path, standard_sheets()).items == []


def test_duplicate_and_unknown_project_numbers(tmp_path):
    sheets = standard_sheets()
    sheets["项目"].append(list(sheets["项目"][1]))
    sheets["支出明细"].append(["P9", dt.date(2021, 1, 1), 1, None, None, None, None])
    problems = check(tmp_path, sheets)
    assert [(p.code, p.location) for p in problems] == [
        ("project-duplicate", "项目!A4"), ("project-unknown", "支出明细!A5")]
    assert "项目!A2" not in problems.items[0].location and "A2" in problems.items[0].message


def test_zero_budget_negative_spending_and_spending_above_received(tmp_path):
    sheets = standard_sheets()
    sheets["预算"][1][3] = 0  # P1 批复数 0 and 全年预算数 blank
    sheets["支出明细"][3][2] = -900  # P2 total below zero
    problems = check(tmp_path, sheets)
    assert sorted(problems.codes()) == ["budget-zero", "spending-negative"]

    sheets = standard_sheets()
    sheets["支出明细"][3][2] = 8000  # P2 spends 8000 of 800 received
    problems = check(tmp_path, sheets)
    assert problems.codes() == ["spending-above-received"]
    assert problems.items[0].severity == "警告" and "万元" in problems.items[0].message


def test_payments_outside_the_budget_year_are_warnings(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"][1][1] = dt.date(2022, 1, 3)
    problems = check(tmp_path, sheets)
    assert [(p.code, p.severity, p.location) for p in problems] == [("date-outside-year", "警告", "支出明细!B2")]


def test_sections_unused_and_missing(tmp_path):
    sheets = standard_sheets()
    sheets["文字说明"] = [row for row in sheets["文字说明"] if row[:2] != ["P1", "职能"]]
    sheets["文字说明"].append(["P2", "不存在的栏目", "文字"])
    problems = check(tmp_path, sheets)
    codes = {(p.code, p.severity) for p in problems}
    assert codes == {("section-missing", "错误"), ("section-unused", "警告")}
    assert any("职能" in p.message and "P1" in p.message for p in problems)


def test_no_projects_and_unknown_template_and_type(tmp_path):
    sheets = standard_sheets()
    sheets["项目"] = sheets["项目"][:1]
    sheets["预算"] = sheets["预算"][:1]
    sheets["支出明细"] = sheets["支出明细"][:1]
    sheets["文字说明"] = sheets["文字说明"][:1]
    assert check(tmp_path, sheets).codes() == ["no-projects"]

    sheets = standard_sheets()
    sheets["项目"][1][6] = "没有这个模板"
    sheets["项目"][2][5] = "临时"
    codes = check(tmp_path, sheets).codes()
    assert "template-unknown" in codes and "project-type-invalid" in codes


def test_the_scorecard_form_is_not_a_report_template(tmp_path):
    sheets = standard_sheets()
    sheets["项目"][1][6] = "绩效自评表"
    problems = check(tmp_path, sheets)
    assert problems.codes() == ["template-unknown"]
    assert "标准报告" in problems.items[0].message and "绩效自评表" not in problems.items[0].message.split("可用")[1]
