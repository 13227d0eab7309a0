"""Column widths from the content (excel_eval.table_fit): the width estimates, the line breaker and the fit.
Expected values are worked out by hand from the rules: a Chinese character 1 em, a digit 0.5 em, 0.2 em
between Chinese and a digit, no break inside a number or before a closing mark."""

import pytest

from excel_eval.table_fit import Cell, fit_columns, line_count, lonely, natural


@pytest.mark.parametrize("text, em", [
    ("三级指标", 4),
    ("≥7000件", 1 + 0.2 + 2 + 0.2 + 1),  # ≥ is full width in 仿宋 (east-asian ambiguous)
    ("54.75", 4 * 0.5 + 0.25),
    ("（街道）", 4),
    ("98.9%", 3 * 0.5 + 0.25 + 0.83),
])
def test_natural_width(text, em):
    assert natural(text) == pytest.approx(em)


@pytest.mark.parametrize("text, width, lines, alone", [
    ("进京赴蓉值班值守及劝访接访批次", 15.5, 1, False),
    ("进京赴蓉值班值守及劝访接访批次", 14, 2, True),  # "…批" / "次"
    ("进京赴蓉值班值守及劝访接访批次", 13, 2, False),  # two characters on the last line
    ("有效减少信访上行压力。", 9, 2, True),  # "。" never starts a line: "力。" is one character alone
    ("乡镇（街道）数量", 5, 2, False),  # "乡镇（街道" / "）" cannot start a line: "乡镇（街" / "道）数量"
    ("项目成本≤54.75万元", 6, 2, False),  # the number is not broken
])
def test_line_breaking(text, width, lines, alone):
    assert line_count(text, width) == lines
    assert lonely(text, width) == alone


def test_lonely_is_looked_for_either_side_of_the_width():
    # 15 characters in 15 em fit, but a quarter em less would leave "次" alone: too close to call
    assert lonely("进京赴蓉值班值守及劝访接访批次", 15.1)
    assert not lonely("进京赴蓉值班值守及劝访接访批次", 15.3)


def test_fit_removes_a_lonely_character_and_keeps_the_width():
    padding = 0.8
    cells = [Cell(0, 1, ("三级指标",), "head"), Cell(1, 1, ("偏差原因",), "head"),
             Cell(0, 1, ("进京赴蓉值班值守及劝访接访批次",), 1), Cell(1, 1, ("疫情停办两期，按计划完成其余",), 1)]
    total = 30.0
    widths = fit_columns(cells, 2, total, padding)
    assert sum(widths) == pytest.approx(total)
    # both texts on one line: 15 + 14 = 29 em of text, 1.6 em of margins leave 30 − 30.6 < 0, so one wraps;
    # whichever wraps must keep at least two characters on its last line
    for cell in cells:
        assert not lonely(cell.paragraphs[0], widths[cell.column] - padding)
    assert all(w >= 4 + padding for w in widths)  # the headings stay on one line


def test_short_texts_stay_on_one_line_and_long_ones_get_the_room():
    padding = 0.8
    cells = [Cell(0, 1, ("分值",), "h"), Cell(1, 1, ("偏差原因分析及改进措施",), "h"),
             Cell(0, 1, ("3.75",), 1), Cell(1, 1, ("外包服务合同到期，续签手续未完善，10–12月服务费未支付；尽快完成续签后按合同支付。",), 1)]
    widths = fit_columns(cells, 2, 24.0, padding)
    assert widths[0] == pytest.approx(2 + 0.5 + padding, abs=0.01)  # 分值 (2 em) and a quarter em either side
    assert widths[1] == pytest.approx(24.0 - widths[0])


def test_no_room_for_the_short_texts():
    cells = [Cell(0, 1, ("年初预算数",), 1), Cell(1, 1, ("全年预算数",), 1)]
    assert fit_columns(cells, 2, 8.0, 0.8) is None


def test_merged_cells_may_take_two_lines():
    cells = [Cell(0, 1, ("项目资金（万元）",), 1, merged=True), Cell(1, 1, ("40.00",), 1)]
    widths = fit_columns(cells, 2, 12.0, 0.8)
    assert line_count("项目资金（万元）", widths[0] - 0.8) <= 2


def _greedy(pieces: list[float], width: float) -> tuple[int, int]:
    """(lines, pieces on the last line) of a greedy breaker, piece by piece: a piece goes on a new line when
    the line has pieces and the piece would take it past the width."""
    lines, used, last = 1, 0.0, 0
    for i, piece in enumerate(pieces):
        if i and used > 0 and used + piece > width + 1e-9:
            lines, used, last = lines + 1, 0.0, 0
        used += piece
        last += 1
    return lines, last


def _cjk_pieces(text: str) -> list[float]:
    """One em a Chinese character; a closing mark joins the character before it."""
    pieces: list[float] = []
    for ch in text:
        if ch in "，。" and pieces:
            pieces[-1] += 1.0
        else:
            pieces.append(1.0)
    return pieces


@pytest.mark.parametrize("text, pieces", [
    ("社会效益指标", [1.0] * 6),
    ("开展矛盾纠纷排查化解工作，及时化解基层矛盾纠纷，维护社会和谐稳定。",
     _cjk_pieces("开展矛盾纠纷排查化解工作，及时化解基层矛盾纠纷，维护社会和谐稳定。")),
    ("≥7000件", [1.0, 0.7 + 0.5 + 0.5 + 0.5, 1.2]),  # ≥ | 7000 and the gap before it | the gap and 件
    ("甲", [1.0]),
    ("", []),
])
def test_line_count_at_every_width_is_the_greedy_breakers(text, pieces):
    # the layouts are remembered by the ranges of widths they hold for: asked in a shuffled order of widths
    # (as a search asks), each answer is what breaking the text afresh at that width gives
    import random

    widths = [w / 8 for w in range(1, 8 * 40)]
    random.Random(3).shuffle(widths)
    for width in widths:
        assert line_count(text, width) == _greedy(pieces, width)[0], width
        # each piece here holds one character that counts: alone when the last line has one piece
        alone = any(_greedy(pieces, w)[0] > 1 and _greedy(pieces, w)[1] == 1 for w in (width - 0.25, width, width + 0.25))
        assert lonely(text, width) == alone, width
