"""The report's computed sentences, as ready-made pieces for templates: `{{ 句子.资金到位 }}` and the others.

Pure functions of a project's figures (integer fen), its 到位 rows, the narrative the user wrote for 到位评价,
偏差原因 and 资金使用, the unit's name and the grade. Every comparison is exact: integer fen against integer fen,
or `fractions.Fraction`. The README's section on computed sentences states the same rules in Chinese.

Pieces (`pieces(record)`):

- 区域: the most specific administrative level in the unit's name: 全省, 全区 (an autonomous region or a
  district), 全市, 全州, 全县, 全镇, 全乡, 全街道; "" when the name holds none. A level is a name of 1–4 Chinese
  characters (up to 12 for names with 族 or ending in 自治) that holds none of 省市县区镇乡 (it may hold 州: 达州市,
  广州市), then 省/市/州/县/区/镇/乡/街道. It is looked for at the start (after 中共, 政协 …), right after another
  level and after a character that ends an organ's name (局, 院, 会 …), not inside words. Words that only look like
  a level are skipped: 社区, 园区, 小区, 景区, 校区, 开发区 … at the end of a match, 城市, 城区, 城镇 … as a whole
  match (晋城市 and 东城区 are places), and a level followed by 场/政/域/村/建 … (市场监督管理局, 市政, 区域, 乡村,
  城乡建设).
- 到位率, 执行率: the rate as a percentage with at most two decimals, rounded half-up, except that the printed
  figure is on the same side of every boundary as the exact rate (执行率: 0, 60%, 90%, 100%, 110%; 到位率: 0,
  100%): when half-up rounding would reach or cross one, the rate is cut toward the exact value instead
  (89.995% → 89.99%, 99.995% → 99.99%, 100.004% → 100.01%). A boundary is printed only when it is exact.
- 到位对比: 资金到位和资金计划相同 / 低于 / 高于资金计划, 到位数 against 全年预算数 in fen.
- 到位评价 (ends with 。): the user's 到位评价 as written, closed with 。 when it is not; else
  "资金到位比较及时。" when 到位数 ≥ 全年预算数 and every budget row with a 到位数 has a 到位日期 in the budget
  year; "尚有X未到位。" when 到位数 < 全年预算数; "资金已全部到位，其中X在预算年度结束后到位。" when some arrived
  after the year; "资金已全部到位。" when a date is missing or before the year.
- 资金到位: 截至目前，该项目{区域}资金到位{到位数}，{到位对比}，到位率{到位率}，{到位评价}
- 预算对比 (ends with 。), 支出数 against 全年预算数: 与预算相符 (equal in fen); 与预算略有不符 (90% ≤ 执行率 < 100%);
  与预算不符 (below 90%); 与预算略有不符，超出预算X (100% < 执行率 ≤ 110%); 与预算不符，超出预算X (above 110%).
  Not equal and a 偏差原因 given: "，不符原因是{偏差原因}。" (closed with 。; a leading "原因是" is not repeated);
  no 偏差原因: the comparison alone, closed with 。. A reason given when spending equals the budget is not
  written (check warns). 预算对比 itself starts with "，" to follow the 追加 template's 资金使用 text, unless the
  user's 资金使用 ends with a mark of its own.
- 资金使用: 截至目前，该项目资金支出{支出数}，执行率{执行率}，{使用评价}{与预算…。}, where 使用评价 is
  "资金使用安全、规范、及时有效，资金支付范围、支付标准、支付进度、支付依据合规合法；" at 执行率 ≥ 60%, the same
  without "、及时有效" below 60%, and nothing when nothing was spent. 60%: below it more than two fifths of the
  year's budget is unspent at the year's end, which is not timely use; it is also the line below which the
  self-evaluation grades 差.
- 资金计划: {预算年度}年，该项目资金计划{全年预算数}，均计划来自{来源}。 with one named source, "，其中{来源}{金额}、…"
  with several, neither when no source is named.
- 总体评价 by grade: 优 项目总体评价好。 良 项目总体评价较好。 中 项目总体评价一般。 差 项目总体评价较差。 No indicators
  (no grade): "".
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from decimal import Decimal
from fractions import Fraction

from . import formats
from .records import UNNAMED_SOURCE, Figures, ProjectRecord

NAME = "句子"  # the pieces' name in templates: {{ 句子.资金到位 }}
# The narrative sections a piece reads: a template that uses the piece uses those sections.
SECTIONS_READ = {"资金到位": ("到位评价",), "到位评价": ("到位评价",), "资金使用": ("偏差原因",),
                 "预算对比": ("偏差原因",)}
# What each piece says, for lists of a template's default texts (the rules are in the README).
DESCRIPTIONS = {"区域": "全区、全县等", "资金计划": "按资金来源写的资金计划", "到位对比": "到位与计划的比较",
                "到位率": "到位率", "到位评价": "按到位数和到位日期写的评价", "资金到位": "资金到位的句子",
                "执行率": "执行率", "预算对比": "与预算的比较", "资金使用": "资金使用的句子",
                "总体评价": "按自评等级写的总体评价"}
PIECES = ("区域", "资金计划", "到位对比", "到位率", "到位评价", "资金到位", "执行率", "预算对比", "资金使用", "总体评价")

EXECUTION_BOUNDARIES = (Fraction(0), Fraction(60), Fraction(90), Fraction(100), Fraction(110))  # in percent
RECEIVED_BOUNDARIES = (Fraction(0), Fraction(100))
TIMELY_FROM = Fraction(6, 10)  # 执行率 from which use is called 及时有效
SLIGHT_FROM = Fraction(9, 10)  # 与预算略有不符 from 90% …
SLIGHT_UP_TO = Fraction(11, 10)  # … and above the budget up to 110%
OVERALL = {"优": "项目总体评价好。", "良": "项目总体评价较好。", "中": "项目总体评价一般。", "差": "项目总体评价较差。"}
PRAISE = "资金使用安全、规范、及时有效，资金支付范围、支付标准、支付进度、支付依据合规合法；"
PRAISE_NOT_TIMELY = "资金使用安全、规范，资金支付范围、支付标准、支付进度、支付依据合规合法；"

# ------------------------------------------------------------------------------------------------ 区域

_LEVELS = (("街道", "全街道"), ("省", "全省"), ("市", "全市"), ("州", "全州"), ("县", "全县"), ("区", "全区"),
           ("镇", "全镇"), ("乡", "全乡"))
_NOT_IN_NAME = set("省市县区镇乡")
_MAX_NAME = 4  # 呼和浩特市; longer only for 民族 and 自治 names (凉山彝族自治州, 大龙潭彝族乡, 新疆维吾尔自治区)
_MAX_ETHNIC_NAME = 12  # 积石山保安族东乡族撒拉族自治县
# A place is looked for at the start of the name (after 中共 and the like), right after another place, and after a
# character that ends an organ's name (…公安局仁和区分局, 国家税务总局攀枝花市…), never inside a word.
_PREFIXES = ("中国共产党", "中共", "共青团", "中国人民政治协商会议", "政协", "民革", "民盟", "民建", "民进", "台盟")
_ENDS_ORGAN = set("局会部院厅室处所行社团党协校站队司")
# Words ending in a level's character that are not places. Anywhere at the end of the match:
_NOT_PLACE_ENDINGS = {
    "区": ("社区", "园区", "小区", "景区", "校区", "片区", "辖区", "开发区", "高新区", "保税区", "示范区", "试验区",
          "实验区", "保护区", "风景区", "工业区", "功能区", "经济区", "集中区", "集聚区", "合作区", "自贸区", "商务区",
          "产业区", "库区", "军区", "战区", "厂区", "港区", "街区", "商区", "学区", "选区", "牧区", "灾区", "疫区",
          "病区", "禁区", "市区", "县区", "老区", "经济特区"),
    "市": ("超市", "集市", "门市", "夜市", "股市"),
    "镇": ("古镇", "重镇", "名镇", "小镇", "集镇"),
}
# … and as the whole match only, because real places end the same way (晋城市, 东城区, 中山区, 王家乡, 成都市):
_NOT_PLACE_WORDS = {"城市", "都市", "花市", "菜市", "城区", "山区", "湖区", "苏区", "营区", "郊区", "矿区", "林区",
                    "城镇", "家乡", "故乡", "老乡", "下乡", "水乡", "异乡", "神州", "九州", "节省", "反省"}
# Characters that, right after a level's character, make it part of a word: 市场, 市政, 区域, 乡村, 城乡建设.
_NOT_AFTER = {"市": set("场政民容貌值井"), "区": set("域划块间"), "县": set("域"), "镇": set("银"),
              "乡": set("村土愁亲音镇建规居一统融发环社")}


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def _place_at(text: str, start: int) -> tuple[int, str] | None:
    """The longest administrative name that starts at `start`: (its end, its 全X word), or None."""
    best = None
    end = start
    while True:
        if end > start and _name_fits(text[start:end]):
            for suffix, word in _LEVELS:
                if text.startswith(suffix, end) and _is_place(text, start, end, suffix):
                    best = (end + len(suffix), word)
        if end >= len(text) or end - start >= _MAX_ETHNIC_NAME or not _is_cjk(text[end]) \
                or text[end] in _NOT_IN_NAME:
            return best
        end += 1


def _name_fits(name: str) -> bool:
    return len(name) <= _MAX_NAME or "族" in name or name.endswith("自治")


def _is_place(text: str, start: int, at: int, suffix: str) -> bool:
    match, after = text[start:at + len(suffix)], text[at + len(suffix):at + len(suffix) + 1]
    return (match not in _NOT_PLACE_WORDS and not match.endswith(_NOT_PLACE_ENDINGS.get(suffix, ()))
            and after not in _NOT_AFTER.get(suffix, set()))


@functools.lru_cache(maxsize=256)  # a workbook's projects share a few unit names
def region(unit_name: str | None) -> str:
    """全区/全县/全市/全州/全省/全镇/全乡/全街道 from the unit's name (its most specific level), or ""."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", unit_name or ""))
    while text.startswith(_PREFIXES):
        text = text[next(len(p) for p in _PREFIXES if text.startswith(p)):]
    word, index, after_place = "", 0, 0
    while index < len(text):
        boundary = index in (0, after_place) or not _is_cjk(text[index - 1]) or text[index - 1] in _ENDS_ORGAN
        found = _place_at(text, index) if boundary else None
        if found:
            after_place, word = found
            index = after_place
        else:
            index += 1
    return word


