"""支出明细 as a ledger export (excel_eval/reading/ledger.py): each rule and each message.

The workbooks are tests/workbooks.standard_sheets() (P1 测试专项经费: 50,000.25 + 45,000.25 元; P2 软件维护费: 800 元;
both 2021) with 支出明细 written as finance software exports it, by XlsxWriter unless said otherwise. Expected
tables and messages are written out by hand.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path

import openpyxl
import pytest
from loguru import logger

from excel_eval.pipeline import check
from excel_eval.problems import Problems
from excel_eval.reading import read_workbook
from excel_eval.reading.ledger import auxiliary_items
from ledger_workbooks import write_sheets
from workbooks import read_with_both_engines, standard_sheets

D = dt.date
GROUPS = ["A3:B3", "C3:D3"] + [f"{c}3:{c}4" for c in "EFGHIJ"]


def three_column() -> list[list]:
    """P1's two payments and P2's, as a 三栏式明细账 of 7201 事业支出, with a 500 元 reversal in June."""
    return [
        ["明细账"],
        ["科目：7201 事业支出", None, None, None, None, None, None, None, "单位：元"],
        ["2021年", None, "凭证", None, "摘要", "借方", "贷方", "借或贷", "余额", "项目"],
        ["月", "日", "字", "号"],
        [1, 1, None, None, "期初余额", None, None, "平", 0],
        [3, 5, "记", "03-001", "劳务", 50000.25, None, "借", 50000.25, "测试专项经费"],
        [3, 31, None, None, "本月合计", 50000.25, 0, "借", 50000.25],
        [3, 31, None, None, "本年累计", 50000.25, 0, "借", 50000.25],
        [6, 5, "记", "06-001", "差旅", 45500.25, None, "借", 95500.50, "测试专项经费"],
        [6, 20, "记", "06-009", "冲销多报差旅费", None, 500, "借", 95000.50, "测试专项经费"],
        [6, 30, None, None, "本月合计", 45500.25, 500, "借", 95000.50],
        [6, 30, None, None, "本年累计", 95500.50, 500, "借", 95000.50],
        [12, 16, "记", "12-001", "软件维护", 800, None, "借", 95800.50, "软件维护费"],
        [12, 31, None, None, "本月合计", 800, 0, "借", 95800.50],
        [12, 31, None, None, "本年累计", 96300.50, 500, "借", 95800.50],
        [12, 31, None, None, "结转下年", None, None, "借", 95800.50],
    ]


THREE_COLUMN_RECORDS = [
    {"项目编号": "P1", "支付日期": D(2021, 3, 5), "金额": 5000025, "支出类别": None, "资金来源": None,
     "凭证号": "记-03-001", "摘要": "劳务", "_row": 6},
    {"项目编号": "P1", "支付日期": D(2021, 6, 5), "金额": 4550025, "支出类别": None, "资金来源": None,
     "凭证号": "记-06-001", "摘要": "差旅", "_row": 9},
    {"项目编号": "P1", "支付日期": D(2021, 6, 20), "金额": -50000, "支出类别": None, "资金来源": None,
     "凭证号": "记-06-009", "摘要": "冲销多报差旅费", "_row": 10},
    {"项目编号": "P2", "支付日期": D(2021, 12, 16), "金额": 80000, "支出类别": None, "资金来源": None,
     "凭证号": "记-12-001", "摘要": "软件维护", "_row": 13},
]


def ledger_book(tmp_path, rows: list[list], merges: list[str] = (), **sheets) -> str:
    all_sheets = standard_sheets()
    all_sheets["支出明细"] = rows
    all_sheets.update(sheets)
    return write_sheets(tmp_path / "账.xlsx", all_sheets, {"支出明细": list(merges)})


def read(path):
    problems = Problems()
    table = read_workbook(path, problems).tables.get("支出明细")
    return table, [str(p) for p in problems]


def records(table) -> list[dict]:
    return table.frame.to_dict("records")


# --------------------------------------------------------------------------------------------- layouts


def test_a_three_column_ledger_with_merged_two_row_headers(tmp_path):
    book = ledger_book(tmp_path, three_column(), ["A1:J1"] + GROUPS)
    tables, problems = read_with_both_engines(book)
    title, got, letters, units = tables["支出明细"]
    assert got == THREE_COLUMN_RECORDS and problems == []
    assert letters == {"项目编号": "J", "支付日期": "A", "金额": "F", "凭证号": "D", "摘要": "E"} and units == {"金额": "元"}
    assert not check(book).problems.items  # P1 spends 95,000.50 and P2 800 元, as in the standard workbook


def test_the_same_ledger_saved_by_openpyxl_with_its_merges(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"] = three_column()
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
    for cells in ["A1:J1"] + GROUPS:
        book["支出明细"].merge_cells(cells)
    book.save(tmp_path / "账.xlsx")
    table, problems = read(tmp_path / "账.xlsx")
    assert records(table) == THREE_COLUMN_RECORDS and problems == []


def test_group_cells_without_merges_cover_the_sub_headers_to_their_right(tmp_path):
    """A two-row header typed without merging: 2021年 in A3 over 月 | 日, 凭证 in C3 over 字 | 号."""
    table, problems = read(ledger_book(tmp_path, three_column()))
    assert records(table) == THREE_COLUMN_RECORDS and problems == []


def test_a_yonyou_export_with_accounts_dates_vouchers_and_an_auxiliary_cell(tmp_path):
    rows = [
        ["事业支出明细账"],
        ["科目", "日期", "凭证号", "摘要", "借方", "贷方", "余额", "辅助核算"],
        ["7201 事业支出", D(2021, 1, 1), None, "期初余额", None, None, 0],
        ["7201 事业支出", D(2021, 3, 5), "记-0001", "劳务", 50000.25, None, 50000.25,
         "部门：办公室；项目：测试专项经费；经济分类：劳务费；资金来源：区本级资金"],
        ["7201 事业支出", D(2021, 6, 5), "记-0002", "差旅", 45000.25, None, 95000.50, "项目：[P1]测试专项经费"],
        ["7201 事业支出", D(2021, 12, 16), "记-0003", "软件维护", 800, None, 95800.50, "[P2]软件维护费"],
        [None, None, None, "合计", 95800.50, 0, 95800.50],
    ]
    table, problems = read(ledger_book(tmp_path, rows))
    assert [(r["项目编号"], r["支付日期"], r["金额"], r["支出类别"], r["资金来源"], r["凭证号"], r["_row"])
            for r in records(table)] == [("P1", D(2021, 3, 5), 5000025, "劳务费", "区本级资金", "记-0001", 4),
                                         ("P1", D(2021, 6, 5), 4500025, None, None, "记-0002", 5),
                                         ("P2", D(2021, 12, 16), 80000, None, None, "记-0003", 6)]
    assert problems == []


def test_a_kingdee_export_with_the_project_in_an_auxiliary_dimension(tmp_path):
    header = ["日期", "凭证字号", "摘要", "科目", "科目名称", "方向", "借方金额", "贷方金额", "核算项目1", "名称1",
              "核算项目2", "名称2", "核算项目3", "名称3"]
    rows = [header,
            [D(2021, 3, 5), "记-1", "劳务", "7201", "事业支出", "借", 50000.25, None, "部门", "办公室", "项目",
             "测试专项经费", "支出经济分类", "劳务费"],
            [D(2021, 6, 5), "记-2", "差旅", "7201", "事业支出", "借", 45000.25, None, "项目", "P1"],
            [D(2021, 12, 16), "记-3", "软件维护", "7201", "事业支出", "借", 800, None, "项目", "软件维护费"]]
    table, problems = read(ledger_book(tmp_path, rows))
    assert [(r["项目编号"], r["金额"], r["支出类别"], r["凭证号"]) for r in records(table)] == [
        ("P1", 5000025, "劳务费", "记-1"), ("P1", 4500025, None, "记-2"), ("P2", 80000, None, "记-3")]
    assert table.letters["项目编号"] == "J" and problems == []


def test_an_nc_journal_keeps_the_budget_accounts_of_parallel_entries(tmp_path):
    """政府会计制度 books each payment twice (5001 业务活动费用 and 7201 事业支出); only 7201 counts, and each account
    left out is a warning naming its rows."""
    rows = [["序时账"],
            ["日期", "凭证号", "摘要", "科目代码", "科目名称", "借方金额", "贷方金额", "项目－名称"]]
    for day, voucher, memo, amount, project in ((D(2021, 3, 5), "记-1", "劳务", 50000.25, "测试专项经费"),
                                                (D(2021, 6, 5), "记-2", "差旅", 45000.25, "测试专项经费"),
                                                (D(2021, 12, 16), "记-3", "软件维护", 800, "软件维护费")):
        text = day.isoformat()
        rows += [[text, voucher, memo, "5001", "业务活动费用", amount, None, project],
                 [text, voucher, memo, "1011", "零余额账户用款额度", None, amount],
                 [text, voucher, memo, "7201", "事业支出", amount, None, project],
                 [text, voucher, memo, "8101", "资金结存", None, amount]]
    table, problems = read(ledger_book(tmp_path, rows))
    assert [(r["项目编号"], r["支付日期"], r["金额"], r["_row"]) for r in records(table)] == [
        ("P1", D(2021, 3, 5), 5000025, 5), ("P1", D(2021, 6, 5), 4500025, 9), ("P2", D(2021, 12, 16), 80000, 13)]
    kept = "本表只计入支出科目（7 开头，如 7101 行政支出、7201 事业支出）的行。如果这不对，请只粘贴支出科目的明细账。"
    assert problems == [
        f"[警告] 支出明细!D3：科目“5001 业务活动费用”的 3 行不是支出，未计入：D3、D7、D11。{kept}",
        f"[警告] 支出明细!D4：科目“1011 零余额账户用款额度”的 3 行不是支出，未计入：D4、D8、D12。{kept}",
        f"[警告] 支出明细!D6：科目“8101 资金结存”的 3 行不是支出，未计入：D6、D10、D14。{kept}",
    ]


def test_without_budget_accounts_the_expense_accounts_are_kept(tmp_path):
    rows = [["日期", "科目", "摘要", "借方", "贷方", "项目"],
            [D(2021, 3, 5), "5001 业务活动费用", "劳务", 50000.25, None, "P1"],
            [D(2021, 3, 5), "1011 零余额账户用款额度", "劳务", None, 50000.25],
            [D(2021, 12, 16), "单位管理费用", "软件维护", 800, None, "P2"]]
    table, problems = read(ledger_book(tmp_path, rows))
    assert [(r["项目编号"], r["金额"]) for r in records(table)] == [("P1", 5000025), ("P2", 80000)]
    assert problems == ["[警告] 支出明细!B3：科目“1011 零余额账户用款额度”的 1 行不是支出，未计入：B3。本表只计入"
                        "费用科目（5 开头，如 5001 业务活动费用），表中没有支出科目的行。如果这不对，请只粘贴支出科目的明细账。"]


def test_old_systems_expense_accounts_named_zhichu_are_spending(tmp_path):
    """事业单位会计制度 (before 2019) numbered 事业支出 5001: a …支出 name counts as 支出 whatever the code."""
    rows = [["日期", "科目", "摘要", "借方", "项目"],
            [D(2021, 3, 5), "5001 事业支出", "劳务", 95000.50, "P1"],
            [D(2021, 3, 5), "5001 业务活动费用", "劳务", 95000.50, "P1"],
            [D(2021, 12, 16), "经费支出", "软件维护", 800, "P2"]]
    table, problems = read(ledger_book(tmp_path, rows))
    assert [(r["项目编号"], r["金额"]) for r in records(table)] == [("P1", 9500050), ("P2", 80000)]
    assert [p.split("：")[0] for p in problems] == ["[警告] 支出明细!B3"]


# --------------------------------------------------------------------------------------------- amounts


def test_one_amount_column_with_a_direction(tmp_path):
    rows = [["日期", "摘要", "方向", "金额（万元）", "项目名称"],
            [D(2021, 3, 5), "劳务", "借", 5.000025, "测试专项经费"],
            [D(2021, 6, 5), "差旅", "借方", 4.550025, "测试专项经费"],
            [D(2021, 6, 20), "冲销", "贷", 0.05, "测试专项经费"],
            [D(2021, 7, 1), "退回", "平", 0.01, "测试专项经费"]]
    table, problems = read(ledger_book(tmp_path, rows, ))
    assert [r["金额"] for r in records(table)] == [5000025, 4550025, -500000 // 10, None]
    assert problems == ["[错误] 支出明细!C5：“方向”是“平”，应为“借”或“贷”，无法判断这笔金额是支出（借）还是冲销（贷）。"
                        "请填写“借”或“贷”。"]


def test_in_a_three_column_ledger_jie_huo_dai_is_the_balances_direction_and_not_read(tmp_path):
    rows = three_column()
    rows[8][7] = "贷"  # the balance's direction, whatever it says, does not sign the 借方
    table, _ = read(ledger_book(tmp_path, rows))
    assert records(table)[1]["金额"] == 4550025


def test_a_row_with_neither_debit_nor_credit_and_bad_cells_at_their_own_letters(tmp_path):
    rows = three_column()
    rows[5][5] = None  # 借方 of 3月5日 blank, 贷方 blank
    rows[8][5] = "四万五"  # 借方 unreadable
    rows[9][6] = "#REF!"  # 贷方 unreadable
    table, problems = read(ledger_book(tmp_path, rows, ["A1:J1"] + GROUPS))
    assert [p for p in problems if p.startswith("[错误]")] == [
        "[错误] 支出明细!F6：这一行的“借方”和“贷方”都是空的，不是一笔支出。请填写借方（支出）或贷方（冲销）金额，或删除这一行。",
        "[错误] 支出明细!F9：“借方”：“四万五”不是数字，请填写阿拉伯数字，如 3000。",
        "[错误] 支出明细!G10：“贷方”：单元格显示 Excel 错误“#REF!”，说明公式有误，请修正公式或直接填写数字。",
    ]
    assert [r["金额"] for r in records(table)] == [None, None, None, 80000]


def test_a_credit_row_is_located_at_its_credit_cell(tmp_path):
    """checks.py lists reversal rows by the table's 金额 cell: for a credit that is the 贷方 cell."""
    rows = three_column()
    rows[9][6] = 96000  # the reversal now exceeds P1's payments
    problems = check(ledger_book(tmp_path, rows)).problems
    negative = next(p for p in problems if p.code == "spending-negative")
    assert negative.cell == "G10" and "支出明细!G10（-96,000.00 元）" in negative.message


