import datetime
import re
from decimal import Decimal

import pytest

from excel_eval.formats import (
    FILTER_HELP,
    FILTERS,
    chinese_date,
    chinese_month,
    money_text,
    percent,
    rmb_upper,
    thousands,
    wan_yuan,
    yuan,
)
from excel_eval.money import ValueProblem, fen_to_yuan, parse_amount

ALL_FILTERS = [money_text, wan_yuan, yuan, thousands, percent, rmb_upper, chinese_date, chinese_month]


# ---------------------------------------------------------------------------
# 金额
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "value, text",
    [
        # seed figures
        (400000, "40万元"),
        (395600, "39.56万元"),
        (149700, "14.97万元"),
        (150000, "15万元"),
        (547500, "54.75万元"),
        (436700, "43.67万元"),
        (800, "800元"),
        (Decimal("395600.00"), "39.56万元"),
        (fen_to_yuan(39560000), "39.56万元"),
        (fen_to_yuan(80000), "800元"),
        # rounding and trailing zeros
        (123456.78, "12.35万元"),
        (10000, "1万元"),
        (10050, "1.01万元"),      # 1.005 → half-up
        (10049.99, "1万元"),
        (105000, "10.5万元"),
        (800.5, "800.5元"),
        (800.50, "800.5元"),
        (Decimal("800.505"), "800.51元"),
        (Decimal("800.504"), "800.5元"),
        (0, "0元"),
        (Decimal("0.00"), "0元"),
        (0.001, "0元"),
        (-0.001, "0元"),
        (9999.99, "9999.99元"),
        (9999.999, "10000元"),    # threshold applied before rounding
        (-800, "-800元"),
        (-395600, "-39.56万元"),
        (0.1 + 0.2, "0.3元"),
        (395600.00000000006, "39.56万元"),
        ("395600", "39.56万元"),
        ("395,600.00", "39.56万元"),
        (100000000, "10000万元"),
    ],
)
def test_money_text(value, text):
    assert money_text(value) == text


# ---------------------------------------------------------------------------
# 万元 / 元
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "value, text",
    [
        (800, "0.08万元"),
        (400000, "40万元"),
        (395600, "39.56万元"),
        (123456.78, "12.35万元"),
        (50, "0.01万元"),       # 0.005 → half-up
        (49, "0万元"),
        (0, "0万元"),
        (-800, "-0.08万元"),
        (Decimal("547500.00"), "54.75万元"),
    ],
)
def test_wan_yuan(value, text):
    assert wan_yuan(value) == text


@pytest.mark.parametrize(
    "value, digits, text",
    [(123456.78, 4, "12.3457万元"), (800, 4, "0.08万元"), (395600, 0, "40万元"), (12345, 1, "1.2万元"),
     (12355, 3, "1.236万元")],
)
def test_wan_yuan_digits(value, digits, text):
    assert wan_yuan(value, digits) == text


@pytest.mark.parametrize(
    "value, text",
    [
        (395600, "395600元"),
        (Decimal("395600.00"), "395600元"),
        (800, "800元"),
        (1234.5, "1234.5元"),
        (1234567.891, "1234567.89元"),
        (Decimal("0.005"), "0.01元"),
        (0, "0元"),
        (-1200.5, "-1200.5元"),
        (0.1 + 0.2, "0.3元"),
    ],
)
def test_yuan(value, text):
    assert yuan(value) == text
    assert "," not in yuan(value)


# ---------------------------------------------------------------------------
# 百分比
# ---------------------------------------------------------------------------

def rate(num, den):
    return Decimal(num) / Decimal(den)


@pytest.mark.parametrize(
    "value, text",
    [
        (rate(395600, 400000), "98.9%"),
        (rate(149700, 150000), "99.8%"),
        (rate(436700, 547500), "79.76%"),
        (rate(400000, 400000), "100%"),
        (395600 / 400000, "98.9%"),       # float rates too
        (436700 / 547500, "79.76%"),
        (Decimal(1), "100%"),
        (1, "100%"),
        (0, "0%"),
        (Decimal("0.989"), "98.9%"),
        (Decimal("0.998"), "99.8%"),
        (Decimal("0.797625"), "79.76%"),
        (Decimal("0.98905"), "98.91%"),
        (0.98905, "98.91%"),
        (Decimal("0.99995"), "100%"),
        (Decimal("0.00004"), "0%"),
        (Decimal("0.00005"), "0.01%"),
        (Decimal("1.2"), "120%"),
        (Decimal("-0.05"), "-5%"),
        ("0.989", "98.9%"),
    ],
)
def test_percent(value, text):
    assert percent(value) == text


