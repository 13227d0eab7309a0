"""The blank standard workbook: built from schema.py and the templates, read back as valid and empty."""

import datetime as dt
from types import SimpleNamespace

import openpyxl
import pytest

from excel_eval.render import readable_default
from openpyxl.utils import get_column_letter, range_boundaries

from excel_eval import schema
from excel_eval.blank import (GUIDE_SHEET, LAST_ROW, LISTS_SHEET, header_text, template_sections,
                              write_blank_workbook)
from excel_eval.pipeline import check, run
from excel_eval.problems import UsageError
from excel_eval.render import load_templates
from excel_eval.schema import normalize_name

from workbooks import standard_sheets


@pytest.fixture(scope="module")
def templates():
    return load_templates()


@pytest.fixture(scope="module")
def blank(tmp_path_factory, templates):
    return write_blank_workbook(tmp_path_factory.mktemp("blank") / "空白.xlsx", templates)


@pytest.fixture(scope="module")
def book(blank):
    return openpyxl.load_workbook(blank)


def _validations(ws):
    """(column letter, validation) for every validation, for each column its range covers."""
    found = []
    for dv in ws.data_validations.dataValidation:
        for cells in dv.sqref.ranges:
            min_col, min_row, max_col, max_row = range_boundaries(str(cells))
            for col in range(min_col, max_col + 1):
                found.append((get_column_letter(col), min_row, max_row, dv))
    return found


def _list_values(book, formula):
    """The values of a list validation's source range on the 选项 sheet."""
    sheet, ref = formula.split("!")
    assert sheet.strip("'") == LISTS_SHEET
    ws = book[LISTS_SHEET]
    return tuple(c.value for row in ws[ref.replace("$", "")] for c in row)


def test_sheets_in_order(book):
    assert book.sheetnames == [GUIDE_SHEET, *(s.name for s in schema.INPUT_SHEETS), LISTS_SHEET]
    assert book.active.title == GUIDE_SHEET


@pytest.mark.parametrize("sheet", schema.INPUT_SHEETS, ids=lambda s: s.alias)
def test_headers_are_the_schema_columns(book, sheet):
    ws = book[sheet.name]
    headers = [c.value for c in ws[1]]
    assert headers == [header_text(c) for c in sheet.columns]
    for column, header in zip(sheet.columns, headers):
        if column.kind == schema.AMOUNT:
            assert header == f"{column.name}（元）"
        else:
            assert header == column.name
    assert all(c.font.bold and c.fill.fgColor.rgb.endswith(("BDD7EE", "E7EEF6")) for c in ws[1])
    assert ws.max_row == 1  # no data, no styled empty rows


@pytest.mark.parametrize("sheet", schema.INPUT_SHEETS, ids=lambda s: s.alias)
def test_frozen_header_and_widths(book, sheet):
    ws = book[sheet.name]
    assert ws.freeze_panes == "A2"
    for index, column in enumerate(sheet.columns, start=1):
        assert ws.column_dimensions[get_column_letter(index)].width >= 10, column.name


@pytest.mark.parametrize("sheet", schema.INPUT_SHEETS, ids=lambda s: s.alias)
def test_number_formats(book, sheet):
    ws = book[sheet.name]
    expected = {schema.AMOUNT: "#,##0.00", schema.DATE: "yyyy-mm-dd"}
    for index, column in enumerate(sheet.columns, start=1):
        fmt = ws.column_dimensions[get_column_letter(index)].number_format
        if column.kind in expected:
            assert fmt == expected[column.kind], column.name
        elif column.alias in ("project_id", "voucher"):
            assert fmt == "@", column.name


EXPECTED_LISTS = {
    ("项目", "项目类型"): ("stop", lambda t: schema.PROJECT_TYPES),
    ("项目", "报告模板"): ("warning", lambda t: tuple(n for n, v in t.items() if v.purpose == "报告")),
    ("预算", "资金来源"): ("information", lambda t: schema.FUNDING_SOURCES),
    ("支出明细", "资金来源"): ("information", lambda t: schema.FUNDING_SOURCES),
    ("支出明细", "支出类别"): ("information", lambda t: schema.EXPENSE_CATEGORIES),
    ("文字说明", "栏目"): ("warning", lambda t: tuple(template_sections(t))),
    ("绩效指标", "一级指标"): ("warning", lambda t: schema.LEVEL1),
    ("绩效指标", "二级指标"): ("warning", lambda t: schema.LEVEL2),
}