def test_a_unit_line_above_the_header_applies_to_debit_and_credit(tmp_path):
    rows = three_column()
    rows[1][8] = "单位：万元"
    for row in rows[5:]:
        row[5:7] = [v / 10000 if isinstance(v, (int, float)) else v for v in row[5:7]]
    table, problems = read(ledger_book(tmp_path, rows))
    assert [r["金额"] for r in records(table)] == [5000025, 4550025, -50000, 80000] and problems == []


# --------------------------------------------------------------------------------------------- dates, vouchers


def test_without_a_year_header_the_year_is_the_projects_budget_year(tmp_path):
    rows = three_column()
    rows[2][0] = None
    table, problems = read(ledger_book(tmp_path, rows, GROUPS[1:]))
    assert [r["支付日期"] for r in records(table)] == [D(2021, 3, 5), D(2021, 6, 5), D(2021, 6, 20), D(2021, 12, 16)]
    assert problems == []


def test_a_month_without_a_year_when_the_projects_years_differ(tmp_path):
    rows = three_column()
    rows[2][0] = None
    sheets = standard_sheets()
    sheets["项目"][2][4] = 2022
    table, problems = read(ledger_book(tmp_path, rows, GROUPS[1:], 项目=sheets["项目"]))
    assert table is None
    assert problems == ["[错误] 支出明细!A4：“月”“日”列上方的表头中没有写年份（如“2021年”），“项目”表中各项目的预算年度不同"
                        "（2021、2022），无法确定支付日期是哪一年。请在“月”“日”上方的表头中写上年份，如“2021年”，或把“月”“日”"
                        "两列换成一个“日期”列（如 2021-05-10）。"]


