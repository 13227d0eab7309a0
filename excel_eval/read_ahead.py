"""The workbook's sheets parsed while the program starts.

`excel-eval run` knows the workbook as soon as its arguments are read, a quarter of a second before the
reader is imported and ready. `read_ahead` starts python-calamine on the sheets of the contract then, in a
thread (calamine lets go of the GIL while it parses, so the two go on at once on two cores); the reader takes
the parsed sheets up (`take`) when it opens the same, unchanged file with calamine. Whatever goes wrong here is
left for the reader to find and explain: this only ever saves time.
"""

from __future__ import annotations

import os
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .schema import contract_titles

# Measured on a 2-core machine (benchmarks/): calamine reads fastest but holds a whole sheet in memory (about
# 160 MiB for a 120 MB ledger part of 250,000 rows); the stream engine reads rows straight from the zip in
# constant memory, about 20% slower. The reader's "auto" engine takes calamine below this much sheet XML and
# streams above it; nothing is read ahead above it.
STREAM_FROM_BYTES = 64 * 1024 * 1024
_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")  # calamine picks its reader by the extension


@dataclass
class Parsed:
    """An open calamine workbook, its worksheets' names (asked before the parsing starts: calamine allows no
    other call on the workbook while it parses), and the contract's sheets being parsed, by title, in the
    order the reader reads them."""

    book: object
    names: list[str]
    sheets: dict[str, Future]


_ahead: dict[tuple, Parsed] = {}


def _identity(path: Path) -> tuple:
    """The file as it is now: its resolved path, size and modification time."""
    stat = os.stat(path)
    return str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns


def sheet_xml_size(path: Path) -> int:
    """The uncompressed size of an .xlsx package's worksheets."""
    with zipfile.ZipFile(path) as zf:
        return _worksheets_size(zf.infolist())


def _worksheets_size(infos: list[zipfile.ZipInfo]) -> int:
    return sum(i.file_size for i in infos if i.filename.lower().startswith("xl/worksheets/"))


def _small_enough(path: Path) -> bool:
    """Whether an .xlsx package is read ahead: its worksheets below STREAM_FROM_BYTES and all its parts below
    twice that, by the sizes its zip declares. Anything larger (a "zip bomb" among it) waits for the reader's
    checks (reading.package); calamine itself refuses a part that inflates beyond its declared size and expands
    no DTD entities (tests/test_bounded_reading.py)."""
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    return _worksheets_size(infos) <= STREAM_FROM_BYTES and sum(i.file_size for i in infos) <= 2 * STREAM_FROM_BYTES


def read_ahead(path: Path) -> None:
    """Start parsing the contract's sheets of the workbook at `path` in the background."""
    suffix = Path(path).suffix.lower()
    try:
        if suffix not in _SUFFIXES:
            return
        identity = _identity(path)
        if suffix in (".xlsx", ".xlsm") and not _small_enough(path):
            return
        from python_calamine import CalamineWorkbook, SheetTypeEnum

        book = CalamineWorkbook.from_path(str(path))
        names = [m.name for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
    except Exception:  # noqa: BLE001 - the reader explains what is wrong with the file
        return
    titles = [title for title in contract_titles(names).values() if title]  # as the reader will ask for them
    worker = ThreadPoolExecutor(1, thread_name_prefix="read-ahead")
    _ahead[identity] = Parsed(book, names, {title: worker.submit(book.get_sheet_by_name, title) for title in titles})
    worker.shutdown(wait=False)


def take(path: Path) -> Parsed | None:
    """What `read_ahead` started for the file at `path`, if the file has not changed since (once)."""
    if not _ahead:
        return None
    try:
        return _ahead.pop(_identity(path), None)
    except OSError:
        return None
