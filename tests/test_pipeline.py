"""End to end: a workbook in, reports and the 汇总 sheet out."""

import datetime as dt
import zipfile

import docx
import openpyxl
import pytest

from excel_eval.pipeline import report_filename, run, safe_filename
from excel_eval.problems import WorkbookError
from excel_eval.schema import SUMMARY_HEADERS

from workbooks import standard_sheets, standard_workbook, write_workbook

NOW = dt.datetime(2026, 11, 27, 9, 30)


def test_run_writes_reports_and_summary(tmp_path):
    book = standard_workbook(tmp_path / "账.xlsx")
    result = run(book, tmp_path / "out", now=NOW)
    assert [p.name for p in result.reports] == ["P1_测试专项经费.docx", "P2_软件维护费.docx"]
    text = "\n".join(p.text for p in docx.Document(str(result.reports[1])).paragraphs)
    assert "该项目为2021年追加项目，财政部门于2021年5月拨付资金。" in text
    assert "该项目总计划800元，其中区级资金800元。" in text
    assert "支付依据等合规合法，与预算相符。" in text

    summary = openpyxl.load_workbook(book)["汇总"]
    assert [c.value for c in summary[2]] == list(SUMMARY_HEADERS)
    row = [c.value for c in summary[3]]
    assert row[:3] == ["P1", "测试专项经费", "某某县测试局"]
    assert row[3:9] == [10, 10, 1, pytest.approx(9.500050), pytest.approx(0.950005), pytest.approx(0.499950)]
    assert summary["D3"].number_format == "#,##0.00" and summary["H3"].number_format == "0.00%"
    assert summary["L3"].hyperlink.target == "out/P1_测试专项经费.docx"
    assert summary.freeze_panes == "A3"
    assert "自动生成" in summary["A1"].value
    assert result.summary.backup.exists() and result.problems_file is None


def test_second_run_replaces_the_summary_and_keeps_the_rest(tmp_path):
    book = standard_workbook(tmp_path / "账.xlsx")
    run(book, tmp_path / "out", now=NOW)
    first = {i.filename: zipfile.ZipFile(book).read(i) for i in zipfile.ZipFile(book).infolist()}
    run(book, tmp_path / "out", now=NOW)
    names = openpyxl.load_workbook(book).sheetnames
    assert names == ["项目", "预算", "支出明细", "文字说明", "汇总"]
    second = zipfile.ZipFile(book)
    assert {i.filename for i in second.infolist()} == set(first)
    for name in ("xl/worksheets/sheet1.xml", "xl/worksheets/sheet3.xml"):
        assert second.read(name) == first[name]


def test_errors_stop_the_run_before_anything_is_written(tmp_path):
    sheets = standard_sheets()
    sheets["支出明细"][1][2] = "三千"
    sheets["预算"][2][0] = "P9"
    book = write_workbook(tmp_path / "账.xlsx", sheets)
    before = book.read_bytes()
    with pytest.raises(WorkbookError) as caught:
        run(book, tmp_path / "out", now=NOW)
    assert {"amount-invalid", "project-unknown", "budget-missing"} <= set(caught.value.problems.codes())
    assert book.read_bytes() == before
    assert not list((tmp_path / "out").glob("*.docx"))
    problems_file = tmp_path / "out" / "问题清单.csv"
    content = problems_file.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf") and "支出明细".encode() in content


def test_stale_reports_are_removed_and_user_files_kept(tmp_path):
    book = standard_workbook(tmp_path / "账.xlsx")
    out = tmp_path / "out"
    run(book, out, now=NOW)
    (out / "我的笔记.docx").write_bytes(b"mine")
    sheets = standard_sheets()
    sheets["项目"][1][1] = "改名后的专项经费"
    result = run(write_workbook(book, sheets), out, now=NOW)
    assert sorted(p.name for p in out.glob("*.docx")) == ["P1_改名后的专项经费.docx", "P2_软件维护费.docx", "我的笔记.docx"]
    assert [p.name for p in result.removed] == ["P1_测试专项经费.docx"]


def test_read_only_workbook_gets_a_separate_summary(tmp_path):
    book = standard_workbook(tmp_path / "账.xlsx")
    before = book.read_bytes()
    book.chmod(0o444)
    try:
        result = run(book, tmp_path / "out", now=NOW)
    finally:
        book.chmod(0o644)
    assert book.read_bytes() == before
    assert not result.summary.in_workbook
    assert result.summary.target == tmp_path / "out" / "账_汇总.xlsx"
    summary = openpyxl.load_workbook(result.summary.target)["汇总"]
    assert summary["L3"].hyperlink.target == "P1_测试专项经费.docx"
    assert len(result.reports) == 2


@pytest.mark.parametrize("text, expected", [
    ('a/b\\c:d*e?f"g<h>i|j', "a_b_c_d_e_f_g_h_i_j"),
    ("名称. ", "名称"),
    ("CON", "_CON"),
    # 255 bytes less 10 for "_自评表", 4 for a counter, 5 for ".docx", 36 for the temporary suffix: 200 bytes,
    # of which "…" takes 3
    ("x" * 300, "x" * 197 + "…"),
])
def test_safe_filenames(text, expected):
    assert safe_filename(text) == expected


