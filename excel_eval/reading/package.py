"""The workbook file before any cell is read: what kind of file it is, whether it is safe to open, and where
its parts are.

Usage errors (exit code 2) for a missing file, a folder, an encrypted or non-workbook file and unsafe XML are
raised here, before any reader engine sees the file. A package with a DTD in any XML part is refused before it
is parsed (refuse_unsafe_xml).
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path

import defusedxml.ElementTree as DET
from loguru import logger

from ..problems import UsageError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .et, and password-protected .xlsx
_PROLOG_BYTES = 64 * 1024
MAIN_NS = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main")
REL_NS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "http://purl.oclc.org/ooxml/officeDocument/relationships")


XLSX, XLS, XLSB, ODS = "xlsx", "xls", "xlsb", "ods"
SPLICEABLE = (XLSX,)  # kinds whose package can take the 汇总 sheet; the others get a workbook of their own
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def check_package(path: Path) -> str:
    """The kind of workbook at `path` (XLSX for .xlsx/.xlsm, XLS, XLSB, ODS), after the usage errors that
    come before any reading: a missing file, a folder, an encrypted or damaged file, one that is no workbook,
    unsafe XML."""
    if not path.exists():
        raise UsageError(f"找不到文件：{path}。请检查文件名和所在文件夹。")
    if path.is_dir():
        raise UsageError(f"{path} 是一个文件夹，不是工作簿。请指定 .xlsx 文件。")
    try:
        with open(path, "rb") as f:
            magic = f.read(len(OLE_MAGIC))
    except OSError as exc:
        raise UsageError(f"无法打开 {path.name}：{exc.strerror or exc}。请检查文件是否存在、是否有读取权限。") from exc
    if magic == OLE_MAGIC:
        return _ole_kind(path)
    if not zipfile.is_zipfile(path):
        raise UsageError(f"{path.name} 不是 Excel 工作簿（.xlsx/.xlsm/.xls/.ods）。请在 Excel 或 WPS 中另存为 .xlsx 后再运行。")
    refuse_oversized(path)
    refuse_unsafe_xml(path)
    return _zip_kind(path)


# A workbook's parts, inflated, are at most this large each and together (a ledger of 250,000 rows is 120 MB of
# sheet XML); a part larger than ZIP_RATIO_FROM may be at most ZIP_RATIO times its compressed size (Office's
# sheets compress 5–30 times). A "zip bomb" breaks these limits and is refused before anything inflates it.
MAX_PART = 512 * 1024 * 1024
MAX_TOTAL = 1024 * 1024 * 1024
ZIP_RATIO, ZIP_RATIO_FROM = 100, 32 * 1024 * 1024
_VERIFY_FROM = 1024 * 1024  # compressed bytes from which a part's true size is measured, not taken on trust


def refuse_oversized(path: Path) -> None:
    """Refuse a package whose parts inflate beyond the limits above, by the sizes the zip declares and, for
    every part large enough to matter, by inflating it here with a cap (a declared size can lie)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            total = 0
            for info in infos:
                _refuse_declared(path, info)
                total += info.file_size
                if total > MAX_TOTAL:
                    raise UsageError(_oversized(path, info.filename, total, "全部内容"))
            for info in infos:
                if info.compress_size >= _VERIFY_FROM:
                    _refuse_actual(path, zf, info)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
        logger.debug("unreadable package {}: {!r}", path, exc)
        raise UsageError(
            f"无法读取工作簿 {path.name}：文件已损坏。请在 Excel 或 WPS 中打开它并另存为 .xlsx，再用新文件运行。"
        ) from exc


