"""Rendering many documents: in this process, or across processes when there are enough of them to pay.

On Linux and macOS workers are forked: they inherit the compiled templates and the records, so a task is a
range of indexes and a result a few short outcomes. On Windows, which cannot fork, workers are spawned: each
imports the program and compiles the templates once in its initializer, and receives its jobs pickled.
Documents go to disk as they are made; outcomes come back in job order.
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
import os
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence, TypeVar

from loguru import logger

from .files.atomic import write_bytes_atomically
from .files.errors import describe
from .files.record import entry_of
from .records import ProjectRecord
from .render import ReportRenderer, ReportTemplate, TemplateProblem

# Measured with `excel-eval run -j 1` and `-j 2` on a 2-core machine. Forked workers start in milliseconds and
# pay from about 100 reports on (render stage 0.18 → 0.15 s for 100, 0.34 → 0.23 s for 200, 1.7 → 0.95 s for
# 1,000). Spawned workers cost about 0.8 s to start and save about 0.3 ms a report: they pay from about 3,000.
START_METHOD = "spawn" if sys.platform == "win32" else "fork"
PARALLEL_FROM = {"fork": 100, "spawn": 3000}[START_METHOD]
SPAN = 50  # documents a forked worker renders per task at most: few round trips, steady progress

T = TypeVar("T")
R = TypeVar("R")


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
    entry: dict | None = None  # the written report's name, size and SHA-256 for the run's record (files.record)


def default_workers(jobs: int) -> int:
    if jobs < PARALLEL_FROM:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def render_reports(jobs: list[RenderJob], templates: dict[str, ReportTemplate], run_date: dt.date,
                   workers: int | None = None, progress: Callable[[int], None] | None = None,
                   method: str = START_METHOD) -> Iterator[RenderOutcome]:
    """Render every job, yielding outcomes in job order; `progress(n)` is called as reports are done.
    `method` is how worker processes start ("fork" or "spawn"), when `workers` is more than one."""
    workers = default_workers(len(jobs)) if workers is None else workers
    if workers > 1 and method == "spawn":
        yield from _spawned(jobs, templates, run_date, workers, progress)
        return
    renderer = ReportRenderer(templates, run_date)
    if workers > 1:
        renderer.prepare(job.template for job in jobs)  # once, before the fork: the workers inherit them
    yield from map_in_order(lambda job: _render(renderer, job), jobs, workers, progress)


def map_in_order(function: Callable[[T], R], items: Sequence[T], workers: int = 1,
                 progress: Callable[[int], None] | None = None) -> Iterator[R]:
    """function(item) for every item, in order: in this process, or in `workers` forked processes that
    inherit `function` and `items` (the caller prepares whatever they share before calling). `progress(n)`
    is called as results arrive. Where processes cannot fork (Windows) or start (no shared memory for their
    locks), everything runs in this process."""
    global _shared
    if workers <= 1 or len(items) < 2 or START_METHOD != "fork":
        yield from _in_this_process(function, items, progress)
        return
    size = max(1, min(SPAN, -(-len(items) // (workers * 4))))  # at least four tasks a worker, to even out
    spans = [(start, min(start + size, len(items))) for start in range(0, len(items), size)]
    _shared = (function, items)  # before the fork, which copies it into the workers
    gc.freeze()  # the inherited objects stay untouched by the workers' collections: pages stay shared
    try:
        pool = _fork_pool(min(workers, len(spans)))
        if pool is None:
            yield from _in_this_process(function, items, progress)
            return
        with pool:
            for results in pool.imap(_run_span, spans):
                if progress:
                    progress(len(results))
                yield from results
    finally:
        gc.unfreeze()
        _shared = None


def alongside(work: Callable[[], T], meanwhile: Callable[[], R]) -> tuple[T, R]:
    """(work(), meanwhile()), with work() in a forked process while meanwhile() runs in this one, as if work()
    ran first: its result comes back pickled, and its exception is raised before meanwhile's. Where processes
    cannot fork (Windows), or the fork or the child fails, both run here, work first."""
    if START_METHOD != "fork":
        return work(), meanwhile()
    try:
        reading, writing = os.pipe()
        child = os.fork()
    except OSError as exc:
        logger.debug("未能启动子进程，在本进程中完成：{!r}", exc)
        return work(), meanwhile()
    if child == 0:  # the child: work, its result into the pipe, and gone without any of the parent's clean-up
        status = 1
        try:
            os.close(reading)
            try:
                payload = pickle.dumps((True, work()))
            except BaseException as exc:  # noqa: BLE001 - raised again in the parent
                payload = pickle.dumps((False, exc))
            with os.fdopen(writing, "wb") as pipe:
                pipe.write(payload)
            status = 0
        finally:
            os._exit(status)
    os.close(writing)
    failure = None
    try:
        mine = meanwhile()
    except BaseException as exc:  # noqa: BLE001 - raised below, unless work's comes first
        failure = exc
    finally:
        with os.fdopen(reading, "rb") as pipe:
            payload = pipe.read()
        os.waitpid(child, 0)
    if not payload:  # the child died (killed, out of memory): the work is done here after all
        logger.debug("子进程未返回结果，在本进程中完成")
        value = work()
    else:
        done, value = pickle.loads(payload)
        if not done:
            raise value
    if failure is not None:
        raise failure
    return value, mine


def _in_this_process(function: Callable[[T], R], items: Sequence[T], progress) -> Iterator[R]:
    for item in items:
        result = function(item)
        if progress:
            progress(1)
        yield result


def _fork_pool(workers: int):
    """A pool of `workers` forked processes; None when none can be started."""
    try:
        return multiprocessing.get_context("fork").Pool(workers)
    except OSError as exc:  # e.g. no /dev/shm for the pool's semaphores
        logger.debug("未能启动工作进程，在本进程中生成：{!r}", exc)
        return None


_shared: tuple[Callable, Sequence] | None = None  # what forked workers inherit (map_in_order)


def _run_span(span: tuple[int, int]) -> list:
    function, items = _shared
    return [function(items[index]) for index in range(*span)]


def _render(renderer: ReportRenderer, job: RenderJob) -> RenderOutcome:
    """Render one report, written under a temporary name and renamed to its own when complete."""
    try:
        data = renderer.package(job.record, job.template)
        job.path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomically(job.path, data)
    except PermissionError:
        return RenderOutcome(job.record.project_id, job.path, code="report-locked", error=(
            f"报告 {job.path.name} 无法写入：它可能正在 Word 或 WPS 中打开。请关闭它后重新运行；其他报告已照常生成。"))
    except TemplateProblem as exc:
        return RenderOutcome(job.record.project_id, job.path, code="template-failed", error=str(exc))
    except OSError as exc:
        return RenderOutcome(job.record.project_id, job.path, code="write-failed", error=describe(exc, job.path),
                             fatal=True)
    # the record's entry made here, in the worker, from what was written: the main process would read every
    # report again
    return RenderOutcome(job.record.project_id, job.path, entry=entry_of(job.path, data))


# ------------------------------------------------------------------------------------ spawned (Windows)

def _spawned(jobs: list[RenderJob], templates: dict[str, ReportTemplate], run_date: dt.date, workers: int,
             progress: Callable[[int], None] | None) -> Iterator[RenderOutcome]:
    chunk = max(1, min(64, len(jobs) // (workers * 4)))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(templates, run_date)) as pool:
        for outcome in pool.map(_render_in_worker, jobs, chunksize=chunk):
            if progress:
                progress(1)
            yield outcome


_worker_renderer: ReportRenderer | None = None


def _init_worker(templates: dict[str, ReportTemplate], run_date: dt.date) -> None:
    global _worker_renderer
    _worker_renderer = ReportRenderer(templates, run_date)


def _render_in_worker(job: RenderJob) -> RenderOutcome:
    assert _worker_renderer is not None
    return _render(_worker_renderer, job)
