"""Scores of the 绩效自评表: indicators (sheet 绩效指标) against their targets, per 财预〔2020〕10号.

Pure functions: rows of the indicators table in, a `Scorecard` out. The rules (design/report.md, Scoring):

- 预算执行率: 10 × min(执行率, 1).
- `≥` (正向) and `=`: full marks when actual ≥ target, else actual ÷ target × 分值.
- `≤` (反向): full marks when actual ≤ target, else (1 − (actual − target) ÷ target) × 分值, 0 from 2 × target.
- Values are compared as the accountant sees them in Excel (quantities.py): 93% typed in a cell is 93 %,
  whichever way Excel stores it; a number without a unit is taken in the other value's unit as it stands.
- 时效 (a target that is a day: 12月底前, 年底前, 2021-10-31): full marks when the actual day is not later; a
  late completion scores 0, or the 自评得分 given, and is pointed out in a warning.
- qualitative (a target with no number): the given 自评得分; outside the MoF range of its 实际完成值
  (达成 80–100%, 部分达成 60–80%, 未达成 0–60% of 分值) is a warning.
- a 自评得分 given for a quantitative indicator overrides the computed score (0 ≤ score ≤ 分值).
- scores are rounded half-up to two decimals and never exceed 分值.
- total = 预算执行率 score + indicator scores; when the indicators' 分值 do not add up to 90, their part is
  scaled to 90 (sum × 90 ÷ 分值合计, rounded to two decimals) so that the total is out of 100; 优 ≥ 90,
  良 80–<90, 中 60–<80, 差 < 60.

`check_indicators` turns every rule broken into a located problem; `score_project` scores one project and
reports nothing (the run has checked the workbook before it scores).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from decimal import ROUND_HALF_UP, Decimal

from .problems import Problems
from .quantities import (EQ, LE, LT, Deadline, Quantity, UnitMismatch, chinese_day, comparable, met_on_time,
                         parse_deadline, parse_quantity, plain as _plain)
from .schema import LEVEL1, LEVEL2, ROW

if TYPE_CHECKING:
    from .reading import Table

EXECUTION_WEIGHT = Decimal(10)  # 预算执行率 分值
INDICATOR_WEIGHTS = Decimal(90)  # what the indicators' 分值 add up to (产出 50, 效益 30, 满意度 10)
GRADES = ((Decimal(90), "优"), (Decimal(80), "良"), (Decimal(60), "中"), (Decimal(0), "差"))
# MoF ranges for a qualitative indicator's score, as fractions of its 分值 (ends inclusive: 80% is both 达成
# and 部分达成, so that a score on a boundary never warns).
BANDS = {"达成": (Decimal("0.8"), Decimal(1)), "部分达成": (Decimal("0.6"), Decimal("0.8")),
         "未达成": (Decimal(0), Decimal("0.6"))}
CENT = Decimal("0.01")

@dataclass(frozen=True)
class Indicator:
    """One row of 绩效指标, as read."""

    project_id: str | None
    level1: str | None
    level2: str | None
    name: str | None
    target: str | None
    actual: str | None
    weight: Decimal | None
    score: Decimal | None  # 自评得分 as given
    deviation: str | None
    row: int = 0
    # the target as the official 自评表 layout gives it, when it does (指标性质, 指标值, 度量单位)
    nature: str | None = None
    value: str | None = None
    unit: str | None = None

    @classmethod
    def from_record(cls, record: dict) -> "Indicator":
        return cls(record.get("项目编号"), record.get("一级指标"), record.get("二级指标"), record.get("三级指标"),
                   record.get("年度指标值"), record.get("实际完成值"), record.get("分值"), record.get("自评得分"),
                   record.get("偏差原因"), int(record.get(ROW) or 0), record.get("指标性质"), record.get("指标值"),
                   record.get("度量单位"))

    @property
    def split(self) -> bool:
        """The target was given in the official layout's three columns."""
        return self.value is not None


