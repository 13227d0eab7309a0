"""Writing the 汇总: a backup first, then the workbook replaced whole (or rewritten in place when it is
hard-linked), or the 汇总 in a workbook of its own when the workbook cannot take it.

The workbook is read once, into memory: the backup and the new package come from the same bytes, so a
workbook that another program replaces meanwhile is never mixed from two versions.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from loguru import logger

from ..files import names
from ..files.atomic import INPLACE_MARK, pending_rewrites, temp_path, write_atomically
from ..schema import SUMMARY_ALIAS
from .destination import OWN_WORKBOOK, SPLICE, damaged_message, format_name, open_by, package_kind, read_only
from .package import minimal_workbook
from .spec import SheetSpec, XlsxPackageError
from .splice import splice, write_members

BACKUP_FOLDER = "备份"


@dataclass
class SummaryWrite:
    target: Path  # where the summary went: the workbook itself, or a workbook of its own in the output folder
    backup: Path | None
    in_workbook: bool
    reason: str = ""  # why the summary went to a workbook of its own (Chinese); "" when written back
    advice: str = ""  # what to do to have it written back next time (Chinese)


def write_summary(workbook: Path, build: Callable[[Path], SheetSpec], outdir: Path, stamp: str) -> SummaryWrite:
    """Write the 汇总 that `build(target)` makes (its links relative to `target`) into the workbook, after
    keeping a backup in `outdir/备份`. A symbolic link is followed and its target written. When the workbook
    cannot take the sheet (another format, open in an application, read-only) the 汇总 goes into
    `<工作簿名>_汇总.xlsx` in `outdir` and the reason says why; the workbook is then never changed."""
    real = workbook.resolve()
    kind = package_kind(real)
    if kind.kind == OWN_WORKBOOK:
        reason = f"工作簿是 {format_name(real)} 格式，不能写入新的工作表"
        return _own_workbook(minimal_workbook(), own_workbook_path(workbook, outdir, ".xlsx"), build, None, reason)
    if kind.kind != SPLICE:
        raise XlsxPackageError(damaged_message(workbook, kind.detail))
    snapshot = real.read_bytes()
    backup = write_backup(snapshot, workbook, outdir, stamp)
    reason, advice = _cannot_write(real)
    if not reason:
        package = splice(snapshot, build(workbook), aliases=[SUMMARY_ALIAS])
        try:
            _write_back(real, package)
            return SummaryWrite(workbook, backup, True)
        except PermissionError:
            reason = "工作簿无法写入（可能正在 Excel 或 WPS 中打开，或没有写入权限）"
            advice = "如需写回原工作簿，请关闭它（或取消只读）后重新运行。"
    written = _own_workbook(snapshot, own_workbook_path(workbook, outdir, workbook.suffix), build, backup, reason)
    written.advice = advice
    return written


def write_backup(snapshot: bytes, workbook: Path, outdir: Path, stamp: str) -> Path:
    folder = outdir / BACKUP_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stem = names.safe_filename(workbook.stem, names.NAME_BYTES - names.TEMP_RESERVE - 30)
    backup = folder / f"{stem}.{stamp}{workbook.suffix}"
    return write_atomically(backup, lambda temp: temp.write_bytes(snapshot))


def _cannot_write(real: Path) -> tuple[str, str]:
    """(why the workbook cannot be written back now, what to do), or ("", "")."""
    opened = open_by(real)
    if opened:
        app, lock = opened
        found = f"（发现锁定文件 {lock.name}）" if lock else "（它被其他程序锁定）"
        stale = f"如果它其实没有打开，请删除 {lock} 后重新运行。" if lock else ""
        return f"工作簿正在 {app} 中打开{found}", f"如需写回原工作簿，请关闭它后重新运行；{stale}"
    if read_only(real):
        return "工作簿是只读文件", "如需写回原工作簿，请取消它的只读属性后重新运行。"
    return "", ""


def _write_back(real: Path, package: tuple) -> None:
    """Replace the workbook whole; a hard-linked one is rewritten in place so that every link sees it."""
    members, comment = package

    def write(temp: Path) -> None:
        with open(temp, "wb") as out:
            write_members(out, members, comment)
        _copy_mode(real, temp)

    if real.stat().st_nlink > 1:
        _rewrite_in_place(real, write)
    else:
        write_atomically(real, write, durable=True)


def _rewrite_in_place(real: Path, write: Callable[[Path], None]) -> None:
    """The full new content goes to a journal beside the workbook (flushed to disk) before the workbook's
    own bytes are overwritten; a run killed meanwhile leaves the journal, which the next run finishes
    (`finish_rewrites`)."""
    journal = temp_path(real, INPLACE_MARK)
    write_atomically(journal, write, durable=True)
    _copy_into(journal, real)
    journal.unlink()


def _copy_into(source: Path, target: Path) -> None:
    with open(source, "rb") as src, open(target, "r+b") as dst:
        while block := src.read(1 << 20):
            dst.write(block)
        dst.truncate()
        dst.flush()
        os.fsync(dst.fileno())


def finish_rewrites(workbook: Path) -> list[str]:
    """Finish in-place rewrites of `workbook` that a killed run left; returns what was done (Chinese)."""
    real = workbook.resolve()
    notes = []
    for journal in pending_rewrites(real.parent, real.name):
        if not _intact(real):  # the overwrite was interrupted: the journal holds the whole new content
            _copy_into(journal, real)
            notes.append(f"上次运行在写回工作簿 {workbook.name} 时被中断，已用完整的新内容把它恢复。")
        journal.unlink()  # an intact workbook: the overwrite never began, or the user restored it since
    for note in notes:
        logger.warning(note)
    return notes


def _intact(path: Path) -> bool:
    """A zip whose every member reads back with the right checksum."""
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError, zlib.error):
        return False


def _copy_mode(source: Path, target: Path) -> None:
    try:
        os.chmod(target, source.stat().st_mode & 0o7777)
    except OSError:  # pragma: no cover - file systems without modes
        pass


def own_workbook_path(workbook: Path, outdir: Path, suffix: str) -> Path:
    """`<工作簿名>_汇总` with `suffix` (.xlsm stays .xlsm: its content type says macro-enabled)."""
    stem = names.safe_filename(f"{workbook.stem}_汇总", names.NAME_BYTES - names.TEMP_RESERVE - len(suffix))
    return outdir / f"{stem}{suffix}"


def _own_workbook(base: bytes, target: Path, build: Callable[[Path], SheetSpec], backup: Path | None,
                  reason: str) -> SummaryWrite:
    """The 汇总 in a workbook of its own in the output folder: a copy of the workbook with it, or (for
    another format) a workbook holding only the 汇总."""
    members, comment = splice(base, build(target), aliases=[SUMMARY_ALIAS])

    def write(temp: Path) -> None:
        with open(temp, "wb") as out:
            write_members(out, members, comment)

    write_atomically(target, write)
    return SummaryWrite(target, backup, False, reason)
