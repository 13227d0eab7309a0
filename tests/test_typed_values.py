"""Values as Excel stores what accountants type: percents, formulas with cached values, units in number formats,
deadlines, weights that do not add up to 90, the 1904 date system. Workbooks are written with XlsxWriter, the
way Excel stores them; every expected score is worked out by hand in the comments."""

import datetime as dt
from decimal import Decimal as D

import docx
import pytest

from excel_eval.pipeline import check, run
from excel_eval.problems import Problems
from excel_eval.reading import read_workbook

from excel_typed import Formula, Num, write_excel_workbook
from workbooks import standard_sheets

NOW = dt.datetime(2026, 11, 27, 9, 30)
HEADER = ["项目编号", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "自评得分", "偏差原因"]

# (三级指标, 年度指标值 cell, 实际完成值 cell, what the 自评表 prints for them, score of 10 as printed)
P1_CASES = [
    ("百分比单元格达标", "≥90%", Num(0.93, "0%"), ("≥90%", "93%"), "10"),  # 93 ≥ 90
    ("百分比超过100%", "≥100%", Num(1.05, "0%"), ("≥100%", "105%"), "10"),  # 105 ≥ 100 (was 0.21 of 20)
    ("公式目标110%", Formula("=110%", 1.1, "0%"), "90%", ("110%", "90%"), "8.18"),  # 90 ÷ 110 × 10 = 8.1818
    ("不超过1%", "≤1%", Num(0.02, "0%"), ("≤1%", "2%"), "0"),  # 2 ≥ 2 × 1: 0 (was full marks)
    ("公式目标100%", Formula("=100%", 1, "0%"), "100%", ("100%", "100%"), "10"),  # the 自评表 prints 100%, not 1
    ("单位在格式中", "≥10个", Num(12, '0"个"'), ("≥10个", "12个"), "10"),  # 12 个 ≥ 10 个
    ("显示四舍五入", "≥95%", Num(0.934, "0%"), ("≥95%", "93%"), "9.83"),  # stored 93.4: 93.4 ÷ 95 × 10 = 9.8316
    ("文字小数", "≥95%", "0.96", ("≥95%", "0.96"), "0.1"),  # 0.96 (%) ÷ 95 × 10 = 0.101, with a warning
    ("年底前逾期", "≤12月底", "1月底", ("≤12月底", "1月底"), "0"),  # written 2022-05-10: 2022-01-31, late
    ("年底前按期", "≤12月底", "12月20日", ("≤12月底", "12月20日"), "10"),  # 2021-12-20 ≤ 2021-12-31
    ("日期单元格", "年底前", dt.date(2021, 11, 30), ("年底前", "2021-11-30"), "10"),  # ≤ 2021-12-31
    ("指定日期逾期", "2021年10月底前", "2021年11月5日", ("2021年10月底前", "2021年11月5日"), "0"),  # after 10-31
    ("一位小数百分比", "≥90%", Num(0.895, "0.0%"), ("≥90%", "89.5%"), "9.94"),  # 89.5 ÷ 90 × 10 = 9.944
    ("恰好90%", "≥90%", Num(0.9, "0%"), ("≥90%", "90%"), "10"),  # 90 ≥ 90
    ("89.995%", "≥90%", Num(0.89995, "0.00%"), ("≥90%", "90.00%"), "10"),  # 89.995 ÷ 90 × 10 = 9.9994 → 10.00
]
# P2: 分值 60 + 40 = 100. A: 10件 ≥ 10件, 60. B: 62.5 ÷ 100 × 40 = 25. Indicators 85 of 100, scaled to
# 85 × 90 ÷ 100 = 76.5; 执行率 800 ÷ 800 = 100%: 10. Total 86.5, 良 (unscaled it would be 95, 优).
P2_CASES = [("数量", "≥10件", "10件", 60), ("比率", "≥100%", Num(0.625, "0.0%"), 40)]


