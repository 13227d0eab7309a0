"""Where the 汇总 can go: into the workbook itself (an OOXML spreadsheet package that the splice can edit and
that no application holds open), or into a workbook of its own beside the reports."""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .package import CONTENT_TYPES, Package
from .spec import XlsxPackageError
from .splice import preflight

SPLICE, OWN_WORKBOOK, DAMAGED = "splice", "own-workbook", "damaged"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SPREADSHEET_MAIN = ("spreadsheetml.sheet.main+xml", "spreadsheetml.template.main+xml",
                     "ms-excel.sheet.macroEnabled.main+xml", "ms-excel.template.macroEnabled.main+xml",
                     "purl.oclc.org/ooxml/spreadsheetml/main")
FORMAT_NAMES = {".xls": "Excel 97-2003（.xls）", ".et": "WPS（.et）", ".xlsb": "Excel 二进制（.xlsb）",
                ".ods": "OpenDocument（.ods）"}


@dataclass
class PackageKind:
    kind: str  # SPLICE, OWN_WORKBOOK or DAMAGED
    detail: str = ""  # for DAMAGED: what is wrong, in Chinese


def package_kind(path: Path) -> PackageKind:
    """Decide from the file's content: a zip with [Content_Types].xml and an XML workbook part is spliced;
    any other workbook (.xls, .xlsb, .ods) gets a 汇总 workbook of its own; a spreadsheet package that lacks
    what a write-back needs is damaged."""
    with open(path, "rb") as f:
        head = f.read(8)
        if head == _OLE_MAGIC or not zipfile.is_zipfile(f):
            return PackageKind(OWN_WORKBOOK)
        try:
            with Package(f) as pkg:
                return _zip_kind(pkg)
        except XlsxPackageError as exc:
            return PackageKind(DAMAGED, package_detail(exc))


def _zip_kind(pkg: Package) -> PackageKind:
    if pkg.name("mimetype") is not None and pkg.name(CONTENT_TYPES) is None:
        return PackageKind(OWN_WORKBOOK)  # OpenDocument
    part = pkg.workbook_part()
    if part.lower().endswith(".bin"):
        return PackageKind(OWN_WORKBOOK)  # .xlsb
    if pkg.name(CONTENT_TYPES) is None:
        return PackageKind(DAMAGED, f"缺少内容类型清单 {CONTENT_TYPES}")
    content_types = pkg.read(CONTENT_TYPES).decode("utf-8", "replace")
    if not any(kind in content_types for kind in _SPREADSHEET_MAIN):
        return PackageKind(DAMAGED, f"{CONTENT_TYPES} 中没有工作簿部件的内容类型")
    preflight(pkg)
    return PackageKind(SPLICE)


def package_detail(exc: XlsxPackageError) -> str:
    """What is wrong with a package, in Chinese, from the splice's (English, technical) error."""
    text = str(exc)
    for marker, detail in (
        ("missing [Content_Types]", f"缺少内容类型清单 {CONTENT_TYPES}"),
        ("no styles part", "缺少样式部件（xl/styles.xml）"),
        ("no workbook part", "找不到工作簿部件（xl/workbook.xml）"),
        ("missing package part", "缺少部件 " + text.rsplit(" ", 1)[-1]),
        ("missing ", "缺少部件 " + text.rsplit(" ", 1)[-1]),
        ("not well-formed", "部件 " + text.split(" ", 1)[0] + " 不是完整的 XML"),
        ("DTD or entity", "部件中含有 DTD 或实体声明（可能是恶意构造的文件）"),
        ("encrypted", "其中的部件已加密"),
        ("zip64", "文件超过 4 GB 或部件过多"),
        ("local header", "压缩包中的部件已损坏"),
        ("truncated", "压缩包中的部件被截断"),
        ("cannot be read", "压缩包中的部件无法解压"),
        ("not an xlsx", "它不是完整的 zip 压缩包"),
    ):
        if marker in text:
            return detail
    return "内部结构不完整"


def damaged_message(path: Path, detail: str) -> str:
    return (f"工作簿 {path.name} 的内部结构有问题（{detail}），“汇总”表无法写回。请在 Excel 或 WPS 中打开它，"
            "选择“文件 → 另存为”保存为新的 .xlsx 文件，再用新文件运行。")


def format_name(path: Path) -> str:
    return FORMAT_NAMES.get(path.suffix.lower(), f"{path.suffix or '无扩展名'} 格式")


# --------------------------------------------------------------------------- open in an application


def lock_files(workbook: Path) -> list[tuple[Path, str]]:
    """The owner files that an application keeps beside a workbook it has open: Excel and WPS write
    `~$<name>` (Word-style, with the first two characters dropped, for long names), LibreOffice
    `.~lock.<name>#`, WPS on Linux `.~<name>`."""
    name = workbook.name
    candidates = [(f"~${name}", "Excel 或 WPS"), (f".~lock.{name}#", "LibreOffice"), (f".~{name}", "WPS")]
    if len(name) > 2:
        candidates.append((f"~${name[2:]}", "Excel 或 WPS"))
    return [(workbook.with_name(lock), app) for lock, app in candidates]


def open_by(workbook: Path) -> tuple[str, Path | None] | None:
    """(application, its lock file) when the workbook seems open in an application, else None."""
    for lock, app in lock_files(workbook):
        if lock.exists():
            return app, lock
    if os.name == "nt" and _exclusive_open_fails(workbook):  # pragma: no cover - Windows only
        return "其他程序", None
    return None


def _exclusive_open_fails(path: Path) -> bool:  # pragma: no cover - Windows only
    """Excel holds an open workbook with sharing that refuses writers: an exclusive open then fails."""
    import ctypes

    kernel32 = ctypes.windll.kernel32
    kernel32.CreateFileW.restype = ctypes.c_void_p
    handle = kernel32.CreateFileW(str(path), 0xC0000000, 0, None, 3, 0x80, None)  # read+write, no sharing
    if handle in (None, ctypes.c_void_p(-1).value):
        return kernel32.GetLastError() in (32, 33)  # sharing / lock violation
    kernel32.CloseHandle(ctypes.c_void_p(handle))
    return False


def read_only(path: Path) -> bool:
    """The file is marked read-only (its owner write bit, Windows' read-only attribute) or cannot be written."""
    return not (path.stat().st_mode & stat.S_IWUSR) or not os.access(path, os.W_OK)
