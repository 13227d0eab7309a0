"""The 绩效自评表 document (excel_eval.scorecard): its template, the rendered table with merged groups, the files a
run writes beside the reports, and the 自评得分/等级 columns of 汇总."""

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn

from excel_eval.metrics import Figures, ProjectRecord
from excel_eval.pipeline import run
from excel_eval.render import load_templates
from excel_eval.scorecard import ScorecardRenderer, context, merge_groups, scorecard_filename
from excel_eval.scoring import Scorecard, execution_score, score_indicator

from test_scoring import INDICATOR_HEADER, indicator
from workbooks import standard_sheets, write_workbook

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / "绩效自评表.docx"
NOW = dt.datetime(2026, 11, 27, 9, 30)


def grid(table) -> list[list[tuple[str, str | None]]]:
    """Each row as (text, vMerge) per grid column; a cell spanning columns repeats."""
    rows = []
    for tr in table._tbl.findall(qn("w:tr")):
        row = []
        for tc in tr.findall(qn("w:tc")):
            text = "\n".join("".join(t.text or "" for t in p.iter(qn("w:t"))) for p in tc.findall(qn("w:p")))
            merge = tc.find(f"{qn('w:tcPr')}/{qn('w:vMerge')}")
            state = None if merge is None else merge.get(qn("w:val"), "continue")
            span = tc.find(f"{qn('w:tcPr')}/{qn('w:gridSpan')}")
            row += [(text, state)] * (int(span.get(qn("w:val"))) if span is not None else 1)
        rows.append(row)
    return rows


def all_rows(document) -> list[list[tuple[str, str | None]]]:
    """The rows of the form: its parts (tables on one grid, one above the other) in order."""
    return [row for table in document.tables for row in grid(table)]


# ------------------------------------------------------------------------------------------ the template

def test_the_template_loads_with_the_others():
    templates = load_templates()
    assert {"标准报告", "追加项目报告", "绩效自评表"} <= set(templates)
    scorecard = templates["绩效自评表"]
    assert scorecard.sections == ["绩效目标", "完成情况"]  # read by the 自评表 itself, shown as optional
    assert set(scorecard.optional) == set(scorecard.sections) and not scorecard.issues
    assert "指标" in scorecard.variables and "总分" in scorecard.variables


def test_the_template_is_a_landscape_a4_table_with_chinese_fonts():
    document = docx.Document(str(TEMPLATE))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (297, 210)
    assert [p.text for p in document.paragraphs] == [
        "项目支出绩效自评表", "（{{ 预算年度 }}年度）", "",  # "": the joint between the table's two parts
        "填表人：　　　　　　　　　　联系电话：　　　　　　　　　　填报日期：{{ 报告日期|中文日期 }}"]
    for name, font in (("表格标题", "方正小标宋简体"), ("表格文字", "仿宋_GB2312"), ("表格段落", "仿宋_GB2312")):
        rfonts = document.styles[name].element.find(qn("w:rPr")).find(qn("w:rFonts"))
        assert rfonts.get(qn("w:eastAsia")) == font
    top, indicators = document.tables
    text_width = section.page_width - section.left_margin - section.right_margin
    for table in (top, indicators):
        widths = [int(c.get(qn("w:w"))) for c in table._tbl.find(qn("w:tblGrid"))]
        assert abs(sum(widths) - text_width / 635) <= 9  # in twips (635 EMU each): the table fills the block
        assert widths == [int(c.get(qn("w:w"))) for c in top._tbl.find(qn("w:tblGrid"))]  # one grid
    # the indicators' header row repeats on every page; the part above has no bottom border (the joint)
    header = indicators._tbl.find(qn("w:tr")).find(f"{qn('w:trPr')}/{qn('w:tblHeader')}")
    assert header is not None
    assert top._tbl.find(f"{qn('w:tblPr')}/{qn('w:tblBorders')}/{qn('w:bottom')}") is None
    joint = top._tbl.getnext()
    assert joint.tag == qn("w:p") and joint.find(f"{qn('w:pPr')}/{qn('w:spacing')}").get(qn("w:line")) == "1"
    # a form has no page number
    assert not section._sectPr.findall(qn("w:footerReference"))
    texts = [[t for t, _ in row] for row in all_rows(document)]
    assert texts[0][:3] == ["项目名称", "项目名称", "{{ 项目名称 }}"]
    assert ["{%tr for 行 in 指标 %}"] * 8 == texts[10][1:] and texts[12][1] == "{%tr endfor %}"
    assert texts[9][1:] == ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"]
    assert texts[-1][0] == "总分{{ 折算说明 }}"  # the scaling note only when the 分值 do not add up to 90


