"""The report's computed sentences (excel_eval.sentences): every variant, each expected sentence written by hand."""

import datetime as dt
from types import SimpleNamespace

import pytest

from excel_eval.metrics import Figures, ProjectRecord
from excel_eval.sentences import (EXECUTION_BOUNDARIES, RECEIVED_BOUNDARIES, close, pieces, rate_text, reason_text,
                                  region)

YEAR = 2021
IN_YEAR = dt.date(2021, 3, 10)
PRAISE = "资金使用安全、规范、及时有效，资金支付范围、支付标准、支付进度、支付依据合规合法；"
PRAISE_NOT_TIMELY = "资金使用安全、规范，资金支付范围、支付标准、支付进度、支付依据合规合法；"


def record(budget, spent=0, received=None, *, receipts=None, sections=None, unit="攀枝花市仁和区信访局", grade=None,
           sources=None):
    """A project with amounts in fen; by default everything received on one row dated in the budget year."""
    received = budget if received is None else received
    return ProjectRecord(
        project_id="P1", name="测试项目", unit_name=unit, unit_short_name=unit, year=YEAR, project_type="常规",
        template=None, report_date=None, excel_row=2,
        figures=Figures(declared=budget, approved=budget, budget=budget, received=received, spent=spent),
        receipts=[(IN_YEAR, received)] if receipts is None else receipts,
        by_source=sources if sources is not None else [
            {"source": "区本级资金", "declared": budget, "approved": budget, "budget": budget, "received": received,
             "spent": spent}],
        sections=sections or {},
        scorecard=SimpleNamespace(grade=grade) if grade else None,
    )


def reason(text):
    return {"偏差原因": [text]}


# ------------------------------------------------------------------------------------- 资金使用, by rate
# 全年预算数 800元 (80,000 fen) unless said: amounts print in 元, exactly.

