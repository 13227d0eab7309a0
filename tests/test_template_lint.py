"""The template check (excel_eval.template_lint): each problem a user can make in Word, found before docxtpl
reads the template, as an error with its code, the template and the place, in Chinese."""

import csv
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from docx_fixtures import BOLD, RED, Package, cell, para, row, run, table
from excel_eval.cli import main
from excel_eval.render import load_template, load_templates
from workbooks import standard_sheets, write_workbook

# English a Jinja or Python error would bring with it; none of it may reach the user.
ENGLISH = re.compile(r"unexpected|expected|Encountered|Template|Error|line \d|got '|No filter|undefined", re.I)


def issues(tmp_path, body: str = "", name: str = "标准报告", **parts) -> list[tuple[str, str]]:
    """(code, message) of each problem the check finds in a template made of `body` and `parts`."""
    path = tmp_path / f"{name}.docx"
    path.write_bytes(Package(body, **parts).to_bytes())
    return [(i.code, i.message) for i in load_template(path).issues]


def codes(tmp_path, body: str = "", **parts) -> list[str]:
    return [code for code, _ in issues(tmp_path, body, **parts)]


# ------------------------------------------------------------------- the six problems, all in one run

BROKEN = (
    para("合计{{ 支出数|金额 }。")  # 第1段: a brace missing
    + para("执行率{{ 执行率|百分数 }}。")  # 第2段: no such format
    + para("总分{{ 总分 }}分。")  # 第3段: no such variable
    + para("{%p if 栏目.偏差原因 %}")  # 第4段: never closed
    + para("项目：", run("{{ 项目", BOLD), run("名称 }}"))  # 第5段: the tag changes formatting half way
    + table(row("日期", "摘要"),
            row(cell(para("{%p for 笔 in 支出明细 %}")), cell(para("{{ 笔.摘要 }}"), para("{%p endfor %}"))),
            columns=2)  # {%p in a table cell, closed in another cell
)
EXPECTED = [  # (code, the start of the message: template, place, first words), worked out by hand
    ("template-brace-unclosed", "标准报告.docx 第1段“合计{{ 支出数|金额 }。”：标签“{{ 支出数|金额 }。”没有结束：缺少“}}”。"),
    ("template-filter-unknown", "标准报告.docx 第2段“执行率{{ 执行率|百分数 }…”：“{{ 执行率|百分数 }}”中的“百分数”不是可用的格式。"
                                "您是否要写 百分比？可用的格式有：金额、万元、元、千分位、百分比、大写金额、中文日期、中文月份"),
    ("template-variable-unknown", "标准报告.docx 第3段“总分{{ 总分 }}分。”：“{{ 总分 }}”中的“总分”不是可用的变量，"
                                  "报告中这里会是空白。您是否要写 自评得分？可用的变量有：单位名称、单位简称、"),
    ("template-block-unclosed", "标准报告.docx 第4段“{%p if 栏目.偏差原因 %}”：“{%p if 栏目.偏差原因 %}”没有对应的结束标签。"
                                "请在后面单独的一段中写上“{%p endif %}”。"),
    ("template-format-split", "标准报告.docx 第5段“项目：{{ 项目名称 }}”：标签“{{ 项目名称 }}”中途改变了格式"),
    ("template-tag-misplaced", "标准报告.docx 第1个表格第2行第2列第2段“{%p endfor %}”：“{%p endfor %}”与第1个表格第2行"
                               "第1列的“{%p for 笔 in 支出明细 %}”不在同一个单元格中"),
]


def test_each_problem_has_its_code_and_place(tmp_path):
    found = issues(tmp_path, BROKEN)
    assert [code for code, _ in found] == [code for code, _ in EXPECTED]
    for (code, message), (_, start) in zip(found, EXPECTED):
        assert message.startswith(start), message
        assert not ENGLISH.search(message.replace("README", "")), message


@pytest.fixture
def broken_folder(tmp_path):
    """A workbook with an error of its own (P2 has no budget), and beside it a 模板 folder whose 标准报告 has the
    six problems (used without --templates)."""
    sheets = standard_sheets()
    sheets["预算"] = sheets["预算"][:2]
    book = write_workbook(tmp_path / "账.xlsx", sheets)
    (tmp_path / "模板").mkdir()
    (tmp_path / "模板" / "标准报告.docx").write_bytes(Package(BROKEN).to_bytes())
    return book


