"""Scoring of the 绩效自评表 (excel_eval.scoring): parsing targets, each rule and its edges, and the checks of
the 绩效指标 sheet as located problems."""

from decimal import Decimal as D

import pytest

from excel_eval.pipeline import check
from excel_eval.problems import Problems
from excel_eval.scoring import (Indicator, Scorecard, check_indicators, comparable, execution_score, grade,
                                parse_quantity, round_score, score_indicator, score_project)

from workbooks import standard_sheets, write_workbook

INDICATOR_HEADER = ["项目编号", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "自评得分", "偏差原因"]


def indicator(target, actual, weight=10, score=None, **changes) -> Indicator:
    values = dict(project_id="P1", level1="产出指标", level2="数量指标", name="办结信访事项数量", target=target,
                  actual=actual, weight=D(str(weight)), score=None if score is None else D(str(score)),
                  deviation=None, row=3)
    values.update(changes)
    return Indicator(**values)


def scored(target, actual, weight=10, score=None):
    result, issues = score_indicator(indicator(target, actual, weight, score))
    return result.score, [i.code for i in issues]


# ------------------------------------------------------------------------------------------ parsing

@pytest.mark.parametrize("text, op, value, unit", [
    ("≥7000件", "≥", "7000", "件"),
    (">=95%", "≥", "95", "%"),
    ("＞＝95％", "≥", "95", "%"),  # full-width
    ("≧95%", "≥", "95", "%"),
    ("≤40万元", "≤", "40", "万元"),
    ("<=40万元", "≤", "40", "万元"),
    ("＜＝40万元", "≤", "40", "万元"),
    ("=100%", "=", "100", "%"),
    ("＝100%", "=", "100", "%"),
    ("100%", None, "100", "%"),  # no operator: "=" when scored
    (">0", ">", "0", ""),
    ("<5天", "<", "5", "天"),
    ("７，１２６件", None, "7126", "件"),  # full-width digits and comma
    ("7,126 件", None, "7126", "件"),
    ("7000余件次", None, "7000", "件次"),
    ("95%以上", "≥", "95", "%"),
    ("3天以内", "≤", "3", "天"),
    ("不低于95%", "≥", "95", "%"),
    ("不超过54.75万元", "≤", "54.75", "万元"),
    ("≥ 0.5 人次", "≥", "0.5", "人次"),
])
def test_parse_quantity(text, op, value, unit):
    q = parse_quantity(text)
    assert (q.op, q.value, q.unit) == (op, D(value), unit)


@pytest.mark.parametrize("text", ["正常运行", "达成", "有效提升", "2021年12月底前", "≥", "", None])
def test_qualitative_targets_have_no_quantity(text):
    assert parse_quantity(text) is None


def test_units_convert_between_yuan_and_wan_yuan():
    assert comparable(parse_quantity("436700元"), parse_quantity("≤54.75万元")) == (D("436700"), D("547500.00"))
    assert comparable(parse_quantity("0.08万元"), parse_quantity("≤800元")) == (D("800.00"), D("800"))


def test_an_actual_without_a_unit_takes_the_targets():
    assert comparable(parse_quantity("7126"), parse_quantity("≥7000件")) == (D(7126), D(7000))
    assert comparable(parse_quantity("7126件"), parse_quantity("≥7000")) == (D(7126), D(7000))


def test_a_bare_number_is_never_rescaled_by_its_size():
    # 0.96 typed as text (or in a General cell) is 0.96, in the other value's unit; a cell shown as 96% comes
    # from the reader as CellText("96%"), see test_typed_values.py
    assert comparable(parse_quantity("0.96"), parse_quantity("≥95%")) == (D("0.96"), D(95))
    assert comparable(parse_quantity("75%"), parse_quantity("1")) == (D(75), D(1))


# ------------------------------------------------------------------------------------------ ≥ and =

def test_at_target_scores_full_marks():
    assert scored("≥7000件", "7000件", 20) == (D("20.00"), [])
    assert scored("=100%", "100%", 5) == (D("5.00"), [])


