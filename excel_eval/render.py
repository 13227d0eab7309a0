"""A project record + a template → a .docx report. Knows nothing of Excel.

A template is a .docx with docxtpl (Jinja) tags, beside a .toml of the same name that gives the default text
of its narrative sections (栏目). Templates render in a sandboxed Jinja environment with autoescape on.
Loading a template checks every tag (template_lint) against what the context holds (VARIABLES, FIELDS): the
problems are kept with the template, for the run's check to report with the workbook's.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Iterable

from docx import Document
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from loguru import logger

from . import formats, sentences, template_lint
from .docx_render import TAG_START, CompiledDocx, RenderedXmlInvalid
from .records import ProjectRecord, payment_values
from .problems import TemplateProblem, UsageError  # noqa: F401 - TemplateProblem raised from here, too
from .resources import program_dir, templates_dir
from .schema import default_template
from .scoring import EXECUTION_WEIGHT, Scorecard

SECTIONS = "栏目"
USER_FOLDER = "模板"  # a folder of this name beside the workbook (or the program) is used without --templates

# The variables every template can use, with what they hold (listed to users by `excel-eval templates`).
VARIABLES = {
    "单位名称": "报告单位全称（项目表）",
    "单位简称": "单位简称，未填时同单位名称",
    "项目编号": "项目编号",
    "项目名称": "项目名称",
    "项目类型": "常规 或 追加",
    "预算年度": "预算年度，如 2021",
    "报告日期": "落款日期（日期，配合“中文日期”使用）",
    "申报数": "申报数合计（元，配合“金额”“万元”使用）",
    "批复数": "批复数合计（元）",
    "全年预算数": "全年预算数合计（元）",
    "到位数": "到位数合计（元）",
    "支出数": "支出明细合计（元）",
    "结余": "到位数 − 支出数（元）",
    "到位率": "到位数 ÷ 全年预算数（小数，配合“百分比”使用）",
    "执行率": "支出数 ÷ 全年预算数（小数，配合“百分比”使用）",
    "到位日期": "最早的到位日期（日期）",
    "支出笔数": "支出明细的笔数",
    "资金来源": "按资金来源的列表（预算表）",
    "支出类别": "按支出类别的列表，金额大的在前",
    "支出月份": "按支付月份的列表，按月份先后排列",
    "支出明细": "这个项目的每一笔支出，按支出明细表中的顺序；表格中逐行列出用 {%tr for 笔 in 支出明细 %}",
    "首次支付日期": "最早的支付日期（日期）",
    "末次支付日期": "最晚的支付日期（日期）",
    "绩效指标": "这个项目的绩效指标（绩效指标表），按一级、二级指标分组排列",
    "自评得分": "自评总分：预算执行率得分 + 各指标得分（没有绩效指标时为空）",
    "等级": "优（≥90）、良（80–90）、中（60–80）、差（<60）（没有绩效指标时为空）",
    "满分": "预算执行率分值 + 各指标分值，通常为 100（没有绩效指标时为空）",
    "执行率分值": "预算执行率的分值，10（没有绩效指标时为空）",
    "执行率得分": "10 × min(执行率, 1)，最多两位小数（没有绩效指标时为空）",
    "主管部门": "主管部门（项目表，未填时同单位名称）",
    "实施单位": "实施单位（项目表，未填时同单位名称）",
    SECTIONS: "文字说明表中的各栏目，如 栏目.职能；逐段输出用 {%p for 段 in 栏目.职能 %}",
    sentences.NAME: "按数据写好的句子：" + "、".join(f"句子.{p}" for p in sentences.PIECES) + "（规则见使用说明）",
}

# What the lists and tables among VARIABLES hold: a dict of named fields, [fields] for a list, the key "*" for
# fields of any name (template_lint.describe). `excel-eval templates` lists them; the template check accepts
# only these names. A variable of VARIABLES that is not here is a single value; an entry here describes a
# variable only once VARIABLES has it.
FIELDS = {
    "资金来源": [{"名称": "资金来源", "申报数": "元", "批复数": "元", "全年预算数": "元", "到位数": "元",
              "支出数": "元"}],
    "支出类别": [{"名称": "支出类别", "金额": "元", "笔数": "支出笔数"}],
    "支出月份": [{"月份": "日期，该月1日", "金额": "元"}],
    "支出明细": [{"支付日期": "日期", "金额": "元", "支出类别": "文字，未填时为空", "资金来源": "文字，未填时为空",
              "凭证号": "文字", "摘要": "文字"}],
    "绩效指标": [{"一级指标": "文字", "二级指标": "文字", "三级指标": "文字", "年度指标值": "文字", "实际完成值": "文字",
              "分值": "数字，如 20", "得分": "数字，最多两位小数，如 18.57", "偏差原因": "文字",
              "计算说明": "得分是怎样算出的，如“7126件 ≥ 7000件，满分 15”",
              "指标性质": "按自评表分列填写时：＝、≥、≤ 或 定性", "指标值": "按自评表分列填写时的指标值",
              "度量单位": "按自评表分列填写时的度量单位"}],
    SECTIONS: {template_lint.ANY: ["一段文字"]},
    # the ready-made sentences: 句子.资金到位, 句子.资金使用, …
    sentences.NAME: {piece: "一句话（规则见使用说明）" for piece in sentences.PIECES},
}

# Names a user may guess, and the variable or format meant (offered as “您是否要写 …？”).
HINTS = {"总分": "自评得分", "得分": "自评得分", "评分": "自评得分", "自评等级": "等级", "项目单位": "单位名称",
         "部门": "主管部门", "百分数": "百分比", "日期": "中文日期", "万": "万元", "付款明细": "支出明细",
         "指标": "绩效指标", "支出": "支出明细"}

_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Section(list):
    """A narrative section: a list of paragraphs that prints as their joined text when used inline."""

    def __str__(self) -> str:
        return "".join(self)


@dataclass
class ReportTemplate:
    name: str
    path: Path
    description: str = ""
    project_type: str | None = None
    purpose: str = "报告"  # 报告 (a project's report) or 自评表 (the scorecard form), from the .toml's 用途
    sections: list[str] = field(default_factory=list)  # sections the .docx uses, in order of appearance
    variables: list[str] = field(default_factory=list)  # top-level variables the .docx uses
    filters: list[str] = field(default_factory=list)
    defaults: dict[str, str] = field(default_factory=dict)
    optional: dict[str, str] = field(default_factory=dict)
    issues: list[template_lint.Issue] = field(default_factory=list)  # what the template check found

    @property
    def required_sections(self) -> list[str]:
        return [s for s in self.sections if s not in self.defaults and s not in self.optional]

    def uses(self, variable: str) -> bool:
        """The template may use `variable`: its .docx does (the template check lists what it uses), or one of
        its default texts names it."""
        return variable in self.variables or any(variable in text for text in self.defaults.values())


def make_environment(autoescape: bool = True) -> SandboxedEnvironment:
    """The sandbox every template renders in: no access to Python objects beyond the values given."""
    env = SandboxedEnvironment(autoescape=autoescape, keep_trailing_newline=True)
    env.filters.update(formats.FILTERS)
    return env


_DEFAULTS_ENV = make_environment(autoescape=False)


def load_templates(*folders: Path | None) -> dict[str, ReportTemplate]:
    """Templates by name from the bundled folder, then each given folder (a later one overrides by name).
    A template's problems are kept in its `issues` (see `template_problems`); nothing raises for them."""
    templates: dict[str, ReportTemplate] = {}
    for folder in (templates_dir(), *folders):
        if folder is None:
            continue
        for path in sorted(Path(folder).glob("*.docx")):
            if path.name.startswith(("~$", ".")):
                continue  # Word's lock files
            templates[path.stem] = load_template(path)
    return templates