@dataclass(frozen=True)
class Issue:
    """A rule an indicator breaks: becomes a Problem located at `column` of its row."""

    code: str
    error: bool
    column: str
    message: str
    value: object = None


@dataclass
class IndicatorScore:
    indicator: Indicator
    weight: Decimal
    score: Decimal
    how: str  # how the score was worked out, e.g. "7126件 ≥ 7000件，满分 15"
    qualitative: bool = False
    overridden: bool = False  # the score is the given 自评得分
    computed: Decimal | None = None  # the score by the formula, when there is one


@dataclass
class Scorecard:
    project_id: str
    execution_rate: Decimal | None
    execution_score: Decimal
    indicators: list[IndicatorScore] = field(default_factory=list)

    @property
    def weight_total(self) -> Decimal:
        return sum((i.weight for i in self.indicators), Decimal(0))

    @property
    def indicator_total(self) -> Decimal:
        """The indicators' scores added up, before any scaling."""
        return sum((i.score for i in self.indicators), Decimal(0))

    @property
    def scaled(self) -> bool:
        """The indicators' 分值 do not add up to 90: their part of the total is scaled to 90."""
        return self.weight_total not in (0, INDICATOR_WEIGHTS)

    @property
    def indicator_part(self) -> Decimal:
        """The indicators' part of the total: their sum, scaled to 90 when their 分值 add up to something else."""
        if not self.scaled:
            return self.indicator_total
        return round_score(self.indicator_total * INDICATOR_WEIGHTS / self.weight_total)

    @property
    def full_marks(self) -> Decimal:
        return EXECUTION_WEIGHT + (INDICATOR_WEIGHTS if self.scaled else self.weight_total)

    @property
    def total(self) -> Decimal:
        return self.execution_score + self.indicator_part

    @property
    def grade(self) -> str:
        return grade(self.total)

    @property
    def scaling_note(self) -> str:
        """How the indicators' part was scaled, in brackets after 总分 on the 自评表; "" when it was not."""
        if not self.scaled:
            return ""
        return (f"（各指标分值合计{_plain(self.weight_total)}分，按{_plain(INDICATOR_WEIGHTS)}分折算："
                f"{_plain(self.indicator_total)} × {_plain(INDICATOR_WEIGHTS)} ÷ {_plain(self.weight_total)} = "
                f"{_plain(self.indicator_part)}）")

    @property
    def execution_how(self) -> str:
        if self.execution_rate is None:
            return "全年预算数为 0，无法计算执行率，0 分"
        rate = _plain(self.execution_rate * 100, 2) + "%"
        if self.execution_rate >= 1:
            return f"执行率 {rate} ≥ 100%，满分 {_plain(EXECUTION_WEIGHT)}"
        return f"{_plain(EXECUTION_WEIGHT)} × {rate} = {_plain(self.execution_score)}"


