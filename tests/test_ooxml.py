"""Every kind of file the program writes passes the Open XML SDK's validation (openxml-audit): reports, 自评表,
the combined document, 详细报告 and the split-layout 自评表, the blank workbook, and the user's workbook after one and two runs (only what the run
adds over the input counts). 汇总 links with '#', '%', spaces and brackets open the files they name."""

from __future__ import annotations

import datetime as dt
import posixpath
import shutil
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree as ET

import docx
import pytest
from openxml_audit import FileFormat, OpenXmlValidator

from excel_eval.blank import write_blank_workbook
from excel_eval.pipeline import run
from excel_eval.resources import sample_workbook
from excel_eval.writeback.save import write_summary
from excel_eval.writeback.styles import FONT_ORDER
from excel_eval.writeback.summary import summary_sheet

from workbooks import standard_sheets, write_workbook

NOW = dt.datetime(2026, 11, 27, 9, 30)
ODD_NAMES = ["专项 #1 经费", "完成率 100% 的项目", "维护费 [2021] 第 2 批"]
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}


def errors(path: Path) -> set[tuple[str, str]]:
    validator = OpenXmlValidator(file_format=FileFormat("office2019"), max_errors=0, schema_validation=True,
                                 semantic_validation=True, strict=True)
    return {(e.part_uri or "", e.description) for e in validator.validate(str(path)).errors
            if "ERROR" in str(e.severity).upper()}


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ooxml")
    original = folder / "原始.xlsx"
    shutil.copy2(sample_workbook(), original)
    book = folder / "样例.xlsx"
    shutil.copy2(original, book)
    first = run(book, folder / "out", now=NOW, combined=True)
    once = folder / "一次.xlsx"
    shutil.copy2(book, once)
    run(book, folder / "out", now=NOW + dt.timedelta(days=1), combined=True)
    odd = _odd_workbook(folder / "链接 #1 [测试] 50%.xlsx")
    odd_input = folder / "链接原始.xlsx"
    shutil.copy2(odd, odd_input)
    odd_run = run(odd, folder / "输出 #2 50%", now=NOW)
    xls = folder / "旧账.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))  # another format: a 汇总 workbook of its own
    own = write_summary(xls, lambda target: summary_sheet(first.records, {}, target, NOW), folder, "x").target
    return {"own": own, "original": original, "once": once, "twice": book, "report": first.reports[0],
            "scorecard": first.scorecards[0], "combined": first.combined,
            "blank": write_blank_workbook(folder / "空白.xlsx"), "odd": odd, "odd_input": odd_input, "odd_reports": odd_run.reports}


def _odd_workbook(path: Path) -> Path:
    sheets = standard_sheets()
    extra = [list(r) for r in sheets["项目"][1:2]]
    extra[0][:2] = ["P3", ODD_NAMES[2]]
    sheets["项目"][1][1], sheets["项目"][2][1] = ODD_NAMES[0], ODD_NAMES[1]
    sheets["项目"] += extra
    sheets["预算"].append(["P3", "区本级资金", 100, 100, None, 100, dt.date(2021, 3, 1)])
    sheets["文字说明"] += [["P3", s, t] for _, s, t in sheets["文字说明"][1:9]]
    return write_workbook(path, sheets)


@pytest.mark.parametrize("kind", ["report", "scorecard", "combined", "own"])
def test_documents_are_valid(written, kind):
    assert errors(written[kind]) == set()


def test_the_detailed_report_and_the_split_layout_form_are_valid(tmp_path):
    """详细报告 (payment and indicator tables) and 绩效自评表（分列） (indicators in the official layout)."""
    from excel_typed import write_excel_workbook
    from test_indicator_layouts import official, sample_sheets

    sheets = sample_sheets()
    sheets.pop("汇总", None)
    sheets["绩效指标"] = official(sheets["绩效指标"])
    sheets["项目"][1][6] = "详细报告"
    result = run(write_excel_workbook(tmp_path / "分列.xlsx", sheets), tmp_path / "out", now=NOW)
    assert not result.problems.errors
    detailed = next(p for p in result.reports if p.name.startswith(str(sheets["项目"][1][0])))
    assert len(docx.Document(str(detailed)).tables) == 2  # the payments and the indicators
    form = next(p for p in result.scorecards if p.name.startswith(str(sheets["项目"][1][0])))
    assert any("指标\n性质" in c.text for t in docx.Document(str(form)).tables for r in t.rows for c in r.cells)
    assert errors(detailed) == set()
    assert result.scorecards and all(errors(form) == set() for form in result.scorecards)


def test_the_workbook_gains_no_error_in_one_or_two_runs(written):
    before = errors(written["original"])
    assert errors(written["once"]) - before == set()
    assert errors(written["twice"]) - before == set()
    assert errors(written["odd"]) - errors(written["odd_input"]) == set()


def test_the_blank_workbook_is_valid(written):
    """openpyxl writes <font> children in its own order; the blank workbook puts them in the SDK's."""
    assert errors(written["blank"]) == set()


def test_fonts_the_summary_adds_are_in_the_sdks_order(written):
    def fonts(path: Path) -> list[ET.Element]:
        with zipfile.ZipFile(path) as z:
            return ET.fromstring(z.read("xl/styles.xml")).find("m:fonts", NS).findall("m:font", NS)

    original, after = fonts(written["original"]), fonts(written["twice"])
    added = after[len(original):]
    assert added, "the summary's bold and coloured fonts"
    for font in added:
        tags = [child.tag.rsplit("}", 1)[-1] for child in font]
        assert tags == sorted(tags, key=FONT_ORDER.index), tags
    assert any(f.find("m:b", NS) is not None for f in added) and any(f.find("m:u", NS) is not None for f in added)


def test_every_summary_link_opens_the_file_it_names(written):
    book = written["odd"]
    with zipfile.ZipFile(book) as z:
        sheet_part = next(n for n in z.namelist() if n.startswith("xl/worksheets/sheet")
                          and "本表由 excel-eval".encode() in z.read(n))
        d, b = posixpath.split(sheet_part)
        rels = ET.fromstring(z.read(posixpath.join(d, "_rels", b + ".rels")))
    targets = [r.get("Target") for r in rels.findall("rel:Relationship", NS) if r.get("Type").endswith("/hyperlink")]
    assert len(targets) == 3
    for target in targets:
        assert not any(ch in target for ch in " #[]") and "%" in target  # escaped as a URI reference
        parts = urlsplit(target)
        assert not parts.scheme and not parts.fragment and not parts.query
        assert (book.parent / unquote(parts.path)).is_file(), target
    opened = sorted((book.parent / unquote(t)).resolve() for t in targets)
    assert opened == sorted(p.resolve() for p in written["odd_reports"])
    assert any("%25" in t for t in targets) and any("%23" in t for t in targets)
