"""`excel-eval run` as the user starts it, on generated workbooks of N projects × M payments, and plain docxtpl
on the same template.

    .venv/bin/python benchmarks/benchmark.py                      # N = 100, 1000, 5000; M = 50; 3 runs each
    .venv/bin/python benchmarks/benchmark.py --sizes 100 1000 --runs 5

Each run is the command in a fresh process (the `excel-eval` script beside this Python, with Python's cache
of compiled modules, after one untimed run that fills it) on a fresh copy of the workbook (benchmarks/generate.py: the sample's narrative for every project, realistic figures, no
warnings), writing into an empty folder. Printed per size, once for workbooks without indicators and once with
the sample's indicators for every project (so that a 自评表 is made for each):

- wall time: the median of the runs and their spread (fastest–slowest);
- ms per report: the median wall time divided by N, and the render stage divided by N;
- peak MiB: the largest resident set of the command's process or of any of its workers;
- the stages, from the run's 运行日志.log (medians): read (the templates and the workbook), check and compute
  (the checks and the figures, side by side for a large ledger), render, 自评表, 汇总.

Just before each run of a workbook without indicators, plain docxtpl renders the standard template (load,
render, save) for the first --pairs of the same projects, in a process of its own: the ratio of its ms per report
to the command's is taken run by run, so that both are measured at the same speed of the machine (on a shared
machine that speed changes by half within minutes). Printed per size: plain docxtpl's ms per report and the
ratio, medians and spread.

Then: start-up (`excel-eval --help`), the 4-project sample (`excel-eval run` without a workbook), and plain
docxtpl against the compiled template alone (the renderer's raw copy, in one process).
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

STAGES = ("read", "check_compute", "render", "scorecards", "summary")
LOG = "运行日志.log"
# As the user's Python runs: compiled modules cached in __pycache__ (a sandbox may turn that off; without the
# cache every start compiles the program's modules again, about 0.12 s).
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def command() -> list[str]:
    """How the user starts excel-eval: the installed script, else the module."""
    script = Path(sys.executable).with_name("excel-eval")
    return [str(script)] if script.exists() else [sys.executable, "-m", "excel_eval"]


def timed(args: list[str], cwd: Path, warnings: bool = False) -> tuple[float, float]:
    """Wall seconds and peak MiB (the process or its largest worker) of one command, which must print no
    warnings unless `warnings`."""
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode("utf-8", "replace")
    process.stderr.close()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({process.returncode}): {errors}")
    if errors.strip() and not warnings:
        raise RuntimeError(f"{' '.join(args)} printed warnings, the benchmark workbook should have none: {errors}")
    peak = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return wall, peak


def stage_times(outdir: Path) -> dict[str, float]:
    for line in (outdir / LOG).read_text(encoding="utf-8").splitlines():
        if "用时（秒）：" in line:
            return ast.literal_eval(line.split("用时（秒）：", 1)[1])
    raise RuntimeError(f"no stage times in {outdir / LOG}")


def generate(path: Path, projects: int, payments: int, indicators: bool) -> Path:
    """The workbook, written by another process: this one stays small, for Linux counts the memory of a
    process forked to start a command in the command's peak."""
    subprocess.run([sys.executable, str(HERE / "generate.py"), str(projects), str(payments), "-o", str(path),
                    *(["--indicators"] if indicators else [])], check=True, capture_output=True)
    return path


def run_size(source: Path, work: Path, runs: int, pairs: int = 0) -> dict:
    """`runs` runs of the command on copies of `source`; medians and spread. With `pairs`, plain docxtpl's ms
    per report on that many of its projects just before each run."""
    walls, peaks, stages, plain = [], [], [], []
    for number in range(runs):
        folder = work / f"run{number}"
        folder.mkdir(parents=True)
        book = shutil.copy2(source, folder / source.name)
        if pairs:
            plain.append(plain_docxtpl(source, pairs)[0])
        wall, peak = timed([*command(), "run", "-q", str(book), "-o", str(folder / "out")], folder)
        walls.append(wall)
        peaks.append(peak)
        stages.append(stage_times(folder / "out"))
        # the folder stays until the benchmark ends: on ext4, files created within 30 s after thousands were
        # deleted take up to a millisecond each (the allocator passes over every recently freed inode), so
        # removing one run's reports would slow the next run's by up to a second at 1,000 projects
    return {"walls": walls, "peak": max(peaks), "plain": plain,
            "stages": {k: statistics.median(s.get(k, 0.0) for s in stages) for k in STAGES}}


def plain_docxtpl(book: Path, count: int) -> tuple[float, float]:
    """docxtpl_baseline in a process of its own (this one stays small, see `generate`)."""
    done = subprocess.run([sys.executable, __file__, "--plain", str(book), str(count)], check=True,
                          capture_output=True, text=True, env=ENV)
    plain, fast = done.stdout.split()
    return float(plain), float(fast)


def repeated(args: list[str], runs: int) -> list[float]:
    """Wall seconds of `runs` runs, each in an empty folder (the sample warns about its punctuation)."""
    walls = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            walls.append(timed(args, Path(folder), warnings=True)[0])
    return walls


