"""The sample's payments pasted as finance software exports them give the sample's reports, 自评表 and 汇总.

Each layout of tests/ledger_workbooks.py holds the sample's 65 payments (the other sheets copied from the
sample); a run on it must write the same report texts, the same 自评表 texts and the same 汇总 cells as the run
on the sample itself (conftest.sample_run). A control workbook, the sample's own 支出明细 written the same way,
shows that the copying changes nothing by itself.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from docx import Document

import ledger_workbooks as lw
from excel_eval.pipeline import run
from excel_eval.problems import Problems
from excel_eval.reading import read_workbook
from workbooks import read_with_both_engines

RUN_TIME = dt.datetime(2026, 11, 27, 9, 30)  # as conftest.sample_run
BUILDERS = {**lw.LAYOUTS, "对照（标准格式）": lw.standard}


def docx_text(path) -> str:
    """A document's paragraphs and table cells, in order."""
    document = Document(str(path))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def summary_cells(book) -> list[list]:
    ws = openpyxl.load_workbook(book)["汇总"]
    return [[(c.value, c.number_format, c.hyperlink.target if c.hyperlink else None) for c in row]
            for row in ws.iter_rows()]


def outputs(result) -> dict:
    return {"reports": {p.name: docx_text(p) for p in result.reports},
            "scorecards": {p.name: docx_text(p) for p in result.scorecards},
            "summary": summary_cells(result.summary.target)}


@pytest.fixture(scope="module")
def sample_outputs(sample_run):
    return outputs(sample_run)


@pytest.fixture(scope="module")
def ledger_runs(tmp_path_factory):
    runs = {}
    for name, build in BUILDERS.items():
        folder = tmp_path_factory.mktemp("ledger")
        book = lw.write_book(folder / lw.SAMPLE.name, build)
        runs[name] = run(book, folder / "out", now=RUN_TIME)
    folder = tmp_path_factory.mktemp("ledger")
    runs["三栏式明细账（openpyxl 合并表头）"] = run(lw.three_column_openpyxl(folder / lw.SAMPLE.name), folder / "out",
                                              now=RUN_TIME)
    return runs


LAYOUT_NAMES = list(BUILDERS) + ["三栏式明细账（openpyxl 合并表头）"]


@pytest.mark.parametrize("layout", LAYOUT_NAMES)
def test_a_ledger_export_gives_the_samples_reports_scorecards_and_summary(layout, ledger_runs, sample_outputs):
    result = ledger_runs[layout]
    assert len(result.reports) == 4 and len(result.scorecards) == 4
    got = outputs(result)
    assert got["reports"] == sample_outputs["reports"]
    assert got["scorecards"] == sample_outputs["scorecards"]
    assert got["summary"] == sample_outputs["summary"]


def test_the_summary_figures_are_the_samples_by_hand(ledger_runs):
    """支出数 of each project in the 汇总 as the sample's seed reports state them (万元)."""
    spent = {"510411-2021-XF001": Decimal("39.56"), "510411-2021-XF002": Decimal("14.97"),
             "510411-2021-XF003": Decimal("43.67"), "510411-2021-ZJ001": Decimal("0.08")}
    for layout, result in ledger_runs.items():
        ws = openpyxl.load_workbook(result.summary.target)["汇总"]
        figures = {ws.cell(r, 1).value: Decimal(str(ws.cell(r, 7).value)) for r in range(3, 7)}
        assert figures == spent, layout


EXPECTED_WARNINGS = {
    "三栏式明细账": ["ledger-closing-skipped"],
    "三栏式明细账（openpyxl 合并表头）": ["ledger-closing-skipped"],
    "用友明细账": [],
    "金蝶EAS凭证": ["ledger-account-dropped"],
    "用友NC序时账": ["ledger-account-dropped"] * 3,
    "对照（标准格式）": [],
}


@pytest.mark.parametrize("layout", LAYOUT_NAMES)
def test_what_each_layout_leaves_out_is_said(layout, ledger_runs, sample_run):
    result = ledger_runs[layout]
    sample = [p.code for p in sample_run.problems]
    assert [p.code for p in result.problems if p.code.startswith("ledger-")] == EXPECTED_WARNINGS[layout]
    assert [p.code for p in result.problems if not p.code.startswith("ledger-")] == sample


def sample_records() -> list[tuple]:
    """The sample's 支出明细 as the standard reader gives it, without the row numbers."""
    problems = Problems()
    frame = read_workbook(lw.SAMPLE, problems).tables["支出明细"].frame.drop(columns="_row")
    return sorted(map(tuple, frame.itertuples(index=False)), key=repr)


@pytest.mark.parametrize("layout", ["用友明细账", "金蝶EAS凭证"])
def test_an_export_with_every_dimension_reads_into_the_standard_table(layout, tmp_path):
    """With 支出类别 and 资金来源 among the auxiliary dimensions, the table is the standard one row for row, by
    every reader engine."""
    book = lw.write_book(tmp_path / "账.xlsx", lw.LAYOUTS[layout])
    tables, _ = read_with_both_engines(book)
    title, records, letters, units = tables["支出明细"]
    got = sorted((tuple(r[k] for k in r if k != "_row") for r in records), key=repr)
    assert got == sample_records()
    assert units == {"金额": "元"}


def test_the_three_column_ledger_table(tmp_path):
    """The three-column ledger's rows: 66 (one payment split), dates from 2021年 + 月 + 日, vouchers 字-号, the
    credit a negative amount at its 贷方 cell, and the split payment's two rows netting to the sample's figure."""
    book = lw.write_book(tmp_path / "账.xlsx", lw.three_column)
    problems = Problems()
    table = read_workbook(book, problems).tables["支出明细"]
    frame = table.frame
    assert len(frame) == 66
    split = frame[frame["摘要"].str.contains("记-03-008") | (frame["凭证号"] == "记-03-008")]
    assert list(split["凭证号"]) == ["记-03-008", "记-03-018"]
    assert list(split["金额"]) == [2393600, -200000]  # 23,936.00 − 2,000.00 = the sample's 21,936.00
    assert list(split["支付日期"]) == [dt.date(2021, 3, 16), dt.date(2021, 3, 30)]
    assert set(split["项目编号"]) == {"510411-2021-XF001"}
    credit_row = int(split["_row"].iloc[1])
    assert table.cell("金额", credit_row) == f"G{credit_row}" and table.cell("金额", 6) == "F6"
    assert frame["金额"].sum() == 98280000  # 395,600 + 149,700 + 436,700 + 800 元


@pytest.mark.parametrize("layout", list(lw.LAYOUTS))
def test_every_reader_engine_reads_each_layout_alike(layout, tmp_path):
    """calamine, openpyxl and the stream reader give the same table and problems (read_with_both_engines
    asserts it), formulas with cached values included."""
    tables, problems = read_with_both_engines(lw.write_book(tmp_path / "账.xlsx", lw.LAYOUTS[layout]))
    assert len(tables["支出明细"][1]) == (66 if layout == "三栏式明细账" else 65)
    assert not [p for p in problems if p[1] == "错误"]