def test_bad_months_and_days(tmp_path):
    rows = three_column()
    rows[5][0], rows[8][1], rows[9][1] = None, "5日", 31
    table, problems = read(ledger_book(tmp_path, rows))
    assert problems == ["[错误] 支出明细!A6：“月”为空。每笔支出都要有月和日，请填写。",
                        "[错误] 支出明细!B10：2021年6月31日不是有效的日期（年份取自表头“2021年”（A3））。请核对“月”“日”。"]
    assert [r["支付日期"] for r in records(table)] == [None, D(2021, 6, 5), None, D(2021, 12, 16)]


def test_dates_from_a_date_column_as_text(tmp_path):
    rows = [["日期", "凭证字", "凭证号", "摘要", "借方", "贷方", "项目编号"],
            ["2021.3.5", "记", 1, "劳务", 50000.25, None, "P1"],
            ["2021年6月5日", "记", 2, "差旅", 45000.25, None, "P1"],
            ["2021-13-01", "记", 3, "软件维护", 800, None, "P2"]]
    table, problems = read(ledger_book(tmp_path, rows))
    assert [(r["支付日期"], r["凭证号"]) for r in records(table)] == [(D(2021, 3, 5), "记-1"), (D(2021, 6, 5), "记-2"),
                                                                      (None, "记-3")]
    assert len(problems) == 1 and problems[0].startswith("[错误] 支出明细!A4：“日期”：")


