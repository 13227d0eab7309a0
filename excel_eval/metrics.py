"""Figures per project, computed with pandas from 预算 and 支出明细. Pure functions: tables in, records out
(records.ProjectRecord, also importable from here).

All money is integer fen; rates are exact Decimal fractions (rounded only when formatted).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from .reading import ROW, WorkbookData
from .records import UNNAMED_CATEGORY, UNNAMED_SOURCE, Figures, Payments, ProjectRecord
from .schema import BUDGET, DISBURSEMENTS, NARRATIVE, PROJECTS

BUDGET_AMOUNTS = ("申报数", "批复数", "全年预算数", "到位数")


def budget_rows(data: WorkbookData) -> pd.DataFrame:
    """预算 rows with 全年预算数 defaulted to 批复数 and unreadable amounts as 0 (int fen throughout); made once
    per workbook (the checks and the figures both use it), not to be changed."""
    return data.derived("budget_rows", lambda: _budget_rows(data))


def _budget_rows(data: WorkbookData) -> pd.DataFrame:
    frame = data.tables[BUDGET.name].frame.copy()
    frame["全年预算数"] = pd.Series([b if b is not None else a for a, b in zip(frame["批复数"], frame["全年预算数"])],
                               index=frame.index, dtype=object)
    for column in BUDGET_AMOUNTS:
        frame[column] = pd.Series([v if isinstance(v, int) else 0 for v in frame[column]], index=frame.index,
                                  dtype="int64")
    frame["资金来源"] = [s if s else UNNAMED_SOURCE for s in frame["资金来源"]]
    return frame


def ledger_rows(data: WorkbookData) -> pd.DataFrame:
    """支出明细 rows with unreadable amounts as 0 and blank categories and sources named; made once."""
    return data.derived("ledger_rows", lambda: _ledger_rows(data))


def _ledger_rows(data: WorkbookData) -> pd.DataFrame:
    frame = data.tables[DISBURSEMENTS.name].frame.copy()
    frame["金额"] = pd.Series([v if isinstance(v, int) else 0 for v in frame["金额"]], index=frame.index, dtype="int64")
    frame["支出类别"] = [c if c else UNNAMED_CATEGORY for c in frame["支出类别"]]
    frame["资金来源"] = [s if s else UNNAMED_SOURCE for s in frame["资金来源"]]
    return frame


def totals_by_project(data: WorkbookData) -> pd.DataFrame:
    """One row per 项目编号 found in 预算 or 支出明细: the budget sums and 支出数, in fen (int); made once."""
    return data.derived("totals_by_project", lambda: _totals_by_project(data))


def project_totals(data: WorkbookData) -> dict[str, dict[str, int]]:
    """totals_by_project as 项目编号 → column → int, for looking projects up one by one."""
    def make() -> dict[str, dict[str, int]]:
        totals = totals_by_project(data)
        return {pid: dict(zip(totals.columns, map(int, values)))
                for pid, values in zip(totals.index, totals.itertuples(index=False))}

    return data.derived("project_totals", make)


def _totals_by_project(data: WorkbookData) -> pd.DataFrame:
    budget = budget_rows(data)
    ledger = ledger_rows(data)
    sums = budget.groupby("项目编号", sort=False)[list(BUDGET_AMOUNTS)].sum()
    spent = ledger.groupby("项目编号", sort=False)["金额"].sum().rename("支出数")
    totals = sums.join(spent, how="outer")
    totals["payments"] = ledger.groupby("项目编号", sort=False).size()
    return totals.fillna(0).astype("int64")


def compute(data: WorkbookData) -> list[ProjectRecord]:
    """One record per row of 项目, in workbook order. Every sum is one group-by over the whole sheet."""
    budget = budget_rows(data)
    ledger = ledger_rows(data)
    totals = totals_by_project(data)
    sources = _by_source(budget, ledger)
    categories = _by_category(ledger)
    months = _by_month(ledger)
    received_dates = _earliest(budget, "到位日期")
    receipts = _receipts(budget)
    sections = _sections(data.tables[NARRATIVE.name].frame)
    payments = _payments(data.tables[DISBURSEMENTS.name].frame, ledger)
    columns = [*BUDGET_AMOUNTS, "支出数", "payments"]
    sums = project_totals(data)

    records = []
    for project in data.tables[PROJECTS.name].records():
        pid = project["项目编号"]
        row = sums.get(pid, dict.fromkeys(columns, 0))
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
            figures=Figures(*(row[c] for c in (*BUDGET_AMOUNTS, "支出数"))),
            received_date=received_dates.get(pid),
            receipts=receipts.get(pid, []),
            by_source=sources.get(pid, []),
            by_category=categories.get(pid, []),
            by_month=months.get(pid, []),
            payments=row["payments"],
            sections=sections.get(pid, {}),
            ledger=payments.get(pid, []),
            department=project["主管部门"] or project["单位名称"],
            implementer=project["实施单位"] or project["单位名称"],
        ))
    return records


def _earliest(frame: pd.DataFrame, column: str) -> dict[str, dt.date]:
    earliest: dict[str, dt.date] = {}
    for pid, day in zip(frame["项目编号"], frame[column]):
        if day is not None and (pid not in earliest or day < earliest[pid]):
            earliest[pid] = day
    return earliest


def _receipts(budget: pd.DataFrame) -> dict[str, list[tuple[dt.date | None, int]]]:
    """项目编号 -> (到位日期, 到位数) of each of its 预算 rows, in sheet order."""
    result: dict[str, list[tuple[dt.date | None, int]]] = {}
    for pid, day, fen in zip(budget["项目编号"], budget["到位日期"], budget["到位数"]):
        result.setdefault(pid, []).append((day, int(fen)))
    return result


def _by_source(budget: pd.DataFrame, ledger: pd.DataFrame) -> dict[str, list[dict]]:
    """项目编号 -> the budget amounts and spending per 资金来源 (budget sources first, in sheet order)."""
    amounts = budget.groupby(["项目编号", "资金来源"], sort=False)[
        list(BUDGET_AMOUNTS)].sum()
    spent = ledger.groupby(["项目编号", "资金来源"], sort=False)["金额"].sum()
    result: dict[str, list[dict]] = {}
    for (pid, source), row in zip(amounts.index, amounts.itertuples(index=False)):
        declared, approved, budget_amount, received = map(int, row)
        result.setdefault(pid, []).append({
            "source": source, "declared": declared, "approved": approved, "budget": budget_amount,
            "received": received, "spent": int(spent.get((pid, source), 0))})
    for (pid, source), amount in spent.items():
        if (pid, source) not in amounts.index:
            result.setdefault(pid, []).append({"source": source, "declared": 0, "approved": 0, "budget": 0,
                                               "received": 0, "spent": int(amount)})
    return result


def _by_category(ledger: pd.DataFrame) -> dict[str, list[dict]]:
    """项目编号 -> spending per 支出类别, largest first."""
    grouped = ledger.groupby(["项目编号", "支出类别"], sort=False)["金额"].agg(["sum", "size"])
    grouped = grouped.sort_values("sum", ascending=False, kind="stable")
    result: dict[str, list[dict]] = {}
    for (pid, category), total, count in zip(grouped.index, grouped["sum"], grouped["size"]):
        result.setdefault(pid, []).append({"category": category, "amount": int(total), "count": int(count)})
    return result


def _by_month(ledger: pd.DataFrame) -> dict[str, list[dict]]:
    """项目编号 -> spending per month of 支付日期, in date order."""
    dated = ledger[[d is not None for d in ledger["支付日期"]]]
    result: dict[str, list[dict]] = {}
    if dated.empty:
        return result
    months = [dt.date(d.year, d.month, 1) for d in dated["支付日期"]]
    grouped = dated.assign(month=months).groupby(["项目编号", "month"], sort=True)["金额"].sum()
    for (pid, month), amount in grouped.items():
        result.setdefault(pid, []).append({"month": month, "amount": int(amount)})
    return result


PAYMENT_FIELDS = {"date": "支付日期", "category": "支出类别", "source": "资金来源", "voucher": "凭证号", "memo": "摘要"}


def _payments(frame: pd.DataFrame, ledger: pd.DataFrame) -> dict[str, Payments]:
    """项目编号 -> its payments in ledger order, as written (amounts as `ledger_rows` reads them, in fen)."""
    columns = {key: frame[name].tolist() for key, name in PAYMENT_FIELDS.items()}
    columns["amount"] = ledger["金额"].tolist()
    return {pid: Payments(columns, positions)
            for pid, positions in frame.groupby("项目编号", sort=False).indices.items()}


def _sections(narrative: pd.DataFrame) -> dict[str, dict[str, list[str]]]:
    """项目编号 -> 栏目 -> paragraphs; a cell with line breaks is several paragraphs."""
    result: dict[str, dict[str, list[str]]] = {}
    for pid, section, text in zip(narrative["项目编号"], narrative["栏目"], narrative["内容"]):
        if pid is None or section is None or text is None:
            continue
        paragraphs = [line.strip() for line in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")]
        result.setdefault(pid, {}).setdefault(section.strip(), []).extend(p for p in paragraphs if p)
    return result
