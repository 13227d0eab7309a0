"""The standard workbook contract (标准填报工作簿, version 2) as data.

The reader, the checks, the summary writer and the docs all read this module: a column is described once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

CONTRACT_VERSION = 2  # ../shared/design/workbook.md: number formats, ledger exports, the official indicator layout

TEXT = "text"
INTEGER = "integer"
NUMBER = "number"
AMOUNT = "amount"
DATE = "date"

PROJECT_TYPES = ("常规", "追加")
FUNDING_SOURCES = ("区本级资金", "市级资金", "省级资金", "中央资金", "上年结转", "其他资金")
EXPENSE_CATEGORIES = ("差旅费", "劳务费", "委托业务费", "物业管理费", "邮电费", "维修（护）费", "办公费", "印刷费",
                      "会议费", "培训费", "专用材料费", "其他商品和服务支出")
LEVEL1 = ("产出指标", "效益指标", "满意度指标")
LEVEL2 = ("数量指标", "质量指标", "时效指标", "成本指标", "经济效益指标", "社会效益指标", "生态效益指标",
          "可持续影响指标", "服务对象满意度指标")
TOTAL_MARKERS = ("合计", "总计", "小计")
BLANK_NAME = "绩效自评填报表.xlsx"  # a default file name for the blank workbook (`excel-eval new`)
ROW = "_row"  # the Excel row number of a record, kept as a column of every table the reader makes


@dataclass(frozen=True)
class Column:
    name: str  # canonical Chinese header
    alias: str  # English alias
    required: bool
    kind: str
    note: str = ""
    choices: tuple[str, ...] = ()
    others: tuple[str, ...] = ()  # other headers for it, as official forms write them (完成值 for 实际完成值)
    or_else: str = ""  # a required column that another layout replaces with this column (年度指标值 by 指标值)

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.name, self.alias, *self.others)


@dataclass(frozen=True)
class Sheet:
    name: str
    alias: str
    required: bool
    columns: tuple[Column, ...]  # the standard layout, as the blank workbook has it
    note: str = ""
    extra: tuple[Column, ...] = ()  # columns of another accepted layout, read when present

    @property
    def all_columns(self) -> tuple[Column, ...]:
        return self.columns + self.extra

    @property
    def required_columns(self) -> list[Column]:
        return [c for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.all_columns if c.name == name)


PROJECTS = Sheet("项目", "projects", True, (
    Column("项目编号", "project_id", True, TEXT, "每个项目唯一"),
    Column("项目名称", "project_name", True, TEXT),
    Column("单位名称", "unit_name", True, TEXT, "报告单位全称，如 攀枝花市仁和区信访局"),
    Column("单位简称", "unit_short_name", False, TEXT, "正文中使用的简称，如 仁和区信访局；不填则用单位名称"),
    Column("预算年度", "year", True, INTEGER, "如 2021"),
    Column("项目类型", "project_type", False, TEXT, "常规 或 追加，不填为常规", PROJECT_TYPES),
    Column("报告模板", "template", False, TEXT, "模板名称；不填则按项目类型选择"),
    Column("报告日期", "report_date", False, DATE, "落款日期；不填为运行当天"),
    Column("主管部门", "department", False, TEXT, "绩效自评表的主管部门；不填则用单位名称"),
    Column("实施单位", "implementer", False, TEXT, "绩效自评表的实施单位；不填则用单位名称"),
), "每个项目一行")

BUDGET = Sheet("预算", "budget", True, (
    Column("项目编号", "project_id", True, TEXT, "须在“项目”表中存在"),
    Column("资金来源", "source", False, TEXT, "如 区本级资金、市级资金", FUNDING_SOURCES),
    Column("申报数", "declared", True, AMOUNT),
    Column("批复数", "approved", True, AMOUNT, "年初预算数"),
    Column("全年预算数", "budget", False, AMOUNT, "调整后预算数；不填等于批复数"),
    Column("到位数", "received", True, AMOUNT),
    Column("到位日期", "received_date", False, DATE),
), "每个项目、每个资金来源一行")

DISBURSEMENTS = Sheet("支出明细", "disbursements", True, (
    Column("项目编号", "project_id", True, TEXT, "须在“项目”表中存在"),
    Column("支付日期", "date", True, DATE, "日期，或 2021-05-10 等文字"),
    Column("金额", "amount", True, AMOUNT, "红字冲销可填负数"),
    Column("支出类别", "category", False, TEXT, "政府支出经济分类", EXPENSE_CATEGORIES),
    Column("资金来源", "source", False, TEXT, "", FUNDING_SOURCES),
    Column("凭证号", "voucher", False, TEXT),
    Column("摘要", "memo", False, TEXT),
), "每笔支付一行（可从财务软件导出）")

NARRATIVE = Sheet("文字说明", "narrative", True, (
    Column("项目编号", "project_id", True, TEXT, "须在“项目”表中存在"),
    Column("栏目", "section", True, TEXT, "报告模板中的栏目名称"),
    Column("内容", "text", True, TEXT, "一段文字；单元格内换行即分段"),
), "每段报告文字一行")

INDICATORS = Sheet("绩效指标", "indicators", False, (
    Column("项目编号", "project_id", True, TEXT),
    Column("一级指标", "level1", True, TEXT, "", LEVEL1, ("一级",)),
    Column("二级指标", "level2", True, TEXT, "", LEVEL2, ("二级",)),
    Column("三级指标", "name", True, TEXT, "", (), ("三级",)),
    Column("年度指标值", "target", True, TEXT, "如 ≥7000件、≤40万元、=100%", (), (), "指标值"),
    Column("实际完成值", "actual", True, TEXT, "如 7120件、96%，定性指标填 达成/部分达成/未达成", (), ("完成值",)),
    Column("分值", "weight", True, NUMBER, "", (), ("权重",)),
    Column("自评得分", "score", False, NUMBER, "", (), ("得分",)),
    Column("偏差原因", "deviation", False, TEXT, "偏差原因分析及改进措施", (),
           ("偏差原因分析及改进措施", "未完成原因分析", "偏差原因分析")),
), "每个绩效指标一行（选填）", extra=(
    # the official 自评表 layout (财预〔2020〕10号): the target in three columns instead of 年度指标值
    Column("指标性质", "nature", False, TEXT, "＝、≥、≤，或 定性"),
    Column("指标值", "target_value", False, TEXT, "如 7000、95%，定性指标填目标的文字"),
    Column("度量单位", "target_unit", False, TEXT, "如 件、%、万元"),
))

SUMMARY_NAME = "汇总"
SUMMARY_ALIAS = "summary"
SUMMARY_HEADERS = ("项目编号", "项目名称", "单位名称", "全年预算数（万元）", "到位数（万元）", "到位率", "支出数（万元）",
                   "执行率", "结余（万元）", "自评得分", "等级", "报告文件")

DEFAULT_TEMPLATES = {"常规": "标准报告", "追加": "追加项目报告"}


def default_template(project_type: str | None) -> str:
    """The report template a project uses when 项目!报告模板 is blank: chosen by 项目类型."""
    return DEFAULT_TEMPLATES.get(project_type or "常规", DEFAULT_TEMPLATES["常规"])


INPUT_SHEETS = (PROJECTS, BUDGET, DISBURSEMENTS, NARRATIVE, INDICATORS)

_SPACES = re.compile(r"\s+")


def normalize_name(text: object) -> str:
    """Fold a sheet or header name for matching: NFKC (full-width letters and brackets to half-width),
    no spaces, lower case."""
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text))
    return _SPACES.sub("", folded).lower()


def sheet_matches(sheet: Sheet, title: str) -> bool:
    key = normalize_name(title)
    return key in (normalize_name(sheet.name), normalize_name(sheet.alias))


def contract_titles(names: list[str]) -> dict[str, str | None]:
    """The worksheet among `names` that holds each sheet of the contract (by its canonical name, in reading
    order), None for a sheet the workbook lacks."""
    return {sheet.name: next((t for t in names if sheet_matches(sheet, t)), None) for sheet in INPUT_SHEETS}
