"""Reader engines: a workbook's worksheet titles and a loader of each sheet's cell values (RawSheet).

"calamine" (python-calamine, fastest), "stream" (rows straight from the zip in constant memory, stream.py) and
"openpyxl" (the reference, and the fallback that explains a package the others cannot follow); all give the
same values (tests compare them on every workbook habit).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Callable, Iterable, Iterator

import defusedxml
from loguru import logger

from ..problems import UsageError
from ..read_ahead import take
from .package import XLSX, check_package, unsafe_message
from .raw import RawSheet, unescape
from .stream import open_stream

ENGINES = ("calamine", "openpyxl", "stream")
Loader = Callable[[str], RawSheet]


def open_engine(path: Path, engine: str) -> tuple[list[str], Loader]:
    """Worksheet titles (no chart sheets) and a loader, read by `engine`. A sheet that cannot be read (a
    damaged or missing part, bytes that are not UTF-8) is a usage error naming the sheet."""
    if engine == "stream":
        try:
            names, load = open_stream(path)
        except Exception as exc:  # noqa: BLE001 - a package this reader does not follow: openpyxl explains it
            logger.debug("stream reader could not open {}: {!r}; reading with openpyxl", path, exc)
            names, load = open_openpyxl(path)
    elif engine == "calamine":
        names, load = open_calamine(path)
    else:
        names, load = open_openpyxl(path)
    return names, _guarded(path, load)


def _guarded(path: Path, load: Loader) -> Loader:
    """`load` with every engine's failures as a usage error naming the sheet; `load.prefetch(titles)`, when the
    engine has it, lets it start on the sheets it will be asked for."""
    def guarded(title: str) -> RawSheet:
        try:
            raw = load(title)
        except UsageError:
            raise
        except Exception as exc:  # noqa: BLE001 - every engine's way of failing on a damaged part
            raise _damaged(path, title, exc) from exc
        raw.rows = _guarded_rows(path, title, raw.rows)
        return raw

    guarded.prefetch = getattr(load, "prefetch", lambda titles: None)
    return guarded


def _guarded_rows(path: Path, title: str, rows: Iterable[list]) -> Iterator[list]:
    try:
        yield from rows
    except UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 - a lazily read part fails while its rows are read
        raise _damaged(path, title, exc) from exc


def _damaged(path: Path, title: str, exc: Exception) -> UsageError:
    logger.debug("sheet {} of {} unreadable: {!r}", title, path, exc)
    text = str(exc)
    if isinstance(exc, UnicodeDecodeError) or "utf-8" in text.lower() or "utf8" in text.lower():
        what = "其中有不是 UTF-8 编码的字节（文件在传输或编辑时被破坏）"
    elif isinstance(exc, KeyError) or "not found" in text.lower():
        what = "它的内容在文件中找不到"
    else:
        what = "它的内容不完整或格式错误"
    return UsageError(f"工作簿 {path.name} 的“{title}”工作表已损坏：{what}。请在 Excel 或 WPS 中打开工作簿，检查这张表，"
                      "另存为新的 .xlsx 再运行；如果打不开，请用备份的文件。")


def open_calamine(path: Path) -> tuple[list[str], Loader]:
    """Worksheet names and a loader, with python-calamine; openpyxl when calamine cannot read the file."""
    ahead = take(path)  # parsed while the program started
    try:
        from python_calamine import CalamineWorkbook, SheetTypeEnum

        if ahead:
            book, names = ahead.book, ahead.names
        else:
            book = _calamine_book(CalamineWorkbook, path)
            names = [m.name for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
    except Exception as exc:  # a package calamine does not understand: openpyxl explains it, or reads it
        logger.debug("calamine could not open {}: {!r}; reading with openpyxl", path, exc)
        if check_package(path) != XLSX:
            raise UsageError(f"无法读取工作簿 {path.name}：文件已损坏。请在 Excel、WPS 或 LibreOffice 中打开它，"
                             "另存为“Excel 工作簿（*.xlsx）”，再用新文件运行。") from exc
        return open_openpyxl(path)

    parsed: dict = dict(ahead.sheets) if ahead else {}  # title -> the sheet being parsed in the background
    started = list(parsed.values())

    def idle() -> None:
        """Wait for the sheets being parsed: calamine allows no other call on the workbook meanwhile."""
        wait(started)

    def load(title: str) -> RawSheet:
        if title in parsed:
            sheet = parsed.pop(title).result()
        else:
            idle()
            sheet = book.get_sheet_by_name(title)
        merged = [(c1 + 1, r1 + 1, c2 + 1, r2 + 1) for (r1, c1), (r2, c2) in (sheet.merged_cell_ranges or [])]
        return RawSheet(title, _calamine_rows(sheet), merged)

    def prefetch(titles: list[str]) -> None:
        """Parse these sheets, one after the other, in a thread: while this one scans the package for cell
        facts and converts the sheets parsed before."""
        titles = [title for title in titles if title not in parsed]
        if not titles:
            return
        idle()
        worker = ThreadPoolExecutor(1, thread_name_prefix="calamine")
        for title in titles:
            parsed[title] = worker.submit(book.get_sheet_by_name, title)
            started.append(parsed[title])
        worker.shutdown(wait=False)

    load.prefetch = prefetch
    return names, load


def _calamine_book(calamine, path: Path):
    """calamine picks its reader by the file name's extension; a workbook under another name (an .xls saved as
    .xlsx) is read from its content instead."""
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        book = None
        try:
            book = calamine.from_path(str(path))
        except Exception as exc:  # noqa: BLE001 - try the content below
            logger.debug("calamine by name failed for {}: {!r}", path, exc)
        if book is not None:
            return book
    with open(path, "rb") as f:
        return calamine.from_filelike(f)


def _calamine_rows(sheet) -> Iterator[list]:
    """Rows from A1 with None for empty cells (calamine starts its rows at the first used column)."""
    start = sheet.start
    pad = [None] * (start[1] if start else 0)
    for row in sheet.iter_rows():
        if pad or "" in row:  # a full row from column A (most data rows) is used as it is
            row = pad + [None if v == "" else v for v in row]
        yield row


def open_openpyxl(path: Path) -> tuple[list[str], Loader]:
    book = open_workbook(path)
    names = [ws.title for ws in book.worksheets]  # not chart sheets

    def load(title: str) -> RawSheet:
        ws = book[title]
        rows = ([unescape(v) if isinstance(v, str) and "_x" in v else v for v in r]
                for r in ws.iter_rows(min_row=1, min_col=1, max_row=ws.max_row, max_col=ws.max_column,
                                      values_only=True))
        return RawSheet(title, rows, [m.bounds for m in ws.merged_cells])

    return names, load


def open_workbook(path: Path):
    """Open the workbook with openpyxl, cached values of formulas; a damaged package is a usage error."""
    import openpyxl  # the fallback engine: a sixth of a second to import, so only when used

    check_package(path)
    try:
        return openpyxl.load_workbook(path, data_only=True, keep_vba=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged package
        if _caused_by(exc, defusedxml.DefusedXmlException):  # a DTD hidden beyond the prolog scan
            raise UsageError(unsafe_message(path)) from exc
        logger.debug("openpyxl could not load {}: {!r}", path, exc)
        raise UsageError(
            f"无法读取工作簿 {path.name}：文件已损坏，或不是 Excel 工作簿。请在 Excel 或 WPS 中打开它，"
            "选择“文件 → 另存为”保存为“Excel 工作簿（*.xlsx）”，再用新文件运行。"
        ) from exc


def _caused_by(exc: BaseException, kind: type) -> bool:
    """`exc` or an exception it was raised from (openpyxl wraps parser errors in ValueError)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False