def template_folder(given: Path | None, workbook: Path | None = None) -> Path | None:
    """The folder of the user's templates: the one given, else a folder named 模板 beside the workbook, else
    one beside the program (where the double-click launchers are); None for the bundled templates only."""
    if given is not None:
        if not Path(given).is_dir():
            raise UsageError(f"找不到模板文件夹“{given}”。请检查 --templates 后面的文件夹名称和位置。")
        return Path(given)
    for folder in ((Path(workbook).resolve().parent if workbook else Path.cwd()), program_dir()):
        if (folder / USER_FOLDER).is_dir():
            logger.info("使用“{}”文件夹中的模板：{}", USER_FOLDER, folder / USER_FOLDER)
            return folder / USER_FOLDER
    return None


def load_template(path: Path) -> ReportTemplate:
    template = ReportTemplate(name=path.stem, path=path)
    toml_path = path.with_suffix(".toml")
    if toml_path.exists():
        try:
            spec = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            spec = {}
            template.issues.append(template_lint.Issue("template-toml-invalid", _toml_message(toml_path, exc)))
        template.description = spec.get("说明", "")
        template.project_type = spec.get("项目类型")
        template.purpose = spec.get("用途", "报告")
        template.defaults = {k: str(v) for k, v in spec.get("默认文字", {}).items()}
        template.optional = {k: str(v) for k, v in spec.get("选填栏目", {}).items()}
    variables, fields = _context_description(template.purpose)
    shapes = template_lint.describe({name: fields.get(name, text) for name, text in variables.items()})
    result = template_lint.lint_docx(path, shapes, make_environment(), formats.FILTERS, HINTS)
    defaults = {f"中“{key}”的默认文字": text for key, text in template.defaults.items()}
    template.issues += template_lint.lint_texts(  # defaults render before the sections exist: no 栏目 there
        toml_path.name, defaults, {k: v for k, v in shapes.items() if k != SECTIONS}, _DEFAULTS_ENV, formats.FILTERS,
        HINTS)
    template.issues += result.issues
    template.variables = result.variables
    template.filters = result.filters
    template.sections = _sections_used(result.fields_used)
    if template.purpose == "自评表":
        from .scorecard import SECTIONS_USED  # the 自评表 reads these sections itself

        template.sections = list(SECTIONS_USED)
        template.optional = dict(SECTIONS_USED)
    return template