USE = [
    # (case, budget fen, spent fen, sections, 资金使用)
    ("exactly 100%", 80000, 80000, {},
     "截至目前，该项目资金支出800元，执行率100%，" + PRAISE + "与预算相符。"),
    ("exactly 100% with a reason: the reason is not written", 80000, 80000, reason("原因甲。"),
     "截至目前，该项目资金支出800元，执行率100%，" + PRAISE + "与预算相符。"),
    ("exactly 90%, a reason", 80000, 72000, reason("差旅费节约。"),
     "截至目前，该项目资金支出720元，执行率90%，" + PRAISE + "与预算略有不符，不符原因是差旅费节约。"),
    ("exactly 90%, no reason", 80000, 72000, {},
     "截至目前，该项目资金支出720元，执行率90%，" + PRAISE + "与预算略有不符。"),
    ("89.995% prints 89.99%, not 90%", 80000, 71996, reason("差旅费节约"),
     "截至目前，该项目资金支出719.96元，执行率89.99%，" + PRAISE + "与预算不符，不符原因是差旅费节约。"),
    ("99.995% prints 99.99%, not 100%", 80000, 79996, {},
     "截至目前，该项目资金支出799.96元，执行率99.99%，" + PRAISE + "与预算略有不符。"),
    ("100.00375% prints 100.01%, not 100%", 80000, 80003, {},
     "截至目前，该项目资金支出800.03元，执行率100.01%，" + PRAISE + "与预算略有不符，超出预算0.03元。"),
    ("exactly 110%: still 略有", 80000, 88000, reason("追加了接访任务；"),
     "截至目前，该项目资金支出880元，执行率110%，" + PRAISE + "与预算略有不符，超出预算80元，不符原因是追加了接访任务。"),
    ("110.00375% prints 110.01%: 不符", 80000, 88003, {},
     "截至目前，该项目资金支出880.03元，执行率110.01%，" + PRAISE + "与预算不符，超出预算80.03元。"),
    ("150%", 80000, 120000, reason("原因是追加了接访任务."),
     "截至目前，该项目资金支出1200元，执行率150%，" + PRAISE + "与预算不符，超出预算400元，不符原因是追加了接访任务。"),
    ("exactly 60%: 及时有效", 80000, 48000, reason("合同未到期，"),
     "截至目前，该项目资金支出480元，执行率60%，" + PRAISE + "与预算不符，不符原因是合同未到期。"),
    ("59.995% prints 59.99%: not 及时有效", 80000, 47996, {},
     "截至目前，该项目资金支出479.96元，执行率59.99%，" + PRAISE_NOT_TIMELY + "与预算不符。"),
    ("33%", 80000, 26400, reason("项目推迟到下半年实施"),
     "截至目前，该项目资金支出264元，执行率33%，" + PRAISE_NOT_TIMELY + "与预算不符，不符原因是项目推迟到下半年实施。"),
    ("0%: no praise of use at all", 80000, 0, reason("项目未启动。"),
     "截至目前，该项目资金支出0元，执行率0%，与预算不符，不符原因是项目未启动。"),
    ("0%, no reason", 80000, 0, {},
     "截至目前，该项目资金支出0元，执行率0%，与预算不符。"),
    ("0.005% prints 0.01%, not 0%", 8000000, 400, {},
     "截至目前，该项目资金支出4元，执行率0.01%，" + PRAISE_NOT_TIMELY + "与预算不符。"),
    ("seed report 1: 98.9%", 40000000, 39560000, reason("受疫情影响，差旅费实际支出在预算基础上略有减少。"),
     "截至目前，该项目资金支出39.56万元，执行率98.9%，" + PRAISE
     + "与预算略有不符，不符原因是受疫情影响，差旅费实际支出在预算基础上略有减少。"),
    ("seed report 2: 99.8%, no reason: closed, not ending in ；", 15000000, 14970000, {},
     "截至目前，该项目资金支出14.97万元，执行率99.8%，" + PRAISE + "与预算略有不符。"),
    ("seed report 3: 79.76% keeps 及时有效", 54750000, 43670000,
     reason("外包服务合同到期，续签合同手续未完善，因此未完成支付。"),
     "截至目前，该项目资金支出43.67万元，执行率79.76%，" + PRAISE
     + "与预算不符，不符原因是外包服务合同到期，续签合同手续未完善，因此未完成支付。"),
    ("a reason of two paragraphs", 80000, 40000, {"偏差原因": ["合同未到期", "下年度继续支付；"]},
     "截至目前，该项目资金支出400元，执行率50%，" + PRAISE_NOT_TIMELY + "与预算不符，不符原因是合同未到期。下年度继续支付。"),
]


@pytest.mark.parametrize("case, budget, spent, sections, expected", USE, ids=[c[0] for c in USE])
def test_funding_use_sentence(case, budget, spent, sections, expected):
    assert pieces(record(budget, spent, sections=sections))["资金使用"] == expected


# ------------------------------------------------------------------- 预算对比, after the 追加 资金使用 text

COMPARISON = [
    ("equal", 80000, 80000, {}, "，与预算相符。"),
    ("95%, a reason without a mark", 80000, 76000, reason("部分合同尾款未付"),
     "，与预算略有不符，不符原因是部分合同尾款未付。"),
    ("50%, no reason", 80000, 40000, {}, "，与预算不符。"),
    ("105%", 80000, 84000, {}, "，与预算略有不符，超出预算40元。"),
    ("the user's 资金使用 ends with 。: a sentence of its own", 80000, 80000,
     {"资金使用": ["资金按合同约定支付。"]}, "与预算相符。"),
    ("the user's 资金使用 ends with ，", 80000, 40000, {"资金使用": ["资金按合同约定支付，"]}, "与预算不符。"),
]


@pytest.mark.parametrize("case, budget, spent, sections, expected", COMPARISON, ids=[c[0] for c in COMPARISON])
def test_budget_comparison_clause(case, budget, spent, sections, expected):
    assert pieces(record(budget, spent, sections=sections))["预算对比"] == expected


# ----------------------------------------------------------------------------------------------- 资金到位

