"""A blank standard workbook (空白填报工作簿) for an accountant to fill.

Everything in it comes from schema.py (sheets, columns, kinds, notes, choices) and the report templates
(sections, default text): a column is described once. The workbook has

* 填表说明 first: every sheet and column explained, units, the sections of each template, how to run;
* the input sheets 项目, 预算, 支出明细, 文字说明, 绩效指标 with canonical headers (money headers carry their
  unit, e.g. 申报数（元）), styled and frozen header rows, column widths and column number formats;
* data validation on rows 2–2000: dropdown lists (sourced from the 选项 sheet), whole numbers, dates, and an
  input message on every header and column saying what to enter;
* 选项 last: the dropdown lists, one column per list.

openpyxl writes it; `excel_eval.pipeline.check` reads it as a valid workbook with no projects yet.
"""

from __future__ import annotations

import io
import math
import unicodedata
import zipfile
from pathlib import Path

from lxml import etree

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from . import __version__
from .files.atomic import write_bytes_atomically
from .problems import UsageError
from .schema import (CONTRACT_VERSION, AMOUNT, BLANK_NAME, DATE, DEFAULT_TEMPLATES, INPUT_SHEETS, INTEGER, NUMBER, SUMMARY_HEADERS, SUMMARY_NAME,
                     TEXT, TOTAL_MARKERS, Column, Sheet)
from .writeback.styles import FONT_ORDER

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

GUIDE_SHEET = "填表说明"
LISTS_SHEET = "选项"
LAST_ROW = 2000  # validations and prompts cover rows 2..LAST_ROW
UNIT = "元"

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"
TEXT_COLUMNS = ("project_id", "voucher")  # typed numbers stay text (001 stays 001)

KIND_NAMES = {TEXT: "文字", INTEGER: "整数", NUMBER: "数字", AMOUNT: "金额", DATE: "日期"}
KIND_HELP = {
    TEXT: "文字",
    INTEGER: "整数",
    NUMBER: "数字",
    AMOUNT: f"金额，单位见表头（本表为{UNIT}）",
    DATE: "日期",
}

# Examples for the 填表说明 and the input messages (the schema has no examples); by column name.
EXAMPLES = {
    "项目编号": "510411-2021-XF001",
    "项目名称": "仁和区信访工作专项经费",
    "单位名称": "攀枝花市仁和区信访局",
    "单位简称": "仁和区信访局",
    "预算年度": "2021",
    "项目类型": "常规",
    "报告模板": "标准报告",
    "报告日期": "2022-05-10",
    "主管部门": "攀枝花市仁和区人民政府办公室",
    "实施单位": "攀枝花市仁和区信访局",
    "资金来源": "区本级资金",
    "申报数": "150,000.00",
    "批复数": "150,000.00",
    "全年预算数": "150,000.00",
    "到位数": "150,000.00",
    "到位日期": "2021-03-10",
    "支付日期": "2021-05-10",
    "金额": "3,560.00",
    "支出类别": "差旅费",
    "凭证号": "记-05-012",
    "摘要": "赴省信访局值班差旅费",
    "栏目": "职能",
    "内容": "仁和区信访局是区委、区政府负责信访工作的职能部门……",
    "一级指标": "产出指标",
    "二级指标": "数量指标",
    "三级指标": "办结信访事项数量",
    "年度指标值": "≥7000件",
    "实际完成值": "7120件",
    "分值": "20",
    "自评得分": "20",
    "偏差原因": "受疫情影响，部分培训改为线上进行",
}

# Column widths (Excel character units) for the input sheets; others are sized from header and example.
WIDTHS = {"项目名称": 36, "单位名称": 26, "摘要": 32, "内容": 80, "三级指标": 24, "偏差原因": 36,
          "年度指标值": 14, "实际完成值": 14}

# Dropdowns: how strictly the list is enforced when a value outside it is typed.
STRICT = {"project_type"}  # anything else is an error in the checks
LENIENT = {"source", "category"}  # the lists are examples: other values are normal

