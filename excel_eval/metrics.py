"""Figures per project from 预算 and 支出明细. Pure functions: tables in, records out (records.ProjectRecord,
also importable from here). Each sum is one pass over a sheet's columns, grouped by 项目编号 in a dict; rows
without a 项目编号 belong to no project.

All money is integer fen; rates are exact Decimal fractions (rounded only when formatted).
"""

from __future__ import annotations

import datetime as dt

from .reading import ROW, WorkbookData
from .records import UNNAMED_CATEGORY, UNNAMED_SOURCE, Figures, Payments, ProjectRecord
from .schema import BUDGET, DISBURSEMENTS, NARRATIVE, PROJECTS

BUDGET_AMOUNTS = ("申报数", "批复数", "全年预算数", "到位数")
Columns = dict[str, list]


def budget_rows(data: WorkbookData) -> Columns:
    """预算's columns with 全年预算数 defaulted to 批复数 and unreadable amounts as 0 (int fen throughout); made
    once per workbook (the checks and the figures both use it), not to be changed."""
    return data.derived("budget_rows", lambda: _budget_rows(data))


def _budget_rows(data: WorkbookData) -> Columns:
    columns = dict(data.tables[BUDGET.name].columns)
    columns["全年预算数"] = [b if b is not None else a for a, b in zip(columns["批复数"], columns["全年预算数"])]
    for name in BUDGET_AMOUNTS:
        columns[name] = _fen(columns[name])
    columns["资金来源"] = [s if s else UNNAMED_SOURCE for s in columns["资金来源"]]
    return columns


def ledger_rows(data: WorkbookData) -> Columns:
    """支出明细's columns with unreadable amounts as 0 and blank categories and sources named; made once."""
    return data.derived("ledger_rows", lambda: _ledger_rows(data))


def _ledger_rows(data: WorkbookData) -> Columns:
    columns = dict(data.tables[DISBURSEMENTS.name].columns)
    columns["金额"] = _fen(columns["金额"])
    columns["支出类别"] = [c if c else UNNAMED_CATEGORY for c in columns["支出类别"]]
    columns["资金来源"] = [s if s else UNNAMED_SOURCE for s in columns["资金来源"]]
    return columns


def _fen(values: list) -> list[int]:
    return [v if isinstance(v, int) else 0 for v in values]


def project_totals(data: WorkbookData) -> dict[str, dict[str, int]]:
    """项目编号 (each found in 预算 or 支出明细) → its budget sums, 支出数 and number of payments, in fen (int);
    made once."""
    return data.derived("project_totals", lambda: _project_totals(data))


def _project_totals(data: WorkbookData) -> dict[str, dict[str, int]]:
    budget, ledger = budget_rows(data), ledger_rows(data)
    empty = {**dict.fromkeys(BUDGET_AMOUNTS, 0), "支出数": 0, "payments": 0}
    totals: dict[str, dict[str, int]] = {}
    for pid, *amounts in zip(budget["项目编号"], *(budget[name] for name in BUDGET_AMOUNTS)):
        if pid is not None:
            sums = totals.setdefault(pid, dict(empty))
            for name, amount in zip(BUDGET_AMOUNTS, amounts):
                sums[name] += amount
    for pid, amount in zip(ledger["项目编号"], ledger["金额"]):
        if pid is not None:
            sums = totals.setdefault(pid, dict(empty))
            sums["支出数"] += amount
            sums["payments"] += 1
    return totals


def compute(data: WorkbookData) -> list[ProjectRecord]:
    """One record per row of 项目, in workbook order. Every sum is one pass over the whole sheet."""
    budget = budget_rows(data)
    ledger = ledger_rows(data)
    groups = _LedgerGroups(ledger)
    sources = _by_source(budget, groups.spent)
    categories = _by_category(groups.categories)
    months = _by_month(groups.months)
    received_dates = _earliest(budget, "到位日期")
    receipts = _receipts(budget)
    sections = _sections(data.tables[NARRATIVE.name].columns)
    payments = _payments(data.tables[DISBURSEMENTS.name].columns, ledger, groups.positions)
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


def _earliest(columns: Columns, column: str) -> dict[str, dt.date]:
    earliest: dict[str, dt.date] = {}
    for pid, day in zip(columns["项目编号"], columns[column]):
        if day is not None and (pid not in earliest or day < earliest[pid]):
            earliest[pid] = day
    return earliest


