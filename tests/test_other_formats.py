""".xls and .ods workbooks (saved by LibreOffice, tests/fixtures/converted/) read as the .xlsx they came from:
values, number formats, scores; an .xlsb is recognised; files that cannot be read say so in Chinese."""

import shutil
import zipfile
from pathlib import Path

import pytest

from excel_eval.metrics import compute
from excel_eval.pipeline import check
from excel_eval.problems import Problems, UsageError
from excel_eval.reading import read_workbook
from excel_eval.reading.package import ODS, XLS, XLSB, XLSX, check_package
from excel_eval.resources import sample_workbook
from excel_eval.scoring import score_project

from excel_typed import write_excel_workbook
from test_typed_values import sheets

CONVERTED = Path(__file__).parent / "fixtures" / "converted"


def records(path):
    data = read_workbook(path, Problems())
    return data, {r.project_id: r for r in compute(data)}


@pytest.mark.parametrize("name, kind", [("sample.xls", XLS), ("sample.ods", ODS)])
def test_the_sample_saved_as_xls_or_ods_gives_the_samples_figures(name, kind):
    data, ours = records(CONVERTED / name)
    _, theirs = records(sample_workbook())
    assert data.kind == kind and list(ours) == list(theirs)
    for pid, record in theirs.items():
        other = ours[pid]
        assert other.figures == record.figures
        assert (other.by_source, other.by_category, other.by_month) == (record.by_source, record.by_category,
                                                                        record.by_month)
        assert other.sections == record.sections
        assert (other.year, other.report_date, other.received_date) == (record.year, record.report_date,
                                                                        record.received_date)


@pytest.mark.parametrize("name", ["sample.xls", "sample.ods"])
def test_the_sample_saved_as_xls_or_ods_checks_as_the_sample(name):
    assert [str(p) for p in check(CONVERTED / name).problems] == [str(p) for p in check(sample_workbook()).problems]


@pytest.mark.parametrize("name", ["typed.xls", "typed.ods"])
def test_number_formats_of_xls_and_ods_cells_are_read(tmp_path, name):
    xlsx = write_excel_workbook(tmp_path / "typed.xlsx", sheets())
    frames = [read_workbook(p, Problems()).tables["绩效指标"].frame for p in (xlsx, CONVERTED / name)]
    for column in ("年度指标值", "实际完成值"):
        seen = [[(str(v), getattr(v, "number", None), getattr(v, "unit", None)) for v in f[column]] for f in frames]
        assert seen[0] == seen[1], column


@pytest.mark.parametrize("name", ["typed.xls", "typed.ods"])
def test_xls_and_ods_score_as_the_xlsx(tmp_path, name):
    xlsx = write_excel_workbook(tmp_path / "typed.xlsx", sheets())
    scores = []
    for path in (xlsx, CONVERTED / name):
        data, by_id = records(path)
        cards = {pid: score_project(r, data.tables["绩效指标"]) for pid, r in by_id.items()}
        scores.append({pid: (c.total, c.grade, [s.score for s in c.indicators]) for pid, c in cards.items()})
    assert scores[0] == scores[1]
    assert [(p.code, p.location) for p in check(CONVERTED / name).problems] == \
        [(p.code, p.location) for p in check(xlsx).problems]


def test_kinds_are_told_by_content_not_by_name(tmp_path):
    renamed = tmp_path / "其实是xls.xlsx"
    shutil.copy(CONVERTED / "sample.xls", renamed)
    assert check_package(renamed) == XLS
    ods = tmp_path / "表.xlsx"
    shutil.copy(CONVERTED / "sample.ods", ods)
    assert check_package(ods) == ODS
    assert check_package(sample_workbook()) == XLSX
    xlsb = tmp_path / "二进制.xlsb"
    with zipfile.ZipFile(xlsb, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00")
    assert check_package(xlsb) == XLSB


def test_a_damaged_xlsb_is_a_chinese_usage_error(tmp_path):
    xlsb = tmp_path / "二进制.xlsb"
    with zipfile.ZipFile(xlsb, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00")
    with pytest.raises(UsageError, match="无法读取工作簿 二进制.xlsb：文件已损坏"):
        read_workbook(xlsb, Problems())


def test_a_damaged_xls_names_the_file(tmp_path):
    bad = tmp_path / "旧.xls"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    with pytest.raises(UsageError, match="无法读取 旧.xls：文件已损坏"):
        read_workbook(bad, Problems())


@pytest.mark.parametrize("name", ["sample.xls", "sample.ods"])
def test_a_run_on_the_xls_or_ods_gives_the_samples_reports_and_a_summary_workbook(name, tmp_path, sample_run):
    from urllib.parse import unquote

    import openpyxl

    from conftest import RUN_TIME
    from excel_eval.pipeline import run
    from test_ledger_sample import docx_text

    book = tmp_path / name
    shutil.copy(CONVERTED / name, book)
    before = book.read_bytes()
    result = run(book, tmp_path / "out", now=RUN_TIME)
    assert book.read_bytes() == before  # the original is never changed
    assert [docx_text(p) for p in result.reports] == [docx_text(p) for p in sample_run.reports]
    assert [docx_text(p) for p in result.scorecards] == [docx_text(p) for p in sample_run.scorecards]
    assert not result.summary.in_workbook and result.summary.target == tmp_path / "out" / f"sample_汇总.xlsx"

    def cells(path):
        return [[(c.value, c.number_format) for c in row] for row in openpyxl.load_workbook(path)["汇总"].iter_rows()]

    assert cells(result.summary.target) == cells(sample_run.summary.target)
    links = [c.hyperlink.target for row in openpyxl.load_workbook(result.summary.target)["汇总"].iter_rows()
             for c in row if c.hyperlink]
    assert len(links) == 4 and all((result.summary.target.parent / unquote(t)).is_file() for t in links)