# --------------------------------------------------------------------------------------------- summary rows


def test_summary_rows_that_disagree_are_warnings_at_their_cells(tmp_path):
    rows = three_column()
    rows[10][5] = 45000.25  # 6月 本月合计 借方: the month's rows add up to 45,500.25
    rows[14][6] = 0  # 本年累计 贷方: the year's credits add up to 500
    rows[4][8] = 123  # 期初余额 carries a balance: not checked
    rows[15][8] = 1  # 结转下年 likewise
    table, problems = read(ledger_book(tmp_path, rows))
    assert problems == [
        "[警告] 支出明细!F11：“本月合计”行的“借方”为 45,000.25 元，但它汇总的明细行（第9–10行）的“借方”相加为 45,500.25 元。"
        "汇总行不计入支出，报告按明细行计算；请核对这一行或明细，使二者一致。",
        "[警告] 支出明细!G15：“本年累计”行的“贷方”为 0.00 元，但它汇总的明细行（第6–13行）的“贷方”相加为 500.00 元。"
        "汇总行不计入支出，报告按明细行计算；请核对这一行或明细，使二者一致。",
    ]
    assert records(table) == THREE_COLUMN_RECORDS


def test_summary_rows_cover_the_sheets_rows_whatever_their_account(tmp_path):
    """A 序时账's 合计 adds every line printed; an 期初余额 row opens a new account's section."""
    rows = [["日期", "科目", "摘要", "借方", "贷方", "项目"],
            [None, "7201 事业支出", "期初余额", None, None],
            [D(2021, 3, 5), "7201 事业支出", "劳务", 50000.25, None, "P1"],
            [D(2021, 3, 5), "8101 资金结存", "劳务", None, 50000.25],
            [None, None, "本月合计", 50000.25, 50000.25],
            [None, None, "期初余额", None, None],
            [D(2021, 12, 16), "7201 事业支出", "软件维护", 800, None, "P2"],
            [None, None, "本年累计", 800, 0],
            [None, None, "合计", 800, 1]]
    table, problems = read(ledger_book(tmp_path, rows))
    assert problems[0] == ("[警告] 支出明细!E9：“合计”行的“贷方”为 1.00 元，但它汇总的明细行（第7行）的“贷方”相加为 "
                           "0.00 元。汇总行不计入支出，报告按明细行计算；请核对这一行或明细，使二者一致。")
    assert len(problems) == 2 and "8101 资金结存" in problems[1]


