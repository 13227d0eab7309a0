"""Figures per project from 预算 and 支出明细."""

import datetime as dt
from decimal import Decimal

from excel_eval.metrics import compute
from excel_eval.problems import Problems
from excel_eval.reading import read_workbook

from workbooks import standard_sheets, write_workbook


def records(path):
    return {r.project_id: r for r in compute(read_workbook(path, Problems()))}


def test_figures_rates_and_defaults(tmp_path):
    p1 = records(write_workbook(tmp_path / "b.xlsx", standard_sheets()))["P1"]
    f = p1.figures
    assert (f.declared, f.approved, f.budget, f.received, f.spent) == (10000000, 10000000, 10000000, 10000000, 9500050)
    assert f.balance == 499950
    assert f.received_rate == 1
    assert f.execution_rate == Decimal("0.950005")
    assert p1.unit_short_name == "测试局"
    assert p1.received_date == dt.date(2021, 3, 1)
    assert p1.payments == 2


def test_sums_over_sources_categories_and_months(tmp_path):
    sheets = standard_sheets()
    sheets["预算"].append(["P1", "市级资金", 20000, 20000, 25000, 10000, dt.date(2021, 2, 1)])
    sheets["支出明细"].append(["P1", dt.date(2021, 3, 20), -0.5, "劳务费", "市级资金", "记-03-009", "冲销"])
    sheets["支出明细"].append(["P1", dt.date(2021, 3, 21), 1000, None, None, None, None])
    p1 = records(write_workbook(tmp_path / "b.xlsx", sheets))["P1"]
    assert p1.figures.budget == 12500000  # 100000 (default = 批复数) + 25000
    assert p1.figures.spent == 9500050 - 50 + 100000
    assert p1.received_date == dt.date(2021, 2, 1)
    sources = {s["source"]: s for s in p1.by_source}
    assert sources["市级资金"]["budget"] == 2500000 and sources["市级资金"]["spent"] == -50
    assert sources["未注明来源"]["spent"] == 100000
    categories = {c["category"]: (c["amount"], c["count"]) for c in p1.by_category}
    assert categories == {"劳务费": (4999975, 2), "差旅费": (4500025, 1), "未分类": (100000, 1)}
    months = {m["month"]: m["amount"] for m in p1.by_month}
    assert months == {dt.date(2021, 3, 1): 5000025 - 50 + 100000, dt.date(2021, 6, 1): 4500025}


def test_narrative_paragraphs_in_order_and_split_on_line_breaks(tmp_path):
    sheets = standard_sheets()
    sheets["文字说明"].append(["P1", "职能", "第二段\n第三段\r\n\n第四段"])
    p1 = records(write_workbook(tmp_path / "b.xlsx", sheets))["P1"]
    assert p1.sections["职能"] == ["P1的职能文字。", "第二段", "第三段", "第四段"]


def test_cents_add_up_exactly(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"] = [sheets["支出明细"][0]] + [
        ["P1", dt.date(2021, 1, 1), 0.1, "劳务费", None, None, None] for _ in range(1000)]
    p1 = records(write_workbook(tmp_path / "b.xlsx", sheets))["P1"]
    assert p1.figures.spent == 10000  # 1000 × 0.10 元, no float drift


def test_each_project_keeps_its_payments_in_ledger_order_and_its_departments(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"].insert(2, ["P2", dt.date(2021, 12, 1), "12.3", None, None, None, None])  # between P1's rows
    sheets["项目"][0] += ["主管部门", "实施单位"]
    sheets["项目"][1] += ["某某县财政局", None]
    sheets["项目"][2] += [None, "某某县信息中心"]
    found = records(write_workbook(tmp_path / "b.xlsx", sheets))
    p1, p2 = found["P1"], found["P2"]
    assert p1.ledger == [
        {"date": dt.date(2021, 3, 5), "amount": 5000025, "category": "劳务费", "source": "区本级资金",
         "voucher": "记-03-001", "memo": "劳务"},
        {"date": dt.date(2021, 6, 5), "amount": 4500025, "category": "差旅费", "source": "区本级资金",
         "voucher": "记-06-001", "memo": "差旅"},
    ]
    assert [(p["date"], p["amount"], p["category"], p["memo"]) for p in p2.ledger] == [
        (dt.date(2021, 12, 1), 1230, None, None), (dt.date(2021, 12, 16), 80000, "维修（护）费", "软件维护")]
    assert (p1.department, p1.implementer) == ("某某县财政局", "某某县测试局")  # blank: the 单位名称
    assert (p2.department, p2.implementer) == ("某某县测试局", "某某县信息中心")
    assert p1.scorecard is None  # scored by the run, not here
