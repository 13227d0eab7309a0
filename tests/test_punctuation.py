"""Punctuation rules (excel_eval.punctuation): each rule on its own texts, the warnings `check` gives for the
sample, and `run --fix-punctuation`, which fixes the reports and leaves the workbook as it was."""

import hashlib
import shutil

import docx
import openpyxl
import pytest

from excel_eval import punctuation
from excel_eval.pipeline import check, run
from excel_eval.resources import sample_workbook

from test_scorecard import NOW


# text, is a whole paragraph, the codes found (in order), the fixed text
CASES = [
    # half-width marks between Chinese characters; a bracket pair that touches or holds Chinese
    ("资金用到实处,确保资金不浪费。", True, ["half-width"], "资金用到实处，确保资金不浪费。"),
    ("一是;二是:三是?好!", True, ["half-width"] * 4, "一是；二是：三是？好！"),
    ("(1)贯彻落实党中央的方针。", True, ["half-width"] * 2, "（1）贯彻落实党中央的方针。"),
    ("开通热线电话(96097)，设置坐席。", True, ["half-width"] * 2, "开通热线电话（96097），设置坐席。"),
    ("乡镇(街道)数量", False, ["half-width"] * 2, "乡镇（街道）数量"),
    # not between Chinese: numbers, times, Latin text
    ("共1,000元，于10:30完成。", True, [], "共1,000元，于10:30完成。"),
    ("use A, B (and C).", True, [], "use A, B (and C)."),
    # < > inside 《》 (full-width ＜＞ too); outside 《》 they stay
    ("《关于印发<关于开展集中攻坚实施方案>的通知》", False, ["title-marks"] * 2, "《关于印发〈关于开展集中攻坚实施方案〉的通知》"),
    ("《关于印发＜中央信访工作的意见＞的通知》", False, ["title-marks"] * 2, "《关于印发〈中央信访工作的意见〉的通知》"),
    ("数值<5时不计。", True, [], "数值<5时不计。"),
    # the year of a 文号
    ("（攀仁委群[2016]23号）", False, ["document-number"], "（攀仁委群〔2016〕23号）"),
    ("攀仁采购［2016］031号", False, ["document-number"], "攀仁采购〔2016〕031号"),
    ("财预(2020)10号", False, ["document-number"], "财预〔2020〕10号"),
    ("共[2016]条意见", False, [], "共[2016]条意见"),  # not a 文号
    # a paragraph's final mark: added, or a trailing comma closed; lists may end with ；or ：
    ("运行维护工作，保障软件正常使用", True, ["final-mark"], "运行维护工作，保障软件正常使用。"),
    ("确保每一分钱发挥最大的用处，", True, ["final-mark"], "确保每一分钱发挥最大的用处。"),
    ("确保每一分钱发挥最大的用处,", True, ["final-mark"], "确保每一分钱发挥最大的用处。"),  # one fix, not two
    ("具体如下：", True, [], "具体如下："),
    ("（1）完成值班工作；", True, [], "（1）完成值班工作；"),
    ("他说：“已完成。”", True, [], "他说：“已完成。”"),
    ("仁和区财政局", False, [], "仁和区财政局"),  # inside a sentence: the template ends it
]


@pytest.mark.parametrize("text, paragraph, codes, fixed", CASES)
def test_rules(text, paragraph, codes, fixed):
    found = punctuation.findings(text, paragraph)
    assert [f.rule.removeprefix("punctuation-") for f in found] == codes
    assert punctuation.fix(text, paragraph) == fixed
    assert punctuation.findings(fixed, paragraph) == []  # a fixed text is clean


def test_paragraph_sections_of_the_bundled_templates(sample_run):
    from excel_eval.render import load_templates

    templates = load_templates()
    standard = punctuation.paragraph_sections(templates["标准报告"].path)
    assert {"职能", "立项依据", "财务管理", "相关建议"} <= standard
    assert not {"到位评价", "偏差原因"} & standard  # used inside a sentence
    extra = punctuation.paragraph_sections(templates["追加项目报告"].path)
    assert "基本情况" in extra and not {"拨款部门", "资金使用", "绩效目标"} & extra


def test_warnings_for_the_sample():
    """Every warning for the bundled sample, judged by hand against its 文字说明 (all are real)."""
    problems = [p for p in check(sample_workbook()).problems if p.code.startswith("punctuation-")]
    assert [(p.code.removeprefix("punctuation-"), p.location) for p in problems] == [
        ("title-marks", "文字说明!C8"),  # 6 × <> and ＜＞ inside 《》
        ("half-width", "文字说明!C16"),  # (1)贯彻
        ("title-marks", "文字说明!C19"),
        ("title-marks", "文字说明!C27"),
        ("document-number", "文字说明!C27"),  # 攀仁委群[2016]23号, 攀仁采购[2016]031号
        ("half-width", "文字说明!C29"),  # 热线电话(96097)
        ("half-width", "文字说明!C44"),  # 实处,确保 原则,确保 用处,
        ("final-mark", "文字说明!C44"),  # the paragraph ends with ","
        ("final-mark", "文字说明!C45"),  # …保障软件正常使用
    ]
    assert "等 6 处" in problems[0].message and "--fix-punctuation" in problems[0].message
    assert "“攀仁委群[2016]23号）”" in problems[4].message


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fix_punctuation_changes_the_reports_only(tmp_path):
    book = tmp_path / sample_workbook().name
    shutil.copy2(sample_workbook(), book)
    before = openpyxl.load_workbook(book)["文字说明"]
    narrative = [[c.value for c in row] for row in before.iter_rows()]
    result = run(book, tmp_path / "out", now=NOW, fix_punctuation=True)

    text = "\n".join(p.text for report in result.reports for p in docx.Document(str(report)).paragraphs)
    assert "攀仁委群〔2016〕23号" in text and "[2016]" not in text
    assert "《攀枝花市仁和区人民政府办公室关于印发〈" in text or "印发〈" in text
    assert "<" not in text and "＜" not in text
    assert "（1）贯彻落实" in text and "(1)" not in text
    assert "资金用到实处，确保资金不浪费的原则，确保每一分钱发挥最大的用处。" in text
    assert "保障软件正常使用。" in text
    card = "\n".join(c.text for path in result.scorecards for t in docx.Document(str(path)).tables
                     for row in t.rows for c in row.cells)
    assert "<" not in card and "[2016]" not in card

    after = openpyxl.load_workbook(book)
    assert [[c.value for c in row] for row in after["文字说明"].iter_rows()] == narrative  # the workbook as it was
    # the 汇总 keeps the names as written
    names = [after["汇总"].cell(row, 2).value for row in range(3, 7)]
    assert names == [c.value for c in list(after["项目"].iter_cols(min_col=2, max_col=2, min_row=2))[0]][:4]


def test_a_line_without_the_marks_the_rules_look_for_has_only_the_final_mark_finding():
    """findings' shortcut: without any of , ; : ? ! ( 《 号, the other rules find nothing, on any text."""
    import random

    from excel_eval import punctuation

    rng = random.Random(3)
    alphabet = "，。；：、（）《》〈〉？！“”,.;:?!()<>[]【】〔〕号第年2021文件 \t甲乙abc"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        for paragraph in (True, False):
            full = []
            for code, _, rule in punctuation.RULES:
                if code != "punctuation-final-mark" or paragraph:
                    for new in rule(text):
                        full = [old for old in full if not punctuation._overlap(old, new)] + [new]
            assert punctuation.findings(text, paragraph) == sorted(full, key=lambda f: (f.start, f.end)), text