def _receipts(budget: Columns) -> dict[str, list[tuple[dt.date | None, int]]]:
    """项目编号 -> (到位日期, 到位数) of each of its 预算 rows, in sheet order."""
    result: dict[str, list[tuple[dt.date | None, int]]] = {}
    for pid, day, fen in zip(budget["项目编号"], budget["到位日期"], budget["到位数"]):
        result.setdefault(pid, []).append((day, fen))
    return result


class _LedgerGroups:
    """支出明细 grouped by 项目编号 in one pass over its rows (each group in ledger order): spending per 资金来源,
    per 支出类别 (sum and count) and per month, and the rows of each project."""

    def __init__(self, ledger: Columns):
        self.spent: dict[tuple[str, str], int] = {}
        self.categories: dict[tuple[str, str], list[int]] = {}
        self.months: dict[tuple[str, int, int], int] = {}
        self.positions: dict[str, list[int]] = {}
        spent, categories, months, positions = self.spent, self.categories, self.months, self.positions
        rows = zip(ledger["项目编号"], ledger["资金来源"], ledger["支出类别"], ledger["支付日期"], ledger["金额"])
        for index, (pid, source, category, day, amount) in enumerate(rows):  # 50,000 rows: kept inline
            if pid is None:
                continue
            key = (pid, source)
            spent[key] = spent.get(key, 0) + amount
            group = categories.setdefault((pid, category), [0, 0])
            group[0] += amount
            group[1] += 1
            if day is not None:
                month = (pid, day.year, day.month)
                months[month] = months.get(month, 0) + amount
            positions.setdefault(pid, []).append(index)


def _by_source(budget: Columns, spent: dict[tuple[str, str], int]) -> dict[str, list[dict]]:
    """项目编号 -> the budget amounts and spending per 资金来源 (budget sources first, in sheet order)."""
    amounts: dict[tuple[str, str], list[int]] = {}
    for pid, source, *values in zip(budget["项目编号"], budget["资金来源"], *(budget[n] for n in BUDGET_AMOUNTS)):
        if pid is not None:
            sums = amounts.setdefault((pid, source), [0] * len(BUDGET_AMOUNTS))
            for i, value in enumerate(values):
                sums[i] += value
    result: dict[str, list[dict]] = {}
    for (pid, source), (declared, approved, budget_amount, received) in amounts.items():
        result.setdefault(pid, []).append({
            "source": source, "declared": declared, "approved": approved, "budget": budget_amount,
            "received": received, "spent": spent.get((pid, source), 0)})
    for (pid, source), amount in spent.items():
        if (pid, source) not in amounts:
            result.setdefault(pid, []).append({"source": source, "declared": 0, "approved": 0, "budget": 0,
                                               "received": 0, "spent": amount})
    return result


def _by_category(categories: dict[tuple[str, str], list[int]]) -> dict[str, list[dict]]:
    """项目编号 -> spending per 支出类别, largest first (equal amounts in ledger order)."""
    result: dict[str, list[dict]] = {}
    for (pid, category), (total, count) in sorted(categories.items(), key=lambda item: -item[1][0]):
        result.setdefault(pid, []).append({"category": category, "amount": total, "count": count})
    return result


def _by_month(months: dict[tuple[str, int, int], int]) -> dict[str, list[dict]]:
    """项目编号 -> spending per month of 支付日期, in date order."""
    result: dict[str, list[dict]] = {}
    for (pid, year, month), amount in sorted(months.items(), key=lambda item: item[0][1:]):
        result.setdefault(pid, []).append({"month": dt.date(year, month, 1), "amount": amount})
    return result


PAYMENT_FIELDS = {"date": "支付日期", "category": "支出类别", "source": "资金来源", "voucher": "凭证号", "memo": "摘要"}


def _payments(table: Columns, ledger: Columns, positions: dict[str, list[int]]) -> dict[str, Payments]:
    """项目编号 -> its payments in ledger order, as written (amounts as `ledger_rows` reads them, in fen)."""
    columns = {key: table[name] for key, name in PAYMENT_FIELDS.items()}
    columns["amount"] = ledger["金额"]
    return {pid: Payments(columns, rows) for pid, rows in positions.items()}


def _sections(narrative: Columns) -> dict[str, dict[str, list[str]]]:
    """项目编号 -> 栏目 -> paragraphs; a cell with line breaks is several paragraphs."""
    result: dict[str, dict[str, list[str]]] = {}
    for pid, section, text in zip(narrative["项目编号"], narrative["栏目"], narrative["内容"]):
        if pid is None or section is None or text is None:
            continue
        paragraphs = [line.strip() for line in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")]
        result.setdefault(pid, {}).setdefault(section.strip(), []).extend(p for p in paragraphs if p)
    return result