def test_the_build_script_reproduces_the_template(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_templates", ROOT / "templates" / "build_templates.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    out = tmp_path / "绩效自评表.docx"
    builder.build_table(ROOT / "templates" / "src" / "绩效自评表.toml", out)
    assert out.read_bytes() == TEMPLATE.read_bytes(), "run templates/build_templates.py"


# ------------------------------------------------------------------------------------------ the sample

CENTER = "510411-2021-XF003_仁和区群众意见受理中心项目经费"


def test_the_sample_has_four_scorecards_beside_the_reports(sample_run):
    assert [p.name for p in sample_run.scorecards] == [scorecard_filename(r.name) for r in sample_run.reports]
    assert all(p.parent == sample_run.reports[0].parent and p.exists() for p in sample_run.scorecards)
    assert f"{CENTER}_自评表.docx" in [p.name for p in sample_run.scorecards]
    assert {pid: (card.total, card.grade) for pid, card in sample_run.scores.items()} == {
        "510411-2021-XF001": (D("99.89"), "优"), "510411-2021-XF002": (D("99.98"), "优"),
        "510411-2021-XF003": (D("96.73"), "优"), "510411-2021-ZJ001": (D("100.00"), "优")}


def test_the_sample_scorecard_table(sample_run):
    path = next(p for p in sample_run.scorecards if p.name.startswith(CENTER))
    document = docx.Document(str(path))
    assert [p.text for p in document.paragraphs][:2] == ["项目支出绩效自评表", "（2021年度）"]
    assert document.paragraphs[-1].text.endswith("填报日期：2022年5月10日")
    rows = all_rows(document)
    texts = [[t for t, _ in row] for row in rows]
    assert texts[0][2] == "仁和区群众意见受理中心项目经费"
    assert texts[1][2] == "攀枝花市仁和区信访局" and texts[1][5] == "实施单位" and texts[1][6] == "攀枝花市仁和区信访局"
    assert texts[3][1:] == ["年度资金总额", "年度资金总额", "54.75", "54.75", "43.67", "10", "79.76%", "7.98"]
    assert texts[4][3:] == ["54.75", "54.75", "43.67", "—", "79.76%", "—"]
    assert texts[5][3:6] == ["", "", ""] and texts[6][3:6] == ["", "", ""]  # no carried-over or other money
    assert texts[8][1].startswith("项目实施后") and texts[8][1].endswith("年终项目实施进度100%。")
    assert texts[8][4].endswith("年终项目实施进度100%。") and "\n" in texts[8][4]  # two paragraphs
    indicators = rows[10:-1]
    assert [row[3][0] for row in indicators] == [
        "办结信访事项数量", "联通机关企事业单位、乡镇（街道）数量", "96097热线每日服务时长", "年终项目实施进度",
        "外包服务费按月支付率", "项目成本", "及时解决群众诉求，减少信访上行压力", "热线及网络投诉平台持续运行", "群众满意度"]
    assert [t for t, _ in indicators[4][4:8]] == ["=100%", "75%", "5", "3.75"]
    assert indicators[4][8][0].startswith("外包服务合同到期")
    # 一级指标: 产出 over six rows, 效益 over two, 满意度 alone; 二级 merged within them
    assert [m for _, m in (row[1] for row in indicators)] == [
        "restart", "continue", "continue", "continue", "continue", "continue", "restart", "continue", None]
    assert [row[1][0] for row in indicators] == ["产出指标", "", "", "", "", "", "效益指标", "", "满意度指标"]
    assert [m for _, m in (row[2] for row in indicators)] == [
        "restart", "continue", None, "restart", "continue", None, None, None, None]
    assert all(row[0][1] == "continue" for row in indicators) and rows[9][0] == ("绩效指标", "restart")
    assert texts[-1][0] == "总分" and texts[-1][6:] == ["100", "96.73", "自评等级：优"]  # no scaling note: 分值 add up to 90


def test_the_summary_has_scores_and_grades(sample_run):
    summary = openpyxl.load_workbook(sample_run.summary.target)["汇总"]
    header = [c.value for c in summary[2]]
    assert header[9:11] == ["自评得分", "等级"]
    values = [(row[9].value, row[10].value) for row in summary.iter_rows(min_row=3, max_row=6)]
    assert values == [(pytest.approx(99.89), "优"), (pytest.approx(99.98), "优"), (pytest.approx(96.73), "优"),
                      (100, "优")]
    assert summary["J3"].number_format == "0.00"


# (that each sample 自评表 prints on one page is measured in test_layout.py, in its one LibreOffice run)


# ------------------------------------------------------------------------------------------ runs

def _workbook(tmp_path, indicator_rows):
    sheets = standard_sheets()
    if indicator_rows is not None:
        sheets["绩效指标"] = [INDICATOR_HEADER] + indicator_rows
    return write_workbook(tmp_path / "账.xlsx", sheets)


P1_ROWS = [
    ["P1", "产出指标", "数量指标", "培训人次", "≥100人次", "80人次", 50, None, "疫情停办两期"],
    ["P1", "效益指标", "社会效益指标", "R&D <测试> 能力", "有效提升", "部分达成", 30, 20, None],
    ["P1", "满意度指标", "服务对象满意度指标", "满意度", "≥90%", "95%", 10, None, None],
]


def test_only_projects_with_indicators_get_a_scorecard_and_a_score(tmp_path):
    book = _workbook(tmp_path, P1_ROWS)
    result = run(book, tmp_path / "out", now=NOW)
    assert [p.name for p in result.scorecards] == ["P1_测试专项经费_自评表.docx"]
    card = result.scores["P1"]
    # 9.5 (执行率 95.0005%) + 40 (80 / 100 × 50) + 20 + 10
    assert (card.execution_score, card.total, card.grade) == (D("9.50"), D("79.50"), "中")
    summary = openpyxl.load_workbook(book)["汇总"]
    assert (summary["J3"].value, summary["K3"].value) == (pytest.approx(79.5), "中")
    assert (summary["J4"].value, summary["K4"].value) == (None, None)  # P2: no indicators, no score
    texts = [[t for t, _ in row] for row in all_rows(docx.Document(str(result.scorecards[0])))]
    assert ["R&D <测试> 能力", "有效提升", "部分达成", "30", "20"] == texts[11][3:8]  # escaped, shown as written
    assert texts[10][3:9] == ["培训人次", "≥100人次", "80人次", "50", "40", "疫情停办两期"]
    assert texts[3][3:] == ["10.00", "10.00", "9.50", "10", "95%", "9.5"]


def test_without_indicators_there_is_no_scorecard_and_an_old_one_is_removed(tmp_path):
    out = tmp_path / "out"
    first = run(_workbook(tmp_path, P1_ROWS), out, now=NOW)
    assert first.scorecards[0].exists()
    second = run(_workbook(tmp_path, None), out, now=NOW)
    assert second.scorecards == [] and second.scores == {}
    assert [p.name for p in second.removed] == ["P1_测试专项经费_自评表.docx"]
    assert sorted(p.name for p in out.glob("*.docx")) == ["P1_测试专项经费.docx", "P2_软件维护费.docx"]
    summary = openpyxl.load_workbook(tmp_path / "账.xlsx")["汇总"]
    assert (summary["J3"].value, summary["K3"].value) == (None, None)


def test_errors_in_indicators_stop_the_run(tmp_path):
    from excel_eval.problems import WorkbookError

    rows = [["P1", "产出指标", "数量指标", "培训人次", "≥100人次", "80人", 90, None, None]]
    with pytest.raises(WorkbookError) as caught:
        run(_workbook(tmp_path, rows), tmp_path / "out", now=NOW)
    assert [(p.code, p.cell) for p in caught.value.problems.errors] == [("indicator-unit-mismatch", "F2")]


# ------------------------------------------------------------------------------------------ pieces

def _record(**changes) -> ProjectRecord:
    values = dict(project_id="A1", name="测试项目", unit_name="某某局", unit_short_name="某某局", year=2021,
                  project_type="常规", template=None, report_date=dt.date(2022, 3, 1), excel_row=2,
                  figures=Figures(declared=80000, approved=80000, budget=100000, received=100000, spent=90000),
                  by_source=[{"source": "区本级资金", "declared": 80000, "approved": 80000, "budget": 80000,
                              "received": 80000, "spent": 70000},
                             {"source": "上年结转", "declared": 0, "approved": 0, "budget": 20000,
                              "received": 20000, "spent": 20000}])
    values.update(changes)
    return ProjectRecord(**values)


def _card(record) -> Scorecard:
    rows = [score_indicator(indicator("≥10件", "10件", 90))[0]]
    return Scorecard(record.project_id, record.figures.execution_rate,
                     execution_score(record.figures.execution_rate), rows)


def test_context_funding_block_in_wan_yuan():
    record = _record()
    values = context(record, _card(record))
    assert (values["年初预算数"], values["全年预算数"], values["全年执行数"]) == (D("0.08"), D("0.10"), D("0.09"))
    assert values["资金构成"]["当年财政拨款"] == {"年初预算数": D("0.08"), "全年预算数": D("0.08"),
                                           "全年执行数": D("0.07"), "执行率": D("0.875")}
    assert values["资金构成"]["上年结转资金"]["全年预算数"] == D("0.02")
    assert values["资金构成"]["其他资金"] == {"年初预算数": "", "全年预算数": "", "全年执行数": "", "执行率": ""}
    assert (str(values["执行率得分"]), str(values["总分"]), values["等级"]) == ("9", "99", "优")


def test_a_project_without_goal_sections_still_renders(tmp_path):
    record = _record(sections={})
    out = ScorecardRenderer(TEMPLATE).render(record, _card(record), tmp_path / "a.docx")
    texts = [[t for t, _ in row] for row in all_rows(docx.Document(str(out)))]
    assert texts[8][1] == "" and texts[8][4] == ""
    assert texts[5][3:6] == ["0.00", "0.02", "0.02"]  # 上年结转资金


def test_merge_groups_merges_equal_neighbours_within_their_group():
    def tc(text):
        return f"<w:tc><w:tcPr><w:tcW w:w=\"100\" w:type=\"dxa\"/></w:tcPr><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"

    rows = [("x", "一级指标", "二级指标"), ("", "产出", "数量"), ("", "产出", "数量"), ("", "产出", "质量"),
            ("", "效益", "质量"), ("", "效益", "质量"), ("", "", ""), ("", "", "")]
    xml = f"<w:tbl {nsdecls('w')}>" + "".join(f"<w:tr>{''.join(tc(t) for t in r)}</w:tr>" for r in rows)
    xml += "<w:tr><w:tc><w:tcPr><w:gridSpan w:val=\"3\"/></w:tcPr><w:p><w:r><w:t>总分</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
    tbl = parse_xml(xml)
    merge_groups(tbl)

    def states(column):
        out = []
        for tr in tbl.findall(qn("w:tr"))[1:7]:
            cell = tr.findall(qn("w:tc"))[column]
            merge = cell.find(f"{qn('w:tcPr')}/{qn('w:vMerge')}")
            text = "".join(t.text or "" for t in cell.iter(qn("w:t")))
            out.append((text, None if merge is None else merge.get(qn("w:val"), "continue")))
        return out

    assert states(1) == [("产出", "restart"), ("", "continue"), ("", "continue"), ("效益", "restart"),
                         ("", "continue"), ("", None)]
    # 质量 under 产出 and 质量 under 效益 are different groups; blank cells are never merged
    assert states(2) == [("数量", "restart"), ("", "continue"), ("质量", None), ("质量", "restart"),
                         ("", "continue"), ("", None)]


def test_scorecard_filename():
    assert scorecard_filename("A_项目.docx") == "A_项目_自评表.docx"
