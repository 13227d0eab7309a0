"""Templates: sections and defaults, escaping, the conditional sentences, the sandbox."""

import datetime as dt
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from excel_eval.metrics import compute
from excel_eval.pipeline import run
from excel_eval.problems import Problems
from excel_eval.render import ReportRenderer, TemplateProblem, choose_template, document_text, load_templates
from excel_eval.reading import read_workbook
from excel_eval.resources import sample_workbook
from excel_eval.schema import INDICATORS
from excel_eval.scoring import score_project

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
    # read by {{ 句子.资金到位 }} and {{ 句子.资金使用 }}: sections of the template all the same
    assert standard.sections.index("到位评价") < standard.sections.index("偏差原因") < standard.sections.index("财务管理")
    assert {"金额", "中文日期"} <= set(standard.filters)


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
    (95000, None, "支付依据合规合法；与预算略有不符。\n", "不符原因"),
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


# ------------------------------------------------------------------- payments and indicators in tables

INDICATOR_ROWS = [
    ["项目编号", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "自评得分", "偏差原因"],
    ["P1", "产出指标", "数量指标", "培训人次", "≥100人次", "120人次", 40, None, None],
    ["P1", "效益指标", "社会效益指标", "群众满意度", "≥90%", "81%", 30, None, "部分群众对办理时限不满意"],
    ["P1", "满意度指标", "服务对象满意度指标", "服务对象满意度", "≥95%", "95%", 20, None, None],
]


def _cells(table) -> list[list[str]]:
    """The text of each cell of each row, a merged cell once."""
    return [["".join(t.text or "" for t in tc.iter(qn("w:t"))) for tc in tr.tc_lst] for tr in table._tbl.tr_lst]


def test_a_report_lists_every_payment_and_indicator_in_tables(tmp_path):
    sheets = standard_sheets()
    sheets["项目"][0] += ["主管部门", "实施单位"]
    sheets["项目"][1][6] = "详细报告"  # chosen by name in 报告模板
    sheets["项目"][1] += ["某某县财政局", None]
    sheets["项目"][2] += [None, None]
    sheets["文字说明"].append(["P1", "偏差原因", "部分培训改为线上。"])
    sheets["绩效指标"] = INDICATOR_ROWS
    book = write_workbook(tmp_path / "账.xlsx", sheets)
    result = run(book, tmp_path / "out", now=dt.datetime(2026, 1, 2, 9, 0))
    assert not result.problems.errors, [str(p) for p in result.problems.errors]
    report = docx.Document(str(next(p for p in result.reports if p.name.startswith("P1_"))))
    payments, indicators = (_cells(t) for t in report.tables)
    assert payments == [
        ["序号", "支付日期", "凭证号", "金额（元）", "支出类别", "摘要"],
        ["1", "2021年3月5日", "记-03-001", "50,000.25", "劳务费", "劳务"],
        ["2", "2021年6月5日", "记-06-001", "45,000.25", "差旅费", "差旅"],
        ["合计", "95,000.50", ""],
    ]
    # 95,000.50 ÷ 100,000 = 95.0005% → 预算执行率 10 × 0.950005 = 9.50; 81 ÷ 90 × 30 = 27; total 40 + 27 + 20 + 9.5
    assert indicators == [
        ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分"],
        ["产出指标", "数量指标", "培训人次", "≥100人次", "120人次", "40", "40"],
        ["效益指标", "社会效益指标", "群众满意度", "≥90%", "81%", "30", "27"],
        ["满意度指标", "服务对象满意度指标", "服务对象满意度", "≥95%", "95%", "20", "20"],
        ["预算执行率", "100%", "95%", "10", "9.5"],
        ["合计", "100", "96.5"],
    ]
    text = "\n".join(p.text for p in report.paragraphs)
    assert ("截至目前，该项目共支付2笔，合计9.5万元，执行率95%，支付时间为2021年3月5日至2021年6月5日；"
            "到位资金结余4999.5元。各笔支出见下表。") in text
    assert "项目自评得分96.5分（满分100分，其中预算执行率10分），自评等级为“优”。" in text
    assert ("项目预算执行率为95%，全年预算资金未全部支出。绩效指标“群众满意度”得分27分，分值30分，"
            "原因是部分群众对办理时限不满意。") in text
    scorecard = docx.Document(str(result.scorecards[0]))
    assert _cells(scorecard.tables[0])[1] == ["主管部门", "某某县财政局", "实施单位", "某某县测试局"]


def test_the_detailed_template_renders_the_sample(tmp_path):
    """Every project of the bundled sample through 详细报告: every payment a row, the total the ledger's sum,
    as the 支出明细 sheet (read here with openpyxl) has them."""
    import openpyxl
    from decimal import Decimal

    sheet = openpyxl.load_workbook(sample_workbook(), data_only=True)["支出明细"]
    header = [c.value for c in sheet[1]]
    ledger: dict[str, list[Decimal]] = {}
    for values in sheet.iter_rows(min_row=2, values_only=True):
        row = dict(zip(header, values))
        if row["项目编号"]:
            ledger.setdefault(row["项目编号"], []).append(Decimal(str(row["金额（元）"])))
    data = read_workbook(sample_workbook(), Problems())
    renderer = ReportRenderer(load_templates(), run_date=dt.date(2022, 5, 10))
    for record in compute(data):
        record.scorecard = score_project(record, data.get(INDICATORS))
        out = renderer.render(record, "详细报告", tmp_path / f"{record.project_id}.docx")
        document = docx.Document(str(out))
        payments = _cells(document.tables[0])
        assert len(payments) == 1 + len(ledger[record.project_id]) + 1, record.project_id
        assert payments[-1][1] == f"{sum(ledger[record.project_id]):,.2f}"
        assert [r[0] for r in payments[1:-1]] == [str(n) for n in range(1, len(ledger[record.project_id]) + 1)]
        text = "\n".join(p.text for p in document.paragraphs)
        assert "{{" not in text and "{%" not in text
        assert len(document.tables) == 2 and text.rstrip().endswith("攀枝花市仁和区信访局\n2022年5月10日")


def test_a_default_text_without_tags_reads_as_jinja_would_render_it():
    """Defaults without tags are not rendered (they are their own text): the paragraphs are those Jinja gives."""
    from excel_eval.render import _DEFAULTS_ENV, _default_paragraphs

    for text in ["评价申报内容与实际相符。", " 一段。\n\n二段。 \n", "甲\r\n乙\r丙", "花括号 { 与 } 单独出现", "%} #} }}"]:
        rendered = _DEFAULTS_ENV.from_string(text).render({})
        assert _default_paragraphs(text, {}) == [p.strip() for p in rendered.split("\n") if p.strip()], text
    assert _default_paragraphs("{{ 单位简称 }}的制度。", {"单位简称": "某局"}) == ["某局的制度。"]