def test_check_and_run_list_every_template_problem_with_the_workbooks_and_write_nothing(tmp_path, broken_folder):
    before = broken_folder.read_bytes()
    runner = CliRunner()
    checked = runner.invoke(main, ["check", str(broken_folder)])
    assert checked.exit_code == 1
    ran = runner.invoke(main, ["run", str(broken_folder), "-o", str(tmp_path / "out")])
    assert ran.exit_code == 1
    for output in (checked.output, ran.output):
        assert "budget-missing" not in output and "项目“P2”在“预算”表中没有任何行" in output  # the workbook's
        for _, start in EXPECTED:
            assert f"[错误] {start}" in output
        assert not ENGLISH.search(output.replace("README", "").replace("excel-eval", "")), output
    assert not list((tmp_path / "out").glob("*.docx"))
    assert broken_folder.read_bytes() == before
    with open(tmp_path / "out" / "问题清单.csv", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    listed = [(r["代码"], r["说明"]) for r in rows if r["代码"].startswith("template")]
    assert [code for code, _ in listed] == [code for code, _ in EXPECTED]
    assert all(message.startswith(start) for (_, message), (_, start) in zip(listed, EXPECTED))
    assert {r["级别"] for r in rows if r["代码"].startswith("template")} == {"错误"}


def test_an_unused_broken_template_is_a_warning(tmp_path):
    folder = tmp_path / "我的模板"
    folder.mkdir()
    (folder / "另一种报告.docx").write_bytes(Package(para("{{ 总分 }}")).to_bytes())
    book = write_workbook(tmp_path / "账.xlsx", standard_sheets())
    result = CliRunner().invoke(main, ["check", str(book), "--templates", str(folder)])
    assert result.exit_code == 0, result.output
    assert "[警告] 另一种报告.docx 第1段“{{ 总分 }}”" in result.output and "没有项目使用这个模板" in result.output


def test_the_templates_command_checks_them(tmp_path):
    folder = tmp_path / "我的模板"
    folder.mkdir()
    (folder / "标准报告.docx").write_bytes(Package(BROKEN).to_bytes())
    result = CliRunner().invoke(main, ["templates", "--templates", str(folder)])
    assert result.exit_code == 1
    assert "模板检查：6 个错误" in result.output
    assert "支出明细：" in result.output and "每项有：支付日期（日期）、金额（元）" in result.output


# ------------------------------------------------------------------- braces


def test_braces(tmp_path):
    found = issues(tmp_path, para("{ 项目名称 }}") + para("{ {单位名称}}") + para("｛｛ 项目名称 ｝｝")
                   + para("{{ 单位名称 %}") + para("{# 说明 }}"))
    assert found[0] == ("template-brace-stray", "标准报告.docx 第1段“{ 项目名称 }}”：“{ 项目名称 }}”中多了“}}”：前面没有与它配对的"
                                               "“{{”。请检查是否少写了开头的“{{”（两个符号都要写），或删去多余的“}}”。")
    assert found[1][0] == "template-brace-spaced" and "“{ {”的两个符号之间有空格" in found[1][1]
    assert [c for c, _ in found[2:4]] == ["template-brace-fullwidth"] * 2
    assert found[4] == ("template-brace-unclosed", "标准报告.docx 第4段“{{ 单位名称 %}”：标签“{{ 单位名称 %}”以“{{”开始，"
                                                   "却以“%}”结束。请改为以“}}”结束。")
    assert found[5][0] == "template-brace-unclosed" and "缺少“#}”" in found[5][1]
    assert len(found) == 6


def test_a_tag_across_paragraphs_is_two_problems_not_a_lost_chapter(tmp_path):
    assert codes(tmp_path, para("合计{{ 支出数") + para("二、资金使用") + para("|金额 }}")) == [
        "template-brace-unclosed", "template-brace-stray"]


# ------------------------------------------------------------------- syntax, names, formats


@pytest.mark.parametrize("tag, reason", [
    ("{{ 支出数 金额 }}", "“金额”是格式，要用竖线连接，写成 …|金额"),
    ("{{ 到位率|百分比（1） }}", "“（”是全角字符，请改为半角的“(”"),
    ("{{ 支出数｜金额 }}", "“｜”是全角字符，请改为半角的“|”"),
    ("{% if 支出数 = 全年预算数 %}{% endif %}", "比较是否相等要写两个等号“==”"),
    ("{{ 支出数| }}", "竖线“|”后面要写格式的名称"),
    ("{{ }}", "标签不完整"),
    ("{% for 来源 资金来源 %}{% endfor %}", "“for”应写成 {% for 项 in 列表 %}"),
    ("{{ 资金来源[0.名称 }}", "括号没有配对：缺少“]”"),
    ('{{ 单位名称 ~ "局 }}', "引号“\"”没有配对"),
])
def test_jinja_syntax_errors_are_translated(tmp_path, tag, reason):
    found = issues(tmp_path, para(tag))
    assert [c for c, _ in found] == ["template-syntax"]
    assert f"写法有误：{reason}" in found[0][1] and not ENGLISH.search(found[0][1].replace("README", ""))


def test_unknown_tags_and_a_space_after_the_percent(tmp_path):
    found = issues(tmp_path, para("{% for 来源 in 资金来源 %}{{ 来源.名称 }}{% endfro %}") + para("{% p if 执行率 %}")
                   + para("{% include \"a.docx\" %}"))
    assert found[0][0] == "template-tag-unknown" and "没有“endfro”这种标签。您是否要写 endfor？" in found[0][1]
    assert found[1][0] == "template-block-unclosed"  # the for loop, never ended
    assert found[2] == ("template-tag-unknown", "标准报告.docx 第2段“{% p if 执行率 %}”：“{% p if 执行率 %}”中“%”和“p”"
                                                "之间有空格。请写成“{%p if …”。")
    assert found[3][0] == "template-tag-unknown" and "可用的标签有：if、elif、else、endif、for、endfor、set" in found[3][1]
    assert len(found) == 4


def test_attributes_of_tables_lists_and_values(tmp_path):
    found = issues(tmp_path, para("{% for 来源 in 资金来源 %}{{ 来源.名字 }}{% endfor %}")
                   + para("{{ 支出明细.金额 }}{{ 支出数.金额 }}{{ 报告日期.year }}{{ 资金来源[0].名称 }}")
                   + para("{{ 资金来源 }}{{ 栏目.职能 }}{{ 栏目.__class__ }}"))
    assert found[0] == ("template-attribute-unknown",
                        "标准报告.docx 第1段“{% for 来源 in 资金来源…”：“{{ 来源.名字 }}”中的“名字”不是“来源”中的项，报告中这里会是"
                        "空白。您是否要写 名称？“来源”中的项有：名称、申报数、批复数、全年预算数、到位数、支出数。")
    assert found[1][0] == "template-attribute-unknown" and "“支出明细”是一个列表，没有“金额”这一项" in found[1][1]
    assert found[2][0] == "template-attribute-unknown" and "“支出数”是一个值，没有“金额”这一项" in found[2][1]
    assert found[3][0] == "template-value-not-text" and "“{{ 资金来源 }}”是一个列表，不能直接写在报告中" in found[3][1]
    assert found[4][0] == "template-attribute-unknown" and "“__class__”不能使用" in found[4][1]
    assert len(found) == 5  # 报告日期.year, 资金来源[0].名称 and 栏目.职能 are right


def test_loop_variables_are_known_only_inside_their_loop(tmp_path):
    body = (para("{%p for 笔 in 支出明细 %}") + para("{{ loop.index }}．{{ 笔.支付日期|中文日期 }}{{ 笔.金额|金额 }}")
            + para("{%p endfor %}") + para("{{ 笔.金额 }}")
            + para("{% set 合计 = 支出数 + 结余 %}{{ 合计|金额 }}{% for 项 in 绩效指标 if 项.得分 < 项.分值 %}"
                   "{{ 项.三级指标 }}{% else %}无{% endfor %}"))
    found = issues(tmp_path, body)
    assert [c for c, _ in found] == ["template-variable-unknown"]
    assert found[0][1].startswith("标准报告.docx 第4段“{{ 笔.金额 }}”：“{{ 笔.金额 }}”中的“笔”不是可用的变量")


def test_formats_and_tests(tmp_path):
    found = issues(tmp_path, para("{{ 支出数|万元(4) }}{{ 资金来源|length }}{{ 栏目.职能|join('、') }}")
                   + para("{% if 到位日期 is 日期 %}{% endif %}{{ 批复数|大写 }}"))
    assert [c for c, _ in found] == ["template-test-unknown", "template-filter-unknown"]
    assert "您是否要写 大写金额？" in found[1][1]


def test_the_names_come_from_the_description(tmp_path):
    """A template checked against another description (the 自评表's) knows its names, not the report's."""
    path = tmp_path / "绩效自评表.docx"
    (tmp_path / "绩效自评表.toml").write_text('"用途" = "自评表"\n', encoding="utf-8")
    path.write_bytes(Package(para("{{ 总分 }}{{ 资金构成.当年财政拨款.执行率|百分比 }}{{ 支出明细 }}")).to_bytes())
    found = [(i.code, i.message) for i in load_template(path).issues]
    assert [c for c, _ in found] == ["template-variable-unknown"] and "“支出明细”不是可用的变量" in found[0][1]


# ------------------------------------------------------------------- blocks and docxtpl's levels


@pytest.mark.parametrize("body, expected", [
    (para("{% endif %}"), ["template-block-unopened"]),
    (para("{% if 结余 %}有结余{% endfor %}"), ["template-block-unopened", "template-block-unclosed"]),
    (para("{%p if 结余 %}") + para("有结余") + para("{% endif %}"), ["template-block-mismatched"]),
    (para("{% for 来源 in 资金来源 %}{% if 结余 %}{% endfor %}"), ["template-block-mismatched"]),
    (para("{% if 结余 %}有") + para("结余{% endif %}"), ["template-block-split"]),
    (para("{%p for 段 in 栏目.职能 %}") + para("{{ 段 }}") + para("{% else %}"), ["template-block-unclosed",
                                                                                  "template-block-mismatched"]),
])
def test_blocks(tmp_path, body, expected):
    assert codes(tmp_path, body) == expected


def test_block_messages(tmp_path):
    found = issues(tmp_path, para("{%p if 结余 %}") + para("有结余") + para("{% endif %}"))
    assert found[0][1] == ("标准报告.docx 第3段“{% endif %}”：“{% endif %}”对应第1段的“{%p if 结余 %}”，开始标签带 p，"
                           "这里也要一样：请写成“{%p endif %}”。")
    found = issues(tmp_path, para("{% if 结余 %}有") + para("结余{% endif %}"))
    assert "“{% endif %}”与第1段的“{% if 结余 %}”不在同一段中：不带 p 的标签只能在一段之内使用" in found[0][1]


def test_levels_where_they_cannot_work(tmp_path):
    body = (para("{%tr for 笔 in 支出明细 %}") + para("{%tr endfor %}")
            + para("说明{%p if 结余 %}") + para("{%p endif %}")
            + table(row("{%tr for 笔 in 支出明细 %}", "{%tr endfor %}"), columns=2)
            + table(row("{%tc for 笔 in 支出明细 %}"), row("{%tc endfor %}"), columns=1)
            + para("{{p 项目名称 }}{% vm %}"))
    found = issues(tmp_path, body)
    assert [(c, m.split("：")[0]) for c, m in found] == [
        ("template-tag-misplaced", "标准报告.docx 第1段“{%tr for 笔 in 支出明细…”"),
        ("template-tag-misplaced", "标准报告.docx 第2段“{%tr endfor %}”"),
        ("template-tag-alone", "标准报告.docx 第3段“说明{%p if 结余 %}”"),
        ("template-tag-misplaced", "标准报告.docx 第1个表格第1行第2列“{%tr endfor %}”"),  # the same row
        ("template-tag-misplaced", "标准报告.docx 第2个表格第2行第1列“{%tc endfor %}”"),  # another row
        ("template-tag-misplaced", "标准报告.docx 第5段“{{p 项目名称 }}{% vm %}”"),
        ("template-tag-misplaced", "标准报告.docx 第5段“{{p 项目名称 }}{% vm %}”"),
    ]
    assert "只能写在表格的单元格中（表格行标签）。表格之外请用“{%p for 笔 in 支出明细 %}”。" in found[0][1]
    assert "这一段中的其他文字“说明”不会出现在报告中" in found[2][1]
    assert "应写在同一个表格的不同行中" in found[3][1] and "应写在同一行的不同单元格中" in found[4][1]


def test_a_table_with_row_and_column_tags_is_clean(tmp_path):
    body = table(
        row("序号", "日期", "金额", "摘要"),
        row(cell("{%tr for 笔 in 支出明细 %}", span=4)),
        row("{{ loop.index }}", "{{ 笔.支付日期|中文日期 }}{% vm %}", '{% cellbg "EEEEEE" %}{{ 笔.金额|元 }}',
            "{{ 笔.摘要 }}"),
        row(cell("{%tr endfor %}", span=4)),
        row("{% colspan 3 %}合计", "{{ 支出数|元 }}"),
        row("{%tc for 项 in 绩效指标 %}", "{{ 项.三级指标 }}{% hm %}", "{%tc endfor %}", "{#tc 说明 #}"),
        columns=4)
    assert issues(tmp_path, body + para("{{ 首次支付日期|中文日期 }}至{{ 末次支付日期|中文日期 }}")) == []


# ------------------------------------------------------------------- runs, formatting and parts


def test_split_runs_are_read_joined_and_formatting_only_counts_when_visible(tmp_path):
    same_look = para(run("{{ 项目"), run("名称 }}", '<w:lang w:eastAsia="zh-CN"/><w:rFonts w:hint="eastAsia"/>'))
    braces = para(run("{"), run("{ 单位名称 }"), run("}"))
    assert issues(tmp_path, same_look + braces) == []
    assert codes(tmp_path, para(run("{{ 项目名称"), run(" ", RED), run("}}"))) == []  # only a space is red
    assert codes(tmp_path, para(run("{{ 项目名称 }", RED), run("}"))) == ["template-format-split"]


def test_quotes_as_word_and_libreoffice_store_them(tmp_path):
    assert issues(tmp_path, para(run('{{ 栏目.职能|join(“、”) }}')) + para(run('{% if 单位简称 != "" %}{% endif %}',
                                                                           quotes=True))) == []


def test_headers_footers_footnotes_and_endnotes(tmp_path):
    found = issues(tmp_path, para("正文"), headers={"default": para(run("{"), run("{ 单位名称 }}"))},
                   footers={"default": para("{{ 页码 }}"), "even": para("第{{ 页 }}页")},
                   footnotes=[para("{{ 来源 }}")], endnotes=[para("{{ 单位名称 }}")])
    assert [(c, m.split("：")[0]) for c, m in found] == [
        ("template-variable-unknown", "标准报告.docx 页脚“{{ 页码 }}”"),
        ("template-variable-unknown", "标准报告.docx 偶数页页脚“第{{ 页 }}页”"),
        ("template-variable-unknown", "标准报告.docx 第1个脚注“{{ 来源 }}”"),
        ("template-tag-not-rendered", "标准报告.docx 第1个尾注“{{ 单位名称 }}”"),
    ]


def test_a_main_part_named_document2_is_checked(tmp_path):
    assert codes(tmp_path, para("{{ 总分 }}"), main="word/document2.xml") == ["template-variable-unknown"]


def test_files_that_are_not_templates(tmp_path):
    (tmp_path / "标准报告.docx").write_bytes(b"not a zip")
    (tmp_path / "标准报告.toml").write_text('"说明" = "未结束\n', encoding="utf-8")
    found = [(i.code, i.message) for i in load_template(tmp_path / "标准报告.docx").issues]
    assert [c for c, _ in found] == ["template-toml-invalid", "template-unreadable"]
    assert found[0][1].startswith("模板说明文件 标准报告.toml 第 1 行格式有误")
    assert found[1][1] == "标准报告.docx 不是有效的 Word 文档（.docx），或文件已损坏。请在 Word 或 WPS 中打开它并另存为 .docx。"


def test_the_bundled_templates_are_clean():
    templates = load_templates()
    assert {n: [i.message for i in t.issues] for n, t in templates.items()} == {n: [] for n in templates}


def test_the_default_texts_of_the_toml_are_checked(tmp_path):
    (tmp_path / "标准报告.toml").write_text('["默认文字"]\n"财务管理" = "{{ 单位简称 }}财务管理制度健全。"\n'
                                        '"存在问题" = "{{ 栏目.偏差原因 }}{{ 单位简称|大写 }}"\n', encoding="utf-8")
    found = issues(tmp_path, para("{%p for 段 in 栏目.财务管理 %}") + para("{{ 段 }}") + para("{%p endfor %}"))
    assert [(c, m.split("：")[0]) for c, m in found] == [
        ("template-variable-unknown", "标准报告.toml 中“存在问题”的默认文字“{{ 栏目.偏差原因 }}{{ 单…”"),
        ("template-filter-unknown", "标准报告.toml 中“存在问题”的默认文字“{{ 栏目.偏差原因 }}{{ 单…”"),
    ]


def test_a_variable_is_checked_as_the_context_description_says(tmp_path, monkeypatch):
    """A key of the context is known once VARIABLES lists it, and its names are checked as FIELDS describes
    them: 句子 lists the ready-made sentences, so a misspelt one is named with the nearest."""
    from excel_eval import render

    body = para("{{ 句子.资金到位 }}{{ 句子.资金到未 }}")
    found = issues(tmp_path, body)
    assert [c for c, _ in found] == ["template-attribute-unknown"]
    assert "“资金到未”不是“句子”中的项，报告中这里会是空白。您是否要写 资金到位？" in found[0][1]
    monkeypatch.delitem(render.VARIABLES, "句子")
    assert codes(tmp_path, body) == ["template-variable-unknown"] * 2
    monkeypatch.setitem(render.VARIABLES, "句子", "现成的句子")
    monkeypatch.setitem(render.FIELDS, "句子", {"*": "一句话"})
    assert codes(tmp_path, body) == []  # any name of a field described as *
