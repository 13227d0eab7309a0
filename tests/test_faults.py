"""Faults as they happen to real processes: a full disk, a read-only disk, runs killed at random moments, two
runs at once. Each test starts `excel-eval run` as a subprocess and opens what it left behind."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest

from workbooks import standard_workbook

COMMAND = [sys.executable, "-m", "excel_eval", "run"]


def start(book: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([*COMMAND, str(book), "-o", str(out), "-q"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> tuple[int, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out + err


def debris(*folders: Path) -> list[Path]:
    return [p for folder in folders if folder.exists() for p in folder.rglob("*")
            if ".excel-eval-tmp" in p.name or ".excel-eval-inplace" in p.name]


def assert_whole(book: Path, out: Path) -> None:
    """The workbook opens (old or new), and every report under a real name opens."""
    with zipfile.ZipFile(book) as z:
        assert z.testzip() is None
    openpyxl.load_workbook(book)
    for report in out.glob("*.docx"):
        docx.Document(str(report))


@pytest.fixture()
def small_disk(tmp_path):
    """A 160 KB file system: room for a few reports, not for all."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("needs root to mount a small tmpfs")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_leaves_whole_files_and_one_sentence(tmp_path, small_disk):
    book = standard_workbook(tmp_path / "账.xlsx")
    (small_disk / "填充").write_bytes(os.urandom(120_000))  # leave room for about one report
    before = book.read_bytes()
    code, output = finish(start(book, small_disk / "out"))
    assert code == 2, output
    assert "磁盘空间不足，无法写入" in output and "清理" in output
    assert "Exception ignored" not in output and "Traceback" not in output and "Errno" not in output
    assert book.read_bytes() == before
    assert_whole(book, small_disk / "out")
    assert debris(small_disk, tmp_path) == []


def test_a_read_only_disk_is_a_sentence(tmp_path):
    mount = tmp_path / "ro"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(mount)],
                                           capture_output=True).returncode:
        pytest.skip("needs root to mount a read-only tmpfs")
    try:
        book = standard_workbook(tmp_path / "账.xlsx")
        code, output = finish(start(book, mount / "out"))
    finally:
        subprocess.run(["umount", str(mount)], check=False)
    assert code == 2 and "所在的磁盘是只读的" in output and "Traceback" not in output


def test_runs_killed_at_random_moments_leave_nothing_broken(tmp_path):
    """kill -9 during reading, rendering and the write-back of a hard-linked workbook (rewritten in place);
    after each kill every file is whole, and the next run cleans up after the killed ones."""
    book = standard_workbook(tmp_path / "账.xlsx")
    os.link(book, tmp_path / "另一个名字.xlsx")
    out = tmp_path / "out"
    rng = random.Random(13)
    for _ in range(6):
        process = start(book, out)
        time.sleep(rng.uniform(0.6, 2.0))
        process.kill()
        process.communicate()
        assert_whole(book, out)
    code, output = finish(start(book, out))
    assert code == 0, output
    assert debris(out, tmp_path) == [] and not (out / ".excel-eval.lock").exists()
    assert openpyxl.load_workbook(tmp_path / "另一个名字.xlsx")["汇总"]["A3"].value == "P1"
    assert book.stat().st_nlink == 2
    assert sorted(p.name for p in out.glob("*.docx")) == ["P1_测试专项经费.docx", "P2_软件维护费.docx"]


def test_runs_at_once_on_one_workbook(tmp_path):
    """Into separate folders they all succeed (each reads the workbook as one version); into one folder the
    later ones are told to wait."""
    book = standard_workbook(tmp_path / "账.xlsx")
    apart = [start(book, tmp_path / f"out{i}") for i in range(5)]
    together = [start(book, tmp_path / "shared") for _ in range(3)]
    results = [finish(p) for p in apart]
    shared = [finish(p) for p in together]
    assert all(code == 0 for code, _ in results), results
    assert all("bad local header" not in text and "Traceback" not in text for _, text in results + shared)
    assert {code for code, _ in shared} <= {0, 2} and 0 in {code for code, _ in shared}
    assert all("同一时间只能有一个运行" in text for code, text in shared if code == 2)
    assert_whole(book, tmp_path / "shared")
    assert openpyxl.load_workbook(book)["汇总"]["A3"].value == "P1"
    assert debris(tmp_path) == []
