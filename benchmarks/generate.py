"""Standard workbooks of N projects × M payments, for benchmarks, as a unit fills them in.

    python benchmarks/generate.py 1000 50 -o /tmp/book_1000.xlsx
    python benchmarks/generate.py 1000 50 --indicators -o /tmp/book_1000_indicators.xlsx

Every project has the narrative (文字说明) of the sample workbook's first standard project (its punctuation
corrected as `run --fix-punctuation` corrects it), and with `indicators` its 绩效指标 rows too, so that a
自评表 is made for each. The figures are realistic, so that the run has no warnings: the money received is
the budget, spending is 70–100% of it (the narrative has a 偏差原因), payments are dated in the budget year.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from functools import lru_cache
from pathlib import Path

import xlsxwriter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SAMPLE = next((ROOT / "sample_workbooks").glob("*.xlsx"))
SAMPLE_PROJECT = 0  # the sample's first project: a 常规 project with every section of the standard report
CATEGORIES = ("差旅费", "劳务费", "委托业务费", "邮电费", "维修（护）费", "办公费")
YEAR = 2021


@lru_cache(maxsize=1)
def sample_rows() -> tuple[list, list]:
    """The sample project's 文字说明 rows (栏目, 内容) and 绩效指标 rows (the columns after 项目编号)."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(SAMPLE))
    projects = book.get_sheet_by_name("项目").to_python()
    pid = projects[1 + SAMPLE_PROJECT][0]

    def rows_of(sheet: str) -> list:
        return [row[1:] for row in book.get_sheet_by_name(sheet).to_python()[1:] if row and row[0] == pid]

    from excel_eval.punctuation import fix, paragraph_sections
    from excel_eval.resources import templates_dir

    paragraphs = paragraph_sections(templates_dir() / "标准报告.docx")
    narrative = [(section, fix(text, section in paragraphs)) for section, text in rows_of("文字说明")]
    return narrative, rows_of("绩效指标")


def amounts(total: int, count: int, rng: random.Random) -> list[int]:
    """`count` positive amounts in fen that add up to exactly `total`."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(count)]
    scale = total / sum(weights)
    parts = [max(1, int(w * scale)) for w in weights]
    parts[-1] += total - sum(parts)
    return parts


def generate(path: Path, projects: int, payments: int, seed: int = 2021, indicators: bool = False) -> Path:
    """Write a workbook with `projects` projects, each with `payments` ledger rows (write-only, fast)."""
    rng = random.Random(seed)
    narrative, indicator_rows = sample_rows()
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                           "strings_to_numbers": False, "strings_to_urls": False})
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    sheets = {name: _Sheet(book.add_worksheet(name), date) for name in ("项目", "预算", "支出明细", "文字说明", "绩效指标")}
    sheets["项目"].append(["项目编号", "项目名称", "单位名称", "单位简称", "预算年度", "项目类型", "报告模板", "报告日期"])
    sheets["预算"].append(["项目编号", "资金来源", "申报数（元）", "批复数（元）", "全年预算数（元）", "到位数（元）", "到位日期"])
    sheets["支出明细"].append(["项目编号", "支付日期", "金额（元）", "支出类别", "资金来源", "凭证号", "摘要"])
    sheets["文字说明"].append(["项目编号", "栏目", "内容"])
    sheets["绩效指标"].append(["项目编号", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "自评得分",
                           "偏差原因"])
    for index in range(1, projects + 1):
        pid = f"BM-{index:05d}"
        unit = f"攀枝花市仁和区第{index % 40 + 1}局"
        budget = rng.randrange(100_000, 2_000_000) * 100  # fen
        spent = round(budget * rng.uniform(0.7, 0.999))
        sheets["项目"].append([pid, f"第{index}号专项经费", unit, f"仁和区第{index % 40 + 1}局", YEAR, "常规", None,
                             dt.date(YEAR + 1, 5, 10)])
        sheets["预算"].append([pid, "区本级资金", budget / 100, budget / 100, budget / 100, budget / 100,
                             dt.date(YEAR, 3, 1)])
        for n, amount in enumerate(amounts(spent, payments, rng)):
            day = dt.date(YEAR, 1, 1) + dt.timedelta(days=rng.randrange(365))
            category = CATEGORIES[n % len(CATEGORIES)]
            sheets["支出明细"].append([pid, day, amount / 100, category, "区本级资金", f"记-{day.month:02d}-{n:03d}",
                                   f"支付{category}（第{n + 1}笔）"])
        for section, text in narrative:
            sheets["文字说明"].append([pid, section, text])
        if indicators:
            for row in indicator_rows:
                sheets["绩效指标"].append([pid, *row])
    book.close()
    return path


class _Sheet:
    """Rows appended to an XlsxWriter worksheet as Excel stores them: numbers, text, dates with a date format."""

    def __init__(self, worksheet, date_format):
        self.worksheet, self.date_format, self.row = worksheet, date_format, 0

    def append(self, values: list) -> None:
        for column, value in enumerate(values):
            if isinstance(value, dt.date):
                self.worksheet.write_datetime(self.row, column, value, self.date_format)
            elif isinstance(value, str) and value:
                self.worksheet.write_string(self.row, column, value)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                self.worksheet.write_number(self.row, column, value)
        self.row += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("projects", type=int)
    parser.add_argument("payments", type=int)
    parser.add_argument("--indicators", action="store_true", help="the sample's 绩效指标 for every project")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    print(generate(args.output, args.projects, args.payments, indicators=args.indicators))


if __name__ == "__main__":
    main()