def test_above_target_scores_full_marks_never_more():
    assert scored("≥7000件", "14000件", 20) == (D("20.00"), [])
    assert scored("=100%", "120%", 5) == (D("5.00"), [])


def test_below_target_scores_in_proportion():
    assert scored("≥7000件", "6500件", 20) == (D("18.57"), [])  # 6500 / 7000 × 20 = 18.571…
    assert scored("=100%", "75%", 5) == (D("3.75"), [])  # "=" is scored as "≥"
    assert scored("100%", "75%", 5) == (D("3.75"), [])  # no operator is "="


def test_greater_than_scores_as_at_least():
    assert scored(">90%", "90%", 10) == (D("10.00"), [])
    assert scored(">90%", "45%", 10) == (D("5.00"), [])


def test_a_zero_floor_is_always_met():
    assert scored("≥0件", "0件", 5) == (D("5.00"), [])
    assert scored("≥0件", "3件", 5) == (D("5.00"), [])


def test_a_negative_actual_scores_zero():
    assert scored("≥10%", "-5%", 5) == (D("0.00"), [])


# ------------------------------------------------------------------------------------------ ≤ (反向)

def test_reverse_at_or_below_target_scores_full_marks():
    assert scored("≤40万元", "40万元", 10) == (D("10.00"), [])
    assert scored("≤40万元", "39.56万元", 10) == (D("10.00"), [])


def test_reverse_above_target_loses_in_proportion():
    assert scored("≤40万元", "48万元", 10) == (D("8.00"), [])  # (1 − 8/40) × 10
    assert scored("≤40万元", "450000元", 10) == (D("8.75"), [])  # 元 against 万元: (1 − 5/40) × 10


def test_reverse_at_twice_the_target_and_beyond_scores_zero():
    assert scored("≤40万元", "80万元", 10) == (D("0.00"), [])
    assert scored("≤40万元", "120万元", 10) == (D("0.00"), [])
    assert scored("≤40万元", "79.6万元", 10) == (D("0.10"), [])  # just below twice: (1 − 39.6/40) × 10


def test_reverse_zero_target_is_met_or_not():
    assert scored("≤0件", "0件", 5) == (D("5.00"), [])
    assert scored("≤0起", "1起", 5) == (D("0.00"), [])


# ------------------------------------------------------------------------------------------ units, blanks

def test_a_unit_that_does_not_match_is_an_error():
    assert scored("≥7000件", "7126人", 10) == (D("0.00"), ["indicator-unit-mismatch"])
    assert scored("≥95%", "96件", 10) == (D("0.00"), ["indicator-unit-mismatch"])


def test_a_text_actual_for_a_number_target_is_an_error_unless_scored():
    assert scored("≥95%", "基本满意", 10) == (D("0.00"), ["indicator-actual-invalid"])
    assert scored("≥95%", "基本满意", 10, score=8) == (D("8.00"), [])


def test_a_missing_actual_scores_zero_and_is_not_reported_twice():
    # The reader reports the empty required cell (cell-missing); scoring adds nothing.
    assert scored("≥7000件", None, 20) == (D("0.00"), [])
    assert scored(None, "7126件", 20) == (D("0.00"), [])


# ------------------------------------------------------------------------------------------ overrides

def test_a_given_score_overrides_the_formula():
    result, issues = score_indicator(indicator("≥7000件", "6500件", 20, score=19))
    assert (result.score, result.computed, result.overridden, issues) == (D("19.00"), D("18.57"), True, [])
    assert "19" in result.how and "18.57" in result.how


@pytest.mark.parametrize("given", ["20.01", "25", "-1"])
def test_a_given_score_out_of_range_is_an_error(given):
    score, codes = scored("≥7000件", "6500件", 20, score=given)
    assert codes == ["indicator-score-range"]
    assert score == D("18.57")  # the formula's score stands


def test_a_given_score_at_the_ends_of_the_range_is_fine():
    assert scored("≥7000件", "6500件", 20, score=20) == (D("20.00"), [])
    assert scored("≥7000件", "6500件", 20, score=0) == (D("0.00"), [])