def _refuse_declared(path: Path, info: zipfile.ZipInfo) -> None:
    if info.file_size > MAX_PART:
        raise UsageError(_oversized(path, info.filename, info.file_size, "这一部分"))
    if info.file_size > ZIP_RATIO_FROM and info.file_size > ZIP_RATIO * max(info.compress_size, 1):
        raise UsageError(
            f"{path.name} 中的 {info.filename} 压缩了 {info.file_size // max(info.compress_size, 1):,} 倍"
            f"（解压后 {info.file_size / 1024 / 1024:,.0f} MB），远超 Excel 文件的正常范围，可能是恶意构造的“压缩炸弹”，"
            "为安全起见拒绝读取。请确认文件来源，或在 Excel/WPS 中打开后另存为新的 .xlsx 再运行。")


def _refuse_actual(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Inflate the part with a cap: zipfile stops at the declared size and checks the CRC, so a part that
    inflates beyond what it declares fails here instead of in a reader that trusts it."""
    with zf.open(info) as part:
        while part.read(1 << 20):
            pass


def _oversized(path: Path, part: str, size: int, what: str) -> str:
    return (f"{path.name} 中的 {part} 解压后有 {size / 1024 / 1024:,.0f} MB，{what}超过了 {MAX_PART // 1024 // 1024} MB 的上限"
            "（一个单位的绩效自评工作簿远小于此），可能是恶意构造的“压缩炸弹”，为安全起见拒绝读取。"
            "请确认文件来源，或在 Excel/WPS 中打开后另存为新的 .xlsx 再运行。")


def _ole_kind(path: Path) -> str:
    """An OLE file is an Excel 97-2003 workbook (.xls, WPS .et) when calamine finds its sheets; otherwise it is a
    password-protected .xlsx (Office encrypts into OLE) or a damaged .xls."""
    try:
        from python_calamine import CalamineWorkbook

        with open(path, "rb") as f:
            if CalamineWorkbook.from_filelike(f).sheet_names:
                return XLS
    except Exception as exc:  # noqa: BLE001 - calamine's errors for a file it cannot read
        logger.debug("calamine could not open {} as .xls: {!r}", path, exc)
    if path.suffix.lower() in (".xls", ".et", ".xlt"):
        raise UsageError(
            f"无法读取 {path.name}：文件已损坏，或不是 Excel 97-2003 工作簿。请在 Excel 或 WPS 中打开它，"
            "选择“文件 → 另存为”保存为“Excel 工作簿（*.xlsx）”，再用新文件运行。")
    raise UsageError(
        f"{path.name} 不是 .xlsx 格式：它要么设置了打开密码（加密的工作簿），要么是改了扩展名的旧版 .xls / WPS .et 文件。"
        "请在 Excel 或 WPS 中打开它，取消打开密码（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码），"
        "或选择“文件 → 另存为”保存为“Excel 工作簿（*.xlsx）”，再用新文件运行。"
    )


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = {n.lower() for n in zf.namelist()}
            if "mimetype" in names and zf.read("mimetype").strip().startswith(_ODS_MIMETYPE):
                return ODS
            if "xl/workbook.bin" in names:
                return XLSB
    except (zipfile.BadZipFile, OSError, KeyError) as exc:
        logger.debug("unreadable package {}: {!r}", path, exc)
        raise UsageError(
            f"无法读取工作簿 {path.name}：文件已损坏。请在 Excel 或 WPS 中打开它并另存为 .xlsx，再用新文件运行。") from exc
    return XLSX


def unsafe_message(path: Path) -> str:
    return (f"{path.name} 中含有不安全的 XML 内容（DOCTYPE/实体定义，可能是“XML 炸弹”），为安全起见拒绝读取。"
            "Excel 和 WPS 保存的工作簿不会有这种内容：请确认文件来源，或在 Excel/WPS 中打开后另存为新的 .xlsx 再运行。")


def refuse_unsafe_xml(path: Path) -> None:
    """Refuse a package any of whose XML parts declares a DTD (billion laughs, external entities).

    Office never writes a DOCTYPE, so its mere presence is refused, before any parser sees the part; only the
    start of each part is read (a DTD must come before the root element). openpyxl parses with defusedxml as a
    second line of defence, and any reader that replaces it (calamine) is covered by this check too."""
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.is_dir() or not info.filename.lower().endswith((".xml", ".rels", ".vml")):
                    continue
                with zf.open(info) as part:
                    if _declares_dtd(part):
                        raise UsageError(unsafe_message(path))
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
        # RuntimeError: an encrypted zip member; NotImplementedError: an unknown compression method
        logger.debug("unreadable package {}: {!r}", path, exc)
        raise UsageError(
            f"无法读取工作簿 {path.name}：文件已损坏。请在 Excel 或 WPS 中打开它并另存为 .xlsx，再用新文件运行。"
        ) from exc


def _declares_dtd(part) -> bool:
    """Whether the XML read from `part` declares a DTD before its root element. Reads only the prolog (the
    declaration, comments and processing instructions before the root), however long it is."""
    data = b""
    while True:
        chunk = part.read(_PROLOG_BYTES)
        data += chunk
        verdict = _prolog_verdict(data, complete=not chunk)
        if verdict is not None:
            return verdict
        if len(data) > 256 * _PROLOG_BYTES:  # a prolog of 16 MB is no spreadsheet's
            return True


def _prolog_verdict(data: bytes, complete: bool) -> bool | None:
    """True: a DTD; False: the root element comes first; None: read more."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="ignore")
    else:
        text = data.decode("utf-8", errors="ignore").lstrip("\ufeff")
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if text.startswith("<?", i) or text.startswith("<!--", i):
            closing = "?>" if text[i + 1] == "?" else "-->"
            end = text.find(closing, i + 2)
            if end < 0:
                return False if complete else None
            i = end + len(closing)
            continue
        if text.startswith("<!", i):
            return True
        if i >= len(text) - 1 and not complete:
            return None
        return False


# --------------------------------------------------------------------------- where the parts are

def resolve(source: str, target: str) -> str:
    """A relationship's target as a zip member name, relative to the part `source` it belongs to."""
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target)).lstrip("/")


