"""Problems found in a workbook: collected at every stage, reported all at once."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

ERROR = "错误"
WARNING = "警告"


@dataclass(frozen=True)
class Problem:
    """One located problem. `code` is stable (tests and users can rely on it); `message` says how to fix it."""

    code: str
    severity: str  # ERROR or WARNING
    message: str
    sheet: str = ""
    cell: str = ""  # e.g. "C14"; empty when the problem is about a whole sheet or file
    value: str = ""

    @property
    def location(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet

    def __str__(self) -> str:
        where = f"{self.location}：" if self.location else ""
        return f"[{self.severity}] {where}{self.message}"


@dataclass
class Problems:
    """An ordered collection of problems; never raises on bad data, only records it."""

    items: list[Problem] = field(default_factory=list)

    def add(self, code: str, severity: str, message: str, *, sheet: str = "", cell: str = "", value: object = "") -> None:
        shown = "" if value is None else str(value)
        self.items.append(Problem(code, severity, message, sheet, cell, shown))

    def error(self, code: str, message: str, **where) -> None:
        self.add(code, ERROR, message, **where)

    def warning(self, code: str, message: str, **where) -> None:
        self.add(code, WARNING, message, **where)

    def extend(self, other: "Problems") -> None:
        self.items.extend(other.items)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == WARNING]

    @property
    def has_errors(self) -> bool:
        return any(p.severity == ERROR for p in self.items)

    def codes(self) -> list[str]:
        return [p.code for p in self.items]

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def write_csv(self, path: Path) -> Path:
        """A problems file that Excel opens with the Chinese intact (UTF-8 with BOM)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["级别", "代码", "工作表", "单元格", "内容", "说明"])
            for p in self.items:
                writer.writerow([p.severity, p.code, p.sheet, p.cell, csv_text(p.value), csv_text(p.message)])
        return path


_NUMBER = re.compile(r"[+-]?\d[\d,]*(?:\.\d+)?")


def csv_text(text: str) -> str:
    """Text that Excel shows as written: a cell value such as '=SUM(C2:C4)' would otherwise run as a
    formula when the CSV is opened (CSV injection), so it gets a leading apostrophe; plain numbers stay."""
    if text and text[0] in "=+-@\t\r" and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


class WorkbookError(Exception):
    """The run cannot go on (a usage error such as a missing file, or errors in the workbook)."""

    def __init__(self, message: str, problems: Problems | None = None, problems_file: Path | None = None):
        super().__init__(message)
        self.problems = problems or Problems()
        self.problems_file = problems_file  # where the problems were written, if anywhere


class UsageError(Exception):
    """The run cannot start: no such file, not a workbook, a folder that cannot be written (exit code 2)."""


class TemplateProblem(Exception):
    """A template that cannot be read or rendered; the message names the template and the cause."""