# ------------------------------------------------------------------------------------------ figures as text

def money(fen: int) -> str:
    """An amount as the report writes it: 39.56万元, 800元."""
    return formats.money_text(Decimal(fen) / 100)


def rate_text(part: int, whole: int, boundaries: tuple[Fraction, ...]) -> str:
    """part ÷ whole as a percentage, at most two decimals (half-up), never printed on or across a boundary that
    the exact rate is not on or across: then it is cut toward the exact value. "" when whole is 0.

    In integers (a report writes several rates, and Fractions are slow): the rate in hundredths of a percent
    is n / d with d > 0; it is compared with a boundary p / q by the sign of n·q − p·100·d."""
    if not whole:
        return ""
    n, d = (part * 10000, whole) if whole > 0 else (-part * 10000, -whole)
    printed = (2 * n + d) // (2 * d) if n >= 0 else -((d - 2 * n) // (2 * d))  # half-up, away from zero
    for b in boundaries:
        exact_side = _sign(n * b.denominator - b.numerator * 100 * d)
        if _sign(printed * b.denominator - b.numerator * 100) != exact_side:
            printed = n // d if printed * d > n else -(-n // d)  # toward the exact value
            break
    return formats.percent(Decimal(printed) / 10000)


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


# -------------------------------------------------------------------------------------------- narrative