# ------------------------------------------------------------------------------------------ qualitative

def test_a_qualitative_indicator_needs_a_given_score():
    assert scored("正常运行", "达成", 20) == (D("0.00"), ["indicator-score-missing"])


@pytest.mark.parametrize("actual, given, warns", [
    ("达成", "20", False), ("达成", "16", False), ("达成", "15.99", True),
    ("部分达成", "16", False), ("部分达成", "12", False), ("部分达成", "17", True), ("部分达成", "11", True),
    ("未达成", "12", False), ("未达成", "0", False), ("未达成", "13", True),
    ("2021年12月底完成", "20", False),  # not one of the three: no range to check
])
def test_a_qualitative_score_outside_its_mof_range_is_a_warning(actual, given, warns):
    score, codes = scored("正常运行", actual, 20, score=given)
    assert score == round_score(D(given))
    assert codes == (["indicator-score-band"] if warns else [])


def test_a_qualitative_score_above_the_weight_is_an_error():
    assert scored("正常运行", "达成", 20, score=21) == (D("0.00"), ["indicator-score-range"])


# ------------------------------------------------------------------------------------------ rounding, totals

def test_scores_round_half_up_to_two_decimals():
    assert scored("≥80", "65", 10) == (D("8.13"), [])  # 8.125: half-up, not to even
    assert scored("≥80", "67", 10) == (D("8.38"), [])  # 8.375
    assert round_score(D("2.345")) == D("2.35") and round_score(D("2.3449")) == D("2.34")


@pytest.mark.parametrize("rate, score", [
    (D("0.989"), D("9.89")), (D(436700) / D(547500), D("7.98")), (D("0.99995"), D("10.00")), (D("0.912345"), D("9.12")),
    (D(1), D("10.00")), (D("1.2"), D("10.00")), (D(0), D("0.00")), (None, D("0.00")),
])
def test_execution_score_is_ten_times_the_rate_capped_at_one(rate, score):
    assert execution_score(rate) == score


@pytest.mark.parametrize("total, expected", [
    (D(100), "优"), (D(90), "优"), (D("89.99"), "良"), (D(80), "良"), (D("79.99"), "中"), (D(60), "中"),
    (D("59.99"), "差"), (D(0), "差"),
])
def test_grades(total, expected):
    assert grade(total) == expected


def test_scorecard_total_and_grade():
    rows = [score_indicator(indicator("≥7000件", "6500件", 50))[0],
            score_indicator(indicator("≤40万元", "48万元", 30))[0],
            score_indicator(indicator("满意", "部分达成", 10, score=7))[0]]
    card = Scorecard("P1", D("0.8"), execution_score(D("0.8")), rows)
    # 8 + 46.43 (6500/7000 × 50) + 24 ((1 − 8/40) × 30) + 7
    assert (card.execution_score, card.weight_total, card.full_marks) == (D("8.00"), D(90), D(100))
    assert (card.total, card.grade) == (D("85.43"), "良")


class _Figures:
    execution_rate = D("0.95")


class _Record:
    figures = _Figures()

    def __init__(self, pid):
        self.project_id = pid


def _Table(records):
    """A 绩效指标 table of these records (each with the same columns)."""
    from excel_eval.reading import Table
    from excel_eval.schema import INDICATORS

    return Table(INDICATORS, "绩效指标", {name: [r[name] for r in records] for name in records[0]})


def test_a_project_without_indicators_has_no_scorecard():
    table = _Table([{"项目编号": "P1", "一级指标": "产出指标", "二级指标": "数量指标", "三级指标": "x", "年度指标值": "≥1件",
                     "实际完成值": "1件", "分值": D(90), "自评得分": None, "偏差原因": None, "_row": 2}])
    assert score_project(_Record("P2"), table) is None
    assert score_project(_Record("P2"), None) is None
    card = score_project(_Record("P1"), table)
    assert (card.execution_score, card.total, card.grade) == (D("9.50"), D("99.50"), "优")


