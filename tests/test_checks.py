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


# ------------------------------------------------------------------------------- reviewer's warnings

def _spend(sheets, pid, *amounts):
    """Replace the project's ledger rows with one row per amount (元)."""
    sheets["支出明细"] = [r for r in sheets["支出明细"] if r[0] != pid] + [
        [pid, dt.date(2021, 6, 1), amount, "劳务费", None, None, None] for amount in amounts]


def test_execution_below_90_percent_without_a_reason_is_a_warning(tmp_path):
    sheets = standard_sheets()
    _spend(sheets, "P1", 79000)  # of 100,000.00
    problems = check(tmp_path, sheets)
    assert [(p.code, p.severity, p.location) for p in problems] == [("deviation-reason-missing", "警告", "项目!A2")]
    message = problems.items[0].message
    assert "执行率为79%" in message and "偏差原因" in message and "文字说明" in message

    sheets["文字说明"].append(["P1", "偏差原因", "合同尾款次年支付。"])
    assert check(tmp_path, sheets).items == []


def test_the_90_percent_line_is_exact(tmp_path):
    sheets = standard_sheets()
    _spend(sheets, "P1", 90000)  # exactly 90%: 与预算略有不符, no warning
    assert check(tmp_path, sheets).items == []
    _spend(sheets, "P1", 89995)  # 89.995%: below
    problems = check(tmp_path, sheets)
    assert problems.codes() == ["deviation-reason-missing"] and "执行率为89.99%" in problems.items[0].message


def test_no_spending_with_defaults_that_praise_the_use_of_money(tmp_path):
    sheets = standard_sheets()
    _spend(sheets, "P1")
    _spend(sheets, "P2")
    problems = check(tmp_path, sheets)
    found = [(p.code, p.location, p.message.split("栏目“")[1].split("”")[0] if "栏目“" in p.message else None)
             for p in problems]
    assert found == [
        ("deviation-reason-missing", "项目!A2", None),
        ("praise-without-spending", "项目!A2", "评价结论"),
        ("deviation-reason-missing", "项目!A3", None),
        ("praise-without-spending", "项目!A3", "资金使用"),
        ("praise-without-spending", "项目!A3", "项目监管"),
        ("praise-without-spending", "项目!A3", "评价结论"),
    ]
    assert "“经费开支按用途使用合理”" in problems.items[1].message and "支出数为 0" in problems.items[1].message
    assert "“支付进度、支付依据等合规合法”" in problems.items[3].message

    sheets["文字说明"] += [["P1", "评价结论", "项目因故未实施。"], ["P1", "偏差原因", "项目因故未实施。"]]
    assert [p.location for p in check(tmp_path, sheets)][:1] == ["项目!A3"]  # P1 is clean now


def test_a_reason_for_spending_equal_to_the_budget_is_not_written(tmp_path):
    sheets = standard_sheets()
    sheets["文字说明"].append(["P2", "偏差原因", "无偏差。"])
    row = len(sheets["文字说明"])
    problems = check(tmp_path, sheets)
    assert [(p.code, p.location) for p in problems] == [("deviation-reason-unused", f"文字说明!C{row}")]


def test_reviewer_warnings_wait_for_figures_with_errors(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"][1][0] = None  # a payment that belongs to no project: the totals are not known
    _spend(sheets, "P2")
    assert "deviation-reason-missing" not in check(tmp_path, sheets).codes()


def test_praise_of_use_in_default_texts():
    from excel_eval.checks import praise_of_use

    assert praise_of_use("一是执行预算制度到位;二是资金监管到位。经费开支按用途使用合理，做到专账专管") == "经费开支按用途使用合理"
    assert praise_of_use("确保项目资金使用合理、合规、合法，保障资金安全性") == "确保项目资金使用合理、合规、合法"
    assert praise_of_use("{{ 单位简称 }}财务管理制度健全，严格执行财务管理制度，账务处理及时，会计核算规范。") is None
    assert praise_of_use("保障资金落实到位，专款专用，保障项目的顺利开展。") is None
    assert praise_of_use("评价申报内容与实际相符，申报目标合理可行。") is None