def sheets() -> dict:
    book = standard_sheets()
    rows = [HEADER]
    for name, target, actual, _, _ in P1_CASES:
        rows.append(["P1", "产出指标", "数量指标", name, target, actual, 10, None, None])
    for name, target, actual, weight in P2_CASES:
        rows.append(["P2", "产出指标", "数量指标", name, target, actual, weight, None, None])
    book["绩效指标"] = rows
    return book


@pytest.fixture(scope="module")
def typed_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("typed")
    book = write_excel_workbook(folder / "账.xlsx", sheets())
    return book, run(book, folder / "out", now=NOW)


def table_rows(path) -> list[list[str]]:
    """The rows of the 自评表's tables, one after the other (the indicator rows are a table of their own)."""
    return [[cell.text for cell in row.cells] for table in docx.Document(str(path)).tables for row in table.rows]


def indicator_rows(path) -> list[list[str]]:
    rows = table_rows(path)
    start = next(i for i, r in enumerate(rows) if "三级指标" in r) + 1
    return [r for r in rows[start:] if not r[0].startswith("总分") and len(set(r)) > 2]


def test_the_scorecard_prints_what_excel_shows_and_scores_it(typed_run):
    _, result = typed_run
    [card] = [p for p in result.scorecards if p.name.startswith("P1_")]
    rows = indicator_rows(card)
    assert [r[3] for r in rows] == [c[0] for c in P1_CASES]
    assert [(r[4], r[5]) for r in rows] == [c[3] for c in P1_CASES]
    assert [r[7] for r in rows] == [c[4] for c in P1_CASES]


def test_p1s_total_scales_150_weights_to_90(typed_run):
    _, result = typed_run
    card = result.scores["P1"]
    # 10+10+8.18+0+10+10+9.83+0.10+0+10+10+0+9.94+10+10 = 108.05; × 90 ÷ 150 = 64.83; + 9.50 (95,000.50 of
    # 100,000.00 spent: 10 × 0.950005 = 9.50) = 74.33, 中
    assert (card.indicator_total, card.indicator_part, card.total, card.grade) == (
        D("108.05"), D("64.83"), D("74.33"), "中")


def test_weights_of_100_are_graded_on_a_100_point_scale(typed_run):
    _, result = typed_run
    card = result.scores["P2"]
    assert (card.weight_total, card.indicator_total, card.indicator_part, card.total, card.grade) == (
        D(100), D(85), D("76.50"), D("86.50"), "良")
    [path] = [p for p in result.scorecards if p.name.startswith("P2_")]
    texts = table_rows(path)
    total = next(r for r in texts if r[0].startswith("总分"))
    assert total[0] == "总分（各指标分值合计100分，按90分折算：85 × 90 ÷ 100 = 76.5）"
    assert total[6:] == ["100", "86.5", "自评等级：良"]
    assert [r[5] for r in indicator_rows(path)] == ["10件", "62.5%"]


def test_check_names_each_cell_whose_value_needs_a_word(typed_run):
    book, _ = typed_run
    found = [(p.code, p.cell) for p in check(book).problems if p.sheet == "绩效指标"]
    assert sorted(found) == sorted([
        ("indicator-display-rounded", "F8"),  # shows 93%, holds 93.4%
        ("indicator-unit-unknown", "F9"),  # 0.96 against 95%
        ("indicator-late", "F10"), ("indicator-late", "F13"),
        ("indicator-display-rounded", "F16"),  # shows 90.00%, holds 89.995%
        # below 分值 with no 偏差原因
        ("indicator-deviation-missing", "I4"), ("indicator-deviation-missing", "I5"),
        ("indicator-deviation-missing", "I8"), ("indicator-deviation-missing", "I9"),
        ("indicator-deviation-missing", "I10"), ("indicator-deviation-missing", "I13"),
        ("indicator-deviation-missing", "I14"), ("indicator-deviation-missing", "I18"),
        ("weights-sum", "G2"), ("weights-sum", "G17"),
    ])
    late = next(p for p in check(book).problems if p.cell == "F10")
    assert "2022年1月31日" in late.message and "2021年12月31日" in late.message and "年份" in late.message


