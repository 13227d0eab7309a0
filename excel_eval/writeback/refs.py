"""Cell references: 'B3' ⇄ (row, column), ranges, and the limits of a worksheet."""

from __future__ import annotations

import re

MAX_ROWS = 1_048_576
MAX_COLS = 16_384

_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")


def col_letter(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def parse_ref(ref: str) -> tuple[int, int]:
    """'B3' -> (row 3, col 2)."""
    m = _CELL_REF.match(ref.strip())
    if not m:
        raise ValueError(f"invalid cell reference: {ref!r}")
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    row = int(m.group(2))
    if not (1 <= col <= MAX_COLS and 1 <= row <= MAX_ROWS):
        raise ValueError(f"cell reference out of range: {ref!r}")
    return row, col


def parse_range(ref: str) -> tuple[int, int, int, int]:
    """'B3:A1' -> (first row, first col, last row, last col), normalised."""
    parts = ref.strip().split(":")
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2:
        raise ValueError(f"invalid range: {ref!r}")
    r1, c1 = parse_ref(parts[0])
    r2, c2 = parse_ref(parts[1])
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def range_str(r1: int, c1: int, r2: int, c2: int) -> str:
    a = f"{col_letter(c1)}{r1}"
    b = f"{col_letter(c2)}{r2}"
    return a if a == b else f"{a}:{b}"


def quoted_sheet(name: str) -> str:
    """A sheet name as formulas and defined names write it: "'汇总'"."""
    return "'" + name.replace("'", "''") + "'"