def test_a_summary_formula_without_a_saved_value(tmp_path):
    rows = three_column()
    rows[6][5] = ("=SUM(F6:F6)", "")
    book = ledger_book(tmp_path, rows)
    _, problems = read(book)
    assert problems == ["[警告] 支出明细!F7：“本月合计”行的公式 =SUM(F6:F6) 没有保存计算结果，无法核对这一行（汇总行不计入"
                        "支出，不影响报告）。请在 Excel 或 WPS 中打开并保存一次工作簿，再重新运行。"]


def test_a_year_end_closing_credit_is_not_a_reversal(tmp_path):
    rows = three_column()
    rows.insert(13, [12, 31, "记", "12-020", "年末结转本年事业支出", None, 95800.50, "平", 0])
    rows[14][6], rows[15][6] = 95800.50, 96300.50
    table, problems = read(ledger_book(tmp_path, rows))
    assert records(table) == THREE_COLUMN_RECORDS
    assert problems == ["[警告] 支出明细!G14：以下贷方行的摘要是结转或结账，是年末把支出科目结转到结转结余（或本期盈余）的分录，"
                        "不是冲销，未计入支出：G14（95,800.50 元）。如果其中有冲销，请把摘要改为写明冲销的内容。"]


# --------------------------------------------------------------------------------------------- projects


@pytest.mark.parametrize("written", ["P1", "Ｐ１", " 测试专项经费 ", "测 试 专 项 经 费", "[P1]测试专项经费", "【P1】测试专项经费",
                                     "P1 测试专项经费", "项目：测试专项经费", "部门：办公室；项目：P1",
                                     "部门:办公室，项目:测试专项经费", "【部门：办公室】【项目：测试专项经费】",
                                     "项目---P1---测试专项经费"])
def test_a_project_written_as_the_software_writes_it(written, tmp_path):
    rows = three_column()
    rows[2][9] = "辅助核算"
    rows[5][9] = written
    table, problems = read(ledger_book(tmp_path, rows))
    assert records(table)[0]["项目编号"] == "P1" and problems == []


@pytest.mark.parametrize("cell, value", [("部门：办公室；经济分类：劳务费", {"支出类别": "劳务费"}),
                                         ("项目：A；资金性质：财政拨款", {"项目": "A", "资金来源": "财政拨款"}),
                                         ("[0101]某专项", {"项目": "[0101]某专项"})])
def test_auxiliary_cells(cell, value):
    assert auxiliary_items(cell) == value


def test_a_project_name_that_matches_no_project(tmp_path):
    rows = three_column()
    rows[5][9] = "测试专项"
    rows[12][9] = "仁和区信访工作专项经费"
    table, problems = read(ledger_book(tmp_path, rows))
    assert problems == [
        "[错误] 支出明细!J6：“项目”中的项目“测试专项”在“项目”表中找不到（与各项目的项目编号、项目名称都对不上）。"
        "最接近的项目：“测试专项经费”。请改为“项目”表中的项目名称或项目编号（全角半角、前后空格不计），或在“项目”表中添加"
        "这个项目；如果这笔支出不属于本次评价的项目，请删除这一行。",
        "[错误] 支出明细!J13：“项目”中的项目“仁和区信访工作专项经费”在“项目”表中找不到（与各项目的项目编号、项目名称都对不上）。"
        "最接近的项目：“测试专项经费”。请改为“项目”表中的项目名称或项目编号（全角半角、前后空格不计），或在“项目”表中"
        "添加这个项目；如果这笔支出不属于本次评价的项目，请删除这一行。",
    ]
    assert [r["项目编号"] for r in records(table)] == [None, "P1", "P1", None]
    assert [p.code for p in check(ledger_book(tmp_path, rows)).problems] == ["ledger-project-unknown"] * 2


def test_a_name_two_projects_share(tmp_path):
    sheets = standard_sheets()
    sheets["项目"][2][1] = "测试专项经费"
    rows = three_column()
    table, problems = read(ledger_book(tmp_path, rows, 项目=sheets["项目"]))
    assert problems[0] == ("[错误] 支出明细!J6：“测试专项经费”是“项目”表中 2 个项目共用的名称（项目编号 P1、P2），"
                           "无法判断这笔支出属于哪一个。请改填项目编号。")


