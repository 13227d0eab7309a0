"""The record of the files a run wrote, so that the next run removes those no project needs any more.

Only what this tool wrote is ever removed: a file must be listed in the record (name, size and SHA-256) and
still have the recorded size and content, its name must be a report's (.docx / .pdf), and it must not be the
workbook or a file this run wrote (names compared the way the output folder's file system compares them:
case-insensitively on Windows and macOS disks). A file the user changed since is kept and named.
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from loguru import logger

RECORD_NAME = ".excel-eval-files.json"
LEGACY_MANIFEST = ".excel-eval-reports.txt"  # names only: not trusted, removed
REPORT_SUFFIXES = (".docx", ".pdf")


@dataclass
class CleanUp:
    removed: list[Path] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # Chinese notes on stale files left in place


def entry(path: Path) -> dict:
    return {"name": path.name, "size": path.stat().st_size, "sha256": digest(path)}


def entry_of(path: Path, data: bytes) -> dict:
    """The entry of a file just written with `data`."""
    return {"name": path.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def folds_case(folder: Path, probe: str) -> bool:
    """Whether the file system of `folder` treats names differently in case as one (`probe` must exist)."""
    other = probe.swapcase()
    return other != probe and (folder / other).exists()


def name_key(name: str, fold: bool) -> str:
    name = unicodedata.normalize("NFC", name)
    return name.casefold() if fold else name


def load(outdir: Path, workbook: Path) -> list[dict]:
    """The files the last run for `workbook` recorded in `outdir` (none when another workbook's run wrote
    the record: its reports are not this workbook's to remove)."""
    path = outdir / RECORD_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError):
        logger.warning("输出文件夹中的运行记录 {} 已损坏，本次不删除任何旧文件。", RECORD_NAME)
        return []
    if not isinstance(data, dict) or data.get("workbook") != workbook.name:
        return []
    files = data.get("files", [])
    return [f for f in files if isinstance(f, dict) and {"name", "size", "sha256"} <= set(f)] if isinstance(
        files, list) else []


def save(outdir: Path, workbook: Path, written: list[Path], entries: dict[Path, dict] | None = None) -> None:
    """Record the files `written`; `entries` are those already made (`entry`) as the files were written."""
    from .atomic import write_bytes_atomically

    entries = entries or {}
    files = [entries.get(p) or entry(p) for p in written if p.exists()]
    data = {"version": 1, "workbook": workbook.name, "files": files}
    write_bytes_atomically(outdir / RECORD_NAME, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))
    (outdir / LEGACY_MANIFEST).unlink(missing_ok=True)


def remove_stale(outdir: Path, workbook: Path, written: list[Path], fold: bool) -> CleanUp:
    """Remove the recorded files of an earlier run that this run did not write."""
    result = CleanUp()
    current = {name_key(p.name, fold) for p in written}
    for item in load(outdir, workbook):
        name = item["name"]
        if not _plain_report_name(name) or name_key(name, fold) in current:
            continue
        path = outdir / name
        if not path.is_file() or path.is_symlink() or _same_as_any(path, [workbook, *written]):
            continue
        if (path.stat().st_size, digest(path)) != (item["size"], item["sha256"]):
            result.kept.append(f"旧文件 {name} 已不对应任何项目，但它在上次生成后被修改过，因此没有删除；如不再需要，请手动删除。")
            continue
        try:
            path.unlink()
            result.removed.append(path)
        except OSError:
            result.kept.append(f"旧文件 {name} 已不对应任何项目，但无法删除（可能正在打开），请关闭后手动删除。")
    return result


def _plain_report_name(name: str) -> bool:
    return (isinstance(name, str) and name == os.path.basename(name) and "/" not in name and "\\" not in name
            and name not in ("", ".", "..") and not name.startswith("~$") and name.lower().endswith(REPORT_SUFFIXES))


def _same_as_any(path: Path, others: list[Path]) -> bool:
    for other in others:
        try:
            if os.path.samefile(path, other):
                return True
        except OSError:
            continue
    return False
