import datetime
import re
from decimal import Decimal

import pytest

from excel_eval.money import (
    UNITS,
    ValueProblem,
    fen_to_yuan,
    is_blank,
    parse_amount,
    parse_date,
    unit_from_header,
    unit_from_line,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


def problem(value, func=parse_amount, *args) -> str:
    with pytest.raises(ValueProblem) as info:
        func(value, *args)
    msg = str(info.value)
    assert CJK.search(msg), msg
    return msg


# ---------------------------------------------------------------------------
# parse_amount
# ---------------------------------------------------------------------------

def test_units():
    assert UNITS == {"元": 1, "万元": 10000}


@pytest.mark.parametrize(
    "value, unit, fen",
    [
        # seed figures, as Excel numbers in 元
        (400000, "元", 40000000),
        (395600, "元", 39560000),
        (149700, "元", 14970000),
        (150000, "元", 15000000),
        (547500, "元", 54750000),
        (436700, "元", 43670000),
        (800, "元", 80000),
        # seed figures in 万元
        (40, "万元", 40000000),
        (39.56, "万元", 39560000),
        (14.97, "万元", 14970000),
        (54.75, "万元", 54750000),
        (43.67, "万元", 43670000),
        (0.08, "万元", 80000),
        ("39.56", "万元", 39560000),
        ("0.012345", "万元", 12345),
        (Decimal("0.012345"), "万元", 12345),
        # floats and float residue
        (0.1 + 0.2, "元", 30),
        (395600.00000000006, "元", 39560000),
        (395599.99999999994, "元", 39560000),
        (39.559999999999995, "万元", 39560000),
        (1.005, "元", 101),       # the float prints as 1.005 → half-up
        (2.675, "元", 268),
        (1e5, "元", 10000000),    # scientific notation from a number cell
        (1.5e-3, "万元", 1500),
        # Decimal and int
        (Decimal("395600.00"), "元", 39560000),
        (Decimal("1234.565"), "元", 123457),
        (Decimal("1234.5649"), "元", 123456),
        (0, "元", 0),
        (-800, "元", -80000),
        # half-up to the fen
        ("0.005", "元", 1),
        ("0.004", "元", 0),
        ("0.015", "元", 2),
        ("-0.005", "元", -1),
        ("0.0000005", "万元", 1),
        ("0.0000004", "万元", 0),
        # text forms
        ("395600", "元", 39560000),
        ("395,600.00", "元", 39560000),
        ("395，600", "元", 39560000),
        ("1,234,567.89", "元", 123456789),
        ("３９５６００", "元", 39560000),
        ("３９５，６００．５０", "元", 39560050),
        ("－８００", "元", -80000),
        ("＋８００", "元", 80000),
        ("  800  ", "元", 80000),
        ("\u3000800\u3000", "元", 80000),
        ("\xa0800\xa0", "元", 80000),
        ("395 600", "元", 39560000),
        ("¥800", "元", 80000),
        ("￥800", "元", 80000),
        ("￥ 1,200.50", "元", 120050),
        ("-¥800", "元", -80000),
        ("¥-800", "元", -80000),
        ("800元", "元", 80000),
        ("800 元", "元", 80000),
        ("39.56万元", "万元", 39560000),
        ("39.56万", "万元", 39560000),
        ("(1,200.00)", "元", -120000),
        ("（1200）", "元", -120000),
        ("（１，２００．００）", "元", -120000),
        ("-1200", "元", -120000),
        ("−1200", "元", -120000),   # U+2212 minus sign
        ("+1200", "元", 120000),
        (".5", "元", 50),
        ("0", "元", 0),
        ("0.00", "万元", 0),
    ],
)
def test_parse_amount(value, unit, fen):
    result = parse_amount(value, unit)
    assert result == fen
    assert type(result) is int


def test_parse_amount_default_unit_is_yuan():
    assert parse_amount("800") == 80000


@pytest.mark.parametrize("value", [None, "", "   ", "\u3000", "\xa0", float("nan")])
def test_parse_amount_blank(value):
    with pytest.raises(ValueProblem) as info:
        parse_amount(value)
    assert str(info.value) == "金额为空"


@pytest.mark.parametrize(
    "value, needles",
    [
        ("三千", ["三千", "阿拉伯数字", "3000"]),
        ("叁仟元", ["叁仟元", "阿拉伯数字"]),
        ("abc", ["abc", "不是数字"]),
        ("1.2.3", ["1.2.3", "小数点"]),
        ("1e5", ["1e5", "科学计数法"]),
        ("NaN", ["NaN", "不是有效数字"]),
        ("inf", ["inf", "不是有效数字"]),
        ("-Infinity", ["-Infinity", "不是有效数字"]),
        ("12,34", ["12,34", "千分位"]),
        ("98%", ["98%", "百分比"]),
        ("-", ["“-”", "0"]),
        ("—", ["“—”", "留空"]),
        ("--800", ["--800", "负号"]),
        ("(-800)", ["(-800)", "负号"]),
        ("12 34", ["12 34", "千分位"]),
    ],
)
def test_parse_amount_rejects_text(value, needles):
    msg = problem(value)
    for needle in needles:
        assert needle in msg


@pytest.mark.parametrize("value", ["#REF!", "#VALUE!", "#DIV/0!", "#N/A", "#NAME?", "＃ＲＥＦ！", " #ref! "])
def test_parse_amount_excel_errors(value):
    msg = problem(value)
    assert "Excel 错误" in msg
    assert "公式" in msg
    assert value.strip() in msg


@pytest.mark.parametrize(
    "value, unit, header_unit, suggestion",
    [
        ("39.56万", "元", "元", "395600"),
        ("39.56万元", "元", "元", "395600"),
        ("３９．５６万元", "元", "元", "395600"),
        ("800元", "万元", "万元", "0.08"),
    ],
)
def test_parse_amount_unit_mismatch(value, unit, header_unit, suggestion):
    msg = problem(value, parse_amount, unit)
    assert value in msg
    assert f"表头单位是“{header_unit}”" in msg
    assert "只填写数字" in msg
    assert suggestion in msg


@pytest.mark.parametrize(
    "value", [True, False, float("inf"), float("-inf"), Decimal("NaN"), Decimal("Infinity"),
              datetime.date(2021, 5, 10), [1], 1e300]
)
def test_parse_amount_rejects_other_values(value):
    msg = problem(value)
    assert str(value) in msg


def test_parse_amount_unknown_unit_is_a_programming_error():
    with pytest.raises(ValueError) as info:
        parse_amount(1, "千元")
    assert not isinstance(info.value, ValueProblem)


def test_parse_amount_numpy_scalars():
    np = pytest.importorskip("numpy")
    assert parse_amount(np.int64(800)) == 80000
    assert parse_amount(np.float64(395600.00000000006)) == 39560000
    assert parse_amount(np.float64(39.56), "万元") == 39560000


def test_value_problem_is_value_error():
    assert issubclass(ValueProblem, ValueError)


# ---------------------------------------------------------------------------
# is_blank / fen_to_yuan
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "value, blank",
    [(None, True), ("", True), ("  ", True), ("\u3000\xa0\t\n", True), (float("nan"), True),
     (0, False), ("0", False), ("nan", False), (0.0, False), ("-", False)],
)
def test_is_blank(value, blank):
    assert is_blank(value) is blank


