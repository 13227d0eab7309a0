"""Punctuation in Chinese text (GB/T 15834 标点符号用法, GB/T 9704 for 文号): the checks `check` reports on the
narrative (文字说明!内容) and the project names, and the fixes `run --fix-punctuation` applies to the reports.
The workbook itself is never changed.

Each rule finds spans of a text and says what they should be:
- half-width  , ; : ( ) ? !  between Chinese characters (a pair of brackets when it touches or holds Chinese);
- < > inside 《》, which are 〈〉 (a title inside a title);
- the year of a 文号 in [ ] or ( ), which is 〔 〕: 攀仁委群[2016]23号 → 攀仁委群〔2016〕23号;
- a paragraph that does not end with a final mark (。！？… or ；： of a list), for sections that the template
  sets as paragraphs of their own (a section used inside a sentence takes its end from the template).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .problems import Problems
from .schema import NARRATIVE, PROJECTS, ROW

FULL_WIDTH = {",": "，", ";": "；", ":": "：", "(": "（", ")": "）", "?": "？", "!": "！"}
FINAL_MARKS = set("。！？…；：")
CLOSING = set("”’」』）》】〕")
HINT = "运行时加 --fix-punctuation 可在报告中自动改正（工作簿不变）。"


@dataclass(frozen=True)
class Finding:
    rule: str  # the code of the rule (Problem code)
    start: int
    end: int
    replacement: str


def is_chinese(ch: str) -> bool:
    """A Han character or a full-width Chinese punctuation mark."""
    if not ch:
        return False
    if "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\u3000" <= ch <= "\u303f":
        return True
    return unicodedata.east_asian_width(ch) in "WF" and not ch.isalnum()


def _neighbour(text: str, index: int, step: int) -> str:
    index += step
    while 0 <= index < len(text) and text[index] in " \t":
        index += step
    return text[index] if 0 <= index < len(text) else ""


_HALF_WIDTH = re.compile(r"[,;:?!(]")


def half_width(text: str) -> list[Finding]:
    if not _HALF_WIDTH.search(text):  # most text: nothing to look at (the check reads every cell)
        return []
    found = []
    for match in re.finditer(r"[,;:?!]", text):
        before, after = _neighbour(text, match.start(), -1), _neighbour(text, match.start(), 1)
        if is_chinese(before) and (is_chinese(after) or not after):
            found.append(Finding("punctuation-half-width", match.start(), match.end(), FULL_WIDTH[match.group()]))
    for match in re.finditer(r"\(([^()]*)\)", text):
        inside = match.group(1)
        before, after = _neighbour(text, match.start(), -1), _neighbour(text, match.end() - 1, 1)
        if any(is_chinese(ch) for ch in inside) or is_chinese(before) or is_chinese(after):
            found.append(Finding("punctuation-half-width", match.start(), match.start() + 1, "（"))
            found.append(Finding("punctuation-half-width", match.end() - 1, match.end(), "）"))
    return found


def title_marks(text: str) -> list[Finding]:
    if "《" not in text:
        return []
    found = []
    for match in re.finditer(r"《[^《》]*》", text):
        for inner in re.finditer(r"[<＜>＞]", match.group()):
            found.append(Finding("punctuation-title-marks", match.start() + inner.start(),
                                 match.start() + inner.end(), "〈" if inner.group() in "<＜" else "〉"))
    return found


def document_number(text: str) -> list[Finding]:
    if "号" not in text:
        return []
    found = []
    for match in re.finditer(r"[\[［【(（](\d{4})[\]］】)）](?=\s*第?\d+\s*号)", text):
        found.append(Finding("punctuation-document-number", match.start(), match.end(), f"〔{match.group(1)}〕"))
    return found


def final_mark(text: str) -> list[Finding]:
    stripped = text.rstrip()
    if not stripped:
        return []
    last = stripped[-1]
    finals = FINAL_MARKS | set(".!?;:")  # a half-width one after Chinese is the half-width rule's finding
    if last in finals or (last in CLOSING and len(stripped) > 1 and stripped[-2] in finals):
        return []
    if last in ",，、":  # a sentence left open: closed instead
        return [Finding("punctuation-final-mark", len(stripped) - 1, len(stripped), "。")]
    return [Finding("punctuation-final-mark", len(stripped), len(stripped), "。")]


# The rules: (code, what the warning says is wrong, the rule); `final_mark` only for whole paragraphs.
RULES: list[tuple[str, str, Callable[[str], list[Finding]]]] = [
    ("punctuation-half-width", "有半角标点夹在汉字之间，中文应使用全角的“，；：（）？！”", half_width),
    ("punctuation-title-marks", "书名号《》里面的书名号应为“〈〉”，而不是“<>”", title_marks),
    ("punctuation-document-number", "文号的年份应使用六角括号“〔〕”", document_number),
    ("punctuation-final-mark", "段落末尾缺少句末标点（如“。”）", final_mark),
]


# A character without which only the final-mark rule can find anything: half_width's, title_marks' and
# document_number's first tests.
_ANY_MARK = re.compile(r"[,;:?!(《号]")


def findings(text: str, paragraph: bool = True) -> list[Finding]:
    """Every finding in `text`; the final-mark rule only when `text` is a whole paragraph."""
    if not _ANY_MARK.search(text):  # most lines of a workbook's narrative
        return final_mark(text) if paragraph else []
    found: list[Finding] = []
    for code, _, rule in RULES:  # a later rule's finding replaces the earlier ones it overlaps
        if code != "punctuation-final-mark" or paragraph:
            for new in rule(text):
                found = [old for old in found if not _overlap(old, new)] + [new]
    return sorted(found, key=lambda f: (f.start, f.end))


def _overlap(a: Finding, b: Finding) -> bool:
    return (a.start, a.end) == (b.start, b.end) or (a.start < b.end and b.start < a.end)


def fix(text: str, paragraph: bool = True) -> str:
    """`text` with every finding replaced (later spans first, so that earlier positions hold)."""
    for finding in sorted(findings(text, paragraph), key=lambda f: f.start, reverse=True):
        text = text[:finding.start] + finding.replacement + text[finding.end:]
    return text


# ------------------------------------------------------------------------------------------ the workbook

_PARAGRAPH_LOOP = re.compile(r"\{%p\s+for\s+\w+\s+in\s+栏目(?:\.(\w+)|\[\s*['\"]([^'\"]+)['\"]\s*\])\s*%\}")
_TAG_TEXT = re.compile(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>")


def paragraph_sections(template_path: Path) -> set[str]:
    """The sections a template sets as paragraphs of their own (`{%p for 段 in 栏目.X %}`)."""
    try:
        with zipfile.ZipFile(template_path) as package:
            xml = package.read("word/document.xml").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile):
        return set()
    text = "".join(_TAG_TEXT.findall(xml))
    return {a or b for a, b in _PARAGRAPH_LOOP.findall(text)}


def _paragraph_sections(templates: dict) -> set[str]:
    found: set[str] = set()
    for template in templates.values():
        if getattr(template, "purpose", "报告") == "报告":
            found |= paragraph_sections(template.path)
    return found


def _excerpt(text: str, finding: Finding) -> str:
    if finding.end == finding.start:  # a mark missing at the end
        return "……" + text[max(0, finding.start - 8):finding.start]
    return text[max(0, finding.start - 4):min(len(text), finding.end + 4)]


def _report(problems: Problems, text: str, found: list[Finding], where: str, **location) -> None:
    """One warning per rule for a cell, with up to three places."""
    for code, what, _ in RULES:
        mine = [f for f in found if f.rule == code]
        if code == "punctuation-half-width":  # a pair of brackets is one place
            mine = [f for f in mine if f.replacement != "）"]
        if not mine:
            continue
        places = "、".join(f"“{_excerpt(text, f)}”" for f in mine[:3]) + (f"等 {len(mine)} 处" if len(mine) > 3 else "")
        problems.warning(code, f"{where}{what}，见{places}。{HINT}", **location)


def check_punctuation(data, templates: dict, problems: Problems) -> None:
    """Warnings, with sheet!cell, for the punctuation of the narrative and of the project names."""
    paragraphs = _paragraph_sections(templates)
    narrative = data.tables.get(NARRATIVE.name)
    if narrative is not None:
        for pid, section, text, row in zip(narrative.columns["项目编号"], narrative.columns["栏目"],
                                           narrative.columns["内容"], narrative.columns[ROW]):
            if text is None or section is None:
                continue
            text = str(text).replace("\r\n", "\n").replace("\r", "\n")
            found = _cell_findings(text, str(section).strip() in paragraphs)
            if found:
                _report(problems, text, found, f"栏目“{section}”：", sheet=narrative.title,
                        cell=narrative.cell("内容", row), value=pid)
    projects = data.tables.get(PROJECTS.name)
    if projects is not None:
        for name, row in zip(projects.columns["项目名称"], projects.columns[ROW]):
            found = findings(str(name), paragraph=False) if name is not None else []
            if found:
                _report(problems, str(name), found, "项目名称：", sheet=projects.title,
                        cell=projects.cell("项目名称", row), value=name)


def _cell_findings(text: str, whole: bool) -> list[Finding]:
    """Findings in a cell whose lines are paragraphs (positions in the cell's text)."""
    found, offset = [], 0
    for line in text.split("\n"):
        stripped = line.strip()
        lead = len(line) - len(line.lstrip())
        if stripped:
            found += [dataclasses.replace(f, start=f.start + offset + lead, end=f.end + offset + lead)
                      for f in findings(stripped, paragraph=whole)]
        offset += len(line) + 1
    return found


def fixed_records(records: Iterable, templates: dict) -> tuple[list, int]:
    """Copies of the project records with the narrative and the names fixed, and the number of fixes."""
    paragraphs = _paragraph_sections(templates)
    result, count = [], 0
    for record in records:
        sections = {}
        for key, texts in record.sections.items():
            sections[key] = [fix(t, key in paragraphs) for t in texts]
            count += sum(len(findings(t, key in paragraphs)) for t in texts)
        count += len(findings(record.name, paragraph=False))
        result.append(dataclasses.replace(record, name=fix(record.name, paragraph=False), sections=sections))
    return result, count
