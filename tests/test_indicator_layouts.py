"""绩效指标 in the official 自评表 layout (指标性质 | 指标值 | 度量单位, 完成值, 权重, 得分, 偏差原因分析及改进措施)
reads as the standard layout: the sample's indicators written that way score as the sample does."""

import re
from decimal import Decimal as D

import openpyxl
import pytest

from excel_eval.pipeline import check
from excel_eval.problems import Problems
from excel_eval.reading import read_workbook
from excel_eval.metrics import compute
from excel_eval.resources import sample_workbook
from excel_eval.scoring import score_project

from excel_typed import Num, write_excel_workbook

OFFICIAL = ["项目编号", "一级", "二级", "三级", "指标性质", "指标值", "度量单位", "完成值", "权重", "得分",
            "偏差原因分析及改进措施"]
# the sample's totals (tests/test_scorecard.py works them out)
SAMPLE_SCORES = {"510411-2021-XF001": (D("99.89"), "优"), "510411-2021-XF002": (D("99.98"), "优"),
                 "510411-2021-XF003": (D("96.73"), "优"), "510411-2021-ZJ001": (D("100.00"), "优")}


def sample_sheets() -> dict[str, list[list]]:
    book = openpyxl.load_workbook(sample_workbook())
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True) if any(v is not None for v in r)]
            for ws in book.worksheets}


def split(target: str, actual: str):
    """The way an accountant types a standard target into the official form's three columns."""
    match = re.fullmatch(r"([≥≤=]?)(\d+(?:\.\d+)?)(.*)", target)
    if match is None:
        return "定性", target, None, actual
    op, number, unit = match.groups()
    nature = {"≥": "≥", "≤": "≤", "=": "＝", "": "＝"}[op]
    if unit == "%":  # typed as 95% in Excel: 0.95 shown with a percent format
        done = re.fullmatch(r"(\d+)%", actual)
        return nature, Num(float(number) / 100, "0%"), "%", Num(int(done.group(1)) / 100, "0%")
    return nature, float(number) if "." in number else int(number), unit, actual.removesuffix(unit)


def official(rows: list[list]) -> list[list]:
    out = [OFFICIAL]
    for pid, level1, level2, name, target, actual, weight, score, deviation in rows[1:]:
        nature, value, unit, done = split(target, actual)
        out.append([pid, level1, level2, name, nature, value, unit, done, weight, score, deviation])
    return out


@pytest.fixture(scope="module")
def official_book(tmp_path_factory):
    sheets = sample_sheets()
    sheets.pop("汇总", None)
    sheets["绩效指标"] = official(sheets["绩效指标"])
    return write_excel_workbook(tmp_path_factory.mktemp("official") / "自评表格式.xlsx", sheets)


def test_the_official_layout_scores_as_the_sample(official_book):
    data = read_workbook(official_book, Problems())
    table = data.tables["绩效指标"]
    cards = {r.project_id: score_project(r, table) for r in compute(data)}
    assert {pid: (c.total, c.grade) for pid, c in cards.items()} == SAMPLE_SCORES


def test_the_three_columns_join_into_the_target_excel_would_show(official_book):
    frame = read_workbook(official_book, Problems()).tables["绩效指标"].frame
    targets = list(frame["年度指标值"])
    assert targets[:5] == ["≥15次", "=1人", "有效化解", "=100%", "≤40万元"]
    assert list(frame["实际完成值"])[:5] == ["17", "1", "达成", "100%", "39.56"]
    assert list(frame["指标性质"])[:5] == ["≥", "＝", "定性", "＝", "≤"]


def test_the_official_layout_checks_as_the_sample(official_book):
    # the sample's own warnings (punctuation in its narrative) and nothing on the indicators
    assert [str(p) for p in check(official_book).problems] == [str(p) for p in check(sample_workbook()).problems]


def test_an_unknown_nature_and_a_blank_value_are_located(tmp_path):
    sheets = sample_sheets()
    sheets.pop("汇总", None)
    rows = official(sheets["绩效指标"])
    rows[1][4] = "大约"
    rows[2][5] = None
    sheets["绩效指标"] = rows
    found = [(p.code, p.location) for p in check(write_excel_workbook(tmp_path / "账.xlsx", sheets)).problems
             if p.sheet == "绩效指标" and p.severity == "错误"]
    assert found == [("indicator-nature-invalid", "绩效指标!E2"), ("cell-missing", "绩效指标!F3")]


def test_a_fraction_with_a_percent_unit_is_pointed_out(tmp_path):
    sheets = sample_sheets()
    sheets.pop("汇总", None)
    rows = official(sheets["绩效指标"])
    rows[8][5] = 0.95  # 群众满意度 ≥ 0.95 typed in a General cell, 度量单位 %
    sheets["绩效指标"] = rows
    [note] = [p for p in check(write_excel_workbook(tmp_path / "账.xlsx", sheets)).problems
              if p.code == "indicator-unit-unknown"]
    assert note.location == "绩效指标!F9" and "按 0.95% 理解" in note.message and "95%" in note.message


def test_the_scorecard_prints_the_layout_it_was_given(official_book, tmp_path):
    import docx

    from excel_eval.pipeline import run

    result = run(official_book, tmp_path / "out")
    path = next(p for p in result.scorecards if "XF003" in p.name)
    rows = [[c.text for c in row.cells] for table in docx.Document(str(path)).tables for row in table.rows]
    header = next(r for r in rows if "指标\n性质" in r)  # the narrow columns' headings on two lines
    assert header[1:] == ["一级指标", "二级指标", "三级指标", "指标\n性质", "指标值", "度量\n单位", "实际\n完成值", "分值",
                          "得分", "偏差原因分析及改进措施"]
    body = rows[rows.index(header) + 1:]
    by_name = {r[3]: r for r in body if len(r) == 11}
    assert by_name["办结信访事项数量"][4:10] == ["≥", "7000", "件", "7126", "15", "15"]
    assert by_name["群众满意度"][4:10] == ["≥", "95%", "%", "96%", "10", "10"]
    assert by_name["外包服务费按月支付率"][4:10] == ["＝", "100%", "%", "75%", "5", "3.75"]
    assert by_name["及时解决群众诉求，减少信访上行压力"][4:7] == ["定性", "有效减少", ""]
    assert result.scores["510411-2021-XF003"].total == SAMPLE_SCORES["510411-2021-XF003"][0]


def test_split_forms_written_in_forked_workers_are_those_of_one_process(official_book, tmp_path):
    import datetime as dt

    import docx

    from excel_eval.batch import START_METHOD
    from excel_eval.pipeline import run

    if START_METHOD != "fork":
        pytest.skip("processes cannot fork here")
    tables = {}
    for workers in (1, 2):
        result = run(official_book, tmp_path / f"w{workers}", workers=workers, now=dt.datetime(2026, 1, 1, 9))
        assert len(result.scorecards) == 4 and not result.problems.errors
        tables[workers] = {p.name: [[c.text for c in r.cells] for t in docx.Document(str(p)).tables for r in t.rows]
                           for p in result.scorecards}
    assert tables[1] == tables[2]
    assert all(any("指标\n性质" in row for row in rows) for rows in tables[2].values())  # the split form in each