FONT = "宋体"
HEADER_FONT = Font(name=FONT, size=11, bold=True)
BODY_FONT = Font(name=FONT, size=11)
TITLE_FONT = Font(name=FONT, size=16, bold=True)
HEADING_FONT = Font(name=FONT, size=12, bold=True, color="1F4E78")
NOTE_FONT = Font(name=FONT, size=10, color="595959")
REQUIRED_FILL = PatternFill("solid", fgColor="BDD7EE")  # required columns: a darker blue
OPTIONAL_FILL = PatternFill("solid", fgColor="E7EEF6")  # optional columns: a lighter blue
LIST_FILL = PatternFill("solid", fgColor="EDEDED")
THIN = Side(style="thin", color="A6A6A6")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
TOP_WRAP = Alignment(vertical="top", wrap_text=True)


def write_blank_workbook(path: Path, templates: dict | None = None, *, overwrite: bool = False) -> Path:
    """Write a blank standard workbook to `path` (.xlsx) and return the path.

    `templates` maps template names to render.ReportTemplate (with .sections, .defaults, .optional,
    .required_sections, .description); by default the bundled templates. An existing file is kept unless
    `overwrite`: UsageError (with a Chinese message) instead, so a filled workbook is never replaced by mistake.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise UsageError(f"空白工作簿须保存为 .xlsx 文件，而不是“{path.name}”。请把文件名改为以 .xlsx 结尾。")
    if path.exists() and not overwrite:
        raise UsageError(f"文件 {path} 已存在，未覆盖。请换一个文件名，或先把原文件移走。")
    if templates is None:
        from .render import load_templates  # docx machinery only when needed

        templates = load_templates()

    lists = choice_lists(templates)
    book = Workbook()
    guide = book.active
    guide.title = GUIDE_SHEET
    sources = _write_lists(book.create_sheet(), lists)
    for sheet in INPUT_SHEETS:
        _write_input_sheet(book.create_sheet(sheet.name), sheet, templates, lists, sources)
    book.move_sheet(LISTS_SHEET, offset=len(book.sheetnames) - 1 - book.sheetnames.index(LISTS_SHEET))
    _write_guide(guide, templates, lists)
    book.active = 0
    book.properties.creator = "excel-eval"
    book.properties.title = f"项目支出绩效自评 标准填报工作簿（第 {CONTRACT_VERSION} 版）"

    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    book.save(buffer)
    try:
        write_bytes_atomically(path, _fonts_in_sdk_order(buffer.getvalue()))
    except PermissionError as exc:
        raise UsageError(f"无法写入 {path}：文件可能正在 Excel 或 WPS 中打开，或文件夹不可写。") from exc
    return path


def _fonts_in_sdk_order(package: bytes) -> bytes:
    """The package with the children of every <font> in styles.xml in the order the Open XML SDK validates
    (openpyxl writes name first; Excel accepts either, the SDK only its own)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/styles.xml":
                root = etree.fromstring(data)
                for font in root.iter(f"{{{_MAIN}}}font"):
                    font[:] = sorted(font, key=lambda child: FONT_ORDER.index(etree.QName(child).localname)
                                     if etree.QName(child).localname in FONT_ORDER else len(FONT_ORDER))
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            dst.writestr(info, data)
    return out.getvalue()


# --------------------------------------------------------------------------------------------------------------
# What the workbook holds, derived from the schema and the templates


def header_text(column: Column) -> str:
    """The header cell of a column: its canonical name, with the unit for amounts (申报数（元）)."""
    return f"{column.name}（{UNIT}）" if column.kind == AMOUNT else column.name


def template_sections(templates: dict) -> list[str]:
    """Every section the templates use: union, in template order then order of appearance."""
    sections: list[str] = []
    for template in templates.values():
        sections += [s for s in template.sections if s not in sections]
    return sections


def report_templates(templates: dict) -> tuple[str, ...]:
    """The names a project can choose in 报告模板: the report templates, not the 自评表 (用途 = 自评表)."""
    return tuple(name for name, t in templates.items() if getattr(t, "purpose", "报告") == "报告")


def column_choices(column: Column, templates: dict) -> tuple[str, ...]:
    """The dropdown list of a column (empty when it has none)."""
    if column.choices:
        return column.choices
    if column.alias == "section":
        return tuple(template_sections(templates))
    if column.alias == "template":
        return report_templates(templates)
    return ()


