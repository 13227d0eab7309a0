"""The bundled sample workbook: the data behind the four seed reports (tests/fixtures/seed_report_*.txt).

Checks the committed file against the workbook contract (/work/shared/design/workbook.md) and the seed,
and that sample_workbooks/build_sample.py reproduces it.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import tomllib
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from excel_eval.render import load_templates

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_workbooks" / "仁和区信访局2021年度项目支出绩效自评.xlsx"
BUILD = ROOT / "sample_workbooks" / "build_sample.py"
FIXTURES = ROOT / "tests" / "fixtures"
TEMPLATES = ROOT / "templates"

HEADERS = {
    "项目": ["项目编号", "项目名称", "单位名称", "单位简称", "预算年度", "项目类型", "报告模板", "报告日期"],
    "预算": ["项目编号", "资金来源", "申报数（元）", "批复数（元）", "全年预算数（元）", "到位数（元）", "到位日期"],
    "支出明细": ["项目编号", "支付日期", "凭证号", "金额（元）", "支出类别", "资金来源", "摘要"],
    "文字说明": ["项目编号", "栏目", "内容"],
    "绩效指标": ["项目编号", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "自评得分", "偏差原因"],
}

# Seed order: project name -> spending in the seed (元).
SPENDING = {
    "仁和区矛盾纠纷排查化解、维稳、信访事项专项经费": Decimal("395600.00"),
    "仁和区信访工作专项经费": Decimal("149700.00"),
    "仁和区群众意见受理中心项目经费": Decimal("436700.00"),
    "用友A++财务软件运行维护服务费": Decimal("800.00"),
}
BUDGET = {
    "仁和区矛盾纠纷排查化解、维稳、信访事项专项经费": Decimal("400000"),
    "仁和区信访工作专项经费": Decimal("150000"),
    "仁和区群众意见受理中心项目经费": Decimal("547500"),
    "用友A++财务软件运行维护服务费": Decimal("800"),
}


def _d(value) -> Decimal:
    return Decimal(str(value))


def _records(wb, sheet: str) -> list[dict]:
    rows = wb[sheet].iter_rows(values_only=True)
    header = next(rows)
    return [dict(zip(header, row)) for row in rows if any(v is not None for v in row)]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def wb():
    assert SAMPLE.exists(), f"run {BUILD.relative_to(ROOT)} to write the sample workbook"
    return openpyxl.load_workbook(SAMPLE)


@pytest.fixture(scope="module")
def projects(wb) -> dict[str, dict]:
    return {r["项目编号"]: r for r in _records(wb, "项目")}


@pytest.fixture(scope="module")
def seed_texts(projects) -> dict[str, str]:
    """项目编号 -> the text of the seed report on that project (found by its “（项目名称）” line)."""
    files = sorted(FIXTURES.glob("seed_report_*.txt"))
    texts = {f: f.read_text(encoding="utf-8") for f in files}
    out = {}
    for pid, p in projects.items():
        hits = [t for t in texts.values() if f"（{p['项目名称']}）" in t]
        assert len(hits) == 1, f"{pid}: no single seed report titled （{p['项目名称']}）"
        out[pid] = hits[0]
    return out


def test_sheets_and_headers(wb):
    assert wb.sheetnames == list(HEADERS)
    for sheet, headers in HEADERS.items():
        ws = wb[sheet]
        assert [c.value for c in ws[1]] == headers, sheet
        assert ws.freeze_panes == "A2", sheet
        assert all(c.font.bold for c in ws[1]), sheet


def test_projects(projects):
    assert [p["项目名称"] for p in projects.values()] == list(SPENDING)
    for pid, p in projects.items():
        assert isinstance(pid, str) and re.fullmatch(r"[0-9A-Za-z-]+", pid)
        assert p["单位名称"] == "攀枝花市仁和区信访局"
        assert p["单位简称"] == "仁和区信访局"
        assert p["预算年度"] == 2021
        assert p["报告模板"] is None
        assert isinstance(p["报告日期"], dt.datetime) and p["报告日期"].date() == dt.date(2022, 5, 10)
    assert [p["项目类型"] for p in projects.values()] == ["常规", "常规", "常规", "追加"]


def test_budget(wb, projects):
    budget = _records(wb, "预算")
    assert [b["项目编号"] for b in budget] == list(projects)
    for b in budget:
        expected = BUDGET[projects[b["项目编号"]]["项目名称"]]
        for col in ("申报数（元）", "批复数（元）", "全年预算数（元）", "到位数（元）"):
            assert _d(b[col]) == expected, (b["项目编号"], col)
        assert isinstance(b["到位日期"], dt.datetime) and b["到位日期"].year == 2021
    ws = wb["预算"]
    assert all(ws.cell(row=r, column=c).number_format == "#,##0.00"
               for r in range(2, ws.max_row + 1) for c in range(3, 7))


def test_added_project_money_arrived_in_may_2021(wb, projects):
    added = [pid for pid, p in projects.items() if p["项目类型"] == "追加"]
    assert len(added) == 1
    [row] = [b for b in _records(wb, "预算") if b["项目编号"] == added[0]]
    assert (row["到位日期"].year, row["到位日期"].month) == (2021, 5)


def test_ledger_sums_to_the_seed_spending(wb, projects):
    ledger = _records(wb, "支出明细")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for r in ledger:
        assert r["项目编号"] in projects, r
        assert isinstance(r["支付日期"], dt.datetime) and r["支付日期"].year == 2021, r
        amount = _d(r["金额（元）"])
        assert amount == amount.quantize(Decimal("0.01")), r
        totals[r["项目编号"]] += amount
        assert r["支出类别"] and r["资金来源"] and r["摘要"] and re.fullmatch(r"记-\d{2}-\d{3}", r["凭证号"]), r
    assert {projects[pid]["项目名称"]: t for pid, t in totals.items()} == SPENDING
    vouchers = [r["凭证号"] for r in ledger]
    assert len(vouchers) == len(set(vouchers))
    ws = wb["支出明细"]
    assert all(ws.cell(row=r, column=4).number_format == "#,##0.00" for r in range(2, ws.max_row + 1))
    assert all(ws.cell(row=r, column=2).number_format == "yyyy-mm-dd" for r in range(2, ws.max_row + 1))


def test_narrative_rows_belong_to_projects_and_templates(wb, projects):
    templates = load_templates()
    sections = {kind: set(templates[name].sections) for kind, name in (("常规", "标准报告"), ("追加", "追加项目报告"))}
    for r in _records(wb, "文字说明"):
        assert r["项目编号"] in projects, r
        assert r["栏目"] in sections[projects[r["项目编号"]]["项目类型"]], r
        assert r["内容"] and r["内容"] == r["内容"].strip(), r


def test_narrative_is_verbatim_from_the_seed(wb, seed_texts):
    for r in _records(wb, "文字说明"):
        seed = _squash(seed_texts[r["项目编号"]])
        for paragraph in r["内容"].split("\n"):
            assert _squash(paragraph) in seed, (r["项目编号"], r["栏目"], paragraph[:30])


def test_narrative_leaves_defaults_to_the_template(wb, projects):
    """A row equal to the template's default would hide the default: such sections have no row."""
    defaults = {}
    for kind, name in (("常规", "标准报告"), ("追加", "追加项目报告")):
        with open(TEMPLATES / f"{name}.toml", "rb") as f:
            defaults[kind] = tomllib.load(f).get("默认文字", {})
    texts: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in _records(wb, "文字说明"):
        texts[r["项目编号"], r["栏目"]].append(r["内容"])
    for (pid, section), paragraphs in texts.items():
        p = projects[pid]
        default = defaults[p["项目类型"]].get(section)
        if default is None:
            continue
        default = (default.replace("{{ 单位简称 }}", p["单位简称"]).replace("{{ 单位名称 }}", p["单位名称"])
                   .replace("{{ 预算年度 }}", str(p["预算年度"])))
        assert _squash("".join(paragraphs)) != _squash(default), (pid, section)