D1, D2 = dt.date(2021, 1, 15), dt.date(2021, 12, 31)
RECEIVED = [
    # (case, budget fen, received fen, receipts, sections, unit, 资金到位)
    ("equal, every date in the year", 40000000, 40000000, [(D1, 30000000), (D2, 10000000)], {},
     "攀枝花市仁和区信访局", "截至目前，该项目全区资金到位40万元，资金到位和资金计划相同，到位率100%，资金到位比较及时。"),
    ("below plan (66.67%): what is missing, no timeliness", 54750000, 36500000, [(D1, 36500000)], {},
     "攀枝花市仁和区信访局",
     "截至目前，该项目全区资金到位36.5万元，资金到位低于资金计划，到位率66.67%，尚有18.25万元未到位。"),
    ("above plan, dated in the year", 40000000, 45000000, [(D1, 45000000)], {}, "某某县财政局",
     "截至目前，该项目全县资金到位45万元，资金到位高于资金计划，到位率112.5%，资金到位比较及时。"),
    ("equal, a date missing", 40000000, 40000000, [(D1, 30000000), (None, 10000000)], {}, "攀枝花市财政局",
     "截至目前，该项目全市资金到位40万元，资金到位和资金计划相同，到位率100%，资金已全部到位。"),
    ("equal, part after the year", 40000000, 40000000, [(D1, 30000000), (dt.date(2022, 2, 8), 10000000)], {},
     "攀枝花市仁和区信访局",
     "截至目前，该项目全区资金到位40万元，资金到位和资金计划相同，到位率100%，资金已全部到位，其中10万元在预算年度结束后到位。"),
    ("equal, dated before the year", 40000000, 40000000, [(dt.date(2020, 12, 20), 40000000)], {},
     "攀枝花市仁和区信访局",
     "截至目前，该项目全区资金到位40万元，资金到位和资金计划相同，到位率100%，资金已全部到位。"),
    ("a row with nothing received needs no date", 40000000, 40000000, [(D1, 40000000), (None, 0)], {},
     "凉山彝族自治州财政局",
     "截至目前，该项目全州资金到位40万元，资金到位和资金计划相同，到位率100%，资金到位比较及时。"),
    ("99.995% prints 99.99%, not 100%", 80000, 79996, [(D1, 79996)], {}, "盐边县红格镇人民政府",
     "截至目前，该项目全镇资金到位799.96元，资金到位低于资金计划，到位率99.99%，尚有0.04元未到位。"),
    ("nothing received", 80000, 0, [], {}, "攀枝花市仁和区信访局",
     "截至目前，该项目全区资金到位0元，资金到位低于资金计划，到位率0%，尚有800元未到位。"),
    ("the user's 到位评价 replaces the evaluation", 54750000, 36500000, [(D1, 36500000)],
     {"到位评价": ["余款已于次年1月拨付"]}, "攀枝花市仁和区信访局",
     "截至目前，该项目全区资金到位36.5万元，资金到位低于资金计划，到位率66.67%，余款已于次年1月拨付。"),
    ("the user's 到位评价 ending in ；", 40000000, 40000000, [(D1, 40000000)], {"到位评价": ["资金到位及时；"]},
     "攀枝花市仁和区信访局", "截至目前，该项目全区资金到位40万元，资金到位和资金计划相同，到位率100%，资金到位及时。"),
    ("no administrative level in the unit's name: neutral", 40000000, 40000000, [(D1, 40000000)], {}, "攀枝花学院",
     "截至目前，该项目资金到位40万元，资金到位和资金计划相同，到位率100%，资金到位比较及时。"),
]


@pytest.mark.parametrize("case, budget, received, receipts, sections, unit, expected", RECEIVED,
                         ids=[c[0] for c in RECEIVED])
def test_funding_received_sentence(case, budget, received, receipts, sections, unit, expected):
    made = pieces(record(budget, 0, received, receipts=receipts, sections=sections, unit=unit))
    assert made["资金到位"] == expected
    evaluation = expected.rsplit("，", 1)[1] if "其中" not in expected else "资金已全部到位，其中10万元在预算年度结束后到位。"
    assert made["到位评价"] == evaluation


# ---------------------------------------------------------------------------------------------- 资金计划