_CLOSED = "。！？!?…"
_CLOSING_QUOTES = "”’」』）)》"
_OPEN_MARKS = "；;，,.、：:"
_REASON_LEAD = re.compile(r"^(?:不符原因|偏差原因|原因)(?:是|为|[：:])[：:]?")


def close(text: str) -> str:
    """The text ending in a final mark: kept when it ends in 。！？ (also before a closing quote or bracket),
    a final ；，.、： replaced by 。, else 。 added. "" stays ""."""
    text = text.strip()
    if not text:
        return ""
    bare = text.rstrip(_CLOSING_QUOTES)
    if bare and bare[-1] in _CLOSED:
        return text
    if text[-1] in _OPEN_MARKS:
        return text[:-1] + "。"
    return text + "。"


def written(paragraphs: list[str] | None) -> str:
    """What the user wrote for a section: each paragraph closed with 。, joined; "" when nothing."""
    from .render import clean_text  # render imports this module

    return "".join(close(clean_text(p)) for p in paragraphs or [])


def reason_text(paragraphs: list[str] | None) -> str:
    """偏差原因 as it follows "不符原因是": closed, without a leading 原因是 of its own."""
    return _REASON_LEAD.sub("", written(paragraphs), count=1)


# ---------------------------------------------------------------------------------------------- 资金到位

def received_comparison(f: Figures) -> str:
    if f.received == f.budget:
        return "资金到位和资金计划相同"
    return "资金到位低于资金计划" if f.received < f.budget else "资金到位高于资金计划"