def _sections_used(fields_used: list[tuple[str, str]]) -> list[str]:
    """The narrative sections a template uses, in order: those it names (栏目.职能), and those its sentence
    pieces read (句子.资金使用 reads 偏差原因)."""
    used: list[str] = []
    for variable, name in fields_used:
        names = (name,) if variable == SECTIONS else sentences.SECTIONS_READ.get(name, ()) if variable == sentences.NAME \
            else ()
        used += [k for k in names if k not in used]
    return used


def _context_description(purpose: str) -> tuple[dict, dict]:
    """What a template of this purpose can use: (variables, their fields)."""
    if purpose == "自评表":
        from . import scorecard

        return scorecard.VARIABLES, scorecard.FIELDS
    return VARIABLES, FIELDS


def _toml_message(path: Path, exc: Exception) -> str:
    line = re.search(r"line (\d+)", str(exc))
    where = f"第 {line.group(1)} 行" if line else ""
    return (f"模板说明文件 {path.name} {where}格式有误，无法读取。请检查引号是否成对（每行写成 \"栏目\" = \"文字\"），"
            "并以 UTF-8 编码保存。")


def choose_template(record: ProjectRecord) -> str:
    """The template name a project uses: 项目!报告模板, else the default for its 项目类型."""
    return record.template or default_template(record.project_type)


def yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def tidy(value: Decimal) -> Decimal:
    """A score or 分值 without trailing zeros, never in exponent form: 20, 18.57, 7.5."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def context(record: ProjectRecord, template: ReportTemplate, run_date: dt.date | None = None) -> dict:
    """The template's variables for one project (names as listed in VARIABLES)."""
    f = record.figures
    values = {
        "单位名称": clean_text(record.unit_name),
        "单位简称": clean_text(record.unit_short_name),
        "项目编号": clean_text(record.project_id),
        "项目名称": clean_text(record.name),
        "项目类型": record.project_type,
        "预算年度": record.year,
        "报告日期": record.report_date or run_date or dt.date.today(),
        "申报数": yuan(f.declared),
        "批复数": yuan(f.approved),
        "全年预算数": yuan(f.budget),
        "到位数": yuan(f.received),
        "支出数": yuan(f.spent),
        "结余": yuan(f.balance),
        "到位率": f.received_rate,
        "执行率": f.execution_rate,
        "到位日期": record.received_date,
        "支出笔数": record.payments,
        "资金来源": [
            {"名称": clean_text(s["source"]), "申报数": yuan(s["declared"]), "批复数": yuan(s["approved"]),
             "全年预算数": yuan(s["budget"]), "到位数": yuan(s["received"]), "支出数": yuan(s["spent"])}
            for s in record.by_source if s["budget"] or s["received"] or s["declared"]
        ],
        "支出类别": [{"名称": clean_text(c["category"]), "金额": yuan(c["amount"]), "笔数": c["count"]}
                 for c in record.by_category],
        "支出月份": [{"月份": m["month"], "金额": yuan(m["amount"])} for m in record.by_month],
        "主管部门": clean_text(record.department or record.unit_name),
        "实施单位": clean_text(record.implementer or record.unit_name),
        **payments(record, rows=template.uses("支出明细")),
        **scores(record.scorecard),
    }
    values[sentences.NAME] = sentences.pieces(record)
    values[SECTIONS] = sections_for(record, template, values)
    return values


def payments(record: ProjectRecord, rows: bool = True) -> dict:
    """支出明细 (each payment, in ledger order; left empty without `rows`, for a template that does not use
    it), 首次支付日期 and 末次支付日期."""
    table = [{"支付日期": p["date"], "金额": yuan(p["amount"]), "支出类别": clean_text(p["category"]),
              "资金来源": clean_text(p["source"]), "凭证号": clean_text(p["voucher"]), "摘要": clean_text(p["memo"])}
             for p in record.ledger] if rows else []
    dates = [day for day in payment_values(record.ledger, "date") if day is not None]
    return {"支出明细": table, "首次支付日期": min(dates, default=None), "末次支付日期": max(dates, default=None)}


def scores(card: Scorecard | None) -> dict:
    """绩效指标, 自评得分, 等级 and the marks they are out of (empty for a project without indicators)."""
    if card is None:
        return {"绩效指标": [], "自评得分": "", "等级": "", "满分": "", "执行率分值": "", "执行率得分": ""}
    return {"绩效指标": indicator_rows(card), "自评得分": tidy(card.total), "等级": card.grade,
            "满分": tidy(card.full_marks), "执行率分值": tidy(EXECUTION_WEIGHT), "执行率得分": tidy(card.execution_score)}


def indicator_rows(card: Scorecard) -> list[dict]:
    """The indicators of a scorecard as the templates see them, named as the 绩效指标 sheet's columns."""
    return [
        {"一级指标": clean_text(s.indicator.level1), "二级指标": clean_text(s.indicator.level2),
         "三级指标": clean_text(s.indicator.name), "年度指标值": clean_text(s.indicator.target),
         "实际完成值": clean_text(s.indicator.actual), "分值": tidy(s.weight), "得分": tidy(s.score),
         "偏差原因": clean_text(s.indicator.deviation), "计算说明": s.how,
         "指标性质": clean_text(s.indicator.nature), "指标值": clean_text(s.indicator.value),
         "度量单位": clean_text(s.indicator.unit)}
        for s in card.indicators
    ]


def sections_for(record: ProjectRecord, template: ReportTemplate, values: dict) -> dict[str, Section]:
    """Each section the template uses: the workbook's paragraphs, else the template's default text."""
    result: dict[str, Section] = {}
    for key in template.sections:
        if record.sections.get(key):
            result[key] = Section(clean_text(p) for p in record.sections[key])
        elif key in template.defaults:
            result[key] = Section(_default_paragraphs(template.defaults[key], values))
        else:
            result[key] = Section()
    return result


