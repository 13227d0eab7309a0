"""What a reader engine gives: a sheet's cell values as rows from A1, and its merged ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable


@dataclass
class RawSheet:
    """A sheet's cell values as a reader engine gives them: rows from A1, None for an empty cell."""

    title: str
    rows: Iterable[list]  # read lazily: a sheet is converted piece by piece, never held whole
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # (min_col, min_row, max_col, max_row)


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape(text: str) -> str:
    """Excel keeps characters XML cannot hold (line feeds aside) as _x0001_, and a literal '_x' as _x005F_x;
    openpyxl hands them over as written."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


def column_letter(index: int) -> str:
    """The letters of 1-based column `index`: 1 → 'A', 28 → 'AB', 16384 → 'XFD'."""
    letters = ""
    while index > 0:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_index(letters: str) -> int:
    """1-based column number of 'A', 'AB', 'XFD'."""
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index