def test_number_formats_reach_the_table_as_shown_text_with_exact_numbers(tmp_path):
    book = write_excel_workbook(tmp_path / "账.xlsx", sheets())
    data = read_workbook(book, Problems())
    frame = data.tables["绩效指标"].frame
    actual = dict(zip(frame["三级指标"], frame["实际完成值"]))
    assert (actual["显示四舍五入"], actual["显示四舍五入"].number, actual["显示四舍五入"].unit) == ("93%", D("93.4"), "%")
    assert (actual["单位在格式中"], actual["单位在格式中"].number, actual["单位在格式中"].unit) == ("12个", D(12), "个")
    target = dict(zip(frame["三级指标"], frame["年度指标值"]))
    assert (target["公式目标100%"], target["公式目标100%"].number) == ("100%", D(100))


@pytest.mark.parametrize("cell, message", [
    (Num(0.5, "0%"), "显示为“50%”（百分比格式）"),
    (Num(39.56, '0.00"万元"'), "单位是万元，但表头的单位是元"),
])
def test_an_amount_whose_format_says_it_is_something_else_is_an_error(tmp_path, cell, message):
    book = standard_sheets()
    book["支出明细"][1][2] = cell
    [problem] = check(write_excel_workbook(tmp_path / "账.xlsx", book)).problems
    assert (problem.code, problem.location, problem.severity) == ("amount-format", "支出明细!C2", "错误")
    assert message in problem.message


def test_a_percent_in_the_weight_column_is_an_error(tmp_path):
    book = sheets()
    book["绩效指标"][1][6] = Num(0.1, "0%")
    problems = [p for p in check(write_excel_workbook(tmp_path / "账.xlsx", book)).problems if p.cell == "G2"]
    assert [(p.code, p.severity) for p in problems][:1] == [("number-format", "错误")]


def _days_1904(day: dt.date) -> int:
    return (day - dt.date(1904, 1, 1)).days


def test_a_1904_workbook_reads_its_dates_and_serials_right(tmp_path):
    book = standard_sheets()
    # 2021-06-05 typed as a bare serial number in the 1904 system: 42890 days after 1904-01-01 (44352 in the 1900 system, less 1462)
    assert _days_1904(dt.date(2021, 6, 5)) == 42890
    book["支出明细"][2][1] = 42890
    path = write_excel_workbook(tmp_path / "账1904.xlsx", book, date1904=True)
    data = read_workbook(path, Problems())
    assert list(data.tables["支出明细"].frame["支付日期"]) == [dt.date(2021, 3, 5), dt.date(2021, 6, 5),
                                                           dt.date(2021, 12, 16)]
    assert list(data.tables["项目"].frame["报告日期"]) == [dt.date(2022, 5, 10)] * 2
    assert not [p for p in check(path).problems if p.code == "date-outside-year"]


def test_the_same_serial_in_a_1900_workbook_is_four_years_later(tmp_path):
    book = standard_sheets()
    book["支出明细"][2][1] = 42890  # 1900 system: 2017-06-04 (4 years and a day before the 1904 reading)
    path = write_excel_workbook(tmp_path / "账1900.xlsx", book)
    data = read_workbook(path, Problems())
    assert data.tables["支出明细"].frame["支付日期"][1] == dt.date(2017, 6, 4)


def test_every_reader_engine_reads_the_typed_cells_alike(tmp_path):
    from workbooks import read_with_both_engines

    path = write_excel_workbook(tmp_path / "账.xlsx", sheets())
    read_with_both_engines(path)
    numbers = set()
    from excel_eval.reading import ENGINES

    for engine in ENGINES:
        frame = read_workbook(path, Problems(), engine=engine).tables["绩效指标"].frame
        numbers.add(tuple((str(v), getattr(v, "number", None), getattr(v, "unit", None)) for v in frame["实际完成值"]))
    assert len(numbers) == 1
