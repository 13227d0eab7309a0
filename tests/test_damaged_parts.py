"""A workbook with a damaged part: every reader engine says which sheet, in Chinese, and what to do."""

import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from excel_eval.cli import main
from excel_eval.problems import Problems, UsageError
from excel_eval.reading import ENGINES, read_workbook

from workbooks import standard_sheets, write_workbook


def damaged(tmp_path: Path, name: str, change) -> Path:
    book = write_workbook(tmp_path / "原.xlsx", standard_sheets())
    out = tmp_path / f"{name}.xlsx"
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info, data)
    return out


NARRATIVE = "xl/worksheets/sheet4.xml"  # 文字说明, the fourth sheet openpyxl writes
CASES = {
    # bytes that are not UTF-8 in a text (openpyxl writes 的 as &#30340;)
    "乱码": (lambda n, d: d.replace(b"P1&#30340;", b"P1\xff\xfe\x80", 1) if n == NARRATIVE else d,
           "“文字说明”工作表已损坏：其中有不是 UTF-8 编码的字节"),
    "截断": (lambda n, d: d[:len(d) // 2] if n == NARRATIVE else d, "“文字说明”工作表已损坏"),
    "缺表": (lambda n, d: None if n == NARRATIVE else d, "“文字说明”工作表已损坏"),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", list(CASES))
def test_a_damaged_sheet_is_named_by_every_engine(tmp_path, engine, name):
    change, words = CASES[name]
    if engine == "openpyxl" and name == "缺表":  # openpyxl leaves out a sheet whose part is missing
        problems = Problems()
        read_workbook(damaged(tmp_path, name, change), problems, engine=engine)
        assert problems.codes() == ["sheet-missing"]
        return
    with pytest.raises(UsageError) as refused:
        read_workbook(damaged(tmp_path, name, change), Problems(), engine=engine)
    if engine == "openpyxl":  # it loads the whole package at once: the file, not the sheet, is named
        words = "文件已损坏"
    assert words in str(refused.value) and "另存为" in str(refused.value)


def test_the_cli_exits_2_with_the_sheets_name_and_no_english(tmp_path):
    change, words = CASES["截断"]
    result = CliRunner().invoke(main, ["check", str(damaged(tmp_path, "截断", change))])
    assert result.exit_code == 2 and words in result.output
    assert "Traceback" not in result.output and "ill-formed" not in result.output
