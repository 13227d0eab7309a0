"""Scores of the 绩效自评表: indicators (sheet 绩效指标) against their targets, per 财预〔2020〕10号.

Pure functions: rows of the indicators table in, a `Scorecard` out. The rules (design/report.md, Scoring):

- 预算执行率: 10 × min(执行率, 1).
- `≥` (正向) and `=`: full marks when actual ≥ target, else actual ÷ target × 分值.
- `≤` (反向): full marks when actual ≤ target, else (1 − (actual − target) ÷ target) × 分值, 0 from 2 × target.
- qualitative (a target with no number): the given 自评得分; outside the MoF range of its 实际完成值
  (达成 80–100%, 部分达成 60–80%, 未达成 0–60% of 分值) is a warning.
- a 自评得分 given for a quantitative indicator overrides the computed score (0 ≤ score ≤ 分值).
- scores are rounded half-up to two decimals and never exceed 分值.
- total = 预算执行率 score + indicator scores; 优 ≥ 90, 良 80–<90, 中 60–<80, 差 < 60.

`check_indicators` turns every rule broken into a located problem; `score_project` scores one project and
reports nothing (the run has checked the workbook before it scores).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .problems import Problems
from .schema import LEVEL1, LEVEL2
from .reading import ROW, Table

EXECUTION_WEIGHT = Decimal(10)  # 预算执行率 分值
INDICATOR_WEIGHTS = Decimal(90)  # what the indicators' 分值 add up to (产出 50, 效益 30, 满意度 10)
GRADES = ((Decimal(90), "优"), (Decimal(80), "良"), (Decimal(60), "中"), (Decimal(0), "差"))
# MoF ranges for a qualitative indicator's score, as fractions of its 分值 (ends inclusive: 80% is both 达成
# and 部分达成, so that a score on a boundary never warns).
BANDS = {"达成": (Decimal("0.8"), Decimal(1)), "部分达成": (Decimal("0.6"), Decimal("0.8")),
         "未达成": (Decimal(0), Decimal("0.6"))}
CENT = Decimal("0.01")

GE, LE, EQ, GT, LT = "≥", "≤", "=", ">", "<"
_SYMBOLS = {">=": GE, "≥": GE, "≧": GE, "<=": LE, "≤": LE, "≦": LE, "==": EQ, "=": EQ, ">": GT, "<": LT}
_WORDS = {"不低于": GE, "不少于": GE, "不小于": GE, "大于等于": GE, "不高于": LE, "不超过": LE, "不大于": LE,
          "小于等于": LE}
# A number, then a unit that holds no digit (a target such as "2021年12月底前" is not a quantity).
_QUANTITY = re.compile(r"(?P<op>>=|<=|==|[≥≧≤≦=><])?(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+)"
                       r"(?P<unit>\D*)")
_AT_LEAST_WORDS = ("及以上", "以上")  # "95%以上" is ≥ 95%
_AT_MOST_WORDS = ("及以下", "以下", "以内")
_APPROX_WORDS = ("左右",)
_MONEY_UNITS = {"元": Decimal(1), "千元": Decimal(1000), "万元": Decimal(10000), "亿元": Decimal(100000000)}


@dataclass(frozen=True)
class Quantity:
    """A target or an actual value: `≥7000件` is (≥, 7000, 件)."""

    op: str | None  # ≥ ≤ = > <, None when none was written
    value: Decimal
    unit: str  # as written after the number, "" when none
    text: str  # the value and unit as written, without the operator: "7000件"


def parse_quantity(text: object) -> Quantity | None:
    """`≥7000件`, `>=95%`, `＜＝40万元`, `100%`, `7,126 件`, `95%以上` → a Quantity; a text without a number
    (a qualitative target such as 正常运行, or 达成) → None."""
    if text is None:
        return None
    folded = unicodedata.normalize("NFKC", str(text))
    folded = re.sub(r"\s+", "", folded)
    word_op = None
    for word, op in _WORDS.items():
        if folded.startswith(word):
            folded, word_op = folded[len(word):], op
            break
    match = _QUANTITY.fullmatch(folded)
    if match is None:
        return None
    op = _SYMBOLS.get(match["op"]) if match["op"] else word_op
    unit = match["unit"]
    for words, implied in ((_AT_LEAST_WORDS, GE), (_AT_MOST_WORDS, LE), (_APPROX_WORDS, None)):
        for word in words:
            if unit.endswith(word):
                unit = unit[: -len(word)]
                op = op or implied
    if unit[:1] in ("余", "多") and len(unit) > 1:  # "7000余件": about 7000 件
        unit = unit[1:]
    number = match["num"].replace(",", "")
    return Quantity(op, Decimal(number), unit, _plain(Decimal(number)) + unit)


class UnitMismatch(Exception):
    pass


def comparable(actual: Quantity, target: Quantity) -> tuple[Decimal, Decimal]:
    """The actual and target values in one unit: 万元 and 元 convert; a value with no unit takes the other's.

    An actual with no unit against a % target, at most 1 while the target is above 1, is a fraction: Excel
    stores a cell shown as 96% as 0.96, and the reader gives it as "0.96". Likewise a target with no unit, at
    most 1, against a % actual above 1 (=100% typed without an apostrophe is a formula whose value is 1).
    """
    a, t = actual.value, target.value
    if actual.unit == target.unit:
        return a, t
    if actual.unit in _MONEY_UNITS and target.unit in _MONEY_UNITS:
        return a * _MONEY_UNITS[actual.unit], t * _MONEY_UNITS[target.unit]
    if not actual.unit:
        if target.unit == "%" and abs(a) <= 1 < abs(t):
            return a * 100, t
        return a, t
    if not target.unit:
        if actual.unit == "%" and abs(t) <= 1 < abs(a):
            return a, t * 100  # a target typed as =100% in Excel: the formula's value, 1
        return a, t
    raise UnitMismatch(f"年度指标值的单位是“{target.unit}”，实际完成值的单位是“{actual.unit}”")


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

    @classmethod
    def from_record(cls, record: dict) -> "Indicator":
        return cls(record.get("项目编号"), record.get("一级指标"), record.get("二级指标"), record.get("三级指标"),
                   record.get("年度指标值"), record.get("实际完成值"), record.get("分值"), record.get("自评得分"),
                   record.get("偏差原因"), int(record.get(ROW) or 0))


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
    def full_marks(self) -> Decimal:
        return EXECUTION_WEIGHT + self.weight_total

    @property
    def total(self) -> Decimal:
        return self.execution_score + sum((i.score for i in self.indicators), Decimal(0))

    @property
    def grade(self) -> str:
        return grade(self.total)

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


def score_indicator(indicator: Indicator) -> tuple[IndicatorScore, list[Issue]]:
    """One indicator's score, how it was worked out, and the rules it breaks."""
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
    full = _plain(weight)
    target = parse_quantity(indicator.target)

    if indicator.target is None:  # the reader has reported the empty required cell
        return _given_or_zero(indicator, weight, given, "未填写年度指标值"), issues

    if target is None:  # qualitative
        if given is None:
            if indicator.score is None:
                issues.append(Issue(
                    "indicator-score-missing", True, "自评得分",
                    f"“{indicator.name or ''}”是定性指标（年度指标值“{indicator.target}”不是数字），须填写自评得分："
                    "达成 得分值的 80%–100%，部分达成 60%–80%，未达成 0–60%。", None))
            return IndicatorScore(indicator, weight, round_score(Decimal(0)), "定性指标，未填写有效的自评得分，0 分",
                                  qualitative=True), issues
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
                    f"实际完成值为“{label}”，按财政部规则自评得分应在 {_plain(low)}–{_plain(high)} 分之间（分值 {full} 的 "
                    f"{_plain(band[0] * 100)}%–{_plain(band[1] * 100)}%），填写的是 {_plain(given)}。请核对得分或实际完成值。",
                    given))
        return IndicatorScore(indicator, weight, score, how, qualitative=True, overridden=True), issues

    if indicator.actual is None:  # the reader has reported the empty required cell
        return _given_or_zero(indicator, weight, given, "未填写实际完成值"), issues
    actual = parse_quantity(indicator.actual)
    if actual is None:
        if given is None:
            if indicator.score is None:
                issues.append(Issue(
                    "indicator-actual-invalid", True, "实际完成值",
                    f"年度指标值“{indicator.target}”是定量指标，实际完成值“{indicator.actual}”应为数字（可带单位），"
                    f"如 {target.text}；或在“自评得分”中填写得分。", indicator.actual))
            return IndicatorScore(indicator, weight, round_score(Decimal(0)), "实际完成值不是数字，0 分"), issues
        return _given_or_zero(indicator, weight, given, f"实际完成值“{indicator.actual}”"), issues
    try:
        a, t = comparable(actual, target)
    except UnitMismatch as exc:
        issues.append(Issue("indicator-unit-mismatch", True, "实际完成值",
                            f"{exc}，无法比较。请统一单位（万元与元可以混用）。", indicator.actual))
        return _given_or_zero(indicator, weight, given, "单位不一致"), issues

    # An actual written without a unit is shown in the target's (a 0.96 from a percent cell as 96%).
    a_text = actual.text if actual.unit or not target.unit else _plain(a) + target.unit
    computed, how = _formula(target.op or EQ, a, t, a_text, target.text, weight)
    computed = _cap(round_score(computed), weight)
    if given is not None:
        score = _cap(round_score(given), weight)
        return IndicatorScore(indicator, weight, score, f"采用填写的自评得分 {_plain(score)}（按公式：{how}）",
                              overridden=True, computed=computed), issues
    return IndicatorScore(indicator, weight, computed, how, computed=computed), issues


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


