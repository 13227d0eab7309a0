"""A number in a text column, as Excel shows it: the shown text, and the exact number and unit behind it.

A 实际完成值 typed as `93%` is stored as 0.93 with a percent format; the table holds CellText("93%") whose
`number` is 93 and `unit` is "%". A number whose format this reader cannot render, or whose format the file
does not record (.xlsb), has `known` False: the text is the plain number and its unit cannot be known.
"""

from __future__ import annotations

from decimal import Decimal

from .numfmt import NumberFormat, general_text

GENERAL = NumberFormat.parse("General")


class CellText(str):
    """str of what Excel shows for a number; `.number` (exact, in the shown unit), `.unit`, `.known`."""

    __slots__ = ("number", "unit", "known")

    def __new__(cls, text: str, number: Decimal, unit: str = "", known: bool = True):
        self = super().__new__(cls, text)
        self.number, self.unit, self.known = number, unit, known
        return self

    def __reduce__(self):
        return (CellText, (str(self), self.number, self.unit, self.known))

    def __repr__(self) -> str:
        return f"CellText({str(self)!r}, number={self.number}, unit={self.unit!r}, known={self.known})"


def shown(value: int | float, fmt: NumberFormat | None = None, known: bool = True) -> CellText:
    """The CellText of a number cell with number format `fmt` (General when None)."""
    fmt = fmt or GENERAL
    exact = Decimal(str(value))
    if not fmt.supported:
        return CellText(general_text(exact), exact, "", False)
    return CellText(fmt.show(exact).strip(), fmt.value(exact), fmt.unit, known)