def workbook_part(zf: zipfile.ZipFile) -> str | None:
    """The zip member of the workbook part (through the package relationships), None when there is none."""
    names = {n.lower(): n for n in zf.namelist()}
    workbook = names.get("xl/workbook.xml")
    if "_rels/.rels" in names:
        for rel in DET.fromstring(zf.read(names["_rels/.rels"])):
            if rel.get("Type", "").endswith("/officeDocument"):
                workbook = names.get(resolve("", rel.get("Target", "")).lower(), workbook)
    return workbook


def workbook_rels(zf: zipfile.ZipFile, workbook: str, existing: bool = True) -> dict[str, tuple[str, str]]:
    """The workbook part's internal relationships: id -> (type, zip member), for targets that exist (or, with
    `existing` False, also those that are missing, by the name they should have)."""
    names = {n.lower(): n for n in zf.namelist()}
    folder, base = posixpath.split(workbook)
    rels_name = names.get(posixpath.join(folder, "_rels", base + ".rels").lower())
    rels: dict[str, tuple[str, str]] = {}
    if rels_name:
        for rel in DET.fromstring(zf.read(rels_name)):
            if rel.get("TargetMode") != "External":
                target = resolve(workbook, rel.get("Target", ""))
                member = names.get(target.lower()) or (None if existing else target)
                if member:
                    rels[rel.get("Id")] = (rel.get("Type", ""), member)
    return rels


def relationship_id(element) -> str | None:
    """The r:id attribute of a <sheet> element, in either relationships namespace."""
    return next((v for k, v in element.attrib.items()
                 if k.startswith("{") and k[1:].split("}")[0] in REL_NS and k.endswith("}id")), None)


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> zip member name of its worksheet part."""
    workbook = workbook_part(zf)
    if workbook is None:
        return {}
    rels = workbook_rels(zf, workbook)
    parts = {}
    for element in DET.fromstring(zf.read(workbook)).iter():
        if element.tag.rsplit("}", 1)[-1] != "sheet":
            continue
        _, member = rels.get(relationship_id(element), ("", None))
        if member:
            parts[element.get("name", "")] = member
    return parts