def _plain(value: Decimal, digits: int | None = None) -> str:
    """A number as written in a table: no trailing zeros ("20", "18.57", "7.5")."""
    if digits is not None:
        value = value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# ------------------------------------------------------------------------------------------- the table

def indicators_of(table: Table | None, project_id: str) -> list[Indicator]:
    """The project's indicators, grouped by 一级 then 二级 指标 (in order of first appearance), else in sheet order."""
    if table is None:
        return []
    rows = [Indicator.from_record(r) for r in table.frame.to_dict("records") if r.get("项目编号") == project_id]
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
    card.indicators = [score_indicator(i)[0] for i in indicators]
    return card


def check_indicators(table: Table | None, problems: Problems) -> None:
    """Every rule of the 绩效指标 sheet broken, as located problems (errors stop the run, warnings do not)."""
    if table is None:
        return
    weights: dict[str, Decimal] = {}
    first_row: dict[str, int] = {}
    for record in table.frame.to_dict("records"):
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
        _, issues = score_indicator(indicator)
        for issue in issues:
            add = problems.error if issue.error else problems.warning
            add(issue.code, issue.message, cell=table.cell(issue.column, indicator.row),
                value=_plain(issue.value) if isinstance(issue.value, Decimal) else issue.value, **where)
        if indicator.project_id is not None:
            weights[indicator.project_id] = weights.get(indicator.project_id, Decimal(0)) + (indicator.weight or 0)
            first_row.setdefault(indicator.project_id, indicator.row)
    for pid, total in weights.items():
        if total != INDICATOR_WEIGHTS:
            problems.warning(
                "weights-sum",
                f"项目“{pid}”的绩效指标分值合计为 {_plain(total)}，通常应为 {_plain(INDICATOR_WEIGHTS)}"
                f"（产出 50、效益 30、满意度 10，加预算执行率 10 分共 100 分）。总分按实际分值相加，满分为 "
                f"{_plain(total + EXECUTION_WEIGHT)}。请核对各指标的分值。",
                sheet=table.title, cell=table.cell("分值", first_row[pid]), value=_plain(total),
            )