def choice_lists(templates: dict) -> dict[str, tuple[str, ...]]:
    """The lists of the 选项 sheet by name (a column's name; columns of one name share a list)."""
    lists: dict[str, tuple[str, ...]] = {}
    for sheet in INPUT_SHEETS:
        for column in sheet.columns:
            values = column_choices(column, templates)
            if values and column.name not in lists:
                lists[column.name] = values
    return lists


def describe(column: Column, templates: dict | None = None) -> str:
    """What to enter in a column, in one line (the input message and the 填表说明 share it)."""
    parts = [("必填" if column.required else "选填") + "，" + KIND_HELP[column.kind]]
    if column.note:
        parts.append(column.note)
    if column.alias == "template" and templates is not None:
        defaults = "，".join(f"{kind}项目用“{name}”" for kind, name in DEFAULT_TEMPLATES.items())
        parts.append(f"可选：{'、'.join(report_templates(templates))}（不填时{defaults}）")
    elif column.alias == "section":
        parts.append("各模板用到的栏目见“填表说明”")
    elif column.choices:
        if column.alias in STRICT:
            parts.append(f"只能填：{'、'.join(column.choices)}")
        elif column.alias in LENIENT:
            parts.append("可从下拉列表选择，也可填写列表以外的名称")
        else:
            parts.append("从下拉列表选择")
    return "。".join(p.rstrip("。") for p in parts) + "。"


# --------------------------------------------------------------------------------------------------------------
# The input sheets