PLAN = [
    ("one named source", [("区本级资金", 40000000)], "2021年，该项目资金计划40万元，均计划来自区本级资金。"),
    ("two sources", [("区本级资金", 40000000), ("上级补助资金", 20000000)],
     "2021年，该项目资金计划60万元，其中区本级资金40万元、上级补助资金20万元。"),
    ("a source with no budget is not listed", [("区本级资金", 40000000), ("其他资金", 0)],
     "2021年，该项目资金计划40万元，均计划来自区本级资金。"),
    ("no source named", [("未注明来源", 40000000)], "2021年，该项目资金计划40万元。"),
]


@pytest.mark.parametrize("case, sources, expected", PLAN, ids=[c[0] for c in PLAN])
def test_funding_plan_sentence(case, sources, expected):
    rows = [{"source": name, "declared": fen, "approved": fen, "budget": fen, "received": fen, "spent": 0}
            for name, fen in sources]
    assert pieces(record(sum(fen for _, fen in sources), sources=rows))["资金计划"] == expected


# ---------------------------------------------------------------------------------------------- 总体评价

@pytest.mark.parametrize("grade, expected", [
    ("优", "项目总体评价好。"), ("良", "项目总体评价较好。"), ("中", "项目总体评价一般。"), ("差", "项目总体评价较差。"),
    (None, ""),  # no indicators, no score: no overall rating is claimed
])
def test_overall_rating_by_grade(grade, expected):
    assert pieces(record(80000, 80000, grade=grade))["总体评价"] == expected


# --------------------------------------------------------------------------------------------------- 区域

REGIONS = [
    ("攀枝花市仁和区信访局", "全区"),
    ("某某县财政局", "全县"),
    ("攀枝花市财政局", "全市"),
    ("凉山彝族自治州财政局", "全州"),
    ("凉山州教育和体育局", "全州"),
    ("凉山彝族自治州西昌市财政局", "全市"),
    ("阿坝藏族羌族自治州汶川县卧龙镇人民政府", "全镇"),
    ("峨边彝族自治县财政局", "全县"),
    ("四川省财政厅", "全省"),
    ("广西壮族自治区财政厅", "全区"),
    ("攀枝花市仁和区大田镇人民政府", "全镇"),
    ("盐边县国胜乡人民政府", "全乡"),
    ("米易县白坡彝族乡人民政府", "全乡"),
    ("某某县古城乡人民政府", "全乡"),
    ("某某县王家乡人民政府", "全乡"),
    ("西昌市小庙乡中心小学", "全乡"),
    ("新疆维吾尔自治区财政厅", "全区"),
    ("攀枝花市东区炳草岗街道办事处", "全街道"),
    ("成都市武侯区玉林街道玉林北路社区居民委员会", "全街道"),
    # words that look like a level
    ("攀枝花市市场监督管理局", "全市"),
    ("盐边县市场监督管理局", "全县"),
    ("攀枝花市仁和区市场监督管理局", "全区"),
    ("攀枝花市市政设施管理处", "全市"),
    ("攀枝花市城市照明管理处", "全市"),
    ("攀枝花市农贸市场服务中心", "全市"),
    ("某某县住房和城乡建设局", "全县"),
    ("某某县乡村振兴局", "全县"),
    ("某某县城乡规划局", "全县"),
    ("攀枝花市仁和区金江镇社区卫生服务中心", "全镇"),
    ("攀枝花市仁和区前进镇前进社区居民委员会", "全镇"),
    ("攀枝花市东区园区管理委员会", "全区"),
    ("攀枝花市仁和区景区管理局", "全区"),
    ("攀枝花市第三人民医院城区分院", "全市"),
    ("攀枝花学院南校区", ""),
    ("攀枝花钒钛高新技术产业开发区管理委员会", ""),
    ("攀西区域合作办公室", ""),
    # places whose names end like such words
    ("晋城市财政局", "全市"),
    ("成都市财政局", "全市"),
    ("北京市东城区财政局", "全区"),
    ("达州市财政局", "全市"),
    ("重庆市万州区教育委员会", "全区"),
    ("广州市天河区财政局", "全区"),
    # schools, hospitals, party and other organs
    ("米易县撒莲镇中心学校", "全镇"),
    ("攀枝花市第三高级中学校", "全市"),
    ("攀枝花市仁和区人民医院", "全区"),
    ("盐边县人民医院", "全县"),
    ("中共攀枝花市仁和区委组织部", "全区"),
    ("政协攀枝花市仁和区委员会", "全区"),
    ("国家税务总局攀枝花市仁和区税务局", "全区"),
    ("共青团攀枝花市委员会", "全市"),
    ("中国人民银行攀枝花市中心支行", "全市"),
    ("攀枝花市公安局仁和区分局", "全区"),
    ("攀枝花市仁和区信访局（群众工作局）", "全区"),
    ("攀枝花市 仁和区 信访局", "全区"),
    ("攀枝花学院", ""),
    ("", ""),
]


