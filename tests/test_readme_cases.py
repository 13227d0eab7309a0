"""The README's table of common cases: each row's message is what the program really shows in that case.

Every row is run here, in a folder holding `账.xlsx` and writing to `out`, as the README's examples do; the
quoted message must appear in the output (an “…” in the README stands for a part that varies)."""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from excel_eval.cli import main
from excel_eval.files.errors import describe
from excel_eval.files.lock import RunLock
from excel_eval.writeback.save import finish_rewrites

from workbooks import standard_sheets, standard_workbook, write_workbook

README = Path(__file__).parent.parent / "README.md"
CONVERTED = Path(__file__).parent / "fixtures" / "converted"
NOW = dt.datetime(2026, 11, 27, 9, 30)


def readme_rows() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    table = text.split("**常见情况和程序的提示**", 1)[1].split("\n\n", 2)[1]
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        rows[cells[0]] = re.fullmatch(r"`(.*)`", cells[1]).group(1)
    return rows


def invoke(*args: str) -> str:
    return CliRunner().invoke(main, ["run", "账.xlsx", "-o", "out", *args]).output


def open_in_excel() -> str:
    Path("~$账.xlsx").write_bytes(b"owner")
    return invoke()


def open_in_libreoffice() -> str:
    Path(".~lock.账.xlsx#").write_bytes(b"owner")
    return invoke()


def read_only() -> str:
    Path("账.xlsx").chmod(0o444)
    return invoke()


def ods() -> str:
    shutil.copy(CONVERTED / "sample.ods", "账.ods")
    return CliRunner().invoke(main, ["run", "账.ods", "-o", "out"]).output


def zip_bomb() -> str:
    from test_bounded_reading import with_member, zeros

    with_member(Path("账.xlsx"), Path("炸弹.xlsx"), "xl/worksheets/sheet9.xml", zeros(40))
    shutil.move("炸弹.xlsx", "账.xlsx")
    return invoke()


def damaged_sheet() -> str:
    from test_damaged_parts import CASES as DAMAGED, damaged

    made = damaged(Path.cwd(), "乱码", DAMAGED["乱码"][0])
    shutil.move(made, "账.xlsx")
    return invoke()


def cell_too_long() -> str:
    from test_bounded_reading import big_cell_workbook

    shutil.move(big_cell_workbook(Path.cwd(), 40_000), "账.xlsx")
    return CliRunner().invoke(main, ["check", "账.xlsx"]).output


def percent_amount() -> str:
    from excel_typed import Num, write_excel_workbook

    sheets = standard_sheets()
    sheets["支出明细"][1][2] = Num(0.5, "0%")
    write_excel_workbook(Path("账.xlsx"), sheets)
    return CliRunner().invoke(main, ["check", "账.xlsx"]).output


def no_content_types() -> str:
    with zipfile.ZipFile("账.xlsx") as src:
        parts = {i.filename: src.read(i) for i in src.infolist() if i.filename != "[Content_Types].xml"}
    with zipfile.ZipFile("账.xlsx", "w") as dst:
        for name, data in parts.items():
            dst.writestr(name, data)
    return CliRunner().invoke(main, ["check", "账.xlsx"]).output


def second_run() -> str:
    Path("out").mkdir()
    with RunLock(Path("out"), Path("账.xlsx")):
        return invoke()


def disk_full(monkeypatch) -> str:
    real = Path.write_bytes

    def write_bytes(self, data):  # P2's report, written under its temporary name
        if self.name.startswith("P2_"):
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    return invoke()


def read_only_disk() -> str:
    return describe(OSError(errno.EROFS, "Read-only file system", "out"))


def path_too_long() -> str:
    return invoke_with(str(Path.cwd() / ("长" * 300)))


def invoke_with(outdir: str) -> str:
    return CliRunner().invoke(main, ["run", "账.xlsx", "-o", outdir]).output


def output_is_a_file() -> str:
    Path("out").write_bytes(b"")
    return invoke()


def long_name() -> str:
    sheets = standard_sheets()
    sheets["项目"][1][1] = "测试专项经费" * 60
    write_workbook(Path("账.xlsx"), sheets)
    return invoke()


def changed_stale_report() -> str:
    invoke()
    Path("out/P1_测试专项经费.docx").write_bytes(Path("out/P1_测试专项经费.docx").read_bytes() + b"\0")
    sheets = standard_sheets()
    sheets["项目"][1][1] = "改名后的专项经费"
    write_workbook(Path("账.xlsx"), sheets)
    return invoke()


def killed_run() -> str:
    Path("out").mkdir()
    Path(f"out/P1_测试专项经费.docx.{2 ** 22 + 5}-abcdef.excel-eval-tmp").write_bytes(b"half")
    return invoke()


def killed_in_place_rewrite() -> str:
    os.link("账.xlsx", "硬链接.xlsx")
    invoke()
    complete = Path("账.xlsx").read_bytes()
    Path(f"账.xlsx.{2 ** 22 + 5}-abcdef.excel-eval-inplace").write_bytes(complete)
    with open("账.xlsx", "r+b") as f:
        f.seek(len(complete) // 2)
        f.write(b"\0" * 64)
    return "\n".join(finish_rewrites(Path("账.xlsx")))


CASES = {
    "工作簿正在 Excel 或 WPS 中打开": open_in_excel,
    "工作簿正在 LibreOffice 中打开": open_in_libreoffice,
    "工作簿是只读文件": read_only,
    "工作簿是 .ods（或 .xls、.xlsb）": ods,
    "工作簿中某个部分解压后大得异常（“压缩炸弹”）": zip_bomb,
    "某张工作表已损坏（乱码、内容不完整）": damaged_sheet,
    "单元格中的文字超过 32,767 个字符": cell_too_long,
    "金额列中的数字是百分比格式": percent_amount,
    "工作簿内部结构不完整（例如缺少 `[Content_Types].xml`）": no_content_types,
    "另一个运行正在向同一个输出文件夹生成报告": second_run,
    "磁盘已满": disk_full,
    "输出文件夹所在的磁盘只读（光盘、写保护的 U 盘）": read_only_disk,
    "路径太长": path_too_long,
    "`-o` 指向的位置有一个同名文件": output_is_a_file,
    "项目名称太长，或两个项目的文件名相同": long_name,
    "不再对应项目的旧报告被您修改过": changed_stale_report,
    "上次运行被强行结束": killed_run,
    "上次运行在改写有硬链接的工作簿时被强行结束": killed_in_place_rewrite,
}


def test_every_row_of_the_table_is_tested():
    assert set(readme_rows()) == set(CASES)


@pytest.mark.parametrize("case", list(CASES))
def test_the_readme_shows_what_the_program_says(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    standard_workbook(tmp_path / "账.xlsx")
    function = CASES[case]
    output = function(monkeypatch) if "monkeypatch" in function.__code__.co_varnames else function()
    Path("账.xlsx").chmod(0o644)
    for fragment in readme_rows()[case].split("…"):
        assert fragment.replace("\\\\", "\\") in output, (case, fragment, output)