def docxtpl_baseline(book: Path, count: int) -> tuple[float, float]:
    """ms per report for plain docxtpl and for the compiled renderer, on the same records and template."""
    from excel_eval.docx_render import CompiledDocx, render_with_docxtpl
    from excel_eval.metrics import compute
    from excel_eval.problems import Problems
    from excel_eval.reading import read_workbook
    from excel_eval.render import choose_template, context, load_templates, make_environment

    records = compute(read_workbook(book, Problems()))[:count]
    templates = load_templates()
    env = make_environment()
    template = templates[choose_template(records[0])]
    contexts = [context(r, template) for r in records]
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        render_with_docxtpl(template.path, contexts[0], env, out / "first.docx")  # not timed: lazy imports
        started = time.perf_counter()
        for i, values in enumerate(contexts):
            render_with_docxtpl(template.path, values, env, out / f"plain{i}.docx")
        plain = (time.perf_counter() - started) / len(contexts) * 1000
        compiled = CompiledDocx(template.path, env)
        compiled.write(contexts[0], out / "first_fast.docx")
        started = time.perf_counter()
        for i, values in enumerate(contexts):
            compiled.write(values, out / f"fast{i}.docx")
        fast = (time.perf_counter() - started) / len(contexts) * 1000
    return plain, fast


def spread(values: list[float], digits: int = 2) -> str:
    return f"{min(values):.{digits}f}–{max(values):.{digits}f}"


def print_table(title: str, rows: list[tuple[int, dict]], payments: int, runs: int) -> None:
    print(f"\n{title} ({runs} runs each; wall and stages are medians)\n")
    print("| projects | payments | wall (s) | spread (s) | ms/report | render ms/report | peak MiB | "
          "read (s) | check+compute (s) | render (s) | 自评表 (s) | 汇总 (s) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, m in rows:
        wall, t = statistics.median(m["walls"]), m["stages"]
        print(f"| {n:,} | {n * payments:,} | {wall:.2f} | {spread(m['walls'])} | {wall / n * 1000:.2f} | "
              f"{t['render'] / n * 1000:.2f} | {m['peak']:.0f} | "
              + " | ".join(f"{t[k]:.2f}" for k in STAGES) + " |")


def main() -> None:
    if sys.argv[1:2] == ["--plain"]:  # plain_docxtpl's process
        print(*docxtpl_baseline(Path(sys.argv[2]), int(sys.argv[3])))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--payments", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3, help="runs of each command (at least 3 for a spread)")
    parser.add_argument("--baseline", type=int, default=100, help="reports rendered by plain docxtpl, against the "
                        "compiled template")
    parser.add_argument("--pairs", type=int, default=30, help="reports rendered by plain docxtpl before each run")
    parser.add_argument("--no-indicators", action="store_true", help="skip the workbooks with indicators")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="excel-eval-bench-"))
    tables = {"": [], "indicators": []}
    repeated([*command(), "run", "-q"], 1)  # not timed: Python caches the compiled modules, as on a first run
    try:
        for n in args.sizes:
            for kind in tables:
                if kind and args.no_indicators:
                    continue
                source = generate(work / f"项目{n}{'_指标' if kind else ''}.xlsx", n, args.payments, bool(kind))
                tables[kind].append((n, run_size(source, work / f"runs_{source.stem}", args.runs,
                                                 0 if kind else args.pairs)))
        startup = repeated([*command(), "--help"], args.runs)
        sample = repeated([*command(), "run", "-q"], args.runs)
        plain, fast = plain_docxtpl(work / f"项目{args.sizes[0]}.xlsx", args.baseline)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"excel-eval benchmark: `excel-eval run` as a subprocess, M = {args.payments} payments per project, "
          f"{os.cpu_count()} CPU(s)")
    print_table("Without indicators (reports only)", tables[""], args.payments, args.runs)
    if tables["indicators"]:
        print_table("With the sample's indicators for every project (a report and a 自评表 each)",
                    tables["indicators"], args.payments, args.runs)
    print(f"\nstart-up, `excel-eval --help`: {statistics.median(startup):.2f} s ({spread(startup)})")
    print(f"the 4-project sample, `excel-eval run`: {statistics.median(sample):.2f} s ({spread(sample)})")
    print(f"\nThe whole command against plain docxtpl (load, render, save) on the standard template, {args.pairs} of "
          "the same projects just before each run:")
    for n, m in tables[""]:
        ratios = [p / (wall / n * 1000) for p, wall in zip(m["plain"], m["walls"])]
        print(f"  {n:,} projects: plain docxtpl {statistics.median(m['plain']):.1f} ms/report "
              f"({spread(m['plain'], 1)}); the command {statistics.median(ratios):.1f}× faster ({spread(ratios, 1)})")
    print(f"\nSame template, same contexts, {args.baseline} reports, in one process:")
    print(f"  plain docxtpl (load, render, save): {plain:.1f} ms/report")
    print(f"  compiled template, raw copy:         {fast:.2f} ms/report ({plain / fast:.1f}× faster)")


if __name__ == "__main__":
    main()