def test_rows_without_a_project_are_left_out_with_a_warning(tmp_path):
    rows = three_column()
    rows.insert(6, [3, 8, "记", "03-002", "工资", 3000, None, "借", 53000.25])
    rows[7][5], rows[8][5] = 53000.25, 53000.25
    rows[12][5], rows[15][5] = 98500.50, 99300.50
    table, problems = read(ledger_book(tmp_path, rows))
    assert records(table) == [dict(r, _row=r["_row"] + (r["_row"] > 6)) for r in THREE_COLUMN_RECORDS]
    assert problems == ["[警告] 支出明细!J7：以下行没有项目（项目列和辅助核算中都没有项目），不属于任何项目，未计入支出："
                        "J7（3,000.00 元）。如果它们属于某个项目，请填写项目名称或项目编号。"]


def test_a_project_ledger_names_its_project_in_a_title_line(tmp_path):
    rows = [["项目明细账"], ["项目：软件维护费"], ["日期", "凭证号", "摘要", "借方", "贷方", "余额"],
            [D(2021, 12, 16), "记-3", "软件维护", 800, None, 800]]
    table, problems = read(ledger_book(tmp_path, rows))
    assert [(r["项目编号"], r["金额"]) for r in records(table)] == [("P2", 80000)] and problems == []


def test_project_cells_merged_down_count_on_every_row(tmp_path):
    rows = three_column()
    rows[9][9] = None
    table, problems = read(ledger_book(tmp_path, rows, GROUPS + ["J9:J10"]))
    assert records(table) == THREE_COLUMN_RECORDS and problems == []


# --------------------------------------------------------------------------------------------- cannot read


INTRO = "[错误] 支出明细：“支出明细”表第3–4行的表头（{}）是财务软件导出的明细账格式，但"
STANDARD = "；也可以改用标准格式，表头为：项目编号、支付日期、金额。"


def test_a_ledger_without_an_amount_column(tmp_path):
    rows = [row[:5] + row[7:] for row in three_column()]
    table, problems = read(ledger_book(tmp_path, rows))
    assert table is None
    assert problems == [INTRO.format("月、日、字、号、摘要、借或贷、余额、项目") + "没有找到金额列。请保留导出时的“借方”“贷方”两列"
                        "（也可写作“借方金额”“贷方金额”），或一个“金额”列加一个“方向”列（借/贷）" + STANDARD]


def test_a_ledger_without_a_date_or_a_project(tmp_path):
    rows = [row[2:9] for row in three_column()]
    table, problems = read(ledger_book(tmp_path, rows))
    assert table is None
    assert problems == [
        INTRO.format("字、号、摘要、借方、贷方、借或贷、余额") + "没有找到日期列。请保留“日期”列，或“月”“日”两列（年份写在它们"
        "上方的表头中，如“2021年”）" + STANDARD,
        INTRO.format("字、号、摘要、借方、贷方、借或贷、余额") + "没有找到项目列，无法把支出归到项目。请保留导出时的项目辅助核算列"
        "（如“项目”“项目名称”“项目－名称”“核算项目1”与“名称1”“辅助核算”），或加一列“项目编号”" + STANDARD,
    ]


def test_a_ledger_of_no_expense_account(tmp_path):
    rows = [["日期", "科目", "摘要", "借方", "贷方", "项目"],
            [D(2021, 3, 5), "1011 零余额账户用款额度", "劳务", None, 50000.25, "P1"],
            [D(2021, 3, 5), "1002 银行存款", "劳务", 50000.25, None, "P1"]]
    table, problems = read(ledger_book(tmp_path, rows))
    assert table is None
    assert problems == ["[错误] 支出明细：“支出明细”表的科目中没有支出科目（表中的科目有：1011 零余额账户用款额度、1002 银行存款），"
                        "无法得知哪些是项目支出。请导出支出科目（如 7101 行政支出、7201 事业支出）的明细账或序时账粘贴到这里。"]


def test_a_three_column_ledger_of_a_bank_account(tmp_path):
    rows = three_column()
    rows[1][0] = "科目：1002 银行存款"
    table, problems = read(ledger_book(tmp_path, rows))
    assert table is None
    assert problems == ["[错误] 支出明细!A2：标题行表明这是“1002 银行存款”的明细账。它不是支出科目，其中的借方不是项目支出。"
                        "请导出支出科目（如 7101 行政支出、7201 事业支出）的明细账粘贴到这里。"]