def _default_paragraphs(text: str, values: dict) -> list[str]:
    """A section's default text as paragraphs. Defaults are template text: they may use variables such as
    {{ 单位简称 }}. They are escaped later, when placed in the document, so they render here without escaping."""
    compiled = _compiled_default(text)
    rendered = compiled.render(values) if compiled is not None else text.replace("\r\n", "\n").replace("\r", "\n")
    return [p.strip() for p in rendered.split("\n") if p.strip()]


@functools.lru_cache(maxsize=256)
def _compiled_default(text: str):
    """The default text compiled, or None for a text without tags (it renders as itself)."""
    return _DEFAULTS_ENV.from_string(text) if TAG_START.search(text) else None


_PIECE_TAG = re.compile(r"\{\{\s*句子\.(\w+)\s*\}\}")


def readable_default(text: str) -> str:
    """A section's default text as a user reads it in a list: a sentence piece shows as what it stands for
    ("{{ 句子.总体评价 }}" → "〔按自评等级写的总体评价〕")."""
    return _PIECE_TAG.sub(lambda m: f"〔{sentences.DESCRIPTIONS.get(m.group(1), '按数据写成的句子')}〕", text)


def clean_text(text: object) -> str:
    """Text as written, minus characters that XML (and so Word) refuses."""
    return _ILLEGAL_XML.sub("", "" if text is None else str(text))


class ReportRenderer:
    """Renders projects into .docx files: each template is compiled once per run (docx_render)."""

    def __init__(self, templates: dict[str, ReportTemplate], run_date: dt.date | None = None):
        self.templates = templates
        self.run_date = run_date
        self.env = make_environment()
        self._compiled: dict[str, CompiledDocx] = {}

    def compiled(self, template_name: str) -> CompiledDocx:
        if template_name not in self._compiled:
            self._compiled[template_name] = CompiledDocx(self.templates[template_name].path, self.env)
        return self._compiled[template_name]

    def prepare(self, names: Iterable[str]) -> None:
        """Compile the templates `names` now (before worker processes are forked, which then share them). A
        template that cannot be compiled is left to fail again, and be reported, for each report using it."""
        for name in dict.fromkeys(names):
            try:
                self.compiled(name)
            except Exception:  # noqa: BLE001 - render() turns it into each report's problem
                logger.debug("模板 {} 未能预先编译", name)

    def package(self, record: ProjectRecord, template_name: str) -> bytes:
        """The project's report, as the bytes of its .docx file."""
        template = self.templates[template_name]
        try:
            return self.compiled(template_name).package(context(record, template, self.run_date))
        except (TemplateError, RenderedXmlInvalid, TypeError, ValueError, ArithmeticError) as exc:
            logger.debug("模板 {} 渲染项目 {} 时出错：{!r}", template.path.name, record.project_id, exc)
            raise TemplateProblem(render_failure(template.path.name, record.project_id, exc)) from exc

    def render(self, record: ProjectRecord, template_name: str, out_path: Path) -> Path:
        data = self.package(record, template_name)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_bytes(data)
        return out_path


def render_failure(filename: str, project_id: str, exc: Exception) -> str:
    """Why a checked template still failed for one project's values, in Chinese (details in the log)."""
    from jinja2.exceptions import SecurityError, UndefinedError

    if isinstance(exc, formats.ValueProblem):
        why = f"{exc}（格式用在了不适合它的值上）"
    elif isinstance(exc, RenderedXmlInvalid):
        why = "生成的文档结构不完整（标签把段落或表格拆开了）"
    elif isinstance(exc, SecurityError):
        why = "模板用到了不允许使用的内容（模板只能使用 excel-eval templates 列出的数据）"
    elif isinstance(exc, UndefinedError):
        why = "模板用到了这个项目没有的数据"
    else:
        why = "某个格式用在了不适合它的值上（如对文字使用“金额”）"
    return (f"模板 {filename} 生成项目“{project_id}”的报告时出错：{why}。请运行 excel-eval check 检查模板，"
            "并核对这个项目的数据；详细信息见输出文件夹中的“运行日志.log”。")


def document_text(path: Path) -> str:
    """The paragraphs of a .docx, one per line (for tests and the fidelity check)."""
    return "\n".join(p.text for p in Document(str(path)).paragraphs)
