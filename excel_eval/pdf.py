"""PDF copies of the reports, made by LibreOffice (soffice) in headless mode.

All documents go to one soffice call (starting LibreOffice is most of the cost). Each call gets a
fresh, private user profile in the temp folder, so it neither collides with a LibreOffice the user has
open nor depends on their settings, and runs the same in CI. soffice reports success even for files it
could not convert, so the result is judged by the PDFs it actually wrote.

Two checks go with a conversion (pdf_check.py): before it, whether the fonts the documents ask for are
installed (else LibreOffice sets every style in one substitute face); after it, whether every character
of each document made it into its PDF.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

DOWNLOAD_URL = "https://zh-cn.libreoffice.org/"


class PdfUnavailable(Exception):
    """LibreOffice is not installed (the message is for the user)."""


class PdfFailed(Exception):
    """LibreOffice ran but did not produce every PDF (the message is for the user)."""


def find_soffice() -> Path | None:
    """LibreOffice's soffice: on PATH, else in the usual install folders of Windows, macOS and Linux."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return Path(found)
    for candidate in _install_locations():
        if candidate.is_file():
            return candidate
    return None


def _install_locations() -> list[Path]:
    if sys.platform == "win32":
        roots = [os.environ.get(key) for key in ("ProgramFiles", "ProgramW6432", "ProgramFiles(x86)")]
        roots += [r"C:\Program Files", r"C:\Program Files (x86)"]
        return [Path(root) / "LibreOffice" / "program" / "soffice.exe" for root in dict.fromkeys(roots) if root]
    if sys.platform == "darwin":
        app = Path("LibreOffice.app/Contents/MacOS/soffice")
        return [Path("/Applications") / app, Path.home() / "Applications" / app]
    # LibreOffice's own .deb/.rpm packages install to /opt/libreofficeX.Y
    return sorted(Path("/opt").glob("libreoffice*/program/soffice"), reverse=True)


def convert_to_pdf(docs: list[Path], outdir: Path, soffice: Path | None = None,
                   timeout: float = 300) -> list[Path]:
    """Convert `docs` to PDF in one LibreOffice run; returns `outdir/<stem>.pdf` for each, in order.

    Raises PdfUnavailable when LibreOffice is not found (or `soffice` does not exist), PdfFailed when
    some file did not convert, LibreOffice did not finish within `timeout` seconds or a PDF could not be
    written (e.g. it is open in a PDF reader). An existing PDF of the same name is replaced.
    """
    docs = [Path(d).resolve() for d in docs]
    if not docs:
        return []
    stems = [d.stem.lower() for d in docs]
    if len(set(stems)) != len(stems):
        raise ValueError("要转换的文件中有同名文件，PDF 会互相覆盖。")
    if soffice is None:
        soffice = find_soffice()
    if soffice is None or not Path(soffice).is_file():
        raise PdfUnavailable(
            "未找到 LibreOffice，无法生成 PDF（Word 报告 .docx 已照常生成）。"
            f"请从 {DOWNLOAD_URL} 下载并安装 LibreOffice（免费），然后加 --pdf 重新运行。"
            + (f"（指定的程序不存在：{soffice}）" if soffice is not None else ""))
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="excel-eval-pdf-", ignore_cleanup_errors=True) as tmp:
        work, profile = Path(tmp) / "pdf", Path(tmp) / "profile"
        work.mkdir()
        command = [str(soffice), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible",
                   "--norestore", "--nologo", "--nodefault", "--nolockcheck",
                   "--convert-to", "pdf", "--outdir", str(work), *map(str, docs)]
        try:
            returncode, output = _run(command, timeout)
        except subprocess.TimeoutExpired:
            raise PdfFailed(f"LibreOffice 在 {timeout:g} 秒内未完成转换，已中止。未转换的文件：{_names(docs)}。"
                            "可以关闭其他程序后重试，或分批转换。") from None
        except OSError as exc:
            raise PdfFailed(f"无法启动 LibreOffice（{soffice}）：{exc}") from None

        made = [work / f"{d.stem}.pdf" for d in docs]
        missing = [d for d, pdf in zip(docs, made) if not pdf.is_file() or pdf.stat().st_size == 0]
        if missing:
            detail = output.strip().splitlines()[-3:]
            raise PdfFailed(f"LibreOffice 未能把以下文件转换为 PDF：{_names(missing)}。"
                            "请确认这些文件能在 Word 或 WPS 中正常打开。"
                            + (f"（LibreOffice 退出码 {returncode}：{' '.join(detail)}）" if detail else ""))
        results = []
        for pdf in made:
            target = outdir / pdf.name
            try:
                shutil.move(str(pdf), str(target))
            except OSError:
                raise PdfFailed(f"无法写入 {target.name}：它可能正在 PDF 阅读器中打开。请关闭后重新运行。") from None
            results.append(target)
        return results


def _run(command: list[str], timeout: float) -> tuple[int, str]:
    """Run soffice; on timeout kill it with everything it started (soffice is a launcher for soffice.bin)."""
    kwargs: dict = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "stdin": subprocess.DEVNULL}
    if sys.platform == "win32":
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW
    else:
        kwargs["start_new_session"] = True
    with subprocess.Popen(command, **kwargs) as process:
        try:
            out, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(process)
            try:
                process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                pass  # something it started still holds the pipe; leave it to the OS
            raise
        return process.returncode, out.decode(errors="replace")


def _kill_tree(process: subprocess.Popen) -> None:
    if sys.platform == "win32":
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(process.pid)], capture_output=True)
    else:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.kill()


def _names(docs: list[Path]) -> str:
    return "、".join(d.name for d in docs)