def test_percent_digits():
    assert percent(Decimal("0.797625"), 1) == "79.8%"
    assert percent(Decimal("0.797625"), 0) == "80%"
    assert percent(Decimal("0.797625"), 4) == "79.7625%"


# ---------------------------------------------------------------------------
# 大写金额
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "value, text",
    [
        # seed figures
        (400000, "人民币肆拾万元整"),
        (395600, "人民币叁拾玖万伍仟陆佰元整"),
        (149700, "人民币壹拾肆万玖仟柒佰元整"),
        (150000, "人民币壹拾伍万元整"),
        (547500, "人民币伍拾肆万柒仟伍佰元整"),
        (436700, "人民币肆拾叁万陆仟柒佰元整"),
        (800, "人民币捌佰元整"),
        (Decimal("395600.00"), "人民币叁拾玖万伍仟陆佰元整"),
        # examples from 《支付结算办法》
        (1409.50, "人民币壹仟肆佰零玖元伍角整"),
        (6007.14, "人民币陆仟零柒元壹角肆分"),
        (1680.32, "人民币壹仟陆佰捌拾元零叁角贰分"),
        (107000.53, "人民币壹拾万柒仟元零伍角叁分"),
        (16409.02, "人民币壹万陆仟肆佰零玖元零贰分"),
        (325.04, "人民币叁佰贰拾伍元零肆分"),
        # zeros
        (0, "人民币零元整"),
        (Decimal("0.00"), "人民币零元整"),
        (0.001, "人民币零元整"),
        (10050, "人民币壹万零伍拾元整"),
        (1008, "人民币壹仟零捌元整"),
        (1008.5, "人民币壹仟零捌元伍角整"),
        (1008.56, "人民币壹仟零捌元伍角陆分"),
        (1008.06, "人民币壹仟零捌元零陆分"),
        (1000.02, "人民币壹仟元零贰分"),
        (1680.30, "人民币壹仟陆佰捌拾元零叁角整"),
        (100000000, "人民币壹亿元整"),
        (100000700, "人民币壹亿零柒佰元整"),
        (100007000, "人民币壹亿零柒仟元整"),
        (100010000, "人民币壹亿零壹万元整"),
        (110000000, "人民币壹亿壹仟万元整"),
        (1000000001, "人民币壹拾亿零壹元整"),
        (100700, "人民币壹拾万零柒佰元整"),
        (1007000, "人民币壹佰万柒仟元整"),
        (10, "人民币壹拾元整"),
        (11, "人民币壹拾壹元整"),
        (1, "人民币壹元整"),
        (101, "人民币壹佰零壹元整"),
        (110, "人民币壹佰壹拾元整"),
        (1001001, "人民币壹佰万壹仟零壹元整"),
        (1234567890.12, "人民币壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元零壹角贰分"),
        (10 ** 12, "人民币壹万亿元整"),
        # below one yuan
        (0.5, "人民币伍角整"),
        (0.05, "人民币伍分"),
        (0.55, "人民币伍角伍分"),
        # rounding to the fen, half-up
        (Decimal("0.005"), "人民币壹分"),
        (Decimal("1.995"), "人民币贰元整"),
        (Decimal("800.555"), "人民币捌佰元零伍角陆分"),
        (Decimal("801.555"), "人民币捌佰零壹元伍角陆分"),
        (0.1 + 0.2, "人民币叁角整"),
        # negative
        (-800, "人民币负捌佰元整"),
        (Decimal("-1680.32"), "人民币负壹仟陆佰捌拾元零叁角贰分"),
        (-0.001, "人民币零元整"),
        # strings
        ("395600", "人民币叁拾玖万伍仟陆佰元整"),
    ],
)
def test_rmb_upper(value, text):
    assert rmb_upper(value) == text


def test_rmb_upper_never_ends_fen_with_zheng():
    for fen in range(0, 100000, 7):
        text = rmb_upper(fen_to_yuan(fen))
        assert text.startswith("人民币")
        assert text.endswith("分") or text.endswith("整")
        assert "零零" not in text
        assert not text.endswith("分整")


def test_rmb_upper_too_large():
    with pytest.raises(ValueProblem):
        rmb_upper(10 ** 16)


# ---------------------------------------------------------------------------
# dates
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "value, text",
    [
        (datetime.date(2022, 5, 10), "2022年5月10日"),
        (datetime.date(2022, 12, 1), "2022年12月1日"),
        (datetime.datetime(2022, 5, 10, 8, 30), "2022年5月10日"),
        ("2022-05-10", "2022年5月10日"),
        ("2022-05-10T00:00:00", "2022年5月10日"),
        ("2022/5/10", "2022年5月10日"),
        ("2022年05月10日", "2022年5月10日"),
    ],
)
def test_chinese_date(value, text):
    assert chinese_date(value) == text


