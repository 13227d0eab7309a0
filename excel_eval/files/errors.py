"""Operating-system errors as sentences: what happened to which file, and what to do."""

from __future__ import annotations

import errno
from pathlib import Path


class FileProblem(Exception):
    """A file could not be written or read; the message (Chinese) names it and says what to do."""


_LOCKED_WINERRORS = {32, 33}  # ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION
_LONG_WINERRORS = {206}  # ERROR_FILENAME_EXCED_RANGE


def describe(exc: OSError, path: str | Path | None = None) -> str:
    """A Chinese sentence for `exc` on `path` (or the file the error names)."""
    where = str(path or exc.filename or "输出文件")
    code = exc.errno
    winerror = getattr(exc, "winerror", None)
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return (f"磁盘空间不足，无法写入 {where}。请清理该磁盘（或用 -o 指定其他磁盘上的输出文件夹）后重新运行；"
                "已经写完的文件完整无损，工作簿没有改动。")
    if winerror in _LOCKED_WINERRORS or code in (errno.EBUSY, errno.ETXTBSY):
        return f"文件 {where} 正被其他程序占用（可能在 Word、Excel 或 WPS 中打开）。请关闭它后重新运行。"
    if code == errno.ENAMETOOLONG or winerror in _LONG_WINERRORS:
        return (f"文件路径太长，无法写入 {where}（{len(where)} 个字符）。请把工作簿或输出文件夹移到层级较浅、"
                "名字较短的文件夹（例如 D:\\报告），或用 -o 指定较短的输出文件夹，然后重新运行。")
    if code == errno.EROFS:
        return f"{where} 所在的磁盘是只读的，无法写入。请用 -o 指定一个可以写入的输出文件夹，或把工作簿复制到可写的磁盘上再运行。"
    if isinstance(exc, PermissionError) or code in (errno.EACCES, errno.EPERM):
        return (f"没有权限写入 {where}。请检查该文件或文件夹是否设为只读、是否正在其他程序中打开，"
                "或用 -o 指定一个可以写入的输出文件夹。")
    if code == errno.ENOENT:
        return f"找不到 {where}（文件夹可能已被移动或删除，或 U 盘已拔出）。请检查后重新运行。"
    if code in (errno.ENOTDIR, errno.EEXIST):
        return f"无法建立或使用文件夹 {where}：路径中有一个同名的文件。请换一个输出文件夹（-o）后重新运行。"
    if code == errno.EIO:
        return f"读写 {where} 时磁盘出错（U 盘或网络盘可能已断开）。请检查磁盘后重新运行。"
    reason = errno.errorcode.get(code, type(exc).__name__) if code else type(exc).__name__
    return f"无法读写 {where}（系统错误 {reason}）。请检查磁盘和文件夹后重新运行；加上 --debug 可看到详细信息。"


def problem(exc: OSError, path: str | Path | None = None) -> FileProblem:
    return FileProblem(describe(exc, path))
