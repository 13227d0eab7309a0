"""`excel-eval check` on a workbook with one huge 文字说明 cell (2 to 20 MB of text, far beyond Excel's
32,767 characters): the check must refuse the cell at once, and its time must grow linearly with the size.

    .venv/bin/python benchmarks/big_cell.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from workbooks import standard_sheets, write_workbook  # noqa: E402

EXE = HERE.parent / ".venv" / "bin" / "excel-eval"


def big_cell_workbook(folder: Path, chars: int) -> Path:
    sheets = standard_sheets()
    sheets["文字说明"][1][2] = "PLACEHOLDER"
    written = write_workbook(folder / "占位.xlsx", sheets)
    text = ("绩效自评报告的文字，第一段。" * (chars // 14 + 1))[:chars]
    text = "\n".join(text[i:i + 200] for i in range(0, len(text), 200))
    out = folder / f"cell_{chars}.xlsx"
    with zipfile.ZipFile(written) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info).replace(b"PLACEHOLDER", escape(text).encode()))
    return out


def main() -> None:
    print("| characters | MB of text | check (s) | s per million characters |")
    print("|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for chars in (700_000, 2_800_000, 7_000_000):
            book = big_cell_workbook(Path(folder), chars)
            started = time.perf_counter()
            result = subprocess.run([str(EXE), "check", str(book)], capture_output=True, text=True)
            seconds = time.perf_counter() - started
            assert "text-too-long" in result.stdout + result.stderr or "超过 Excel 单元格" in result.stdout + result.stderr
            print(f"| {chars:,} | {chars * 3 / 1e6:.1f} | {seconds:.2f} | {seconds / chars * 1e6:.2f} |")


if __name__ == "__main__":
    main()