def round_score(value: Decimal) -> Decimal:
    """Half-up to two decimals, as an accountant rounds."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def grade(total: Decimal) -> str:
    """优 ≥ 90, 良 80–<90, 中 60–<80, 差 < 60."""
    return next((name for floor, name in GRADES if total >= floor), "差")


def execution_score(rate: Decimal | None) -> Decimal:
    """预算执行率 score: 10 × min(执行率, 1); no rate (a zero budget, an error of its own) scores 0."""
    if rate is None or rate <= 0:
        return round_score(Decimal(0))
    return round_score(EXECUTION_WEIGHT * min(rate, Decimal(1)))


def score_indicator(indicator: Indicator, year: int | None = None, report_date: dt.date | None = None
                    ) -> tuple[IndicatorScore, list[Issue]]:
    """One indicator's score, how it was worked out, and the rules it breaks. `year` (the budget year) and
    `report_date` place deadlines written without a year (quantities.parse_deadline)."""
    issues: list[Issue] = []
    weight = indicator.weight if indicator.weight is not None else Decimal(0)
    if weight < 0:
        issues.append(Issue("indicator-weight-invalid", True, "分值", f"分值“{_plain(weight)}”不能为负数，请填写该指标的分值，如 10。",
                            weight))
        weight = Decimal(0)
    given = indicator.score
    if given is not None and not 0 <= given <= weight:
        issues.append(Issue(
            "indicator-score-range", True, "自评得分",
            f"自评得分 {_plain(given)} 超出范围：应在 0 到分值 {_plain(weight)} 之间。请改正，或清空由程序按公式计算。", given))
        given = None
    if indicator.target is None:  # the reader has reported the empty required cell
        return _given_or_zero(indicator, weight, given, "未填写年度指标值"), issues
    year = year or (report_date or dt.date.today()).year
    deadline = parse_deadline(indicator.target, year)
    if deadline is not None:
        return _score_deadline(indicator, weight, given, deadline, year, report_date, issues), issues
    target = parse_quantity(indicator.target)
    if target is None:
        return _score_qualitative(indicator, weight, given, issues), issues
    return _score_quantity(indicator, weight, given, target, issues), issues


def _score_qualitative(indicator: Indicator, weight: Decimal, given: Decimal | None, issues: list[Issue]
                       ) -> IndicatorScore:
    if given is None:
        if indicator.score is None:
            issues.append(Issue(
                "indicator-score-missing", True, "自评得分",
                f"“{indicator.name or ''}”是定性指标（年度指标值“{indicator.target}”不是数字），须填写自评得分："
                "达成 得分值的 80%–100%，部分达成 60%–80%，未达成 0–60%。", None))
        return IndicatorScore(indicator, weight, round_score(Decimal(0)), "定性指标，未填写有效的自评得分，0 分",
                              qualitative=True)
    score = _cap(round_score(given), weight)
    label = (indicator.actual or "").strip()
    band = BANDS.get(label)
    how = f"定性指标，{label + '，' if label else ''}自评得分 {_plain(score)}"
    if band is not None:
        low, high = round_score(band[0] * weight), round_score(band[1] * weight)
        how += f"（{label}为 {_plain(low)}–{_plain(high)} 分）"
        if not low <= given <= high:
            issues.append(Issue(
                "indicator-score-band", False, "自评得分",
                f"实际完成值为“{label}”，按财政部规则自评得分应在 {_plain(low)}–{_plain(high)} 分之间（分值 {_plain(weight)} 的 "
                f"{_plain(band[0] * 100)}%–{_plain(band[1] * 100)}%），填写的是 {_plain(given)}。请核对得分或实际完成值。",
                given))
    return IndicatorScore(indicator, weight, score, how, qualitative=True, overridden=True)


def _score_deadline(indicator: Indicator, weight: Decimal, given: Decimal | None, deadline: Deadline, year: int,
                    report_date: dt.date | None, issues: list[Issue]) -> IndicatorScore:
    """A 时效 target: the actual day against the last day the target allows."""
    target, full = str(indicator.target).strip(), _plain(weight)
    if indicator.actual is None:  # the reader has reported the empty required cell
        return _given_or_zero(indicator, weight, given, "未填写实际完成值")
    actual = str(indicator.actual).strip()
    if met_on_time(actual):
        computed, how = weight, f"实际完成值“{actual}”，按期完成，满分 {full}"
    else:
        done = parse_deadline(indicator.actual, year, report_date, actual=True)
        if done is None:
            if given is None and indicator.score is None:
                issues.append(Issue(
                    "indicator-actual-invalid", True, "实际完成值",
                    f"年度指标值“{target}”是完成时限（{chinese_day(deadline.day)}前），实际完成值“{actual}”应为完成日期"
                    "（如 2021年12月20日、12月底）或“按期完成”；或在“自评得分”中填写得分。", actual))
            return _given_or_zero(indicator, weight, given, f"实际完成值“{actual}”不是日期")
        when = f"{chinese_day(done.day)}{'，未写年份，按报告日期推定' if done.year_inferred else ''}"
        if done.day <= deadline.day:
            computed, how = weight, f"{actual}（{when}）不晚于 {target}（{chinese_day(deadline.day)}），满分 {full}"
        else:
            computed, how = Decimal(0), f"{actual}（{when}）晚于 {target}（{chinese_day(deadline.day)}），逾期 0 分"
            issues.append(Issue(
                "indicator-late", False, "实际完成值",
                f"实际完成值“{actual}”（{when}）晚于年度指标值“{target}”（{chinese_day(deadline.day)}）：逾期完成不得满分，"
                + (f"采用填写的自评得分 {_plain(given)}。" if given is not None else "按 0 分计；如有理由，可在“自评得分”中填写得分。")
                + ("如果不是逾期，请写明完成日期的年份，如“2021年1月底”。" if done.year_inferred else ""), actual))
    computed = _cap(round_score(computed), weight)
    if given is not None:
        score = _cap(round_score(given), weight)
        return IndicatorScore(indicator, weight, score, f"采用填写的自评得分 {_plain(score)}（按时限：{how}）",
                              overridden=True, computed=computed)
    return IndicatorScore(indicator, weight, computed, how, computed=computed)


def _score_quantity(indicator: Indicator, weight: Decimal, given: Decimal | None, target: Quantity,
                    issues: list[Issue]) -> IndicatorScore:
    if indicator.actual is None:  # the reader has reported the empty required cell
        return _given_or_zero(indicator, weight, given, "未填写实际完成值")
    actual = parse_quantity(indicator.actual)
    if actual is None:
        if given is None:
            if indicator.score is None:
                issues.append(Issue(
                    "indicator-actual-invalid", True, "实际完成值",
                    f"年度指标值“{indicator.target}”是定量指标，实际完成值“{indicator.actual}”应为数字（可带单位），"
                    f"如 {target.text}；或在“自评得分”中填写得分。", indicator.actual))
            return IndicatorScore(indicator, weight, round_score(Decimal(0)), "实际完成值不是数字，0 分")
        return _given_or_zero(indicator, weight, given, f"实际完成值“{indicator.actual}”")
    try:
        a, t = comparable(actual, target)
    except UnitMismatch as exc:
        issues.append(Issue("indicator-unit-mismatch", True, "实际完成值",
                            f"{exc}，无法比较。请统一单位（万元与元可以混用）。", indicator.actual))
        return _given_or_zero(indicator, weight, given, "单位不一致")
    issues.extend(_unit_notes(actual, target, indicator))
    # An actual written without a unit is shown in the target's.
    a_text = actual.text if actual.unit or not target.unit else _plain(a) + target.unit
    computed, how = _formula(target.op or EQ, a, t, a_text, target.text, weight)
    computed = _cap(round_score(computed), weight)
    if given is not None:
        score = _cap(round_score(given), weight)
        return IndicatorScore(indicator, weight, score, f"采用填写的自评得分 {_plain(score)}（按公式：{how}）",
                              overridden=True, computed=computed)
    return IndicatorScore(indicator, weight, computed, how, computed=computed)


def _unit_notes(actual: Quantity, target: Quantity, indicator: Indicator) -> list[Issue]:
    """Warnings where a value's unit cannot be known, or where a cell's format rounds what it shows."""
    notes = []
    pairs = (("实际完成值", actual, target, indicator.actual), ("年度指标值", target, actual, indicator.target))
    for column, value, other, written in pairs:
        if value.shown is not None:
            notes.append(Issue(
                "indicator-display-rounded", False, column,
                f"单元格显示为“{value.text}”，其中存储的数值是 {_plain(value.value)}{value.unit}，得分按存储的数值计算。"
                "如果应以显示的数为准，请直接填写该数。", written))
        if value.unit or other.unit != "%":
            continue
        whole = _plain(value.value * 100)
        if not value.known:
            notes.append(Issue(
                "indicator-unit-unknown", False, column,
                f"{column}是数字 {_plain(value.value)}，但这种文件不记录单元格格式，无法知道它在 Excel 中是否显示为百分数；"
                f"按 {_plain(value.value)}% 计算。如果是 {whole}%，请在单元格中写成“{whole}%”。", written))
        elif abs(value.value) <= 1 < abs(other.value):
            notes.append(Issue(
                "indicator-unit-unknown", False, column,
                f"{column} {_plain(value.value)} 没有单位，按 {_plain(value.value)}% 与 {other.text} 比较。"
                f"如果是 {whole}%，请填写“{whole}%”，或把单元格设为百分比格式。", written))
    return notes


def _formula(op: str, a: Decimal, t: Decimal, a_text: str, t_text: str, weight: Decimal) -> tuple[Decimal, str]:
    """The raw score (before rounding) and how it was worked out; a, t in one unit."""
    full = _plain(weight)
    if op in (LE, LT):
        if t <= 0:
            # A ceiling of 0 (or below) leaves no room for a proportion: met or not met.
            if a <= t:
                return weight, f"{a_text} ≤ {t_text}，满分 {full}"
            return Decimal(0), f"{a_text} > {t_text}（目标为 {t_text}，超出即不得分），0 分"
        if a <= t:
            return weight, f"{a_text} ≤ {t_text}，满分 {full}"
        if a >= 2 * t:
            return Decimal(0), f"{a_text} ≥ 2 × {t_text}，0 分"
        raw = (1 - (a - t) / t) * weight
        return raw, f"{a_text} > {t_text}，(1 − ({_plain(a)} − {_plain(t)}) ÷ {_plain(t)}) × {full} = {_plain(round_score(raw))}"
    # ≥, >, and = (scored as ≥)
    sign = "=" if op == EQ and a == t else "≥"
    if t <= 0:
        # A floor of 0 (or below): any actual at or above it meets it; there is no proportion to take.
        if a >= t:
            return weight, f"{a_text} {sign} {t_text}，满分 {full}"
        return Decimal(0), f"{a_text} < {t_text}，0 分"
    if a >= t:
        return weight, f"{a_text} {sign if a == t else '>'} {t_text}，满分 {full}"
    raw = max(a, Decimal(0)) / t * weight
    return raw, f"{a_text} < {t_text}，{_plain(a)} ÷ {_plain(t)} × {full} = {_plain(round_score(raw))}"


def _given_or_zero(indicator: Indicator, weight: Decimal, given: Decimal | None, why: str) -> IndicatorScore:
    if given is not None:
        score = _cap(round_score(given), weight)
        return IndicatorScore(indicator, weight, score, f"{why}，采用填写的自评得分 {_plain(score)}", overridden=True)
    return IndicatorScore(indicator, weight, round_score(Decimal(0)), f"{why}，0 分")


def _cap(score: Decimal, weight: Decimal) -> Decimal:
    return max(min(score, round_score(weight)), round_score(Decimal(0)))


# ------------------------------------------------------------------------------------------- the table

def indicators_of(table: Table | None, project_id: str) -> list[Indicator]:
    """The project's indicators, grouped by 一级 then 二级 指标 (in order of first appearance), else in sheet order."""
    if table is None:
        return []
    rows = [Indicator.from_record(r) for r in table.records_by("项目编号").get(project_id, [])]
    first1: dict[str | None, int] = {}
    first2: dict[tuple, int] = {}
    for i in rows:
        first1.setdefault(i.level1, len(first1))
        first2.setdefault((i.level1, i.level2), len(first2))
    return sorted(rows, key=lambda i: (first1[i.level1], first2[(i.level1, i.level2)]))


