"""What a project's documents are made of: its figures and its record, as metrics.compute makes them.

Plain data with no pandas, so that the modules that only read records (rendering, sentences, the 汇总) load
without it. All money is integer fen; rates are exact Decimal fractions (rounded only when formatted).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .scoring import Scorecard

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
    receipts: list[tuple[dt.date | None, int]] = field(default_factory=list)  # (到位日期, 到位数 fen) per 预算 row
    by_source: list[dict] = field(default_factory=list)
    by_category: list[dict] = field(default_factory=list)
    by_month: list[dict] = field(default_factory=list)
    payments: int = 0  # number of ledger rows
    sections: dict[str, list[str]] = field(default_factory=dict)  # 栏目 -> paragraphs, in sheet order
    # every payment in ledger order: date, category, source, voucher, memo (None when blank), amount (fen)
    ledger: Sequence[dict] = field(default_factory=list)  # a list, or Payments
    department: str = ""  # 主管部门, 单位名称 when blank
    implementer: str = ""  # 实施单位, 单位名称 when blank
    scorecard: "Scorecard | None" = None  # the 自评表 scores (scoring.score_project), set by the run


def ratio(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator)


class Payments(Sequence):
    """A project's payments in ledger order, each a dict (date, category, source, voucher, memo, amount), made
    when it is read from columns that every project of the workbook shares: a dict kept for each of 250,000
    payments would take 90 MiB. Equal to a list of the same dicts; pickled as its own payments only."""

    __slots__ = ("_columns", "_positions")

    def __init__(self, columns: dict[str, list], positions: Sequence[int]):
        self._columns, self._positions = columns, positions

    def __len__(self) -> int:
        return len(self._positions)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        row = self._positions[index]
        return {name: values[row] for name, values in self._columns.items()}

    def values(self, name: str) -> list:
        """One field of every payment, in ledger order."""
        column = self._columns[name]
        return [column[row] for row in self._positions]

    def __eq__(self, other) -> bool:
        if isinstance(other, (Payments, list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"Payments({list(self)!r})"

    def __reduce__(self):
        names = list(self._columns)
        return Payments, ({name: self.values(name) for name in names}, range(len(self)))


def payment_values(ledger: Sequence[dict], name: str) -> list:
    """One field (date, amount…) of every payment of a project's ledger, in ledger order."""
    return ledger.values(name) if isinstance(ledger, Payments) else [p[name] for p in ledger]