@pytest.mark.parametrize("where", EXPECTED_LISTS, ids="!".join)
def test_dropdown_lists(book, templates, where):
    sheet_name, column_name = where
    style, values = EXPECTED_LISTS[where]
    sheet = next(s for s in schema.INPUT_SHEETS if s.name == sheet_name)
    letter = get_column_letter([c.name for c in sheet.columns].index(column_name) + 1)
    lists = [(lo, hi, dv) for col, lo, hi, dv in _validations(book[sheet_name]) if col == letter and dv.type == "list"]
    assert len(lists) == 1
    lo, hi, dv = lists[0]
    assert (lo, hi) == (2, LAST_ROW)
    assert not dv.formula1.startswith('"')  # a range on 选项, never an inline list (255-character limit)
    assert _list_values(book, dv.formula1) == values(templates)
    assert dv.errorStyle == style and dv.showErrorMessage and dv.allow_blank


def test_the_template_list_offers_the_report_templates_only(book):
    names = [c.value for c in book[LISTS_SHEET][1]]
    column = get_column_letter(names.index("报告模板") + 1)
    offered = [c.value for c in book[LISTS_SHEET][column][1:] if c.value is not None]
    assert offered == ["标准报告", "详细报告", "追加项目报告"]  # not 绩效自评表, which the check would refuse


def test_no_other_column_has_a_list(book):
    listed = {(s, c) for s, c in EXPECTED_LISTS}
    for sheet in schema.INPUT_SHEETS:
        ws = book[sheet.name]
        letters = {col for col, _, _, dv in _validations(ws) if dv.type == "list"}
        expected = {get_column_letter(i) for i, c in enumerate(sheet.columns, start=1)
                    if (sheet.name, c.name) in listed}
        assert letters == expected, sheet.name


def test_sections_list_is_the_union_of_template_sections(templates):
    union = template_sections(templates)
    assert len(union) == len(set(union))
    first = next(iter(templates.values()))
    assert union[:len(first.sections)] == first.sections  # in order: the first template's, then the new ones
    assert set(union) == {s for t in templates.values() for s in t.sections}


def test_year_and_date_validations(book):
    ws = book["项目"]
    kinds = {col: dv for col, lo, hi, dv in _validations(ws) if lo == 2}
    assert (kinds["E"].type, kinds["E"].formula1, kinds["E"].formula2, kinds["E"].errorStyle) == (
        "whole", "1990", "2100", "stop")
    assert kinds["H"].type == "date"


@pytest.mark.parametrize("sheet", schema.INPUT_SHEETS, ids=lambda s: s.alias)
def test_every_header_and_column_has_an_input_message(book, sheet):
    found = _validations(book[sheet.name])
    for index, column in enumerate(sheet.columns, start=1):
        letter = get_column_letter(index)
        header = [dv for col, lo, hi, dv in found if col == letter and lo == hi == 1]
        data = [dv for col, lo, hi, dv in found if col == letter and (lo, hi) == (2, LAST_ROW)]
        assert len(header) == 1 and len(data) == 1, column.name
        for dv in header + data:
            assert dv.showInputMessage and dv.promptTitle == column.name
            assert ("必填" if column.required else "选填") in dv.prompt
            assert column.note.rstrip("。") in dv.prompt
            assert len(dv.prompt) <= 255 and len(dv.promptTitle) <= 32  # Excel's limits


def _guide_text(book):
    return "\n".join(str(c.value) for row in book[GUIDE_SHEET].iter_rows() for c in row if c.value is not None)


def test_guide_mentions_every_sheet_and_column(book):
    text = _guide_text(book)
    for sheet in schema.INPUT_SHEETS:
        assert f"“{sheet.name}”表" in text and sheet.alias in text and sheet.note in text
        for column in sheet.columns:
            assert header_text(column) in text and column.alias in text
            if column.note:
                assert column.note.rstrip("。") in text
    assert schema.SUMMARY_NAME in text and "程序生成" in text
    assert "万元" in text and "单位：万元" in text  # how units work
    assert "生成报告.bat" in text and "excel-eval run" in text


