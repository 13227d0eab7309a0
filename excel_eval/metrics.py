"""Figures per project, computed with pandas from 预算 and 支出明细. Pure functions: tables in, records out.

All money is integer fen; rates are exact Decimal fractions (rounded only when formatted).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

from .schema import BUDGET, DISBURSEMENTS, NARRATIVE, PROJECTS
from .workbook import ROW, WorkbookData

BUDGET_AMOUNTS = ("申报数", "批复数", "全年预算数", "到位数")
UNNAMED_SOURCE = "未注明来源"
UNNAMED_CATEGORY = "未分类"


@dataclass
class Figures:
    declared: int  # 申报数, fen
    approved: int  # 批复数
    budget: int  # 全年预算数
    received: int  # 到位数
    spent: int  # 支出数

    @property
    def balance(self) -> int:
        """结余 = 到位数 − 支出数."""
        return self.received - self.spent

    @property
    def received_rate(self) -> Decimal | None:
        """到位率 = 到位数 / 全年预算数."""
        return ratio(self.received, self.budget)

    @property
    def execution_rate(self) -> Decimal | None:
        """执行率 = 支出数 / 全年预算数."""
        return ratio(self.spent, self.budget)


@dataclass
class ProjectRecord:
    project_id: str
    name: str
    unit_name: str
    unit_short_name: str
    year: int
    project_type: str
    template: str | None  # as written in 项目!报告模板, None for the default by type
    report_date: dt.date | None
    excel_row: int
    figures: Figures
    received_date: dt.date | None = None  # the earliest 到位日期
    by_source: list[dict] = field(default_factory=list)
    by_category: list[dict] = field(default_factory=list)
    by_month: list[dict] = field(default_factory=list)
    payments: int = 0  # number of ledger rows
    sections: dict[str, list[str]] = field(default_factory=dict)  # 栏目 -> paragraphs, in sheet order


def ratio(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator)


def budget_rows(data: WorkbookData) -> pd.DataFrame:
    """预算 rows with 全年预算数 defaulted to 批复数 and missing amounts as 0."""
    frame = data.tables[BUDGET.name].frame.copy()
    frame["全年预算数"] = [b if b is not None else a for a, b in zip(frame["批复数"], frame["全年预算数"])]
    for column in BUDGET_AMOUNTS:
        frame[column] = [v if isinstance(v, int) else 0 for v in frame[column]]
    frame["资金来源"] = [s if s else UNNAMED_SOURCE for s in frame["资金来源"]]
    return frame


def ledger_rows(data: WorkbookData) -> pd.DataFrame:
    frame = data.tables[DISBURSEMENTS.name].frame.copy()
    frame["金额"] = [v if isinstance(v, int) else 0 for v in frame["金额"]]
    frame["支出类别"] = [c if c else UNNAMED_CATEGORY for c in frame["支出类别"]]
    frame["资金来源"] = [s if s else UNNAMED_SOURCE for s in frame["资金来源"]]
    return frame


def totals_by_project(data: WorkbookData) -> pd.DataFrame:
    """One row per 项目编号 found in 预算 or 支出明细: the budget sums and 支出数, in fen (int)."""
    budget = budget_rows(data)
    ledger = ledger_rows(data)
    sums = budget.groupby("项目编号", sort=False)[list(BUDGET_AMOUNTS)].sum()
    spent = ledger.groupby("项目编号", sort=False)["金额"].sum().rename("支出数")
    totals = sums.join(spent, how="outer")
    totals["payments"] = ledger.groupby("项目编号", sort=False).size()
    return totals.fillna(0).astype("int64")


def compute(data: WorkbookData) -> list[ProjectRecord]:
    """One record per row of 项目, in workbook order."""
    projects = data.tables[PROJECTS.name].frame
    budget = budget_rows(data)
    ledger = ledger_rows(data)
    totals = totals_by_project(data)
    narrative = data.tables[NARRATIVE.name].frame

    sections_by_project = _sections(narrative)
    records = []
    for project in projects.to_dict("records"):
        pid = project["项目编号"]
        row = totals.loc[pid] if pid in totals.index else None
        figures = Figures(*(int(row[c]) if row is not None else 0 for c in (*BUDGET_AMOUNTS, "支出数")))
        own_budget = budget[budget["项目编号"] == pid]
        own_ledger = ledger[ledger["项目编号"] == pid]
        received_dates = [d for d in own_budget["到位日期"] if d is not None]
        records.append(ProjectRecord(
            project_id=pid,
            name=project["项目名称"],
            unit_name=project["单位名称"],
            unit_short_name=project["单位简称"] or project["单位名称"],
            year=project["预算年度"],
            project_type=project["项目类型"] or "常规",
            template=project["报告模板"],
            report_date=project["报告日期"],
            excel_row=project[ROW],
            figures=figures,
            received_date=min(received_dates) if received_dates else None,
            by_source=_by_source(own_budget, own_ledger),
            by_category=_by_category(own_ledger),
            by_month=_by_month(own_ledger),
            payments=int(row["payments"]) if row is not None else 0,
            sections=sections_by_project.get(pid, {}),
        ))
    return records


def _by_source(budget: pd.DataFrame, ledger: pd.DataFrame) -> list[dict]:
    sums = budget.groupby("资金来源", sort=False)[list(BUDGET_AMOUNTS)].sum()
    spent = ledger.groupby("资金来源", sort=False)["金额"].sum()
    rows = []
    for source, amounts in sums.iterrows():
        rows.append({"source": source, "declared": int(amounts["申报数"]), "approved": int(amounts["批复数"]),
                     "budget": int(amounts["全年预算数"]), "received": int(amounts["到位数"]),
                     "spent": int(spent.get(source, 0))})
    for source, amount in spent.items():
        if source not in sums.index:
            rows.append({"source": source, "declared": 0, "approved": 0, "budget": 0, "received": 0,
                         "spent": int(amount)})
    return rows


def _by_category(ledger: pd.DataFrame) -> list[dict]:
    grouped = ledger.groupby("支出类别", sort=False)["金额"].agg(["sum", "size"])
    grouped = grouped.sort_values("sum", ascending=False, kind="stable")
    return [{"category": name, "amount": int(r["sum"]), "count": int(r["size"])} for name, r in grouped.iterrows()]


def _by_month(ledger: pd.DataFrame) -> list[dict]:
    dated = ledger[[d is not None for d in ledger["支付日期"]]]
    if dated.empty:
        return []
    months = [dt.date(d.year, d.month, 1) for d in dated["支付日期"]]
    grouped = dated.assign(month=months).groupby("month", sort=True)["金额"].sum()
    return [{"month": month, "amount": int(amount)} for month, amount in grouped.items()]


def _sections(narrative: pd.DataFrame) -> dict[str, dict[str, list[str]]]:
    """项目编号 -> 栏目 -> paragraphs; a cell with line breaks is several paragraphs."""
    result: dict[str, dict[str, list[str]]] = {}
    for pid, section, text in zip(narrative["项目编号"], narrative["栏目"], narrative["内容"]):
        if pid is None or section is None or text is None:
            continue
        paragraphs = [line.strip() for line in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")]
        result.setdefault(pid, {}).setdefault(section.strip(), []).extend(p for p in paragraphs if p)
    return result
