"""Where the bundled templates and sample workbook are: the repository's folders when running from a
checkout, else the copies installed inside the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent


def _bundled(folder: str, package: str) -> Path:
    local = _REPO / folder
    if local.is_dir():
        return local
    return Path(str(resources.files(package)))


def program_dir() -> Path:
    """The folder of the program (and of its double-click launchers) when it runs from its own folder."""
    return _REPO


def templates_dir() -> Path:
    return _bundled("templates", "excel_eval._templates")


def samples_dir() -> Path:
    return _bundled("sample_workbooks", "excel_eval._samples")


def sample_workbook() -> Path:
    return sorted(samples_dir().glob("*.xlsx"))[0]
