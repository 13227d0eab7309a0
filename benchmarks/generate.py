"""Standard workbooks of N projects × M payments, for benchmarks.

    python benchmarks/generate.py 1000 50 -o /tmp/book_1000.xlsx
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path

from openpyxl import Workbook

CATEGORIES = ("差旅费", "劳务费", "委托业务费", "邮电费", "维修（护）费", "办公费")
SECTIONS = ("职能", "立项依据", "资金分配", "主要内容", "绩效目标", "实施管理", "完成情况", "效益情况", "偏差原因")
PARAGRAPH = ("根据工作进展情况对项目进行实施。在项目实施前、实施中进行监督并开会讨论研究。"
             "项目实施后各项工作得到有力保障，各项工作能正常运转，群众满意度达到95%以上。")


def generate(path: Path, projects: int, payments: int, seed: int = 2021) -> Path:
    """Write a workbook with `projects` projects, each with `payments` ledger rows (write-only, fast)."""
    rng = random.Random(seed)
    book = Workbook(write_only=True)
    sheet_projects = book.create_sheet("项目")
    sheet_budget = book.create_sheet("预算")
    sheet_ledger = book.create_sheet("支出明细")
    sheet_text = book.create_sheet("文字说明")
    sheet_projects.append(["项目编号", "项目名称", "单位名称", "单位简称", "预算年度", "项目类型", "报告模板", "报告日期"])
    sheet_budget.append(["项目编号", "资金来源", "申报数（元）", "批复数（元）", "全年预算数（元）", "到位数（元）", "到位日期"])
    sheet_ledger.append(["项目编号", "支付日期", "金额（元）", "支出类别", "资金来源", "凭证号", "摘要"])
    sheet_text.append(["项目编号", "栏目", "内容"])
    for index in range(1, projects + 1):
        pid = f"BM-{index:05d}"
        budget = rng.randrange(100_000, 2_000_000) * 100  # fen
        sheet_projects.append([pid, f"第{index}号专项经费", f"某某区第{index % 40 + 1}局", None, 2021, "常规", None,
                               dt.date(2022, 5, 10)])
        sheet_budget.append([pid, "区本级资金", budget / 100, budget / 100, None, budget / 100, dt.date(2021, 3, 1)])
        share = budget * rng.uniform(0.7, 1.0) / payments
        for n in range(payments):
            amount = round(share * rng.uniform(0.5, 1.5)) / 100
            day = dt.date(2021, 1, 1) + dt.timedelta(days=rng.randrange(365))
            sheet_ledger.append([pid, day, amount, CATEGORIES[n % len(CATEGORIES)], "区本级资金",
                                 f"记-{day.month:02d}-{n:03d}", f"{pid} 第{n + 1}笔支出"])
        for section in SECTIONS:
            sheet_text.append([pid, section, f"{section}：{PARAGRAPH}"])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("projects", type=int)
    parser.add_argument("payments", type=int)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    print(generate(args.output, args.projects, args.payments))


if __name__ == "__main__":
    main()