@pytest.mark.parametrize("unit, expected", REGIONS, ids=[u or "blank" for u, _ in REGIONS])
def test_region_from_the_unit_name(unit, expected):
    assert region(unit) == expected


# -------------------------------------------------------------------------------------- rates and marks

@pytest.mark.parametrize("part, whole, expected", [
    (9, 10, "90%"), (89995, 100000, "89.99%"), (1, 1, "100%"), (99995, 100000, "99.99%"), (11, 10, "110%"),
    (3, 2, "150%"), (0, 1, "0%"), (33, 100, "33%"), (100004, 100000, "100.01%"), (110004, 100000, "110.01%"),
    (90004, 100000, "90.01%"),  # 90.004% is not exactly 90%
    (59996, 100000, "59.99%"), (4, 100000, "0.01%"), (7976, 10000, "79.76%"), (989, 1000, "98.9%"),
    (2, 3, "66.67%"), (1, 8, "12.5%"), (123456, 1000000, "12.35%"),  # half-up where no boundary is near
])
def test_execution_rate_never_printed_across_a_boundary(part, whole, expected):
    assert rate_text(part, whole, EXECUTION_BOUNDARIES) == expected


def test_received_rate_boundaries_are_0_and_100():
    assert rate_text(89995, 100000, RECEIVED_BOUNDARIES) == "90%"  # no 90% band for 到位
    assert rate_text(99995, 100000, RECEIVED_BOUNDARIES) == "99.99%"
    assert rate_text(0, 100, RECEIVED_BOUNDARIES) == "0%" and rate_text(1, 0, RECEIVED_BOUNDARIES) == ""


@pytest.mark.parametrize("text, expected", [
    ("原因甲。", "原因甲。"), ("原因甲", "原因甲。"), ("原因甲；", "原因甲。"), ("原因甲，", "原因甲。"),
    ("原因甲.", "原因甲。"), ("原因甲;", "原因甲。"), ("原因甲、", "原因甲。"), ("  原因甲  ", "原因甲。"),
    ("见《通知》", "见《通知》。"), ("（见附件）", "（见附件）。"), ("称“已完成。”", "称“已完成。”"), ("是否？", "是否？"),
    ("", ""),
])
def test_close(text, expected):
    assert close(text) == expected


def test_reason_does_not_repeat_its_lead():
    assert reason_text(["原因是合同未到期"]) == "合同未到期。"
    assert reason_text(["不符原因：合同未到期"]) == "合同未到期。"
    assert reason_text(["原因复杂，合同未到期"]) == "原因复杂，合同未到期。"
    assert reason_text([]) == "" and reason_text(None) == ""


def test_every_sentence_piece_ends_with_a_full_stop():
    """Whatever optional parts are absent: no reason, no date, no source, no grade, no region."""
    bare = record(80000, 40000, 20000, receipts=[(None, 20000)], unit="", sources=[], grade="差")
    for made in (pieces(bare), pieces(record(80000, 0, 0, receipts=[], unit="")), pieces(record(80000, 80000))):
        for name in ("资金计划", "到位评价", "资金到位", "预算对比", "资金使用"):
            assert made[name].endswith("。"), (name, made[name])
    assert pieces(bare)["总体评价"] == "项目总体评价较差。"
    assert pieces(bare)["资金使用"] == "截至目前，该项目资金支出400元，执行率50%，" + PRAISE_NOT_TIMELY + "与预算不符。"
    assert pieces(bare)["资金到位"] == "截至目前，该项目资金到位200元，资金到位低于资金计划，到位率25%，尚有600元未到位。"
    assert pieces(bare)["资金计划"] == "2021年，该项目资金计划800元。"


