"""Checks around a PDF conversion: the fonts the documents ask for, and the text that reached the PDF.

Fonts: every font named in a document's styles (and its runs) is looked up among the installed ones under
its usual names (仿宋_GB2312 is also 仿宋 and FangSong, …). On Linux and macOS with fontconfig (fc-list,
fc-match) the substitute fontconfig will use is named; on Windows the installed fonts are read from the
registry. Where neither is available the check is skipped (and the log says so).

Text: LibreOffice has been seen to drop a full-width mark at the end of a full justified line. Each PDF's
text (pypdf) is compared with its document's, character by character as a multiset (a table's cells come
out of a PDF in another order), after NFKC normalisation (PDF text extraction may give a compatibility
form, such as a Kangxi radical for 一). For each missing character, the page is the one whose text holds
the characters around it with it left out.
"""

from __future__ import annotations

import bisect
import itertools
import re
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path

from loguru import logger
from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
# Usual names of the faces GB/T 9704 asks for: any one installed serves (Word, WPS and LibreOffice map them).
ALIASES = {
    "仿宋_GB2312": ("仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "STFangsong", "华文仿宋"),
    "楷体_GB2312": ("楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "STKaiti", "华文楷体"),
    "方正小标宋简体": ("方正小标宋简体", "FZXiaoBiaoSong-B05S", "方正小标宋_GBK", "FZXiaoBiaoSong-B05"),
    "黑体": ("黑体", "SimHei", "STHeiti", "华文黑体"),
    "宋体": ("宋体", "SimSun", "STSong", "华文宋体"),
    # metric-compatible stand-ins set the same line breaks
    "Times New Roman": ("Times New Roman", "Liberation Serif", "Tinos"),
    "Arial": ("Arial", "Liberation Sans", "Arimo"),
}
CONTEXT = 6  # characters either side used to find the page of a missing character


# ------------------------------------------------------------------------------------------ fonts

def requested_fonts(docs: list[Path]) -> list[str]:
    """The fonts the documents use: those of the document defaults, of the styles their paragraphs, runs and
    tables use (with the styles these are based on) and of their runs, in order of first use."""
    found: dict[str, None] = {}
    for doc in docs:
        try:
            with zipfile.ZipFile(doc) as package:
                names = package.namelist()
                styles = etree.fromstring(package.read("word/styles.xml")) if "word/styles.xml" in names else None
                parts = [etree.fromstring(package.read(n)) for n in names
                         if re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", n)]
        except (OSError, zipfile.BadZipFile, etree.XMLSyntaxError):
            continue
        elements = [*parts, *_used_styles(styles, parts)]
        if styles is not None:
            elements += styles.findall(f"{{{W}}}docDefaults")
        for element in elements:
            for fonts in element.iter(f"{{{W}}}rFonts"):
                for slot in ("eastAsia", "ascii", "hAnsi"):
                    if fonts.get(f"{{{W}}}{slot}"):
                        found[fonts.get(f"{{{W}}}{slot}")] = None
    return list(found)


def _used_styles(styles, parts: list) -> list:
    if styles is None:
        return []
    by_id = {s.get(f"{{{W}}}styleId"): s for s in styles.iter(f"{{{W}}}style")}
    todo = [s.get(f"{{{W}}}styleId") for s in by_id.values() if s.get(f"{{{W}}}default") in ("1", "true")]
    for part in parts:
        for tag in ("pStyle", "rStyle", "tblStyle"):
            todo += [ref.get(f"{{{W}}}val") for ref in part.iter(f"{{{W}}}{tag}")]
    used: dict[str, object] = {}
    while todo:
        style_id = todo.pop()
        if style_id in used or style_id not in by_id:
            continue
        used[style_id] = by_id[style_id]
        based = by_id[style_id].find(f"{{{W}}}basedOn")
        if based is not None:
            todo.append(based.get(f"{{{W}}}val"))
    return list(used.values())


def installed_families() -> set[str] | None:
    """The font families installed on this computer, or None when they cannot be listed."""
    if sys.platform == "win32":
        return _windows_families()
    if shutil.which("fc-list") is None:
        return None
    try:
        listing = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {name.strip() for line in listing.splitlines() for name in line.split(",") if name.strip()}


def _windows_families() -> set[str] | None:
    try:
        import winreg
    except ImportError:
        return None
    names: set[str] = set()
    key_path = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Fonts"
    for root in (winreg.HKEY_LOCAL_MACHINE, winreg.HKEY_CURRENT_USER):
        try:
            with winreg.OpenKey(root, key_path) as key:
                for index in range(winreg.QueryInfoKey(key)[1]):
                    value = winreg.EnumValue(key, index)[0]  # e.g. "SimSun & NSimSun (TrueType)"
                    value = re.sub(r"\s*\((TrueType|OpenType)\)$", "", value)
                    names.update(part.strip() for part in value.split("&"))
        except OSError:
            continue
    return names or None


def substitute(name: str) -> str | None:
    """The face fontconfig sets for `name` (None without fontconfig)."""
    if shutil.which("fc-match") is None:
        return None
    try:
        out = subprocess.run(["fc-match", "-f", "%{family}", name], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.split(",")[0].strip() or None


def font_warning(docs: list[Path]) -> str | None:
    """One Chinese message naming the requested fonts that are not installed (under any usual name) and what
    will stand in for them, or None when all are there or the fonts cannot be listed."""
    installed = installed_families()
    if installed is None:
        logger.debug("无法列出本机字体，未检查 PDF 所需字体。")
        return None
    folded = {name.casefold() for name in installed}
    missing = [name for name in requested_fonts(docs)
               if not any(alias.casefold() in folded for alias in ALIASES.get(name, (name,)))]
    if not missing:
        return None
    parts = []
    for name in missing:
        stand_in = substitute(name)
        parts.append(f"{name}（将用 {stand_in} 代替）" if stand_in else f"{name}（将由 LibreOffice 选择替代字体）")
    return ("本机未安装报告所用的字体：" + "、".join(parts) + "。PDF 中这些文字的字形和每行字数可能与 Word 中不同；"
            "如需与 Word 一致，请安装这些字体后重新运行 --pdf（Word 报告本身不受影响）。")


# ------------------------------------------------------------------------------------------ text

def _normal(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "CZ")


def docx_text(path: Path) -> str:
    """The text of a document's body (paragraphs and tables), as it is written in word/document.xml."""
    with zipfile.ZipFile(path) as package:
        root = etree.fromstring(package.read("word/document.xml"))
    return "".join(t.text or "" for t in root.iter(f"{{{W}}}t"))


def pdf_pages_text(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(str(path)).pages]


def lost_characters(doc: Path, pdf: Path) -> list[tuple[str, int | None]]:
    """The characters of `doc` that are not in `pdf`: (the character as the document has it, the page it
    belongs on or None), in the order of the document."""
    original, text = [], []  # the document's characters, and their normal forms one by one
    for ch in docx_text(doc):
        for unit in _normal(ch):
            original.append(ch)
            text.append(unit)
    pages = [_normal(page) for page in pdf_pages_text(pdf)]
    whole = "".join(pages)
    ends = list(itertools.accumulate(len(page) for page in pages))  # where each page's text ends in `whole`
    deficit = Counter(text) - Counter(whole)
    lost, start = [], 0
    for index, unit in enumerate(text):
        if not deficit.get(unit):
            continue
        before, after = "".join(text[max(0, index - CONTEXT):index]), "".join(text[index + 1:index + 1 + CONTEXT])
        # searched from the last find on, for the reports of a combined document repeat their sentences
        found = whole.find(before + after, start)
        if found >= 0:
            start = found + len(before)
            lost.append((index, original[index], bisect.bisect_right(ends, start - 1) + 1))
            deficit[unit] -= 1
    lost += [(len(text), unit, None) for unit, count in deficit.items() for _ in range(count)]
    return [(ch, number) for _, ch, number in sorted(lost, key=lambda item: item[0])]


def lost_text_messages(docs: list[Path], pdfs: list[Path]) -> list[tuple[str, str]]:
    """(file name, Chinese message) for every PDF that lacks characters of its document."""
    messages = []
    for doc, pdf in zip(docs, pdfs):
        try:
            lost = lost_characters(doc, pdf)
        except Exception as exc:  # a PDF pypdf cannot read is reported, not fatal
            messages.append((pdf.name, f"无法读取 {pdf.name} 的文字以核对是否完整：{exc}"))
            continue
        if lost:
            where = "；".join(f"“{ch}”（{f'第 {page} 页' if page else '页码不详'}）" for ch, page in lost[:20])
            more = f"等共 {len(lost)} 处" if len(lost) > 20 else ""
            messages.append((pdf.name, f"{pdf.name} 中缺少 {doc.name} 里的文字：{where}{more}。请以 Word 报告为准，"
                                       "或在 Word/WPS 中打开报告另存为 PDF。"))
    return messages
