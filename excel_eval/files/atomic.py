"""Files written whole or not at all: each is written under a temporary name beside its final name and
renamed when complete, so a full disk or a killed run never leaves a half-written file under a real name.

Temporary names say what they are (`<final name>.<pid>-<token>.excel-eval-tmp`); the next run removes those
whose process is gone (`remove_debris`).
"""

from __future__ import annotations

import gc
import os
import re
import secrets
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from loguru import logger

from .process import alive

TEMP_MARK = ".excel-eval-tmp"
INPLACE_MARK = ".excel-eval-inplace"  # the full new content of a workbook being rewritten in place
_OURS = re.compile(r"^(?P<final>.+)\.(?P<pid>\d{1,10})-[0-9a-f]{6}(?P<mark>\.excel-eval-(?:tmp|inplace))$")
# what earlier versions left beside a workbook when killed (tempfile.mkstemp names)
_LEGACY = re.compile(r"^\.(~.+[a-z0-9_]{8}\.tmp|.+\.[a-z0-9_]{8}\.(xlsx|xlsm))$")


def temp_path(final: Path, mark: str = TEMP_MARK) -> Path:
    return final.with_name(f"{final.name}.{os.getpid()}-{secrets.token_hex(3)}{mark}")


def owner(path: Path) -> tuple[str, int, str] | None:
    """(final name, process id, mark) of one of our temporary files, or None for any other name."""
    m = _OURS.match(path.name)
    return (m.group("final"), int(m.group("pid")), m.group("mark")) if m else None


def write_atomically(final: Path, write: Callable[[Path], object], *, durable: bool = False) -> Path:
    """Call `write(temp)` and rename the temporary file to `final` once it is complete. `durable` also
    flushes it to the disk first (for the user's workbook). On any error the temporary file is removed and
    the error names `final`."""
    temp = temp_path(final)
    try:
        with quiet_unraisable():
            try:
                write(temp)
            except BaseException as exc:
                traceback.clear_frames(exc.__traceback__)  # close a half-written zip now, not at exit
                gc.collect()
                raise
        if durable:
            flush_to_disk(temp)
        os.replace(temp, final)
    except OSError as exc:
        _remove(temp)
        if exc.filename in (None, str(temp)):
            exc.filename = str(final)
        raise
    except BaseException:
        _remove(temp)
        raise
    return final


def write_bytes_atomically(final: Path, data: bytes, *, durable: bool = False) -> Path:
    return write_atomically(final, lambda temp: temp.write_bytes(data), durable=durable)


def flush_to_disk(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        logger.debug("临时文件 {} 无法删除，下次运行时再清理", path)


@contextmanager
def quiet_unraisable() -> Iterator[None]:
    """Errors raised while an object is finalised (a zip file closed on a full disk) go to the debug log
    instead of the screen; the error that matters has been raised already."""
    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        logger.debug("忽略的清理错误：{}：{}", unraisable.exc_type.__name__, unraisable.exc_value)

    sys.unraisablehook = hook
    try:
        yield
    except BaseException:
        gc.collect()  # finalise what the error left half-done while the hook is in place
        raise
    finally:
        sys.unraisablehook = previous


def remove_debris(folder: Path, names: set[str] | None = None) -> list[Path]:
    """Remove the temporary files that runs which are no longer alive left in `folder` (only those for the
    final names in `names`, when given). Interrupted in-place rewrites are left to `pending_rewrites`."""
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for path in entries:
        found = owner(path)
        legacy = found is None and names is not None and _LEGACY.match(path.name) and any(
            path.name.startswith((f".~{n}", f".{Path(n).stem}.")) for n in names)
        if found is None and not legacy:
            continue
        if found is not None and (found[2] != TEMP_MARK or alive(found[1]) or (names and not _for(found[0], names))):
            continue
        try:
            if path.is_file() and not path.is_symlink():
                path.unlink()
                removed.append(path)
        except OSError:
            logger.debug("上次运行留下的临时文件 {} 无法删除", path)
    return removed


def _for(final: str, names: set[str]) -> bool:
    """Whether a temporary file's final name is one of `names`, or the in-place rewrite of one (a run killed
    while it wrote the rewrite's own content leaves `<name>.<pid>-<tag>.excel-eval-inplace.<pid>-<tag>.excel-eval-tmp`)."""
    if final in names:
        return True
    inner = _OURS.match(final)
    return inner is not None and inner["mark"] == INPLACE_MARK and inner["final"] in names


def pending_rewrites(folder: Path, name: str) -> list[Path]:
    """In-place rewrites of `folder/name` that a run which is no longer alive did not finish."""
    found = []
    for path in folder.glob(f"{glob_escape(name)}.*{INPLACE_MARK}"):
        info = owner(path)
        if info and info[0] == name and info[2] == INPLACE_MARK and not alive(info[1]):
            found.append(path)
    return sorted(found, key=lambda p: p.stat().st_mtime)


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)
