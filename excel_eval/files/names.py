"""File names that always fit: safe on Windows, within 255 UTF-8 bytes, and (on Windows) within a 260-character
path where the output folder leaves room.

A report is `<项目编号>_<项目名称>.docx`; its 自评表 adds `_自评表`, a name taken twice adds a counter (`_2`),
and every file is first written under a temporary name (`.<pid>-<token>.excel-eval-tmp` after the final
name). The budget for the name keeps room for all of these. When a name is too long, the 项目名称 part is
shortened (ending in “…”) and the 项目编号 is kept whole.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

NAME_BYTES = 255  # the longest file name ext4, APFS, NTFS (in UTF-16 units) and most others accept
WINDOWS_MAX_PATH = 259  # MAX_PATH (260) less the terminating NUL: what Word and Excel can open
TEMP_RESERVE = 36  # ".<pid>-<token>.excel-eval-tmp" (atomic.temp_path)
SIBLING = "_自评表"  # scorecards are named after their report with this suffix
COUNTER_RESERVE = 4  # "_999"
EXTENSION_RESERVE = 5  # ".docx" (".pdf", ".xlsx", ".csv" are no longer)
ELLIPSIS = "…"

_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$", re.IGNORECASE)
_EXTENDS_PREVIOUS = {"Mn", "Me", "Mc", "Sk"}  # combining marks and modifiers belong to the character before
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f"}  # zero-width joiner, variation selectors


def stem_budget(outdir: Path | None = None, windows: bool = os.name == "nt") -> tuple[int, int | None]:
    """(UTF-8 bytes, path characters or None) left for a report's stem in `outdir`."""
    fixed = len(SIBLING.encode("utf-8")) + COUNTER_RESERVE + EXTENSION_RESERVE + TEMP_RESERVE
    chars = None
    if windows and outdir is not None:
        folder = len(str(Path(outdir).absolute()).encode("utf-16-le")) // 2
        chars = WINDOWS_MAX_PATH - folder - 1 - (len(SIBLING) + COUNTER_RESERVE + EXTENSION_RESERVE + TEMP_RESERVE)
    return NAME_BYTES - fixed, chars


def clean(text: str) -> str:
    """A name Windows accepts: no \\ / : * ? " < > | or control characters, no trailing dot or space, not a
    reserved device name; NFC, so that every file system stores the name as written."""
    name = unicodedata.normalize("NFC", str(text))
    name = _FORBIDDEN.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip().rstrip(". ")
    if not name or _RESERVED.match(name):
        name = f"_{name}"
    return name


def size(text: str) -> tuple[int, int]:
    """(UTF-8 bytes, UTF-16 units: what Windows counts as characters)."""
    return len(text.encode("utf-8")), len(text.encode("utf-16-le")) // 2


def fits(text: str, budget_bytes: int, budget_chars: int | None) -> bool:
    n_bytes, n_chars = size(text)
    return n_bytes <= budget_bytes and (budget_chars is None or n_chars <= budget_chars)


def shorten(text: str, budget_bytes: int, budget_chars: int | None = None) -> str:
    """`text` cut to the budget at a character boundary (never between a letter and its combining mark or
    inside an emoji sequence), ending in “…” when it was cut."""
    if fits(text, budget_bytes, budget_chars):
        return text
    cut = len(text)
    while cut > 0 and not fits(text[:cut] + ELLIPSIS, budget_bytes, budget_chars):
        cut -= 1
    while 0 < cut < len(text) and (unicodedata.category(text[cut]) in _EXTENDS_PREVIOUS
                                   or text[cut] in _JOINERS or text[cut - 1] in _JOINERS):
        cut -= 1
    return (text[:cut].rstrip(". _") + ELLIPSIS) if cut else ""


def safe_filename(text: str, budget_bytes: int | None = None, budget_chars: int | None = None) -> str:
    """`clean(text)`, shortened to the budget (by default a report stem's)."""
    if budget_bytes is None:
        budget_bytes, _ = stem_budget(windows=False)
    return shorten(clean(text), budget_bytes, budget_chars) or "_"


def project_stem(project_id: str, name: str, budget_bytes: int, budget_chars: int | None) -> str:
    """`<项目编号>_<项目名称>` within the budget: the name part is shortened first, the 项目编号 kept whole
    (unless it alone is longer than the budget)."""
    pid = clean(project_id)
    full = clean(f"{project_id}_{name}")
    if fits(full, budget_bytes, budget_chars):
        return full
    id_bytes, id_chars = size(pid + "_")
    rest = shorten(clean(name), budget_bytes - id_bytes, None if budget_chars is None else budget_chars - id_chars)
    if rest:
        return f"{pid}_{rest}"
    return shorten(pid, budget_bytes) or "_"  # a folder too deep for the path limit: the 项目编号 stays whole


def unique(stem: str, used: set[str]) -> str:
    """`stem`, or `stem_2`, `stem_3`, … the first not in `used` (lower-case stems, updated)."""
    candidate, counter = stem, 2
    while candidate.lower() in used:
        candidate, counter = f"{stem}_{counter}", counter + 1
    used.add(candidate.lower())
    return candidate
