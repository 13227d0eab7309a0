"""A project record + a template → a .docx report. Knows nothing of Excel.

A template is a .docx with docxtpl (Jinja) tags, beside a .toml of the same name that gives the default text
of its narrative sections (栏目). Templates render in a sandboxed Jinja environment with autoescape on.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from docx import Document
from docxtpl import DocxTemplate
from jinja2 import TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

from . import formats, sentences
from .docx_render import CompiledDocx
from .metrics import ProjectRecord
from .resources import templates_dir
from .schema import default_template

SECTIONS = "栏目"

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
    "资金来源": "按资金来源的列表，每项有 名称、申报数、批复数、全年预算数、到位数、支出数",
    "支出类别": "按支出类别的列表，每项有 名称、金额、笔数",
    "支出月份": "按月份的列表，每项有 月份（日期）、金额",
    SECTIONS: "文字说明表中的各栏目，如 栏目.职能；逐段输出用 {%p for 段 in 栏目.职能 %}",
    sentences.NAME: "按数据写好的句子：" + "、".join(f"句子.{p}" for p in sentences.PIECES) + "（规则见使用说明）",
}

_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Section(list):
    """A narrative section: a list of paragraphs that prints as their joined text when used inline."""

    def __str__(self) -> str:
        return "".join(self)


class TemplateProblem(Exception):
    """A template that cannot be read or rendered; the message names the template and the cause."""


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
    unknown_variables: list[str] = field(default_factory=list)  # used by the .docx, but no such variable

    @property
    def required_sections(self) -> list[str]:
        return [s for s in self.sections if s not in self.defaults and s not in self.optional]


def make_environment(autoescape: bool = True) -> SandboxedEnvironment:
    """The sandbox every template renders in: no access to Python objects beyond the values given."""
    env = SandboxedEnvironment(autoescape=autoescape, keep_trailing_newline=True)
    env.filters.update(formats.FILTERS)
    return env


_DEFAULTS_ENV = make_environment(autoescape=False)


def load_templates(*folders: Path | None) -> dict[str, ReportTemplate]:
    """Templates by name from the bundled folder, then each given folder (a later one overrides by name)."""
    templates: dict[str, ReportTemplate] = {}
    for folder in (templates_dir(), *folders):
        if folder is None:
            continue
        for path in sorted(Path(folder).glob("*.docx")):
            if path.name.startswith(("~$", ".")):
                continue  # Word's lock files
            templates[path.stem] = load_template(path)
    return templates


def load_template(path: Path) -> ReportTemplate:
    env = make_environment()
    template = ReportTemplate(name=path.stem, path=path)
    toml_path = path.with_suffix(".toml")
    if toml_path.exists():
        try:
            spec = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise TemplateProblem(f"模板说明文件 {toml_path.name} 格式有误：{exc}") from exc
        template.description = spec.get("说明", "")
        template.project_type = spec.get("项目类型")
        template.purpose = spec.get("用途", "报告")
        template.defaults = {k: str(v) for k, v in spec.get("默认文字", {}).items()}
        template.optional = {k: str(v) for k, v in spec.get("选填栏目", {}).items()}
    try:
        docx = DocxTemplate(path)
        docx.init_docx()
        xml = docx.patch_xml(docx.get_xml())
        for part in docx.get_headers_footers(docx.HEADER_URI):
            xml += docx.patch_xml(docx.xml_to_string(part[1]._element))
        for part in docx.get_headers_footers(docx.FOOTER_URI):
            xml += docx.patch_xml(docx.xml_to_string(part[1]._element))
        ast = env.parse(xml)
        variables = sorted(_undeclared(ast))
    except TemplateError as exc:
        raise TemplateProblem(f"模板 {path.name} 中的标签有误：{exc}。请检查 {{{{ }}}} 与 {{% %}} 是否成对。") from exc
    except Exception as exc:
        raise TemplateProblem(f"无法打开模板 {path.name}：{exc}") from exc
    template.sections = _used_sections(ast)
    template.variables = variables
    if template.purpose == "报告":
        template.unknown_variables = [v for v in variables if v not in VARIABLES]
    template.filters = sorted({f.name for f in ast.find_all(nodes.Filter)})
    return template


def _used_sections(ast: nodes.Template) -> list[str]:
    found: list[str] = []
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node.node, nodes.Name) and node.node.name in (SECTIONS, sentences.NAME):
            key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
            keys = (key,) if node.node.name == SECTIONS else sentences.SECTIONS_READ.get(key, ())
            found += [k for k in keys if isinstance(k, str) and k not in found]
    return found


def _undeclared(ast: nodes.Template) -> set[str]:
    from jinja2 import meta

    return set(meta.find_undeclared_variables(ast))


def choose_template(record: ProjectRecord) -> str:
    """The template name a project uses: 项目!报告模板, else the default for its 项目类型."""
    return record.template or default_template(record.project_type)


def yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


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
    }
    values[sentences.NAME] = sentences.pieces(record)
    values[SECTIONS] = sections_for(record, template, values)
    return values


def sections_for(record: ProjectRecord, template: ReportTemplate, values: dict) -> dict[str, Section]:
    """Each section the template uses: the workbook's paragraphs, else the template's default text."""
    result: dict[str, Section] = {}
    for key in template.sections:
        if record.sections.get(key):
            result[key] = Section(clean_text(p) for p in record.sections[key])
        elif key in template.defaults:
            # Defaults are template text: they may use variables such as {{ 单位简称 }}. They are escaped
            # later, when placed in the document, so they render here without escaping.
            text = _compiled_default(template.defaults[key]).render(values)
            result[key] = Section(p.strip() for p in text.split("\n") if p.strip())
        else:
            result[key] = Section()
    return result


@functools.lru_cache(maxsize=256)
def _compiled_default(text: str):
    return _DEFAULTS_ENV.from_string(text)


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

    def render(self, record: ProjectRecord, template_name: str, out_path: Path) -> Path:
        template = self.templates[template_name]
        try:
            values = context(record, template, self.run_date)
            out_path.parent.mkdir(parents=True, exist_ok=True)
            return self.compiled(template_name).write(values, out_path)
        except TemplateError as exc:
            raise TemplateProblem(f"模板 {template.path.name} 渲染失败（项目 {record.project_id}）：{exc}") from exc


def document_text(path: Path) -> str:
    """The paragraphs of a .docx, one per line (for tests and the fidelity check)."""
    return "\n".join(p.text for p in Document(str(path)).paragraphs)
