"""Reading the standard workbook: one table (a DataFrame) per input sheet, bad cells as located problems.

    package  — the file before any cell is read: its kind, safety, and where its parts are
    engines  — reader engines giving each sheet's cell values (calamine, stream, openpyxl)
    stream   — the constant-memory engine: rows straight from the zip
    facts    — what the values do not show: formulas without cached values, Excel error values
    sheets   — one sheet into a Table: header, units, totals rows, conversion of every column
    ledger   — 支出明细 pasted as the finance software exports it (明细账, 序时账) into the same Table

Modules import one way: package and raw at the bottom, then stream, facts and engines, then sheets, then ledger,
then this module. Nothing outside this package knows about Excel cells.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, TypeVar

from loguru import logger

from ..problems import Problems
from ..read_ahead import STREAM_FROM_BYTES, sheet_xml_size
from ..schema import DISBURSEMENTS, INDICATORS, INPUT_SHEETS, PROJECTS, Sheet, contract_titles
from .engines import ENGINES, open_engine, open_workbook
from .facts import CellFacts, cell_facts_stream
from .foreign import foreign_facts
from .indicators import join_split_targets
from .ledger import read_disbursements
from .package import XLSX, check_package
from .raw import RawSheet
from .sheets import HEADER_SEARCH_ROWS, ROW, Table, read_sheet
from .styles import NO_STYLES, BookStyles, book_styles

__all__ = ["ENGINES", "HEADER_SEARCH_ROWS", "ROW", "RawSheet", "Table", "WorkbookData", "check_package",
           "open_workbook", "read_sheet", "read_workbook"]

T = TypeVar("T")


@dataclass
class WorkbookData:
    path: Path
    tables: dict[str, Table]  # by canonical sheet name; optional sheets may be absent
    kind: str = XLSX  # package.XLSX (.xlsx/.xlsm), XLS, XLSB or ODS
    _derived: dict = field(default_factory=dict, repr=False, compare=False, kw_only=True)

    def get(self, sheet: Sheet) -> Table | None:
        return self.tables.get(sheet.name)

    def derived(self, key: str, make: Callable[[], T]) -> T:
        """`make()`, computed once and kept under `key`: for what the checks and the figures both take from
        the tables (sums by project), which do not change once read."""
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]


def read_workbook(path: str | Path, problems: Problems, engine: str = "auto") -> WorkbookData:
    """Read every input sheet of the workbook at `path`; bad cells become problems, never exceptions.

    `engine` reads the cell values: "calamine" (fast), "stream" (constant memory), "openpyxl" (the
    reference), or "auto"; all give the same tables (tests compare them on every workbook habit).
    """
    path = Path(path)
    kind = check_package(path)
    if kind != XLSX:
        engine = "calamine"  # the stream and openpyxl engines read .xlsx packages only
    elif engine == "auto":
        engine = "stream" if sheet_xml_size(path) > STREAM_FROM_BYTES else "calamine"
    names, load = open_engine(path, engine)
    titles = contract_titles(names)
    found_titles = [t for t in titles.values() if t]
    load.prefetch(found_titles)  # only the sheets of the contract, in the order they are read
    if kind == XLSX:
        styles = _styles(path)
        facts = cell_facts_stream(path, found_titles, styles.meaningful)
    else:
        styles, facts = foreign_facts(path, kind, found_titles)
    tables: dict[str, Table] = {}
    for sheet in INPUT_SHEETS:
        title = titles[sheet.name]
        if title is None:
            if sheet.required:
                problems.error(
                    "sheet-missing",
                    f"工作簿中没有“{sheet.name}”工作表（也可命名为 {sheet.alias}）。请按标准工作簿添加这张表，"
                    f"表头为：{'、'.join(c.name for c in sheet.required_columns)}。",
                    sheet=sheet.name,
                )
            continue
        raw = load(title)
        found = facts.get(title, CellFacts())
        found.formats.update((at, styles.number_format(style)) for at, style in found.styles.items())
        _apply_facts(raw, found)
        if sheet is DISBURSEMENTS:
            table = read_disbursements(raw, problems, found, styles, tables.get(PROJECTS.name))
        else:
            table = read_sheet(raw, sheet, problems, found, styles)
        if table is not None:
            if sheet is INDICATORS:
                join_split_targets(table, problems)
            tables[sheet.name] = table
    return WorkbookData(path, tables, kind)


def _styles(path: Path) -> BookStyles:
    try:
        with zipfile.ZipFile(path) as zf:
            return book_styles(zf)
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:  # the engine reports a damaged package
        logger.debug("styles of {} not read: {!r}", path, exc)
        return NO_STYLES


def _apply_facts(raw: RawSheet, facts: CellFacts) -> None:
    """Put error values where the engine showed an empty cell, and make room for formula cells past the
    engine's last row or column (a row of formulas without values is not blank)."""
    positions = list(facts.errors) + list(facts.uncached)
    if positions:
        raw.rows = _with_facts(raw.rows, facts.errors, max(r for r, _ in positions), max(c for _, c in positions))


def _with_facts(rows: Iterable[list], errors: dict[tuple[int, int], str], height: int, width: int) -> Iterator[list]:
    by_row: dict[int, list[tuple[int, str]]] = {}
    for (r, c), text in errors.items():
        by_row.setdefault(r, []).append((c, text))
    number = 0
    for number, row in enumerate(rows, 1):
        if len(row) < width:
            row = list(row) + [None] * (width - len(row))
        for c, text in by_row.get(number, ()):
            if row[c - 1] is None:
                row[c - 1] = text
        yield row
    for _ in range(number, height):
        yield [None] * width