def test_guide_lists_template_sections_with_defaults(book, templates):
    text = _guide_text(book)
    for name, template in templates.items():
        assert f"模板“{name}”" in text and template.description in text
        for section in template.sections:
            assert section in text
        for default in template.defaults.values():
            assert readable_default(default) in text
    rows = [[c.value for c in row] for row in book[GUIDE_SHEET].iter_rows()]
    standard = templates["标准报告"]
    for section in standard.required_sections:
        assert any(r[0] == section and r[1] == "必填" for r in rows), section
    for section in standard.defaults:
        assert any(r[0] == section and r[1] == "选填" for r in rows), section


def test_check_finds_only_no_projects(blank):
    problems = check(blank).problems
    assert [p.code for p in problems] == ["no-projects"]


def _fill(path, sheets):
    """Write `sheets` (name -> rows, header first) under the blank's headers, matching by header name."""
    book = openpyxl.load_workbook(path)
    for name, rows in sheets.items():
        ws = book[name]
        positions = {normalize_name(c.value): c.column for c in ws[1]}
        columns = [positions[normalize_name(h)] for h in rows[0]]
        for r, values in enumerate(rows[1:], start=2):
            for column, value in zip(columns, values):
                ws.cell(row=r, column=column, value=value)
    book.save(path)


def test_filled_blank_runs(tmp_path, templates):
    path = write_blank_workbook(tmp_path / "填报.xlsx", templates)
    _fill(path, standard_sheets())
    result = run(path, tmp_path / "out", now=dt.datetime(2026, 11, 27, 9, 30))
    assert not result.problems.errors
    assert {p.name.split("_")[0] for p in result.reports} == {"P1", "P2"}
    assert "P1_测试专项经费.docx" in {p.name for p in result.reports}
    assert result.summary.in_workbook
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == GUIDE_SHEET
    assert LISTS_SHEET in book.sheetnames and schema.SUMMARY_NAME in book.sheetnames
    assert book["项目"].data_validations.dataValidation  # the dropdowns survive the write-back


def test_refuses_to_overwrite(tmp_path, templates):
    path = tmp_path / "已填.xlsx"
    path.write_bytes(b"filled")
    with pytest.raises(UsageError, match="已存在"):
        write_blank_workbook(path, templates)
    assert path.read_bytes() == b"filled"
    write_blank_workbook(path, templates, overwrite=True)
    assert openpyxl.load_workbook(path).sheetnames[0] == GUIDE_SHEET


def test_only_xlsx(tmp_path, templates):
    with pytest.raises(UsageError, match=".xlsx"):
        write_blank_workbook(tmp_path / "空白.xls", templates)


def test_custom_templates_feed_the_lists(tmp_path):
    custom = {
        "甲模板": SimpleNamespace(sections=["概况", "结论"], defaults={"结论": "良好。"}, optional={}, description="甲"),
        "乙模板": SimpleNamespace(sections=["结论", "附注"], defaults={}, optional={"附注": "可不填"}, description=""),
    }
    book = openpyxl.load_workbook(write_blank_workbook(tmp_path / "b.xlsx", custom))
    lists = {c.value: [v.value for v in book[LISTS_SHEET][c.column_letter][1:] if v.value is not None]
             for c in book[LISTS_SHEET][1] if c.value and not str(c.value).startswith("本表")}
    assert lists["栏目"] == ["概况", "结论", "附注"]
    assert lists["报告模板"] == ["甲模板", "乙模板"]
    assert "不填时用默认文字：良好。" in _guide_text(book)


def test_long_list_is_a_range(tmp_path):
    many = {"长": SimpleNamespace(sections=[f"第{i}个很长的栏目名称" for i in range(40)], defaults={}, optional={},
                                 description="")}
    book = openpyxl.load_workbook(write_blank_workbook(tmp_path / "b.xlsx", many))
    dv = next(dv for _, lo, _, dv in _validations(book["文字说明"]) if dv.type == "list")
    assert len(_list_values(book, dv.formula1)) == 40
