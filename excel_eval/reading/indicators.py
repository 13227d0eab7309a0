"""绩效指标 in the official 自评表 layout (财预〔2020〕10号): the target in three columns, 指标性质 (＝ ≥ ≤, or 定性),
指标值 and 度量单位, joined into the one 年度指标值 the rest of the program reads: ≥ + 7000 + 件 → `≥7000件`;
定性 + 有效减少 → `有效减少`. The three columns stay in the table, so a 自评表 can print them as given.
"""

from __future__ import annotations

import unicodedata

from ..problems import Problems
from .cells import CellText
from .sheets import ROW, Table

NATURES = {"=": "=", "＝": "=", "等于": "=", "定量": "=", "≥": "≥", ">=": "≥", "大于等于": "≥", "不低于": "≥",
           "不少于": "≥", "正向": "≥", "正向指标": "≥", "≤": "≤", "<=": "≤", "小于等于": "≤", "不高于": "≤",
           "不超过": "≤", "反向": "≤", "反向指标": "≤", ">": ">", "<": "<", "定性": "", "定性指标": ""}


def join_split_targets(table: Table, problems: Problems) -> None:
    """Fill 年度指标值 from 指标性质, 指标值 and 度量单位 on every row that has those and no 年度指标值."""
    columns = table.columns
    if table.empty or not any(v is not None for v in columns["指标值"]) and not any(
            v is not None for v in columns["指标性质"]):
        return
    targets = list(columns["年度指标值"])
    for i, (nature, value, unit, row) in enumerate(zip(columns["指标性质"], columns["指标值"], columns["度量单位"], columns[ROW])):
        if targets[i] is not None:
            continue
        targets[i] = _joined(table, row, nature, value, unit, problems)
    columns["年度指标值"] = targets


def _joined(table: Table, row: int, nature, value, unit, problems: Problems):
    where = {"sheet": table.title}
    if value is None:
        problems.error("cell-missing", "“指标值”是必填项，不能为空，请填写（定性指标填写目标的文字，如“有效减少”）。",
                       cell=table.cell("指标值", row), **where)
        return None
    key = unicodedata.normalize("NFKC", str(nature or "")).strip()
    op = NATURES.get(key, NATURES.get(str(nature or "").strip()))
    if op is None:
        problems.error("indicator-nature-invalid",
                       f"指标性质“{nature}”无法识别，请填写 ＝、≥、≤ 或 定性（正向指标填 ≥，反向指标填 ≤）。",
                       cell=table.cell("指标性质", row), value=nature, **where)
        return None
    shown = str(value)
    unit = "" if op == "" or unit is None else str(unit).strip()
    text = op + shown + ("" if shown.endswith(unit) else unit)
    number = getattr(value, "number", None)
    if number is None:
        return text
    if unit == "%" and getattr(value, "unit", "") != "%" and abs(number) <= 1:
        problems.warning(
            "indicator-unit-unknown",
            f"指标值 {shown}、度量单位 %：按 {shown}% 理解。如果是 {format(number * 100, 'f').rstrip('0').rstrip('.')}%，"
            "请填写该数，或把单元格设为百分比格式。", cell=table.cell("指标值", row), value=shown, **where)
    return CellText(text, number, getattr(value, "unit", "") or unit, getattr(value, "known", True))
