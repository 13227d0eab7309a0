"""The files a run writes: names that fit, whole files or none, one run at a time, stale reports removed only
when they are ours, the workbook never deleted or replaced under an application, write-back through links."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from excel_eval.cli import main
from excel_eval.files import names
from excel_eval.files.atomic import write_atomically
from excel_eval.files.errors import describe
from excel_eval.files.lock import LOCK_NAME, RunLock, RunLocked
from excel_eval.files.record import RECORD_NAME, digest, remove_stale
from excel_eval.pipeline import check, report_filename, run
from excel_eval.problems import WorkbookError

from workbooks import standard_sheets, standard_workbook, write_workbook

NOW = dt.datetime(2026, 11, 27, 9, 30)


def book_with_names(path: Path, *names_: tuple[str, str]) -> Path:
    """The standard workbook with P1's and P2's (项目编号, 项目名称) replaced."""
    sheets = standard_sheets()
    for row, (pid, name) in zip((1, 2), names_):
        old = sheets["项目"][row][0]
        sheets["项目"][row][:2] = [pid, name]
        for sheet in ("预算", "支出明细", "文字说明"):
            for r in sheets[sheet][1:]:
                if r[0] == old:
                    r[0] = pid
    return write_workbook(path, sheets)


class R:
    def __init__(self, project_id, name):
        self.project_id, self.name = project_id, name


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize("length", [100, 300])
def test_long_chinese_names_fit_in_255_bytes_with_room_for_the_rest(length):
    name = ("仁和区矛盾纠纷排查化解维稳信访事项专项经费" * 20)[:length]
    file = report_filename(R("510411-2021-XF001", name), set())
    stem = file[:-len(".docx")]
    # 200 bytes for the stem (255 less "_自评表" 10, "_999" 4, ".docx" 5, the temporary suffix 36); the 项目编号
    # and "_" take 18, "…" 3: 179 bytes are left, 59 Chinese characters of 3 bytes
    assert stem == "510411-2021-XF001_" + name[:59] + "…"
    longest = f"{stem}_自评表_999.docx.4294967295-abcdef.excel-eval-tmp"
    assert len(longest.encode("utf-8")) <= 255


def test_emoji_and_combining_marks_are_not_split():
    # "e" + COMBINING ACUTE: the mark must stay with its letter; 👩‍💻 is three code points joined
    name = "项目" + "e\u0301" * 150
    stem = names.shorten(names.clean(name), 60)
    assert stem.endswith("é…")  # NFC made them one character each
    joined = "👩\u200d💻" * 40
    cut = names.shorten(joined, 50)
    assert cut.endswith("…") and not cut[:-1].endswith("\u200d")
    assert cut[:-1].count("👩") == cut[:-1].count("💻")  # no half sequence
    marks = "测" + "\u0306" * 200  # one character carrying 200 marks that NFC cannot compose: no cut point
    assert names.shorten(names.clean(marks), 30) == ""
    assert names.safe_filename(marks, 30) == "_"


def test_names_that_collide_after_cleaning_get_counters():
    used: set[str] = set()
    got = [report_filename(R(pid, name), used) for pid, name in
           [("A/1", "经费"), ("A_1", "经费"), ("a_1", "经费"), ("A:1", "经费")]]
    assert got == ["A_1_经费.docx", "A_1_经费_2.docx", "a_1_经费_3.docx", "A_1_经费_4.docx"]
    decomposed = report_filename(R("B", "Cafe\u0301"), used)
    composed = report_filename(R("B", "Caf\u00e9"), used)
    assert (decomposed, composed) == ("B_Café.docx", "B_Café_2.docx")


def test_windows_paths_stay_under_260_characters(tmp_path):
    outdir = Path("/" + "很长的文件夹名" * 20)  # 141 characters
    budget = names.stem_budget(outdir, windows=True)
    assert budget == (200, 259 - 141 - 1 - (4 + 4 + 5 + 36))  # 68 characters for the stem
    name = "仁和区矛盾纠纷排查化解、维稳、信访事项专项经费" * 3
    stem = names.project_stem("510411-2021-XF001", name, *budget)
    assert stem == "510411-2021-XF001_" + name[:49] + "…"  # 18 + 49 + 1 = 68
    longest = f"{outdir}/{stem}_自评表_999.docx.4294967295-abcdef.excel-eval-tmp"
    assert len(longest) <= 259
    deep = Path("/" + "深" * 250)  # no room left: the 项目编号 stays whole all the same
    assert names.project_stem("510411-2021-XF001", "经费", *names.stem_budget(deep, windows=True)) == \
        "510411-2021-XF001"


def test_a_run_with_long_and_odd_names_writes_every_file(tmp_path):
    long_name = "仁和区矛盾纠纷排查化解维稳信访事项专项经费" * 15  # 300 characters, 900 bytes
    book = book_with_names(tmp_path / "账.xlsx", ("P1", long_name), ("P2", "维护费 #1 [50%] 😀 e\u0301"))
    result = run(book, tmp_path / "out", now=NOW)
    assert len(result.reports) == 2 and not result.problems.has_errors
    for path in result.reports + result.scorecards:
        assert len(path.name.encode()) <= 255 and path.exists()
        docx.Document(str(path))
    assert result.reports[1].name == "P2_维护费 #1 [50%] 😀 é.docx"
    (renamed,) = [p for p in result.problems if p.code == "report-renamed"]
    assert renamed.severity == "警告" and renamed.location == "项目" and renamed.value == "P1"
    assert "名称太长" in renamed.message and result.reports[0].name in renamed.message


def test_the_combined_documents_name_is_reserved(tmp_path):
    book = book_with_names(tmp_path / "账.xlsx", ("账", "自评报告合集"), ("P2", "软件维护费"))
    result = run(book, tmp_path / "out", now=NOW, combined=True)
    assert result.combined.name == "账_自评报告合集.docx"
    assert result.reports[0].name == "账_自评报告合集_2.docx"
    assert len(docx.Document(str(result.reports[0])).paragraphs) < len(docx.Document(str(result.combined)).paragraphs)


# --------------------------------------------------------------------------- never delete what is not ours


def test_a_names_only_manifest_listing_the_workbook_deletes_nothing(tmp_path):
    book = standard_workbook(tmp_path / "book.xlsx")
    (tmp_path / ".excel-eval-reports.txt").write_text("book.xlsx\n我的笔记.docx\n", encoding="utf-8")
    (tmp_path / "我的笔记.docx").write_bytes(b"mine")
    result = run(book, tmp_path, now=NOW)
    assert book.exists() and openpyxl.load_workbook(book)["汇总"]
    assert (tmp_path / "我的笔记.docx").read_bytes() == b"mine"
    assert result.removed == [] and result.summary.backup.exists()
    assert not (tmp_path / ".excel-eval-reports.txt").exists()  # the untrusted old list is gone


def test_a_record_listing_the_workbook_with_its_hash_deletes_nothing(tmp_path):
    book = standard_workbook(tmp_path / "book.xlsx")
    run(book, tmp_path, now=NOW)
    record = json.loads((tmp_path / RECORD_NAME).read_text(encoding="utf-8"))
    record["files"].append({"name": "book.xlsx", "size": book.stat().st_size, "sha256": digest(book)})
    record["files"].append({"name": "../book.docx", "size": 1, "sha256": "0"})
    (tmp_path / RECORD_NAME).write_text(json.dumps(record), encoding="utf-8")
    result = run(book, tmp_path, now=NOW)
    assert book.exists() and result.removed == []


def test_the_record_lists_every_file_as_it_is_on_disk(tmp_path):
    """The reports' entries are made in the workers that write them, the others' afterwards: each entry is the
    file's name, size and SHA-256 as the disk holds it at the end of the run."""
    import hashlib

    import shutil

    from excel_eval.resources import sample_workbook

    book = shutil.copy(sample_workbook(), tmp_path / "账.xlsx")  # with indicators: reports and 自评表
    out = tmp_path / "out"
    result = run(book, out, now=NOW, workers=2, combined=True)
    record = json.loads((out / RECORD_NAME).read_text(encoding="utf-8"))
    expected = [{"name": p.name, "size": len(p.read_bytes()), "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                for p in result.reports + result.scorecards + [result.combined]]
    assert sorted(record["files"], key=lambda f: f["name"]) == sorted(expected, key=lambda f: f["name"])
    assert len(record["files"]) == 9


def test_a_stale_report_the_user_changed_is_kept_and_named(tmp_path):
    book = standard_workbook(tmp_path / "账.xlsx")
    out = tmp_path / "out"
    first = run(book, out, now=NOW)
    edited = first.reports[0]
    edited.write_bytes(edited.read_bytes() + b"\0")  # the user saved it again
    sheets = standard_sheets()
    sheets["项目"][1][1] = "改名后的专项经费"
    result = run(write_workbook(book, sheets), out, now=NOW)
    assert edited.exists() and result.removed == []
    kept = [p for p in result.problems if p.code == "stale-file-kept"]
    assert len(kept) == 1 and edited.name in kept[0].message and "修改过" in kept[0].message


def test_another_workbooks_reports_in_the_same_folder_are_not_removed(tmp_path):
    out = tmp_path / "out"
    a = run(standard_workbook(tmp_path / "甲.xlsx"), out, now=NOW)
    sheets = standard_sheets()
    sheets["项目"][1][1] = "乙的经费"
    run(write_workbook(tmp_path / "乙.xlsx", sheets), out, now=NOW)
    assert a.reports[0].exists()


def test_a_case_only_rename_never_removes_the_fresh_report(tmp_path):
    """On a case-insensitive disk the old name is the new file: a second name for the same file (a hard link
    here) must not be removed, and names compare case-folded."""
    out = tmp_path / "out"
    out.mkdir()
    fresh = out / "p1_经费.docx"
    fresh.write_bytes(b"new report")
    os.link(fresh, out / "P1_经费.docx")
    (out / RECORD_NAME).write_text(json.dumps({"workbook": "账.xlsx", "files": [
        {"name": "P1_经费.docx", "size": fresh.stat().st_size, "sha256": digest(fresh)}]}), encoding="utf-8")
    assert remove_stale(out, tmp_path / "账.xlsx", [fresh], fold=False).removed == []
    (out / "P1_经费.docx").unlink()
    (out / "P1_经费.docx").write_bytes(b"new report")  # same content, its own file: only the fold protects it
    assert remove_stale(out, tmp_path / "账.xlsx", [fresh], fold=True).removed == []
    assert remove_stale(out, tmp_path / "账.xlsx", [fresh], fold=False).removed == [out / "P1_经费.docx"]


def test_clean_up_happens_after_the_backup(tmp_path, monkeypatch):
    from excel_eval import pipeline

    book = standard_workbook(tmp_path / "账.xlsx")
    out = tmp_path / "out"
    run(book, out, now=NOW)
    seen = []
    real = pipeline.remove_stale

    def spy(outdir, workbook, written, fold):
        seen.append(sorted(p.name for p in (outdir / "备份").iterdir()))
        return real(outdir, workbook, written, fold)

    monkeypatch.setattr(pipeline, "remove_stale", spy)
    run(book, out, now=dt.datetime(2026, 11, 28))
    assert any("20261128" in name for name in seen[0])


# --------------------------------------------------------------------------- the workbook open elsewhere


@pytest.mark.parametrize("name, lock, app", [
    ("账.xlsx", "~$账.xlsx", "Excel 或 WPS"), ("账.xlsx", ".~lock.账.xlsx#", "LibreOffice"),
    ("账.xlsx", ".~账.xlsx", "WPS"), ("二〇二一年账目.xlsx", "~$二一年账目.xlsx", "Excel 或 WPS")])
def test_a_workbook_open_in_an_application_gets_a_separate_summary(tmp_path, name, lock, app):
    book = standard_workbook(tmp_path / name)
    before = book.read_bytes()
    (tmp_path / lock).write_bytes(b"owner")
    result = run(book, tmp_path / "out", now=NOW)
    assert book.read_bytes() == before
    assert not result.summary.in_workbook and result.summary.target == tmp_path / "out" / f"{book.stem}_汇总.xlsx"
    assert app in result.summary.reason and lock in result.summary.reason
    assert openpyxl.load_workbook(result.summary.target)["汇总"]["B3"].value == "测试专项经费"
    out = CliRunner().invoke(main, ["run", str(book), "-o", str(tmp_path / "out2")])
    assert f"工作簿正在 {app} 中打开（发现锁定文件 {lock}），“汇总”表另存为" in out.output


# --------------------------------------------------------------------------- one run at a time


def test_a_second_run_on_the_same_folder_is_refused(tmp_path):
    book = standard_workbook(tmp_path / "账.xlsx")
    out = tmp_path / "out"
    out.mkdir()
    with RunLock(out, book):
        with pytest.raises(RunLocked) as caught:
            run(book, out, now=NOW)
        result = CliRunner().invoke(main, ["run", str(book), "-o", str(out)])
    assert "另一个 excel-eval 正在向输出文件夹" in str(caught.value) and f"进程 {os.getpid()}" in str(caught.value)
    assert result.exit_code == 2 and "同一时间只能有一个运行" in result.output
    assert not list(out.glob("*.docx"))
    assert run(book, out, now=NOW).reports  # released


def test_the_lock_of_a_dead_run_is_taken_over(tmp_path):
    book = standard_workbook(tmp_path / "账.xlsx")
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_NAME).write_text(json.dumps({"pid": 2 ** 22 + 7, "started": "2026-11-27T09:00:00"}))
    assert len(run(book, out, now=NOW).reports) == 2


# --------------------------------------------------------------------------- check before writing


def test_check_refuses_a_package_run_could_not_write_back(tmp_path):
    book = standard_workbook(tmp_path / "账.xlsx")
    broken = tmp_path / "无清单.xlsx"
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "[Content_Types].xml":
                dst.writestr(info, src.read(info))
    problems = check(broken).problems
    assert [(p.code, p.value) for p in problems.errors] == [("workbook-unwritable", "无清单.xlsx")]
    assert "[Content_Types].xml" in problems.errors[0].message and "另存为" in problems.errors[0].message
    with pytest.raises(WorkbookError):
        run(broken, tmp_path / "out", now=NOW)
    assert not list((tmp_path / "out").glob("*.docx"))


# --------------------------------------------------------------------------- links


def test_a_symlinked_workbook_is_written_through_the_link(tmp_path):
    (tmp_path / "data").mkdir()
    real = standard_workbook(tmp_path / "data" / "账.xlsx")
    link = tmp_path / "链接.xlsx"
    link.symlink_to(real)
    result = run(link, tmp_path / "out", now=NOW)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert openpyxl.load_workbook(real)["汇总"]["A3"].value == "P1"
    assert result.summary.in_workbook and not list(tmp_path.glob("*.excel-eval-*"))


def test_a_hard_linked_workbook_is_rewritten_in_place(tmp_path):
    book = standard_workbook(tmp_path / "账.xlsx")
    other = tmp_path / "另一个名字.xlsx"
    os.link(book, other)
    inode = book.stat().st_ino
    run(book, tmp_path / "out", now=NOW)
    assert book.stat().st_ino == inode and other.stat().st_nlink == 2
    assert openpyxl.load_workbook(other)["汇总"]["A3"].value == "P1"
    assert not list(tmp_path.glob("*.excel-eval-*"))


def test_an_interrupted_in_place_rewrite_is_finished_by_the_next_run(tmp_path):
    from excel_eval.writeback.save import finish_rewrites

    book = standard_workbook(tmp_path / "账.xlsx")
    os.link(book, tmp_path / "硬链接.xlsx")
    run(book, tmp_path / "out", now=NOW)
    complete = book.read_bytes()
    journal = tmp_path / f"账.xlsx.{2 ** 22 + 9}-abcdef.excel-eval-inplace"
    journal.write_bytes(complete)
    with open(book, "r+b") as f:  # killed halfway through the overwrite
        f.seek(len(complete) // 2)
        f.write(b"\0" * 100)
    notes = finish_rewrites(book)
    assert book.read_bytes() == complete and not journal.exists()
    assert notes == ["上次运行在写回工作簿 账.xlsx 时被中断，已用完整的新内容把它恢复。"]


# --------------------------------------------------------------------------- whole files or none


def test_a_failed_write_leaves_neither_the_file_nor_its_temporary(tmp_path):
    target = tmp_path / "报告.docx"
    target.write_bytes(b"old")

    def half(temp: Path) -> None:
        temp.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device", str(temp))

    with pytest.raises(OSError) as caught:
        write_atomically(target, half)
    assert target.read_bytes() == b"old" and list(tmp_path.iterdir()) == [target]
    assert caught.value.filename == str(target)  # the message names the real file


def test_debris_of_a_dead_run_is_removed_and_a_live_ones_kept(tmp_path):
    book = standard_workbook(tmp_path / "账.xlsx")
    out = tmp_path / "out"
    out.mkdir()
    dead = [out / f"P1_测试专项经费.docx.{2 ** 22 + 3}-a1b2c3.excel-eval-tmp",
            tmp_path / f"账.xlsx.{2 ** 22 + 3}-a1b2c3.excel-eval-tmp", tmp_path / ".账.abcd_123.xlsx",
            tmp_path / ".~账.xlsxk2j4h5g6.tmp",
            # killed while writing the content of an in-place rewrite of the workbook
            tmp_path / f"账.xlsx.{2 ** 22 + 3}-d4e5f6.excel-eval-inplace.{2 ** 22 + 3}-a1b2c3.excel-eval-tmp"]
    live = out / f"P2.docx.{os.getpid()}-a1b2c3.excel-eval-tmp"
    for path in dead + [live]:
        path.write_bytes(b"x")
    (tmp_path / "我的.docx.123-abc.tmp").write_bytes(b"mine")
    run(book, out, now=NOW)
    assert not any(p.exists() for p in dead) and live.exists()
    assert (tmp_path / "我的.docx.123-abc.tmp").exists()


# --------------------------------------------------------------------------- errors as sentences


@pytest.mark.parametrize("code, words", [
    (errno.ENOSPC, ["磁盘空间不足", "报告.docx", "清理"]),
    (errno.EACCES, ["没有权限写入", "报告.docx", "-o"]),
    (errno.ENAMETOOLONG, ["路径太长", "报告.docx", "较短"]),
    (errno.EROFS, ["只读", "报告.docx", "-o"]),
    (errno.EBUSY, ["正被其他程序占用", "报告.docx", "关闭"]),
    (errno.EIO, ["磁盘出错", "报告.docx"]),
])
def test_os_errors_are_sentences(code, words):
    text = describe(OSError(code, os.strerror(code), "/out/报告.docx"))
    assert all(w in text for w in words), text
    assert "Errno" not in text


def test_a_file_locked_on_windows_is_named():
    exc = OSError(errno.EACCES, "The process cannot access the file", "D:/报告/P1.docx")
    exc.winerror = 32
    assert describe(exc).startswith("文件 D:/报告/P1.docx 正被其他程序占用")


def test_an_output_folder_that_cannot_be_made_is_a_sentence(tmp_path):
    book = standard_workbook(tmp_path / "账.xlsx")
    (tmp_path / "文件").write_bytes(b"")
    result = CliRunner().invoke(main, ["run", str(book), "-o", str(tmp_path / "文件" / "out")])
    assert result.exit_code == 2 and "路径中有一个同名的文件" in result.output and "Errno" not in result.output
    debug = CliRunner().invoke(main, ["run", str(book), "-o", str(tmp_path / "文件" / "out"), "--debug"])
    assert debug.exit_code == 2 and "NotADirectoryError" in debug.output  # --debug shows the details