def received_evaluation(f: Figures, receipts: list[tuple[dt.date | None, int]], year: int | None) -> str:
    """The generated evaluation of 到位 (see the module's rules), ending with 。."""
    if f.received < f.budget:
        return f"尚有{money(f.budget - f.received)}未到位。"
    dates = [day for day, fen in receipts if fen]
    if year and dates and all(day is not None and day.year == year for day in dates):
        return "资金到位比较及时。"
    late = sum(fen for day, fen in receipts if fen and year and day is not None and day.year > year)
    if late:
        return f"资金已全部到位，其中{money(late)}在预算年度结束后到位。"
    return "资金已全部到位。"


def funding_received(f: Figures, area: str, evaluation: str) -> str:
    rate = rate_text(f.received, f.budget, RECEIVED_BOUNDARIES)
    parts = [f"截至目前，该项目{area}资金到位{money(f.received)}", received_comparison(f)]
    if rate:
        parts.append(f"到位率{rate}")
    return "，".join(parts) + "，" + evaluation


# ---------------------------------------------------------------------------------------------- 资金使用

def budget_comparison(f: Figures, reason: str) -> str:
    """与预算相符。/ 与预算（略有）不符[，超出预算X][，不符原因是…]。 (see the module's rules)."""
    if f.spent == f.budget:
        return "与预算相符。"
    rate = Fraction(f.spent, f.budget) if f.budget else None
    if f.spent > f.budget:
        slight = rate is not None and rate <= SLIGHT_UP_TO
        clause = f"与预算{'略有不符' if slight else '不符'}，超出预算{money(f.spent - f.budget)}"
    else:
        clause = "与预算略有不符" if rate is not None and rate >= SLIGHT_FROM else "与预算不符"
    return clause + (f"，不符原因是{reason}" if reason else "。")


def usage_praise(f: Figures) -> str:
    if f.spent <= 0 or not f.budget:
        return ""
    return PRAISE if Fraction(f.spent, f.budget) >= TIMELY_FROM else PRAISE_NOT_TIMELY


def funding_use(f: Figures, reason: str) -> str:
    rate = rate_text(f.spent, f.budget, EXECUTION_BOUNDARIES)
    head = f"截至目前，该项目资金支出{money(f.spent)}，" + (f"执行率{rate}，" if rate else "")
    return head + usage_praise(f) + budget_comparison(f, reason)


def budget_clause(f: Figures, reason: str, use_text: str) -> str:
    """预算对比: the comparison as it follows the 资金使用 text: after "，" unless that text ends with a mark."""
    joined = use_text.strip()
    lead = "" if joined and joined[-1] in _CLOSED + _CLOSING_QUOTES + _OPEN_MARKS else "，"
    return lead + budget_comparison(f, reason)


# ---------------------------------------------------------------------------------------------- 资金计划

def funding_plan(record: ProjectRecord) -> str:
    from .render import clean_text  # render imports this module

    head = f"{record.year}年，该项目资金计划{money(record.figures.budget)}"
    planned = [s for s in record.by_source if s["budget"]]
    named = [s for s in planned if s["source"] != UNNAMED_SOURCE]
    if len(planned) == 1 and named:
        return f"{head}，均计划来自{clean_text(named[0]['source'])}。"
    if len(planned) > 1:
        items = "、".join(f"{clean_text(s['source'])}{money(s['budget'])}" for s in planned)
        return f"{head}，其中{items}。"
    return head + "。"


# ------------------------------------------------------------------------------------------------ pieces

def overall(grade: str | None) -> str:
    return OVERALL.get(grade or "", "")


def pieces(record: ProjectRecord) -> dict[str, str]:
    """Every piece for one project, by its name in templates (句子.资金到位 …)."""
    f = record.figures
    area = region(record.unit_name)
    evaluation = written(record.sections.get("到位评价")) or received_evaluation(f, record.receipts, record.year)
    reason = reason_text(record.sections.get("偏差原因"))
    card = record.scorecard
    return {
        "区域": area,
        "资金计划": funding_plan(record),
        "到位对比": received_comparison(f),
        "到位率": rate_text(f.received, f.budget, RECEIVED_BOUNDARIES),
        "到位评价": evaluation,
        "资金到位": funding_received(f, area, evaluation),
        "执行率": rate_text(f.spent, f.budget, EXECUTION_BOUNDARIES),
        "预算对比": budget_clause(f, reason, "".join(record.sections.get("资金使用") or [])),
        "资金使用": funding_use(f, reason),
        "总体评价": overall(card.grade if card is not None else None),
    }
