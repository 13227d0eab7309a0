"""Workbooks written as Excel stores what an accountant types, with XlsxWriter: numbers with number formats,
formulas with their cached values, dates as serial numbers in a date format, the 1904 date system.

A cell is a plain value (str, int, float, date, None) or one of:
    Num(0.93, "0%")                  the number 0.93 shown as 93%
    Formula("=100%", 1, "0%")         a formula with its cached value and a number format
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter


@dataclass(frozen=True)
class Num:
    value: float
    format: str


@dataclass(frozen=True)
class Formula:
    formula: str
    value: object
    format: str | None = None


def write_excel_workbook(path: Path, sheets: dict[str, list[list]], date1904: bool = False) -> Path:
    book = xlsxwriter.Workbook(str(path), {"date_1904": date1904, "strings_to_numbers": False,
                                           "strings_to_formulas": False})
    formats: dict[str, object] = {}

    def fmt(code: str | None):
        if code is None:
            return None
        if code not in formats:
            formats[code] = book.add_format({"num_format": code})
        return formats[code]

    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                if cell is None:
                    continue
                if isinstance(cell, Num):
                    sheet.write_number(r, c, cell.value, fmt(cell.format))
                elif isinstance(cell, Formula):
                    sheet.write_formula(r, c, cell.formula, fmt(cell.format), cell.value)
                elif isinstance(cell, (dt.date, dt.datetime)):
                    sheet.write_datetime(r, c, cell if isinstance(cell, dt.datetime)
                                         else dt.datetime(cell.year, cell.month, cell.day), fmt("yyyy-mm-dd"))
                elif isinstance(cell, (int, float)):
                    sheet.write_number(r, c, cell)
                else:
                    sheet.write_string(r, c, str(cell))
    book.close()
    return path