def test_the_standard_layout_is_read_as_before(tmp_path):
    """A sheet with 项目编号, 支付日期 and 金额 is the standard layout even when it also has 借方 or 科目; a sheet
    with neither ledger nor standard headers gets the standard message."""
    sheets = standard_sheets()
    standard = [row + [extra] for row, extra in zip(sheets["支出明细"], ["借方", 1, 2, 3])]
    table, problems = read(ledger_book(tmp_path, standard))
    assert [r["金额"] for r in records(table)] == [5000025, 4500025, 80000] and problems == []
    table, problems = read(ledger_book(tmp_path, [["项目编号", "日期", "金额"], ["P1", D(2021, 3, 5), 1]]))
    assert table is None and problems == ["[错误] 支出明细：“支出明细”表第1行中没有找到必填列“支付日期”（也可写作 date）。"
                                          "请在表头行加上这一列，表头须在前10行内、同一行中。"]


def test_what_was_recognised_is_said_in_one_line(tmp_path):
    lines = []
    logger.enable("excel_eval")
    sink = logger.add(lines.append, level="INFO", format="{message}")
    try:
        read(ledger_book(tmp_path, three_column(), ["A1:J1"] + GROUPS))
    finally:
        logger.remove(sink)
        logger.disable("excel_eval")
    assert [line.strip() for line in lines] == [
        "“支出明细”表按财务软件导出的明细账读取（表头第3–4行）：金额 = 借方（F列） − 贷方（G列）；日期 = 月（A列）、日（B列），"
        "年份取自表头“2021年”（A3）；凭证号 = 字（C列） + 号（D列）；项目取自“项目”（J列），按项目编号或项目名称对应“项目”表。"
        "读入 4 笔支出；跳过汇总行：期初余额 1 行、本月合计 3 行、本年累计 3 行、结转下年 1 行，合计与累计已与明细核对。"]


# --------------------------------------------------------------------------------------------- the README


def readme_table(after: str) -> list[list]:
    """The Markdown table that follows the line starting with `after` in README.md, as cell values: numbers
    as numbers (months, days and amounts), bold header text as text."""
    lines = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(after))
    rows = []
    for line in itertools.dropwhile(lambda l: not l.startswith("|"), lines[start + 1:]):
        if not line.startswith("|"):
            break
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if set("".join(cells)) <= set("-:"):
            continue
        rows.append([_number(c) for c in cells])
    return rows


def _number(text: str):
    if re.fullmatch(r"\d[\d,]*(\.\d+)?", text):
        return float(text.replace(",", "")) if "." in text else int(text)
    return text or None


def test_the_readme_examples_read_as_the_readme_says(tmp_path):
    """The two 支出明细 of the README: the same spending (P1 95,000.50, P2 800 元), no problem, and the ledger's
    console line as the README quotes it."""
    standard = readme_table("标准格式：")
    ledger = readme_table("财务软件导出的三栏式明细账，原样粘贴")
    merges = ["A1:J1", "A3:B3", "C3:D3"] + [f"{c}3:{c}4" for c in "EFGHIJ"]
    spent = {}
    for name, rows in (("standard", standard), ("ledger", ledger)):
        folder = tmp_path / name
        folder.mkdir()
        lines = []
        logger.enable("excel_eval")
        sink = logger.add(lines.append, level="INFO", format="{message}")
        try:
            book = ledger_book(folder, rows, merges if name == "ledger" else ())
            result = check(book)
        finally:
            logger.remove(sink)
            logger.disable("excel_eval")
        assert result.problems.items == [], name
        frame = result.data.tables["支出明细"].frame
        spent[name] = frame.groupby("项目编号")["金额"].sum().to_dict()
        if name == "ledger":
            quoted = readme_quote()
            assert [line.strip() for line in lines] == [quoted]
    assert spent == {"standard": {"P1": 9500050, "P2": 80000}, "ledger": {"P1": 9500050, "P2": 80000}}


def readme_quote() -> str:
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    return next(line.strip() for line in text.splitlines() if line.strip().startswith("“支出明细”表按财务软件导出"))


def logged(read_it) -> list[str]:
    lines = []
    logger.enable("excel_eval")
    sink = logger.add(lines.append, level="INFO", format="{message}")
    try:
        read_it()
    finally:
        logger.remove(sink)
        logger.disable("excel_eval")
    return [line.strip() for line in lines]


def test_the_year_from_the_budget_year_is_said(tmp_path):
    rows = three_column()
    rows[2][0] = None
    lines = logged(lambda: read(ledger_book(tmp_path, rows, GROUPS[1:])))
    assert "日期 = 月（A列）、日（B列），年份取自“项目”表的预算年度 2021；" in lines[0]


def test_a_closing_credit_in_a_one_amount_ledger(tmp_path):
    rows = [["日期", "摘要", "借或贷", "发生额", "项目编号"],
            [D(2021, 3, 5), "劳务", "借", 95000.50, "P1"],
            [D(2021, 12, 16), "软件维护", "借", 800, "P2"],
            [D(2021, 12, 31), "期末结转", "贷", 800, "P2"]]
    table, problems = read(ledger_book(tmp_path, rows))
    assert [r["金额"] for r in records(table)] == [9500050, 80000]
    assert problems == ["[警告] 支出明细!D4：以下贷方行的摘要是结转或结账，是年末把支出科目结转到结转结余（或本期盈余）的分录，"
                        "不是冲销，未计入支出：D4（800.00 元）。如果其中有冲销，请把摘要改为写明冲销的内容。"]


