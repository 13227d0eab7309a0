"""The reader's problems, word for word, on every habit and bad-input workbook of the test suite.

tests/fixtures/reader/ holds the workbooks the habit and bad-input tests build (by content hash), each with the
problems the reader gave (`<hash>.read.json`) and, where the tests also checked it, the problems of the whole check
(`<hash>.check.json`): code, severity, sheet, cell, value and message, in order. A change to the reader that
changes any of them shows here; a deliberate change updates the JSON with the reason in the commit.
"""

import json
from pathlib import Path

import pytest

from excel_eval.pipeline import check
from excel_eval.problems import Problems
from excel_eval.read_ahead import read_ahead, take
from excel_eval.reading import read_workbook

FOLDER = Path(__file__).parent / "fixtures" / "reader"
BOOKS = sorted(p for p in FOLDER.iterdir() if p.suffix in (".xlsx", ".xlsm"))


def listed(problems) -> list[list[str]]:
    return [[p.code, p.severity, p.sheet, p.cell, p.value, p.message] for p in problems]


def expected(book: Path, kind: str):
    path = book.with_name(f"{book.stem}.{kind}.json")
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


@pytest.mark.parametrize("book", BOOKS, ids=[b.stem for b in BOOKS])
def test_reader_problems_are_as_recorded(book):
    problems = Problems()
    read_workbook(book, problems)
    assert listed(problems) == expected(book, "read")


@pytest.mark.parametrize("book", BOOKS, ids=[b.stem for b in BOOKS])
def test_reader_problems_are_as_recorded_when_the_workbook_was_read_ahead(book):
    read_ahead(book)  # as `excel-eval run` does while it starts
    problems = Problems()
    read_workbook(book, problems)
    assert listed(problems) == expected(book, "read")
    assert take(book) is None


@pytest.mark.parametrize("book", [b for b in BOOKS if expected(b, "check") is not None],
                         ids=[b.stem for b in BOOKS if expected(b, "check") is not None])
def test_check_problems_are_as_recorded(book):
    assert listed(check(book).problems) == expected(book, "check")


def test_the_recorded_workbooks_are_there():
    assert len(BOOKS) >= 70