def test_build_script_reproduces_the_sample(tmp_path, wb):
    out = tmp_path / "sample.xlsx"
    subprocess.run([sys.executable, str(BUILD), "--output", str(out)], check=True, cwd=ROOT,
                   capture_output=True)
    rebuilt = openpyxl.load_workbook(out)
    assert rebuilt.sheetnames == wb.sheetnames
    for name in wb.sheetnames:
        old = [[c for c in row] for row in wb[name].iter_rows(values_only=True)]
        new = [[c for c in row] for row in rebuilt[name].iter_rows(values_only=True)]
        assert new == old, name


def test_indicators_cover_every_project_with_the_usual_weights(wb, projects):
    rows = _records(wb, "绩效指标")
    weights: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in rows:
        assert r["项目编号"] in projects, r
        assert isinstance(r["年度指标值"], str) and isinstance(r["实际完成值"], str), r
        weights[r["项目编号"]][r["一级指标"]] += _d(r["分值"])
    assert set(weights) == set(projects)
    for pid, by_level in weights.items():
        assert dict(by_level) == {"产出指标": 50, "效益指标": 30, "满意度指标": 10}, pid
        assert 5 <= sum(1 for r in rows if r["项目编号"] == pid) <= 9, pid


def test_indicator_targets_starting_with_equals_are_text_not_formulas():
    raw = openpyxl.load_workbook(SAMPLE, data_only=False)["绩效指标"]
    cells = [c for row in raw.iter_rows(min_row=2) for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)


def test_indicators_state_what_the_seed_states(wb, projects, seed_texts):
    by_name = {p["项目名称"]: pid for pid, p in projects.items()}
    rows = {(r["项目编号"], r["三级指标"]): r for r in _records(wb, "绩效指标")}
    center = by_name["仁和区群众意见受理中心项目经费"]
    assert "7000余件" in seed_texts[center]
    assert rows[center, "办结信访事项数量"]["年度指标值"] == "≥7000件"
    for pid in projects:
        if "满意度达到95%以上" in seed_texts[pid]:
            assert rows[pid, "群众满意度"]["年度指标值"] == "≥95%"
        if "年终项目实施进度100%" in seed_texts[pid]:
            assert rows[pid, "年终项目实施进度"]["实际完成值"] == "100%"
    software = by_name["用友A++财务软件运行维护服务费"]
    assert rows[software, "软件正常运行"]["实际完成值"] == "达成"
    assert rows[software, "维护成本"]["年度指标值"] == "≤800元"
