"""Reading is bounded: a part that inflates absurdly is refused before anything inflates it, a part whose zip
header lies about its size is refused, and a cell longer than Excel allows is an error at its cell
(benchmarks/big_cell.py measures that reading time grows linearly with a cell's size)."""

import struct
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner

from excel_eval.cli import main
from excel_eval.pipeline import check
from excel_eval.problems import Problems, UsageError
from excel_eval.reading import package, read_workbook

from workbooks import standard_sheets, write_workbook


def with_member(book: Path, out: Path, name: str, data_chunks, declared: int | None = None) -> Path:
    """`book` with one more member `name`, deflated from `data_chunks` as they come (never held whole); with
    `declared`, its headers claim that inflated size instead of the true one."""
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zout.open(info, "w", force_zip64=False) as part:
            for chunk in data_chunks:
                part.write(chunk)
    if declared is not None:
        _lie_about_size(out, name, declared)
    return out


def _lie_about_size(path: Path, name: str, size: int) -> None:
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    # central directory entry: signature, then the uncompressed size at offset 24
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46:at + 46 + name_length]) == encoded:
            struct.pack_into("<I", data, at + 24, size)
            local = struct.unpack_from("<I", data, at + 42)[0]
            struct.pack_into("<I", data, local + 22, size)  # the local header's uncompressed size
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def zeros(megabytes: int):
    block = b"<c/>" * (1 << 18)  # 1 MiB of repeated XML
    for _ in range(megabytes):
        yield block


def test_a_part_that_inflates_a_thousandfold_is_refused_at_once(tmp_path, monkeypatch):
    book = write_workbook(tmp_path / "账.xlsx", standard_sheets())
    bomb = with_member(book, tmp_path / "炸弹.xlsx", "xl/worksheets/sheet9.xml", zeros(40))

    def never(*args):
        raise AssertionError("the bomb was inflated")

    monkeypatch.setattr(package, "_refuse_actual", never)  # refused from the declared sizes alone
    with pytest.raises(UsageError, match="压缩炸弹") as refused:
        read_workbook(bomb, Problems())
    assert "xl/worksheets/sheet9.xml" in str(refused.value) and "炸弹.xlsx" in str(refused.value)


def test_a_part_larger_than_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(package, "MAX_PART", 4 * 1024 * 1024)
    book = write_workbook(tmp_path / "账.xlsx", standard_sheets())
    big = with_member(book, tmp_path / "大.xlsx", "xl/media/big.xml", zeros(5))
    with pytest.raises(UsageError, match="超过了 4 MB 的上限"):
        read_workbook(big, Problems())


def test_a_part_whose_header_lies_about_its_size_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(package, "_VERIFY_FROM", 1024)
    book = write_workbook(tmp_path / "账.xlsx", standard_sheets())
    liar = with_member(book, tmp_path / "谎报.xlsx", "xl/worksheets/sheet9.xml", zeros(3), declared=1000)
    with pytest.raises(UsageError, match="文件已损坏"):
        read_workbook(liar, Problems())


def test_the_cli_says_it_in_chinese_and_exits_2(tmp_path):
    book = write_workbook(tmp_path / "账.xlsx", standard_sheets())
    bomb = with_member(book, tmp_path / "炸弹.xlsx", "xl/worksheets/sheet9.xml", zeros(40))
    result = CliRunner().invoke(main, ["check", str(bomb)])
    assert result.exit_code == 2 and "压缩炸弹" in result.output and "Traceback" not in result.output


def big_cell_workbook(tmp_path: Path, chars: int) -> Path:
    """A workbook whose 文字说明!C2 holds `chars` characters (no Excel writes more than 32,767: the part is
    edited after openpyxl wrote a placeholder)."""
    sheets = standard_sheets()
    sheets["文字说明"][1][2] = "PLACEHOLDER"
    written = write_workbook(tmp_path / "占位.xlsx", sheets)
    text = ("绩效自评报告的文字。&<>" * (chars // 13 + 1))[:chars]
    out = tmp_path / f"长文字{chars}.xlsx"
    with zipfile.ZipFile(written) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, data.replace(b"PLACEHOLDER", escape(text).encode()))
    return out


def test_a_cell_longer_than_excel_allows_is_an_error_at_its_cell(tmp_path):
    problems = check(big_cell_workbook(tmp_path, 40_000)).problems
    assert [(p.code, p.location) for p in problems if p.severity == "错误"][:1] == [("text-too-long", "文字说明!C2")]
    assert "40,000 个字符" in problems.errors[0].message


def test_a_cell_of_exactly_32767_characters_is_fine(tmp_path):
    assert "text-too-long" not in check(big_cell_workbook(tmp_path, 32_767)).problems.codes()


def test_what_the_read_ahead_leaves_to_calamine_calamine_refuses_itself(tmp_path):
    """`run` has python-calamine parse the workbook before the reader's checks: a package whose parts declare
    more than the read-ahead's limit is not read ahead, and calamine itself refuses a part that inflates beyond
    its declared size and expands no DTD entity (a calamine upgrade that changed this would fail here)."""
    import python_calamine

    from excel_eval import read_ahead
    from test_bad_input import plant_bomb, xlsxwriter_workbook

    book = write_workbook(tmp_path / "账.xlsx", standard_sheets())
    declared = with_member(book, tmp_path / "大.xlsx", "xl/sharedStrings2.xml", zeros(1),
                           declared=2 * read_ahead.STREAM_FROM_BYTES)
    read_ahead.read_ahead(declared)
    assert read_ahead.take(declared) is None

    liar = tmp_path / "谎报.xlsx"
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(liar, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b"<row/>" * 200_000 + b"</sheetData>")
            zout.writestr(info, data)
    _lie_about_size(liar, "xl/worksheets/sheet1.xml", 5000)
    book_ = python_calamine.CalamineWorkbook.from_path(str(liar))
    with pytest.raises(Exception, match="larger than its declared"):
        book_.get_sheet_by_name(book_.sheet_names[0])

    bombed = plant_bomb(xlsxwriter_workbook(tmp_path / "x.xlsx", standard_sheets()), "xl/sharedStrings.xml")
    with pytest.raises(Exception, match="entity"):
        python_calamine.CalamineWorkbook.from_path(str(bombed))