def _write_lists(ws, lists: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """The 选项 sheet, one list per column; returns each list's range reference for data validation."""
    ws.title = LISTS_SHEET
    ws.sheet_properties.tabColor = "A6A6A6"
    sources = {}
    for index, (name, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(index)
        cell = ws.cell(row=1, column=index, value=name)
        cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, LIST_FILL, BORDER, CENTER
        for row, value in enumerate(values, start=2):
            ws.cell(row=row, column=index, value=value).font = BODY_FONT
        width = max(_display_width(v) for v in (name, *values)) + 4
        ws.column_dimensions[letter].width = max(12, width)
        sources[name] = f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(values) + 1}"
    note_column = len(lists) + 2
    note = ws.cell(row=1, column=note_column,
                   value="本表是各表下拉列表的选项，由程序生成，运行时不读取。请勿在各列之间插入或删除行。")
    note.font = NOTE_FONT
    ws.freeze_panes = "A2"
    return sources


def _write_input_sheet(ws, sheet: Sheet, templates: dict, lists: dict, sources: dict[str, str]) -> None:
    for index, column in enumerate(sheet.columns, start=1):
        letter = get_column_letter(index)
        cell = ws.cell(row=1, column=index, value=header_text(column))
        cell.font, cell.border, cell.alignment = HEADER_FONT, BORDER, CENTER
        cell.fill = REQUIRED_FILL if column.required else OPTIONAL_FILL

        dimension = ws.column_dimensions[letter]
        dimension.width = WIDTHS.get(column.name) or max(
            10, _display_width(header_text(column)) + 4, _display_width(EXAMPLES.get(column.name, "")) + 2)
        number_format = _number_format(column)
        if number_format:
            dimension.number_format = number_format
        if column.name == "内容":
            dimension.alignment = Alignment(wrap_text=True, vertical="top")

        prompt = _prompt(column, templates)
        header_prompt = DataValidation(showInputMessage=True, promptTitle=_title(column), prompt=prompt,
                                       sqref=f"{letter}1")
        ws.add_data_validation(header_prompt)
        ws.add_data_validation(_column_validation(column, lists, sources, prompt, f"{letter}2:{letter}{LAST_ROW}"))

    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 30
    ws.print_title_rows = "1:1"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _number_format(column: Column) -> str | None:
    if column.kind == AMOUNT:
        return MONEY_FORMAT
    if column.kind == DATE:
        return DATE_FORMAT
    if column.kind == INTEGER:
        return "0"
    if column.alias in TEXT_COLUMNS:
        return TEXT_FORMAT
    return None


def _column_validation(column: Column, lists: dict, sources: dict[str, str], prompt: str, sqref: str) -> DataValidation:
    """The data validation of a column's data cells: a list, a whole number, a date, a number or any value;
    always with the input message."""
    common = {"showInputMessage": True, "promptTitle": _title(column), "prompt": prompt, "allow_blank": True,
              "sqref": sqref}
    if column.name in lists:
        if column.alias in STRICT:
            style, message = "stop", f"只能从下拉列表中选择：{'、'.join(lists[column.name])}。"
        elif column.alias in LENIENT:
            style, message = "information", "这个名称不在下拉列表中。列表只是常用名称，可以照常填写。"
        else:
            style, message = "warning", "这个值不在下拉列表中，报告可能无法识别。确实要这样填写吗？"
        return DataValidation(type="list", formula1=sources[column.name], showDropDown=False, showErrorMessage=True,
                              errorStyle=style, errorTitle=column.name, error=message, **common)
    if column.kind == INTEGER:  # 预算年度: the checks accept 1990–2100
        return DataValidation(type="whole", operator="between", formula1="1990", formula2="2100",
                              showErrorMessage=True, errorStyle="stop", errorTitle=column.name,
                              error="请填写四位年份，如 2021。", **common)
    if column.kind == DATE:
        return DataValidation(type="date", operator="between", formula1="DATE(1990,1,1)", formula2="DATE(2100,12,31)",
                              showErrorMessage=True, errorStyle="warning", errorTitle=column.name,
                              error="这不是日期。请填写如 2021-05-10 的日期。确实要这样填写吗？", **common)
    if column.kind in (AMOUNT, NUMBER):
        return DataValidation(type="decimal", operator="between", formula1="-1000000000000", formula2="1000000000000",
                              showErrorMessage=True, errorStyle="warning", errorTitle=column.name,
                              error="这不是数字。金额请只填数字，单位由表头决定。确实要这样填写吗？", **common)
    return DataValidation(**common)


def _title(column: Column) -> str:
    return column.name[:32]  # Excel's limit for an input message title


def _prompt(column: Column, templates: dict) -> str:
    text = describe(column, templates)
    example = EXAMPLES.get(column.name)
    if example:
        text += f"例：{example}"
    return text if len(text) <= 255 else text[:254] + "…"  # Excel's limit for an input message


# --------------------------------------------------------------------------------------------------------------
# 填表说明

GUIDE_WIDTHS = (18, 8, 10, 56, 24, 34)  # A–F


class _Guide:
    """Writes paragraphs and tables down the 填表说明 sheet on a six-column grid."""

    def __init__(self, ws):
        self.ws = ws
        self.row = 1
        for index, width in enumerate(GUIDE_WIDTHS, start=1):
            ws.column_dimensions[get_column_letter(index)].width = width

    def title(self, text: str) -> None:
        cell = self.ws.cell(row=self.row, column=1, value=text)
        cell.font = TITLE_FONT
        self.ws.row_dimensions[self.row].height = 28
        self.row += 1

    def heading(self, text: str) -> None:
        self.row += 1
        cell = self.ws.cell(row=self.row, column=1, value=text)
        cell.font = HEADING_FONT
        self.ws.row_dimensions[self.row].height = 22
        self.row += 1

    def para(self, text: str, font: Font = BODY_FONT) -> None:
        self._cells([text], font=font, border=False)

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        self._cells(header, font=HEADER_FONT, fill=REQUIRED_FILL, align=CENTER)
        for values in rows:
            self._cells(values)

    def _cells(self, values: list[str], *, font: Font = BODY_FONT, fill: PatternFill | None = None,
               align: Alignment = TOP_WRAP, border: bool = True) -> None:
        """One row; the last value spans to column F."""
        lines = 1
        for index, value in enumerate(values, start=1):
            last = index == len(values)
            end = len(GUIDE_WIDTHS) if last else index
            cell = self.ws.cell(row=self.row, column=index, value=value)
            cell.font, cell.alignment = font, align
            if fill:
                cell.fill = fill
            if border:
                for column in range(index, end + 1):
                    self.ws.cell(row=self.row, column=column).border = BORDER
            if end > index:
                self.ws.merge_cells(start_row=self.row, start_column=index, end_row=self.row, end_column=end)
            width = sum(GUIDE_WIDTHS[index - 1:end])
            lines = max(lines, _line_count(str(value or ""), width))
        self.ws.row_dimensions[self.row].height = 16 * lines + 4
        self.row += 1


def _write_guide(ws, templates: dict, lists: dict) -> None:
    g = _Guide(ws)
    ws.sheet_properties.tabColor = "ED7D31"
    g.title("项目支出绩效自评 标准填报工作簿 填表说明")
    g.para(f"标准填报工作簿第 {CONTRACT_VERSION} 版，由 excel-eval {__version__} 生成。按本说明填好各表后运行程序，每个项目生成一份"
           "《项目支出绩效自评报告》（Word），并在本工作簿中写入“汇总”表。", NOTE_FONT)

    g.heading("一、填写步骤")
    steps = [
        "在“项目”表中每行填写一个项目：项目编号、项目名称、单位名称、预算年度等。项目编号由您自定，每个项目唯一，"
        "其他各表用它指明所属的项目。",
        "在“预算”表中填写每个项目的申报数、批复数、到位数；资金有多个来源时，每个来源一行。",
        "在“支出明细”表中逐笔填写支出（可从财务软件导出后复制粘贴，列的顺序可以不同，表头名称与本表一致即可）。"
        "程序按项目汇总支出数，并计算到位率、执行率。",
        "在“文字说明”表中填写报告中的文字段落：每段一行，写明项目编号和栏目。各模板用到哪些栏目、哪些必须填写、"
        "不填时用什么默认文字，见下文第五部分。",
        "“绩效指标”表选填：每个绩效指标一行。",
        "保存并关闭工作簿，然后运行程序（见第六部分）。有错误时程序不生成报告，而是逐条列出出错的单元格"
        "（同时保存为输出文件夹中的“问题清单.csv”），按提示修改后重新运行即可。",
    ]
    for number, step in enumerate(steps, start=1):
        g.para(f"{number}. {step}")

    g.heading("二、通用规则")
    rules = [
        "表头行：各表的第一行是表头。表头上方可以加标题行（如“2021年度项目支出明细表”）或单位行，"
        "程序在前 10 行中查找表头。表名、列名须与本工作簿一致（也可用英文名，见下表）；全角、半角括号和空格不影响识别。",
        "列：深蓝色表头为必填列，浅蓝色表头为选填列。列的顺序可以调整；可以增加自己的列，程序不读取它们。"
        "选填列不需要时可以删除，必填列不能删除或改名。",
        "行：空行会被跳过；隐藏的行照常读取。项目编号（或该行第一个非空单元格）为"
        f"“{'”“'.join(TOTAL_MARKERS)}”的行是合计行，不参与计算，程序会核对它与上方各行之和是否一致。",
        f"金额单位：金额列的单位写在表头括号中，本工作簿为“{UNIT}”，如“申报数（{UNIT}）”。如需按万元填写，"
        "把表头改为“申报数（万元）”即可；同一列中所有金额必须是同一单位。表头没有写单位时按元计算，"
        "除非表头上方有“单位：万元”这样的单位行。金额精确到分；可以填数字，也可以填“395,600.00”这样的文字。",
        "日期：填日期，如 2021-05-10；也可以是文字 2021/5/10、2021.5.10、2021年5月10日。",
        "项目编号、凭证号设为文本格式：输入 001 会保留为 001。各表中的项目编号必须与“项目”表完全一致。",
        "下拉列表：有下拉箭头的列可以从列表中选择，选项放在最后的“选项”表中。选中表头或单元格时会显示该列的填写提示。",
    ]
    for rule in rules:
        g.para(f"· {rule}")

    g.heading("三、各工作表")
    sheet_rows = [[s.name, "必需" if s.required else "选填", s.alias, s.note] for s in INPUT_SHEETS]
    sheet_rows.append([SUMMARY_NAME, "程序生成", "summary",
                       f"每次运行由程序生成并整表替换，请勿在此表中填写（填写的内容会被覆盖）。列为：{'、'.join(SUMMARY_HEADERS)}。"
                       "运行前的工作簿会备份到输出文件夹的“备份”文件夹中。"])
    sheet_rows.append([GUIDE_SHEET, "—", "", "本说明，程序不读取。"])
    sheet_rows.append([LISTS_SHEET, "—", "", "下拉列表的选项，程序不读取。"])
    g.table(["工作表", "是否必需", "英文名", "每行填写 / 说明"], sheet_rows)

    g.heading("四、各表的列")
    for number, sheet in enumerate(INPUT_SHEETS, start=1):
        if number > 1:
            g.row += 1  # a blank row between the tables
        g.para(f"（{number}）“{sheet.name}”表（{'必需' if sheet.required else '选填'}）：{sheet.note}。",
               Font(name=FONT, size=11, bold=True))
        rows = []
        for column in sheet.columns:
            kind = KIND_NAMES[column.kind] + (f"（{UNIT}）" if column.kind == AMOUNT else "")
            note = describe(column, templates)
            if column.alias != column.name:
                note += f"英文名：{column.alias}。"
            rows.append([header_text(column), "必填" if column.required else "选填", kind, note,
                         EXAMPLES.get(column.name, ""), "、".join(lists.get(column.name, ()))])
        g.table(["列名（表头）", "是否必填", "类型", "说明", "示例", "下拉选项"], rows)

    g.heading("五、报告模板与栏目")
    defaults = "；".join(f"项目类型为“{kind}”的项目用“{name}”" for kind, name in DEFAULT_TEMPLATES.items())
    g.para(f"每个项目用一个报告模板生成报告：“项目”表的“报告模板”列指定；不填时，{defaults}。"
           "模板是程序 templates 文件夹中的 Word 文件，同名的 .toml 文件写明各栏目的默认文字。")
    g.para("“文字说明”表中某项目某栏目有内容时，报告用表中的内容（同一栏目可有多行，每行一段，按顺序排列）；"
           "没有时用模板的默认文字。标为“必填”的栏目模板没有默认文字，必须在“文字说明”表中为每个项目填写。"
           "默认文字中的 {{ 单位简称 }} 等会替换为该项目的内容。")
    for name, template in templates.items():
        description = f"：{template.description}" if template.description else ""
        g.row += 1
        g.para(f"模板“{name}”{description}", Font(name=FONT, size=11, bold=True))
        if not template.sections:
            g.para("这个模板不使用“文字说明”表中的栏目。")
            continue
        rows = []
        for section in template.sections:
            if section in template.defaults:
                from .render import readable_default

                rows.append([section, "选填", "不填时用默认文字：" + readable_default(template.defaults[section])])
            elif section in template.optional:
                rows.append([section, "选填", "不填则报告中不写这部分。" + template.optional[section]])
            else:
                rows.append([section, "必填", "没有默认文字，必须在“文字说明”表中填写。"])
        g.table(["栏目", "是否必填", "说明 / 默认文字"], rows)

    g.heading("六、生成报告")
    runs = [
        "Windows：把工作簿放在程序文件夹中（与“生成报告.bat”放在一起），双击“生成报告.bat”；"
        "也可以把工作簿拖到“生成报告.bat”图标上。文件夹中有多个工作簿时，按提示输入编号选择。",
        "macOS：双击“生成报告.command”（首次运行如被系统拦截，请右键点它，选“打开”）。",
        "首次运行会自动安装所需组件（需要 Python 3.11 或更高版本；没有网络的电脑请见 docs/离线安装.md）。",
        "报告保存在程序文件夹下的 output\\<工作簿名> 文件夹中，文件名为“项目编号_项目名称.docx”；"
        "“汇总”表写回本工作簿（工作簿正在 Excel 或 WPS 中打开时，另存到输出文件夹中）。",
        "命令行：excel-eval run 工作簿.xlsx -o 输出文件夹；只检查不生成：excel-eval check 工作簿.xlsx。",
        "自己修改的模板：把 templates 文件夹复制一份，命名为“模板”，放在工作簿旁边（或程序文件夹中），"
        "在 Word 或 WPS 中修改；程序会自动使用其中的模板，并在生成前检查模板中的每个标签。",
    ]
    for item in runs:
        g.para(f"· {item}")

    ws.freeze_panes = None
    ws.sheet_view.showGridLines = False
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


# --------------------------------------------------------------------------------------------------------------


def _display_width(text: str) -> int:
    """Width in Excel character units: CJK and full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def _line_count(text: str, width: float) -> int:
    """Lines a wrapped cell of `width` character units needs for `text` (an estimate, slightly generous)."""
    usable = max(1.0, width - 1)
    return sum(max(1, math.ceil(_display_width(line) * 1.05 / usable)) for line in text.split("\n"))