def test_chinese_date_pandas():
    pd = pytest.importorskip("pandas")
    assert chinese_date(pd.Timestamp("2022-05-10")) == "2022年5月10日"
    assert chinese_date(pd.NaT) == ""


def test_chinese_date_bad_string():
    with pytest.raises(ValueProblem) as info:
        chinese_date("2022-02-30")
    assert "2022-02-30" in str(info.value)


@pytest.mark.parametrize(
    "value, text",
    [
        (datetime.date(2021, 5, 10), "2021年5月"),
        (datetime.datetime(2021, 12, 31, 23, 59), "2021年12月"),
        ("2021-05-10", "2021年5月"),
        ("2021-05", "2021年5月"),
        ("2021/5", "2021年5月"),
        ("2021年5月", "2021年5月"),
        ("２０２１年０５月", "2021年5月"),
    ],
)
def test_chinese_month(value, text):
    assert chinese_month(value) == text


def test_chinese_month_bad():
    with pytest.raises(ValueProblem) as info:
        chinese_month("2021-13")
    assert "13" in str(info.value)


# ---------------------------------------------------------------------------
# missing and bad values
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("func", ALL_FILTERS)
@pytest.mark.parametrize("value", [None, "", "  ", float("nan")])
def test_filters_blank_on_missing(func, value):
    assert func(value) == ""


@pytest.mark.parametrize("func", [money_text, wan_yuan, yuan, thousands, percent, rmb_upper])
@pytest.mark.parametrize("value", ["三千", True, float("inf"), Decimal("NaN"), object()])
def test_number_filters_reject_garbage(func, value):
    with pytest.raises(ValueProblem) as info:
        func(value)
    assert re.search(r"[\u4e00-\u9fff]", str(info.value))


@pytest.mark.parametrize("value, digits, expected", [
    (Decimal("1600000"), 2, "1,600,000.00"),
    (Decimal("3560.5"), 2, "3,560.50"),
    (Decimal("999.995"), 2, "1,000.00"),  # half-up
    (Decimal("-1234.565"), 2, "-1,234.57"),
    (Decimal("-0.004"), 2, "0.00"),  # never -0.00
    (800, 2, "800.00"),
    ("12.5", 0, "13"),
])
def test_thousands(value, digits, expected):
    assert thousands(value, digits) == expected


def test_bad_digits():
    with pytest.raises(ValueError):
        wan_yuan(800, -1)
    with pytest.raises(ValueError):
        percent(0.5, "2")


# ---------------------------------------------------------------------------
# registry and Jinja2 use
# ---------------------------------------------------------------------------

def test_filters_registry():
    assert FILTERS == {
        "金额": money_text,
        "万元": wan_yuan,
        "元": yuan,
        "千分位": thousands,
        "百分比": percent,
        "大写金额": rmb_upper,
        "中文日期": chinese_date,
        "中文月份": chinese_month,
    }
    assert FILTER_HELP.keys() == FILTERS.keys()
    for name, help_text in FILTER_HELP.items():
        assert help_text.startswith(name)
        assert "\n" not in help_text
    assert "39.56万元" in FILTER_HELP["金额"] and "800元" in FILTER_HELP["金额"]


def test_jinja_filters():
    jinja2 = pytest.importorskip("jinja2")
    env = jinja2.Environment()
    env.filters.update(FILTERS)
    template = env.from_string(
        "批复{{ 批复数|金额 }}，支出{{ 支出数|元 }}（{{ 支出数|大写金额 }}），"
        "执行率{{ 执行率|百分比 }}，合{{ 支出数|万元(4) }}，{{ 日期|中文日期 }}，{{ 日期|中文月份 }}，"
        "缺失[{{ 不存在|金额 }}]"
    )
    fen = parse_amount("39.56", "万元")
    text = template.render(
        批复数=fen_to_yuan(40000000),
        支出数=fen_to_yuan(fen),
        执行率=Decimal(fen) / Decimal(40000000),
        日期=datetime.date(2022, 5, 10),
    )
    assert text == (
        "批复40万元，支出395600元（人民币叁拾玖万伍仟陆佰元整），执行率98.9%，合39.56万元，"
        "2022年5月10日，2022年5月，缺失[]"
    )


def test_jinja_strict_undefined_still_raises():
    jinja2 = pytest.importorskip("jinja2")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters.update(FILTERS)
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ 不存在|金额 }}").render()