def test_indicators_are_grouped_by_level_in_order_of_first_appearance():
    records = [{"项目编号": "P1", "一级指标": l1, "二级指标": l2, "三级指标": name, "年度指标值": "≥1件", "实际完成值": "1件",
                "分值": D(30), "自评得分": None, "偏差原因": None, "_row": row}
               for row, (l1, l2, name) in enumerate([("产出指标", "数量指标", "a"), ("效益指标", "社会效益指标", "b"),
                                                      ("产出指标", "质量指标", "c"), ("产出指标", "数量指标", "d")], 2)]
    card = score_project(_Record("P1"), _Table(records))
    assert [s.indicator.name for s in card.indicators] == ["a", "d", "c", "b"]


# ------------------------------------------------------------------------------------------ the sheet, checked

def _check(tmp_path, rows):
    sheets = standard_sheets()
    sheets["绩效指标"] = [INDICATOR_HEADER] + rows
    return check(write_workbook(tmp_path / "账.xlsx", sheets)).problems


def _row(name, target, actual, weight, score=None, pid="P1", level1="产出指标", level2="数量指标"):
    return [pid, level1, level2, name, target, actual, weight, score, None]


def test_check_reports_located_problems(tmp_path):
    problems = _check(tmp_path, [
        _row("办结数量", "≥7000件", "7126人", 40),  # row 2: unit mismatch, at F2
        _row("软件正常运行", "正常运行", "达成", 20),  # row 3: no 自评得分, at H3
        _row("满意度", "≥95%", "96%", 10, score=12, level1="满意度指标", level2="服务对象满意度指标"),  # row 4: H4
        _row("社会效益", "有效", "部分达成", 20, score=19, level1="效益指标", level2="社会效益指标"),  # row 5: band
        _row("时效", "≥1次", None, 5, level2="时效指标"),  # row 6: empty actual, reported once by the reader
    ])
    found = {(p.code, p.cell, p.severity) for p in problems if p.sheet == "绩效指标"}
    assert found == {
        ("indicator-unit-mismatch", "F2", "错误"),
        ("indicator-score-missing", "H3", "错误"),
        ("indicator-score-range", "H4", "错误"),
        ("indicator-score-band", "H5", "警告"),
        ("indicator-deviation-missing", "I5", "警告"),  # 19 of 20 with no 偏差原因
        ("cell-missing", "F6", "错误"),
        ("weights-sum", "G2", "警告"),  # 40 + 20 + 10 + 20 + 5 = 95
    }
    mismatch = next(p for p in problems if p.code == "indicator-unit-mismatch")
    assert "件" in mismatch.message and "人" in mismatch.message and mismatch.value == "7126人"


def test_weights_that_add_up_to_ninety_are_quiet(tmp_path):
    problems = _check(tmp_path, [
        _row("a", "≥1件", "1件", 50), _row("b", "≥1件", "1件", 30, level1="效益指标", level2="社会效益指标"),
        _row("c", "≥95%", "96%", 10, level1="满意度指标", level2="服务对象满意度指标"),
        _row("d", "1套", "1套", 90, pid="P2"),  # "=1套" in a cell would be a formula
    ])
    assert [p.code for p in problems] == []


def test_weights_are_summed_per_project(tmp_path):
    problems = _check(tmp_path, [_row("a", "≥1件", "1件", 90), _row("b", "≥1件", "1件", 80, pid="P2")])
    assert [(p.code, p.cell, p.value) for p in problems] == [("weights-sum", "G3", "80")]


def test_unknown_level_names_are_warnings(tmp_path):
    problems = _check(tmp_path, [_row("a", "≥1件", "1件", 90, level1="产出", level2="数量")])
    assert [(p.code, p.cell) for p in problems] == [("indicator-level-unknown", "B2"),
                                                    ("indicator-level-unknown", "C2")]


def test_no_indicators_sheet_is_fine():
    problems = Problems()
    check_indicators(None, problems)
    assert not problems.items