def test_report_names_are_unique():
    class R:
        project_id, name = "A", "同名"
    used = set()
    assert [report_filename(R, used) for _ in range(3)] == ["A_同名.docx", "A_同名_2.docx", "A_同名_3.docx"]


def test_a_report_open_in_word_is_named_and_the_others_are_written(tmp_path, monkeypatch):
    """Word holds an open .docx locked on Windows: replacing it raises PermissionError."""
    import os

    real_replace = os.replace

    def replace(source, target):
        if os.path.basename(target).startswith("P1_"):
            raise PermissionError(13, "Permission denied", str(target))
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    book = standard_workbook(tmp_path / "账.xlsx")
    result = run(book, tmp_path / "out", now=NOW)
    assert [p.name for p in result.reports] == ["P2_软件维护费.docx"]
    locked = [p for p in result.problems if p.code == "report-locked"]
    assert len(locked) == 1 and "P1_测试专项经费.docx" in locked[0].message and "Word" in locked[0].message
    assert result.summary.in_workbook  # the summary is still written, without a link for P1
    summary = openpyxl.load_workbook(book)["汇总"]
    assert summary["L3"].value is None and summary["L4"].hyperlink.target == "out/P2_软件维护费.docx"


def test_a_run_leaves_no_reference_cycles_and_the_collector_as_it_was(tmp_path, monkeypatch):
    """The run pauses Python's cyclic garbage collector (pipeline.collecting_later) on the ground that what it
    makes has no reference cycles: counted here on the sample with indicators, every document kind included."""
    import gc
    import shutil

    from excel_eval import pipeline
    from excel_eval.resources import sample_workbook

    book = shutil.copy(sample_workbook(), tmp_path / "账.xlsx")
    collecting = []
    reading = pipeline._read
    monkeypatch.setattr(pipeline, "_read", lambda *a: collecting.append(gc.isenabled()) or reading(*a))
    gc.collect()
    result = run(book, tmp_path / "out", now=NOW, combined=True, workers=1)
    assert collecting == [False]
    assert result.scorecards and result.combined  # the 自评表 and the combined document were written too
    assert gc.isenabled()
    assert gc.collect() == 0


def _problem_list(problems):
    return [(p.code, p.severity, p.location, p.value, p.message) for p in problems]


@pytest.mark.parametrize("case", ["clean", "warnings", "errors"])
def test_checks_in_a_forked_process_find_what_they_find_in_this_one(tmp_path, monkeypatch, case):
    """A large ledger's checks run in a forked process while this one makes the records
    (pipeline.CHECK_ALONGSIDE_FROM, here from the first payment): the same problems in the same order, the
    same reports, and errors still stop the run before anything is written."""
    from excel_eval import pipeline

    sheets = standard_sheets()
    if case in ("warnings", "errors"):
        sheets["支出明细"][1][1] = dt.date(2019, 3, 1)  # outside the budget year: a warning
        sheets["文字说明"][1][2] = "半角,标点夹在汉字之间"  # a punctuation warning
    if case == "errors":
        sheets["支出明细"][2][2] = "三千"  # an unreadable amount
        sheets["预算"].append(["P9", "区本级资金", 1, 1, 1, 1, None])  # a project that is not in 项目
    outcomes = []
    for alongside_from in (10**9, 0):
        monkeypatch.setattr(pipeline, "CHECK_ALONGSIDE_FROM", alongside_from)
        book = write_workbook(tmp_path / f"账{alongside_from}.xlsx", sheets)
        out = tmp_path / f"out{alongside_from}"
        try:
            result = run(book, out, now=NOW, workers=1)
        except WorkbookError as exc:
            outcomes.append(("stopped", _problem_list(exc.problems), sorted(p.name for p in out.glob("*.docx"))))
            continue
        texts = [[p.text for p in docx.Document(str(r)).paragraphs] for r in result.reports]
        outcomes.append(("written", _problem_list(result.problems), texts))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == ("stopped" if case == "errors" else "written")
    assert bool(outcomes[0][1]) == (case != "clean")
    codes = [p[0] for p in outcomes[0][1]]
    if case == "errors":  # the reader's error, then those of the checks, then their warnings
        assert codes == ["amount-invalid", "project-unknown", "date-outside-year", "punctuation-half-width",
                         "punctuation-final-mark"] and outcomes[0][2] == []
    if case == "warnings":
        assert codes == ["date-outside-year", "punctuation-half-width", "punctuation-final-mark"]


def test_work_alongside_comes_back_or_is_done_here():
    """batch.alongside: the forked work's result or exception comes back; if the child dies without a word,
    the work is done in this process."""
    import os

    from excel_eval import batch

    assert batch.alongside(lambda: os.getpid(), lambda: os.getpid()) != (os.getpid(), os.getpid())
    assert batch.alongside(lambda: [1, "二"], lambda: 3) == ([1, "二"], 3)
    with pytest.raises(ZeroDivisionError):
        batch.alongside(lambda: 1 / 0, lambda: None)
    here = os.getpid()
    assert batch.alongside(lambda: os.getpid() if os.getpid() == here else os._exit(9), lambda: 0) == (here, 0)