def test_user_text_is_cleaned_of_characters_word_refuses():
    made = pieces(record(80000, 40000, sections={"偏差原因": ["合同\x0b未到期"], "到位评价": ["及时\x01到位"]}))
    assert made["资金使用"].endswith("不符原因是合同未到期。")
    assert made["资金到位"].endswith("及时到位。")


# ------------------------------------------------------------------------- in the reports a run writes

def _report_paragraphs(tmp_path, sheets):
    from excel_eval.pipeline import run
    from excel_eval.render import document_text
    from workbooks import write_workbook

    result = run(write_workbook(tmp_path / "账.xlsx", sheets), tmp_path / "out", now=dt.datetime(2026, 1, 2, 9, 0))
    return [document_text(path).split("\n") for path in result.reports]


def test_the_standard_templates_write_the_pieces(tmp_path):
    from workbooks import standard_sheets

    p1, p2 = _report_paragraphs(tmp_path, standard_sheets())
    assert "2021年，该项目资金计划10万元，均计划来自区本级资金。" in p1
    assert "截至目前，该项目全县资金到位10万元，资金到位和资金计划相同，到位率100%，资金到位比较及时。" in p1
    # 95,000.50 of 100,000.00 元 with no 偏差原因: the sentence is closed
    assert "截至目前，该项目资金支出9.5万元，执行率95%，" + PRAISE + "与预算略有不符。" in p1
    # no indicators, no grade: the default 评价结论 claims no overall rating
    assert p1[p1.index("（一）评价结论。") + 1].endswith("三是人员配备和账务核算到位。")
    assert "资金按合同约定标准进行支付，支付进度、支付依据等合规合法，与预算相符。" in p2


@pytest.mark.parametrize("actual, qualitative, score, satisfaction, expected", [
    # 9.5 (执行率) + 50 + 30 + 10 = 99.5
    ("100人次", "达成", 30, "95%", "三是人员配备和账务核算到位。项目总体评价好。"),
    # 9.5 + 45 (90 / 100 × 50) + 25 + 10 = 89.5
    ("90人次", "达成", 25, "95%", "三是人员配备和账务核算到位。项目总体评价较好。"),
    # 9.5 + 40 + 20 + 10 = 79.5
    ("80人次", "部分达成", 20, "95%", "三是人员配备和账务核算到位。项目总体评价一般。"),
    # 9.5 + 5 + 10 + 5.56 (50 / 90 × 10) = 30.06
    ("10人次", "未达成", 10, "50%", "三是人员配备和账务核算到位。项目总体评价较差。"),
])
def test_the_default_conclusion_follows_the_grade(tmp_path, actual, qualitative, score, satisfaction, expected):
    from test_scoring import INDICATOR_HEADER
    from workbooks import standard_sheets

    sheets = standard_sheets()
    sheets["绩效指标"] = [INDICATOR_HEADER,
                      ["P1", "产出指标", "数量指标", "培训人次", "≥100人次", actual, 50, None, "原因"],
                      ["P1", "效益指标", "社会效益指标", "能力提升", "有效提升", qualitative, 30, score, "原因"],
                      ["P1", "满意度指标", "服务对象满意度指标", "满意度", "≥90%", satisfaction, 10, None, "原因"]]
    p1 = _report_paragraphs(tmp_path, sheets)[0]
    assert p1[p1.index("（一）评价结论。") + 1].endswith(expected)


def test_receipts_are_every_budget_row_of_the_project(tmp_path):
    from excel_eval.metrics import compute
    from excel_eval.problems import Problems
    from excel_eval.reading import read_workbook
    from workbooks import standard_sheets, write_workbook

    sheets = standard_sheets()
    sheets["预算"].append(["P1", "市级资金", 50000, 50000, 50000, 20000, None])
    data = read_workbook(write_workbook(tmp_path / "b.xlsx", sheets), Problems())
    p1, p2 = compute(data)
    assert p1.receipts == [(dt.date(2021, 3, 1), 10000000), (None, 2000000)]
    assert p2.receipts == [(dt.date(2021, 5, 18), 80000)]
    assert pieces(p1)["到位评价"] == "尚有3万元未到位。"
