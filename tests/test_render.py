"""Templates: sections and defaults, escaping, the conditional sentences, the sandbox."""

import datetime as dt
from pathlib import Path

import docx
import pytest

from excel_eval.metrics import compute
from excel_eval.problems import Problems
from excel_eval.render import ReportRenderer, TemplateProblem, choose_template, document_text, load_templates
from excel_eval.workbook import read_workbook

from workbooks import STANDARD_SECTIONS, standard_sheets, write_workbook


def render_p1(tmp_path, sheets=None, templates=None):
    data = read_workbook(write_workbook(tmp_path / "b.xlsx", sheets or standard_sheets()), Problems())
    record = compute(data)[0]
    out = tmp_path / "r.docx"
    ReportRenderer(templates or load_templates(), run_date=dt.date(2026, 1, 2)).render(record, choose_template(record), out)
    return document_text(out)


def test_bundled_templates_declare_their_sections():
    templates = load_templates()
    assert set(templates) >= {"标准报告", "追加项目报告"}
    standard = templates["标准报告"]
    assert set(standard.required_sections) == set(STANDARD_SECTIONS)
    assert "偏差原因" in standard.optional and "财务管理" in standard.defaults
    assert {"金额", "百分比", "中文日期"} <= set(standard.filters)


def test_standard_report_figures_and_defaults(tmp_path):
    text = render_p1(tmp_path)
    assert "（测试专项经费）" in text
    assert "2021年，该项目资金申报10万元、批复10万元。" in text
    assert "均计划来自区本级资金" in text
    assert "到位率100%" in text and "执行率95%" in text  # 95,000.50 / 100,000 = 95.0005% → 95%
    assert "测试局财务管理制度健全" in text  # a default using {{ 单位简称 }}
    assert "P1的职能文字。" in text
    assert text.rstrip().endswith("某某县测试局\n2022年5月10日")


@pytest.mark.parametrize("spent, reason, expected, absent", [
    (100000, None, "合规合法；与预算相符。", "不符"),
    (95000, "原因甲。", "与预算略有不符，不符原因是原因甲。", "与预算相符"),
    (80000, "原因乙。", "与预算不符，不符原因是原因乙。", "略有"),
    (95000, None, "支付依据合规合法；\n", "不符"),
])
def test_deviation_sentence(tmp_path, spent, reason, expected, absent):
    sheets = standard_sheets()
    sheets["支出明细"] = [sheets["支出明细"][0], ["P1", dt.date(2021, 3, 5), spent, "劳务费", None, None, None],
                      sheets["支出明细"][3]]
    if reason:
        sheets["文字说明"].append(["P1", "偏差原因", reason])
    text = render_p1(tmp_path, sheets)
    assert expected in text
    assert absent not in text.split("（三）项目财务管理情况")[0].split("3．资金使用。")[1]


def test_narrative_renders_as_written(tmp_path):
    sheets = standard_sheets()
    sheets["文字说明"].append(["P1", "职能", "R&D <测试> \"引号\" {{ 单位名称 }} ab"])
    sheets["文字说明"].append(["P1", "财务管理", "自定义的财务管理文字。"])
    text = render_p1(tmp_path, sheets)
    assert "R&D <测试> \"引号\" {{ 单位名称 }} ab" in text
    assert "自定义的财务管理文字。" in text and "财务管理制度健全" not in text


def test_multi_source_budget_sentence(tmp_path):
    sheets = standard_sheets()
    sheets["预算"].append(["P1", "市级资金", 50000, 50000, 50000, 50000, None])
    text = render_p1(tmp_path, sheets)
    assert "资金计划15万元，其中区本级资金10万元、市级资金5万元。" in text


def _custom_template(folder: Path, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    document = docx.Document()
    document.add_paragraph(text)
    document.save(folder / "标准报告.docx")
    return folder


def test_templates_are_sandboxed(tmp_path):
    folder = _custom_template(tmp_path / "tpl", "{{ 栏目.__class__.__mro__ }}")
    templates = load_templates(folder)
    assert {i.code for i in templates["标准报告"].issues} == {"template-attribute-unknown"}
    with pytest.raises(TemplateProblem, match="不允许使用的内容"):  # and were it rendered all the same
        render_p1(tmp_path, templates=templates)


def test_a_user_template_overrides_the_bundled_one_and_its_errors_are_explained(tmp_path):
    folder = _custom_template(tmp_path / "tpl", "{{ 项目名称 }}：{{ 支出数|大写金额 }}")
    assert render_p1(tmp_path, templates=load_templates(folder)).strip() == "测试专项经费：人民币玖万伍仟元零伍角整"
    bad = load_templates(_custom_template(tmp_path / "bad", "{{ 项目名称 }"))["标准报告"]
    assert [i.code for i in bad.issues] == ["template-brace-unclosed"]
    assert bad.issues[0].message.startswith("标准报告.docx 第1段“{{ 项目名称 }”：标签“{{ 项目名称 }”没有结束：缺少“}}”。")


def test_characters_word_refuses_are_dropped():
    from excel_eval.render import clean_text as _clean

    assert _clean("a\x07b\x0bc\td\ne") == "abc\td\ne"


def test_a_misspelt_variable_is_reported_by_check(tmp_path):
    from excel_eval.checks import validate
    from excel_eval.problems import Problems

    folder = _custom_template(tmp_path / "tpl", "{{ 项目名称 }}{{ 项目负责人 }}{% for 来源 in 资金来源 %}{{ 来源.名称 }}{% endfor %}")
    templates = load_templates(folder)
    assert [i.value for i in templates["标准报告"].issues] == ["{{ 项目负责人 }}"]
    problems = Problems()
    data = read_workbook(write_workbook(tmp_path / "b.xlsx", standard_sheets()), problems)
    validate(data, templates, problems)
    found = [p for p in problems if p.code.startswith("template")]
    assert [(p.code, p.severity) for p in found] == [("template-variable-unknown", "错误")]  # a blank in a report