def score_project(record, table: Table | None) -> Scorecard | None:
    """The 自评表 scores of one project (a metrics.ProjectRecord); None when it has no indicators."""
    indicators = indicators_of(table, record.project_id)
    if not indicators:
        return None
    rate = record.figures.execution_rate
    card = Scorecard(record.project_id, rate, execution_score(rate))
    year, report_date = getattr(record, "year", None), getattr(record, "report_date", None)
    card.indicators = [_scored(table, i, year, report_date)[0] for i in indicators]
    return card


def _scored(table: Table, indicator: Indicator, year: int | None, report_date: dt.date | None
            ) -> tuple[IndicatorScore, list[Issue]]:
    """score_indicator, once per row of the table: the check scores every row, and the run then scores each
    project's rows again with the same budget year and report date."""
    scores = table.derived("scores", dict)
    key = (indicator, year, report_date)
    if key not in scores:
        scores[key] = score_indicator(indicator, year, report_date)
    return scores[key]


def check_indicators(table: Table | None, problems: Problems, projects: Table | None = None) -> None:
    """Every rule of the 绩效指标 sheet broken, as located problems (errors stop the run, warnings do not).
    `projects` (the 项目 table) gives each project's budget year and report date, for deadlines."""
    if table is None:
        return
    when = _project_dates(projects)
    weights: dict[str, Decimal] = {}
    first_row: dict[str, int] = {}
    for record in table.records():
        indicator = Indicator.from_record(record)
        where = {"sheet": table.title}
        if indicator.level1 is not None and indicator.level1 not in LEVEL1:
            problems.warning("indicator-level-unknown",
                             f"一级指标“{indicator.level1}”不是标准名称（{'、'.join(LEVEL1)}）。请核对是否写错。",
                             cell=table.cell("一级指标", indicator.row), value=indicator.level1, **where)
        if indicator.level2 is not None and indicator.level2 not in LEVEL2:
            problems.warning("indicator-level-unknown",
                             f"二级指标“{indicator.level2}”不是标准名称（{'、'.join(LEVEL2)}）。请核对是否写错。",
                             cell=table.cell("二级指标", indicator.row), value=indicator.level2, **where)
        result, issues = _scored(table, indicator, *when.get(indicator.project_id, (None, None)))
        for issue in issues:
            add = problems.error if issue.error else problems.warning
            add(issue.code, issue.message, cell=table.cell(issue.column, indicator.row),
                value=_plain(issue.value) if isinstance(issue.value, Decimal) else issue.value, **where)
        complete = indicator.target is not None and indicator.actual is not None and not any(i.error for i in issues)
        if complete and result.score < result.weight and not (indicator.deviation or "").strip():
            problems.warning(
                "indicator-deviation-missing",
                f"“{indicator.name or ''}”得分 {_plain(result.score)}，低于分值 {_plain(result.weight)}，但没有填写偏差原因。"
                "自评表要求写明偏差原因分析及改进措施，请在“偏差原因”中填写。",
                cell=table.cell("偏差原因", indicator.row), value=_plain(result.score), **where)
        if indicator.project_id is not None:
            weights[indicator.project_id] = weights.get(indicator.project_id, Decimal(0)) + (indicator.weight or 0)
            first_row.setdefault(indicator.project_id, indicator.row)
    for pid, total in weights.items():
        if total != INDICATOR_WEIGHTS:
            problems.warning(
                "weights-sum",
                f"项目“{pid}”的绩效指标分值合计为 {_plain(total)}，通常应为 {_plain(INDICATOR_WEIGHTS)}"
                f"（产出 50、效益 30、满意度 10，加预算执行率 10 分共 100 分）。总分和等级按 100 分制计算："
                f"指标得分合计 × {_plain(INDICATOR_WEIGHTS)} ÷ {_plain(total)}，自评表中写明折算。请核对各指标的分值。",
                sheet=table.title, cell=table.cell("分值", first_row[pid]), value=_plain(total),
            )


def _project_dates(projects: Table | None) -> dict[str, tuple[int | None, dt.date | None]]:
    if projects is None:
        return {}
    columns = projects.columns
    return {pid: (year, day) for pid, year, day in zip(columns["项目编号"], columns["预算年度"], columns["报告日期"])}
