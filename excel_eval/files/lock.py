"""One run at a time per output folder (and so per workbook: the default folder is the workbook's own).

The lock is an operating-system lock on `.excel-eval.lock` in the output folder, held while the run lasts.
The system releases it when the process ends in any way (even killed), so the lock of a dead run is simply
taken over; the file's content (process, start time, workbook) only serves the message for a second run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from ..problems import UsageError

LOCK_NAME = ".excel-eval.lock"
_REGION = 1 << 20  # Windows locks a byte range: one far from the content, so the content stays readable


class RunLocked(UsageError):
    """Another run holds the output folder."""


class RunLock:
    """`with RunLock(outdir, workbook):` — raises RunLocked (a Chinese message) when another run holds it."""

    def __init__(self, outdir: Path, workbook: Path):
        self.path = Path(outdir) / LOCK_NAME
        self.workbook = Path(workbook)
        self._fd: int | None = None

    def __enter__(self) -> "RunLock":
        for _ in range(5):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_lock(fd):
                holder = _read(fd)
                os.close(fd)
                raise RunLocked(self._message(holder))
            if _same_file(fd, self.path):  # not a file that the run before us removed meanwhile
                self._fd = fd
                _write(fd, {"pid": os.getpid(), "started": dt.datetime.now().isoformat(timespec="seconds"),
                            "workbook": str(self.workbook)})
                return self
            os.close(fd)
        raise RunLocked(f"无法锁定输出文件夹 {self.path.parent}，请稍后重新运行。")

    def __exit__(self, *exc) -> None:
        if self._fd is None:
            return
        if os.name != "nt":  # on Windows an open file cannot be removed; it stays, unlocked
            try:
                self.path.unlink()
            except OSError:
                pass
        os.close(self._fd)  # closing releases the lock
        self._fd = None

    def _message(self, holder: dict) -> str:
        who = f"（进程 {holder['pid']}，{holder.get('started', '').replace('T', ' ')} 开始）" if holder.get("pid") else ""
        book = holder.get("workbook") or str(self.workbook)
        return (f"另一个 excel-eval 正在向输出文件夹 {self.path.parent} 生成报告{who}，工作簿：{book}。"
                "同一时间只能有一个运行：请等它结束后再运行，或用 -o 指定另一个输出文件夹。")


def _try_lock(fd: int) -> bool:
    if os.name == "nt":  # pragma: no cover - Windows only
        import msvcrt

        os.lseek(fd, _REGION, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


def _read(fd: int) -> dict:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = json.loads(os.read(fd, 4096).decode("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write(fd: int, holder: dict) -> None:
    data = json.dumps(holder, ensure_ascii=False).encode("utf-8")
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    os.write(fd, data)
