"""The workbook parsed while the program starts (read_ahead.py): the reader takes it up only for the same,
unchanged file, and reads exactly what it reads without it."""

import os
import shutil
from pathlib import Path

import pytest
from workbooks import standard_sheets, standard_workbook

from excel_eval import read_ahead as ahead
from excel_eval.cli import main
from excel_eval.problems import Problems, UsageError
from excel_eval.reading import engines, read_workbook
from excel_eval.resources import sample_workbook


@pytest.fixture
def sample(tmp_path):
    return shutil.copy2(sample_workbook(), tmp_path / "示例.xlsx")


def tables_and_problems(path):
    problems = Problems()
    data = read_workbook(path, problems)
    tables = {name: (table.title, table.columns, table.letters) for name, table in data.tables.items()}
    return tables, [(p.code, p.location, p.value, p.message) for p in problems]


def test_the_contract_sheets_are_parsed_in_the_order_they_are_read(sample):
    ahead.read_ahead(sample)
    parsed = ahead.take(sample)
    assert list(parsed.sheets) == ["项目", "预算", "支出明细", "文字说明", "绩效指标"]
    assert parsed.sheets["支出明细"].result().height > 60  # the sample's 66 payments and the header
    assert ahead.take(sample) is None  # taken once


def test_the_reader_takes_the_parsed_sheets_and_reads_the_same(sample, monkeypatch):
    expected = tables_and_problems(sample)
    opened = []
    real = engines._calamine_book
    monkeypatch.setattr(engines, "_calamine_book", lambda *args: opened.append(args) or real(*args))
    ahead.read_ahead(sample)
    assert tables_and_problems(sample) == expected
    assert opened == []  # the workbook read ahead, not opened again
    assert ahead.take(sample) is None


def test_a_workbook_changed_after_it_was_read_ahead_is_read_afresh(tmp_path):
    path = standard_workbook(tmp_path / "台账.xlsx")
    ahead.read_ahead(path)
    sheets = standard_sheets()
    sheets["项目"][1][1] = "改过名字的专项经费"
    standard_workbook(tmp_path / "新.xlsx", **sheets)
    os.replace(tmp_path / "新.xlsx", path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a later save, however fast the disk
    tables, _ = tables_and_problems(path)
    assert tables["项目"][1]["项目名称"] == ["改过名字的专项经费", "软件维护费"]


def test_nothing_is_read_ahead_of_a_file_the_reader_will_explain(tmp_path):
    missing, text, broken = tmp_path / "没有.xlsx", tmp_path / "台账.csv", tmp_path / "坏.xlsx"
    text.write_text("项目编号,项目名称\n", encoding="utf-8")
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    for path in (missing, text, broken):
        ahead.read_ahead(path)
        assert ahead.take(path) is None
    with pytest.raises(UsageError) as raised:
        read_workbook(broken, Problems())
    assert "坏.xlsx" in str(raised.value)


def test_run_reads_the_workbook_ahead_of_the_imports(sample, tmp_path, monkeypatch):
    from click.testing import CliRunner

    started = []
    monkeypatch.setattr(ahead, "read_ahead", lambda path: started.append(path))
    result = CliRunner().invoke(main, ["run", "-q", str(sample), "-o", str(tmp_path / "out")])
    assert result.exit_code in (0, 1), result.output
    assert started == [sample]


def test_a_sheet_outside_the_contract_is_read_once_the_parsing_is_done(tmp_path):
    sheets = standard_sheets()
    sheets["备注"] = [["说明"], ["本表不是标准表"]]
    path = standard_workbook(tmp_path / "台账.xlsx", **sheets)
    ahead.read_ahead(path)
    names, load = engines.open_engine(path, "calamine")
    assert "备注" in names
    assert [row[:1] for row in load("备注").rows] == [["说明"], ["本表不是标准表"]]
    assert [row[0] for row in load("项目").rows] == ["项目编号", "P1", "P2"]


CONVERTED = Path(__file__).parent / "fixtures" / "converted"
LEDGERS = ("standard", "three_column", "yonyou", "kingdee", "nc_journal")


@pytest.mark.parametrize("made", [*("converted/" + name for name in ("sample.xls", "sample.ods", "typed.xls",
                                                                     "typed.ods", "sample.xls as .xlsx")),
                                  *("ledger/" + name for name in LEDGERS)])
def test_other_formats_and_ledger_exports_read_the_same_when_read_ahead(made, tmp_path):
    import ledger_workbooks

    kind, name = made.split("/")
    if kind == "converted":
        source = CONVERTED / name.split(" as ")[0]
        path = shutil.copy(source, tmp_path / (source.stem + (".xlsx" if " as " in name else source.suffix)))
    else:
        path = ledger_workbooks.write_book(tmp_path / f"{name}.xlsx", getattr(ledger_workbooks, name))
    expected = tables_and_problems(path)
    ahead.read_ahead(path)
    assert tables_and_problems(path) == expected
    assert ahead.take(path) is None