def test_is_blank_pandas_missing():
    pd = pytest.importorskip("pandas")
    assert is_blank(pd.NA)
    assert is_blank(pd.NaT)


@pytest.mark.parametrize(
    "fen, text",
    [(39560000, "395600.00"), (80000, "800.00"), (0, "0.00"), (1, "0.01"), (-120050, "-1200.50"),
     (12345, "123.45")],
)
def test_fen_to_yuan(fen, text):
    result = fen_to_yuan(fen)
    assert isinstance(result, Decimal)
    assert str(result) == text
    assert result == Decimal(text)


def test_fen_to_yuan_roundtrip():
    for text in ["395600", "0.01", "39.56万元", "(1,234.56)"]:
        unit = "万元" if "万" in text else "元"
        fen = parse_amount(text, unit)
        assert parse_amount(fen_to_yuan(fen)) == fen


@pytest.mark.parametrize("bad", [1.5, "100", True])
def test_fen_to_yuan_rejects_non_int(bad):
    with pytest.raises(TypeError):
        fen_to_yuan(bad)


# ---------------------------------------------------------------------------
# units
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "header, expected",
    [
        ("批复数（万元）", ("批复数", "万元")),
        ("批复数(万元)", ("批复数", "万元")),
        ("金额(元)", ("金额", "元")),
        ("金额（元）", ("金额", "元")),
        ("金额", ("金额", None)),
        ("  批复数 （ 万元 ） ", ("批复数", "万元")),
        ("批复数\n（万元）", ("批复数", "万元")),
        ("批复数（单位：万元）", ("批复数", "万元")),
        ("批复数【万元】", ("批复数", "万元")),
        ("批复数[元]", ("批复数", "元")),
        ("批复数/万元", ("批复数", "万元")),
        ("批复数／元", ("批复数", "元")),
        ("批复数 / 万元", ("批复数", "万元")),
        ("全年预算数(万)", ("全年预算数", "万元")),
        ("完成率(%)", ("完成率(%)", None)),
        ("指标（一级）", ("指标（一级）", None)),
        ("单位/部门", ("单位/部门", None)),
        ("项目(一)金额(万元)", ("项目(一)金额", "万元")),
        (None, ("", None)),
        (2021, ("2021", None)),
    ],
)
def test_unit_from_header(header, expected):
    assert unit_from_header(header) == expected


