"""The whole job on generated workbooks of N projects × M payments, and plain docxtpl on the same template.

    .venv/bin/python benchmarks/benchmark.py                 # N = 100, 1000, 5000; M = 50
    .venv/bin/python benchmarks/benchmark.py --sizes 100 1000 --payments 50

Each size runs in a fresh process (so its peak memory is its own) on a fresh copy of the workbook:
read, check, compute, render every report, write 汇总 back. Printed per size: wall time, ms per report
(the render stage divided by N), peak memory (ru_maxrss), the stage times; and once, plain docxtpl's ms per
report (load, render, save) on the same template and contexts, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def run_one(book: Path, outdir: Path) -> dict:
    from excel_eval.pipeline import run

    started = time.perf_counter()
    result = run(book, outdir)
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"wall": wall, "reports": len(result.reports), "timings": result.timings,
            "peak_mib": peak_kib / 1024}


def docxtpl_baseline(book: Path, count: int) -> tuple[float, float]:
    """ms per report for plain docxtpl and for the compiled renderer, on the same records and template."""
    from excel_eval.docx_render import CompiledDocx, render_with_docxtpl
    from excel_eval.metrics import compute
    from excel_eval.problems import Problems
    from excel_eval.render import choose_template, context, load_templates, make_environment
    from excel_eval.reading import read_workbook

    records = compute(read_workbook(book, Problems()))[:count]
    templates = load_templates()
    env = make_environment()
    template = templates[choose_template(records[0])]
    contexts = [context(r, template) for r in records]
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        started = time.perf_counter()
        for i, values in enumerate(contexts):
            render_with_docxtpl(template.path, values, env, out / f"plain{i}.docx")
        plain = (time.perf_counter() - started) / len(contexts) * 1000
        compiled = CompiledDocx(template.path, env)
        started = time.perf_counter()
        for i, values in enumerate(contexts):
            compiled.write(values, out / f"fast{i}.docx")
        fast = (time.perf_counter() - started) / len(contexts) * 1000
    return plain, fast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--payments", type=int, default=50)
    parser.add_argument("--baseline", type=int, default=100, help="reports rendered by plain docxtpl")
    parser.add_argument("--one", nargs=2, metavar=("BOOK", "OUTDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(Path(args.one[0]), Path(args.one[1]))))
        return

    from generate import generate

    work = Path(tempfile.mkdtemp(prefix="excel-eval-bench-"))
    rows = []
    try:
        for n in args.sizes:
            source = generate(work / f"source_{n}.xlsx", n, args.payments)
            book = work / f"book_{n}.xlsx"
            shutil.copy2(source, book)
            line = subprocess.run([sys.executable, __file__, "--one", str(book), str(work / f"out_{n}")],
                                  check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            measured = json.loads(line)
            rows.append((n, measured))
            shutil.rmtree(work / f"out_{n}", ignore_errors=True)
        plain, fast = docxtpl_baseline(work / f"source_{args.sizes[0]}.xlsx", args.baseline)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"excel-eval benchmark: M = {args.payments} payments per project, {_cpus()} CPU(s)\n")
    print("| projects | payments | wall (s) | ms/report (render) | peak memory (MiB) | read+check (s) | compute (s) | render (s) | 汇总 (s) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, m in rows:
        t = m["timings"]
        per_report = t.get("render", 0) / max(m["reports"], 1) * 1000
        print(f"| {n:,} | {n * args.payments:,} | {m['wall']:.2f} | {per_report:.2f} | {m['peak_mib']:.0f} | "
              + " | ".join(f"{t.get(k, 0):.2f}" for k in ("read_check", "compute", "render", "summary")) + " |")
    print(f"\nSame template, same contexts, {args.baseline} reports, one process:")
    print(f"  plain docxtpl (load, render, save): {plain:.1f} ms/report")
    print(f"  compiled template, raw copy:         {fast:.2f} ms/report")
    print(f"  ratio:                               {plain / fast:.1f}×")


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