def test_a_header_named_twice(tmp_path):
    rows = [["日期", "摘要", "借方", "贷方", "借方", "项目编号"],
            [D(2021, 3, 5), "劳务", 95000.50, None, 1, "P1"],
            [D(2021, 12, 16), "软件维护", 800, None, 1, "P2"]]
    table, problems = read(ledger_book(tmp_path, rows))
    assert [r["金额"] for r in records(table)] == [9500050, 80000]
    assert problems == ["[警告] 支出明细!E1：表头中“借方”出现了两次（C1 和 E1），只读取了第一列。请删除或改名多余的一列。"]


def test_the_checks_point_at_the_ledgers_cells(tmp_path):
    """A date outside the budget year is reported at the row's 月 cell; the project's figures are the ledger's."""
    rows = three_column()
    rows[2][0] = "2020年"
    problems = check(ledger_book(tmp_path, rows, ["A1:J1"] + GROUPS)).problems
    assert [(p.code, p.cell, p.value) for p in problems] == [
        ("date-outside-year", "A6", "2020-03-05"), ("date-outside-year", "A9", "2020-06-05"),
        ("date-outside-year", "A10", "2020-06-20"), ("date-outside-year", "A13", "2020-12-16")]


def test_a_payment_list_of_the_budget_system(tmp_path):
    """预算管理一体化 支付明细: 支付日期, 支付凭证号, 预算项目 ("[code]name"), 经济分类, 资金性质, 支付金额 (signed), 用途."""
    rows = [["国库集中支付明细"],
            ["支付凭证号", "支付日期", "预算项目", "经济分类", "资金性质", "支付金额", "用途"],
            ["ZF001", "2021-03-05", "[51041121T0001]测试专项经费", "30226 劳务费", "一般公共预算资金", 50000.25, "劳务"],
            ["ZF002", "2021-06-05", "[51041121T0001]测试专项经费", "30211 差旅费", "一般公共预算资金", 45000.25, "差旅"],
            ["ZF003", "2021-12-16", "[51041121T0002]软件维护费", "30213 维修（护）费", "一般公共预算资金", 800, "软件维护"]]
    table, problems = read(ledger_book(tmp_path, rows))
    assert records(table) == [
        {"项目编号": "P1", "支付日期": D(2021, 3, 5), "金额": 5000025, "支出类别": "30226 劳务费",
         "资金来源": "一般公共预算资金", "凭证号": "ZF001", "摘要": "劳务", "_row": 3},
        {"项目编号": "P1", "支付日期": D(2021, 6, 5), "金额": 4500025, "支出类别": "30211 差旅费",
         "资金来源": "一般公共预算资金", "凭证号": "ZF002", "摘要": "差旅", "_row": 4},
        {"项目编号": "P2", "支付日期": D(2021, 12, 16), "金额": 80000, "支出类别": "30213 维修（护）费",
         "资金来源": "一般公共预算资金", "凭证号": "ZF003", "摘要": "软件维护", "_row": 5}]
    assert problems == []


def test_the_other_messages_about_cells(tmp_path):
    rows = three_column()
    rows[5][0] = 13  # month
    rows[8][5] = ("=F6-4500", "")  # a formula saved without its value
    table, problems = read(ledger_book(tmp_path, rows))
    errors = [p for p in problems if p.startswith("[错误]")]
    assert errors == [
        "[错误] 支出明细!A6：“月”应为 1–12 的数字，这里是“13”。请改正。",
        "[错误] 支出明细!F9：“借方”是公式 =F6-4500，但工作簿中没有保存它的计算结果（由其他程序生成、未在 Excel 中保存过的文件"
        "常见此情况）。请在 Excel 或 WPS 中打开并保存一次工作簿，再重新运行。"]


def test_a_blank_direction_and_an_unsupported_unit(tmp_path):
    rows = [["日期", "摘要", "方向", "金额（千元）", "项目编号"],
            [D(2021, 3, 5), "劳务", None, 95.0005, "P1"]]
    table, problems = read(ledger_book(tmp_path, rows))
    assert problems[0] == "[错误] 支出明细!D1：表头“金额（千元）”：不支持金额单位“千元”，请把该表改用“元”或“万元”填写。"
    rows[0][3] = "金额"
    table, problems = read(ledger_book(tmp_path, rows))
    assert problems == ["[错误] 支出明细!C2：“方向”为空，无法判断这笔金额是支出（借）还是冲销（贷）。请填写“借”或“贷”。"]