@pytest.mark.parametrize("header", ["金额（千元）", "金额(亿元)", "金额/美元"])
def test_unit_from_header_unsupported_unit(header):
    msg = problem(header, unit_from_header)
    assert "不支持" in msg and "元" in msg


@pytest.mark.parametrize(
    "line, unit",
    [
        ("单位：万元", "万元"),
        ("单位:元", "元"),
        ("（单位：万元）", "万元"),
        ("(单位:元)", "元"),
        ("金额单位：万元", "万元"),
        ("  单位：　万元  ", "万元"),
        ("单位：人民币万元", "万元"),
        ("填报单位：某某区信访局    单位：万元", "万元"),
        ("填报单位：某某区信访局", None),
        ("单位：元/人", None),
        ("项目支出绩效自评表", None),
        ("", None),
        (None, None),
        (12, None),
    ],
)
def test_unit_from_line(line, unit):
    assert unit_from_line(line) == unit


def test_unit_from_line_unsupported_unit():
    msg = problem("单位：千元", unit_from_line)
    assert "千元" in msg


# ---------------------------------------------------------------------------
# parse_date
# ---------------------------------------------------------------------------

D = datetime.date(2021, 5, 10)


@pytest.mark.parametrize(
    "value",
    [
        D,
        datetime.datetime(2021, 5, 10, 15, 30),
        "2021-05-10",
        "2021-5-10",
        "2021/5/10",
        "2021/05/10",
        "2021.5.10",
        "2021年5月10日",
        "2021年05月10日",
        "2021 年 5 月 10 日",
        "2021-5-10 00:00:00",
        "2021-05-10T00:00:00",
        "2021/5/10 8:30",
        "20210510",
        "２０２１－０５－１０",
        "２０２１年５月１０日",
        "２０２１．５．１０",
        "  2021-05-10\u3000",
        44326,
        44326.0,
        44326.75,
        20210510,
        Decimal("44326"),
    ],
)
def test_parse_date(value):
    result = parse_date(value)
    assert result == D
    assert type(result) is datetime.date


def test_parse_date_pandas_timestamp():
    pd = pytest.importorskip("pandas")
    assert parse_date(pd.Timestamp("2021-05-10 13:00")) == D
    result = parse_date(pd.Timestamp("2021-05-10").to_datetime64())
    assert result == D


@pytest.mark.parametrize(
    "serial, expected",
    [(20000, datetime.date(1954, 10, 3)), (44197, datetime.date(2021, 1, 1)),
     (44561, datetime.date(2021, 12, 31))],
)
def test_parse_date_excel_serial(serial, expected):
    assert parse_date(serial) == expected


@pytest.mark.parametrize(
    "value, reason",
    [
        ("2021-02-30", "2月没有30日"),
        ("2021-13-01", "没有13月"),
        ("2021-00-10", "没有0月"),
        ("2021-04-31", "4月没有31日"),
        ("2021-05-00", "没有0日"),
        ("2021-02-29", "不是闰年"),
        ("2021年2月30日", "2月没有30日"),
        ("20210230", "2月没有30日"),
        (20210230, "2月没有30日"),
        ("２０２１－０２－３０", "2月没有30日"),
    ],
)
def test_parse_date_impossible(value, reason):
    msg = problem(value, parse_date)
    assert str(value).strip() in msg
    assert "不是有效日期" in msg
    assert reason in msg
    assert "2021-05-10" in msg


def test_parse_date_impossible_message_exact():
    with pytest.raises(ValueProblem) as info:
        parse_date("2021-02-30")
    assert str(info.value) == "2021-02-30 不是有效日期（2月没有30日），请按 2021-05-10 的格式填写"


def test_parse_date_leap_day_ok():
    assert parse_date("2020-02-29") == datetime.date(2020, 2, 29)


@pytest.mark.parametrize(
    "value",
    ["明天", "2021-05", "5/10/2021", "21-5-10", "2021-5/10", "abc", 123, 1.5, 99999, True,
     ["2021-05-10"], "0021-05-10"],
)
def test_parse_date_rejects(value):
    msg = problem(value, parse_date)
    assert str(value) in msg or "0021" in msg


def test_parse_date_rejects_lists_formats():
    msg = problem("明天", parse_date)
    for fmt in ["2021-05-10", "2021/5/10", "2021年5月10日", "20210510"]:
        assert fmt in msg


def test_parse_date_excel_error():
    msg = problem("#VALUE!", parse_date)
    assert "Excel 错误" in msg and "#VALUE!" in msg


@pytest.mark.parametrize("value", [None, "", "  ", float("nan")])
def test_parse_date_blank(value):
    with pytest.raises(ValueProblem) as info:
        parse_date(value)
    assert str(info.value) == "日期为空"
