"""Small standard workbooks for tests, built with openpyxl in tmp_path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

STANDARD_SECTIONS = ("职能", "立项依据", "资金分配", "主要内容", "绩效目标", "实施管理", "完成情况", "效益情况")
SUPPLEMENT_SECTIONS = ("基本情况", "主要内容", "绩效目标", "组织架构", "完成情况", "效益情况")


def standard_sheets() -> dict[str, list[list]]:
    """Two projects: P1 (常规, budget 100,000.00 元, spent 95,000.50) and P2 (追加, 800 元, all spent)."""
    narrative = [["项目编号", "栏目", "内容"]]
    narrative += [["P1", s, f"P1的{s}文字。"] for s in STANDARD_SECTIONS]
    narrative += [["P2", s, f"P2的{s}文字。"] for s in SUPPLEMENT_SECTIONS]
    return {
        "项目": [
            ["项目编号", "项目名称", "单位名称", "单位简称", "预算年度", "项目类型", "报告模板", "报告日期"],
            ["P1", "测试专项经费", "某某县测试局", "测试局", 2021, "常规", None, dt.date(2022, 5, 10)],
            ["P2", "软件维护费", "某某县测试局", None, 2021, "追加", None, dt.date(2022, 5, 10)],
        ],
        "预算": [
            ["项目编号", "资金来源", "申报数（元）", "批复数（元）", "全年预算数（元）", "到位数（元）", "到位日期"],
            ["P1", "区本级资金", 100000, 100000, None, 100000, dt.date(2021, 3, 1)],
            ["P2", "区级资金", 800, 800, 800, 800, dt.date(2021, 5, 18)],
        ],
        "支出明细": [
            ["项目编号", "支付日期", "金额（元）", "支出类别", "资金来源", "凭证号", "摘要"],
            ["P1", dt.date(2021, 3, 5), 50000.25, "劳务费", "区本级资金", "记-03-001", "劳务"],
            ["P1", dt.date(2021, 6, 5), 45000.25, "差旅费", "区本级资金", "记-06-001", "差旅"],
            ["P2", dt.date(2021, 12, 16), 800, "维修（护）费", "区级资金", "记-12-001", "软件维护"],
        ],
        "文字说明": narrative,
    }


def write_workbook(path: Path, sheets: dict[str, list[list]], *, before: dict[str, list[list]] | None = None,
                   edit=None) -> Path:
    """Write `sheets` (name -> rows, header first); `before` puts extra rows (titles, unit lines) above a header;
    `edit(book)` is called before saving (merges, hidden rows, formats)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in (before or {}).get(name, []):
            ws.append(row)
        for row in rows:
            ws.append(row)
    if edit:
        edit(book)
    book.save(path)
    return path


def standard_workbook(path: Path, **changes) -> Path:
    sheets = standard_sheets()
    sheets.update(changes)
    return write_workbook(path, sheets)


def read_with_both_engines(path: Path):
    """Read `path` with every engine in workbook.ENGINES (calamine, openpyxl, stream); assert they all give the
    same tables and problems as calamine."""
    from excel_eval.problems import Problems
    from excel_eval.reading import ENGINES, read_workbook

    results = []
    for engine in ENGINES:
        problems = Problems()
        data = read_workbook(path, problems, engine=engine)
        tables = {name: (t.title, t.frame.to_dict("records"), t.letters, t.units) for name, t in data.tables.items()}
        results.append((tables, [(p.code, p.severity, p.location, p.value) for p in problems]))
    for engine, result in zip(ENGINES[1:], results[1:]):
        assert result == results[0], f"{ENGINES[0]} and {engine} read {path.name} differently"
    return results[0]
