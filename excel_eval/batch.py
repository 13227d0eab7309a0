"""Rendering many reports: in this process, or across processes when there are enough of them to pay.

Worker processes are started with the spawn method (what Windows uses), each compiles the templates once
in its initializer, and reports go to disk as they are made.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .files.atomic import write_atomically
from .files.errors import describe
from .records import ProjectRecord
from .render import ReportRenderer, ReportTemplate, TemplateProblem

# Measured by benchmarks/benchmark.py on a 2-core machine: starting spawned workers costs about 0.8 s and
# saves about 0.3 ms a report (1.1 → 0.8 ms), so processes pay from about 3,000 reports on.
PARALLEL_FROM = 3000


@dataclass
class RenderJob:
    record: ProjectRecord
    template: str
    path: Path


@dataclass
class RenderOutcome:
    project_id: str
    path: Path
    error: str | None = None  # a Chinese message when the report could not be written
    code: str = ""
    fatal: bool = False  # the disk or folder failed (full, read-only, …): the other reports would fail too


def default_workers(jobs: int) -> int:
    if jobs < PARALLEL_FROM:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def render_reports(jobs: list[RenderJob], templates: dict[str, ReportTemplate], run_date: dt.date,
                   workers: int | None = None, progress: Callable[[int], None] | None = None
                   ) -> Iterator[RenderOutcome]:
    """Render every job, yielding outcomes in job order; `progress(n)` is called as reports are done."""
    workers = default_workers(len(jobs)) if workers is None else workers
    if workers <= 1:
        renderer = ReportRenderer(templates, run_date)
        for job in jobs:
            outcome = _render(renderer, job)
            if progress:
                progress(1)
            yield outcome
        return
    chunk = max(1, min(64, len(jobs) // (workers * 4)))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(templates, run_date)) as pool:
        for outcome in pool.map(_render_in_worker, jobs, chunksize=chunk):
            if progress:
                progress(1)
            yield outcome


def _render(renderer: ReportRenderer, job: RenderJob) -> RenderOutcome:
    """Render one report under a temporary name, renamed to its own when complete."""
    try:
        write_atomically(job.path, lambda temp: renderer.render(job.record, job.template, temp))
    except PermissionError:
        return RenderOutcome(job.record.project_id, job.path, code="report-locked", error=(
            f"报告 {job.path.name} 无法写入：它可能正在 Word 或 WPS 中打开。请关闭它后重新运行；其他报告已照常生成。"))
    except TemplateProblem as exc:
        return RenderOutcome(job.record.project_id, job.path, code="template-failed", error=str(exc))
    except OSError as exc:
        return RenderOutcome(job.record.project_id, job.path, code="write-failed", error=describe(exc, job.path),
                             fatal=True)
    return RenderOutcome(job.record.project_id, job.path)


_worker_renderer: ReportRenderer | None = None


def _init_worker(templates: dict[str, ReportTemplate], run_date: dt.date) -> None:
    global _worker_renderer
    _worker_renderer = ReportRenderer(templates, run_date)


def _render_in_worker(job: RenderJob) -> RenderOutcome:
    assert _worker_renderer is not None
    return _render(_worker_renderer, job)
