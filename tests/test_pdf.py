"""PDF conversion with LibreOffice: real conversions (skipped when soffice is absent), and the failure
paths with a missing or a fake soffice."""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from excel_eval import pdf
from excel_eval.pdf import PdfFailed, PdfUnavailable, convert_to_pdf, find_soffice

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="fake soffice is a shell script")
# CJK font names as LibreOffice embeds them (Noto CJK on Linux, SimSun/FangSong/... on Windows)
CJK_FONT = re.compile(r"CJK|Song|Hei|Kai|Fang|Ming|GB2312|WenQuanYi|SimSun|YaHei|PingFang|STHeiti", re.I)


def pdf_pages(path: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", path.read_bytes()))


@pytest.fixture(scope="module")
def converted(sample_run, tmp_path_factory):
    if find_soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    outdir = tmp_path_factory.mktemp("pdf")
    docs = sample_run.reports[:2]
    (outdir / f"{docs[0].stem}.pdf").write_bytes(b"old")  # an earlier PDF is replaced
    return docs, convert_to_pdf(docs, outdir)


def test_convert_two_reports(converted):
    docs, pdfs = converted
    assert [p.name for p in pdfs] == [f"{d.stem}.pdf" for d in docs]
    for path in pdfs:
        assert path.read_bytes().startswith(b"%PDF")
        assert pdf_pages(path) >= 1


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="pdffonts is not installed")
def test_pdf_has_cjk_fonts(converted):
    _, pdfs = converted
    listing = subprocess.run(["pdffonts", str(pdfs[0])], capture_output=True, text=True, check=True).stdout
    fonts = [line.split()[0] for line in listing.splitlines()[2:] if line.strip()]
    assert any(CJK_FONT.search(font) for font in fonts), fonts


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_pdf_text_is_chinese(converted, sample_run):
    _, pdfs = converted
    text = subprocess.run(["pdftotext", str(pdfs[1]), "-"], capture_output=True, text=True, check=True).stdout
    assert "项目支出绩效自评报告" in re.sub(r"\s+", "", text)


def test_missing_soffice_path(sample_run, tmp_path):
    with pytest.raises(PdfUnavailable) as caught:
        convert_to_pdf(sample_run.reports[:1], tmp_path, soffice=tmp_path / "没有" / "soffice")
    message = str(caught.value)
    assert "未找到 LibreOffice" in message and "https://zh-cn.libreoffice.org/" in message
    assert "--pdf" in message and ".docx" in message
    assert not list(tmp_path.glob("*.pdf"))


def test_no_soffice_anywhere(sample_run, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(pdf, "_install_locations", lambda: [])
    assert find_soffice() is None
    with pytest.raises(PdfUnavailable, match="zh-cn.libreoffice.org"):
        convert_to_pdf(sample_run.reports[:1], tmp_path)


def test_found_in_install_location(tmp_path, monkeypatch):
    exe = tmp_path / "LibreOffice" / "program" / "soffice.exe"
    exe.parent.mkdir(parents=True)
    exe.write_text("")
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(pdf, "_install_locations", lambda: [tmp_path / "nope", exe])
    assert find_soffice() == exe


def fake_soffice(tmp_path: Path, script: str) -> Path:
    exe = tmp_path / "soffice"
    exe.write_text("#!/bin/sh\n" + script)
    exe.chmod(0o755)
    return exe


@posix_only
def test_timeout_kills_soffice_and_what_it_started(sample_run, tmp_path):
    pidfile = tmp_path / "child.pid"
    exe = fake_soffice(tmp_path, f"sleep 60 &\necho $! > '{pidfile}'\nwait\n")
    started = time.monotonic()
    with pytest.raises(PdfFailed) as caught:
        convert_to_pdf(sample_run.reports[:2], tmp_path / "out", soffice=exe, timeout=1)
    assert time.monotonic() - started < 15
    message = str(caught.value)
    assert "1 秒内未完成" in message
    assert all(report.name in message for report in sample_run.reports[:2])
    child = int(pidfile.read_text())
    for _ in range(50):  # the orphaned child is reaped by init shortly after being killed
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the process soffice started is still running")


@posix_only
def test_files_not_converted_are_named(sample_run, tmp_path):
    exe = fake_soffice(tmp_path, "echo 'Error: source file could not be loaded'\nexit 0\n")
    with pytest.raises(PdfFailed) as caught:
        convert_to_pdf(sample_run.reports[:2], tmp_path / "out", soffice=exe)
    message = str(caught.value)
    assert "未能把以下文件转换为 PDF" in message and sample_run.reports[1].name in message
    assert "could not be loaded" in message


def test_same_names_refused(sample_run, tmp_path):
    other = tmp_path / "other" / sample_run.reports[0].name
    other.parent.mkdir()
    shutil.copy2(sample_run.reports[0], other)
    with pytest.raises(ValueError):
        convert_to_pdf([sample_run.reports[0], other], tmp_path / "out")


def test_nothing_to_convert(tmp_path):
    assert convert_to_pdf([], tmp_path / "out") == []
