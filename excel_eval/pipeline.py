"""One run, stage by stage: read → validate → compute → render → write back."""

from __future__ import annotations

import datetime as dt
import gc
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from loguru import logger

from .batch import RenderJob, alongside, render_reports
from .checks import validate
from .combine import CombineError, combine_reports
from .files.atomic import remove_debris, write_atomically
from .files.errors import FileProblem, problem as file_problem
from .files.lock import LOCK_NAME, RunLock
from .files.names import clean as clean_name, project_stem, safe_filename, stem_budget, unique
from .files.record import folds_case, remove_stale, save as save_record
from .metrics import ProjectRecord, compute
from .pdf import PdfFailed, PdfUnavailable, convert_to_pdf
from .pdf_check import font_warning, lost_text_messages
from .problems import Problems, WorkbookError
from .punctuation import check_punctuation, fixed_records
from .reading import ROW, WorkbookData, read_workbook
from .render import ReportTemplate, choose_template, load_templates, template_folder
from .schema import DISBURSEMENTS, INDICATORS, PROJECTS
from .scorecard import SPLIT_TEMPLATE_NAME as SPLIT_SCORECARD_TEMPLATE, TEMPLATE_NAME as SCORECARD_TEMPLATE
from .scorecard import write_scorecards
from .scoring import Scorecard, check_indicators, score_project
from .writeback.destination import DAMAGED, damaged_message, package_kind
from .writeback.save import BACKUP_FOLDER, SummaryWrite, finish_rewrites, write_summary
from .writeback.summary import summary_sheet

PROBLEMS_FILE = "问题清单.csv"


@dataclass
class CheckResult:
    data: WorkbookData
    templates: dict[str, ReportTemplate]
    problems: Problems


@dataclass
class RunResult:
    workbook: Path
    outdir: Path
    reports: list[Path] = field(default_factory=list)
    records: list[ProjectRecord] = field(default_factory=list)
    summary: SummaryWrite | None = None
    problems: Problems = field(default_factory=Problems)
    problems_file: Path | None = None
    removed: list[Path] = field(default_factory=list)
    scorecards: list[Path] = field(default_factory=list)  # the 自评表 written, beside their reports
    scores: dict[str, Scorecard] = field(default_factory=dict)  # by 项目编号, for projects with indicators
    combined: Path | None = None  # every report in one document, when asked for
    pdfs: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    notes: list[str] = field(default_factory=list)  # what the run repaired after an interrupted one (Chinese)


def check(workbook: str | Path, templates_dir: str | Path | None = None) -> CheckResult:
    """Read and check the workbook; every problem is collected, nothing is written."""
    checked = _read(workbook, templates_dir)
    _check_read(checked, Path(workbook))
    return checked


def _read(workbook: str | Path, templates_dir: str | Path | None) -> CheckResult:
    """The templates and the workbook read, with the problems of reading."""
    problems = Problems()
    templates = load_templates(template_folder(Path(templates_dir) if templates_dir else None, Path(workbook)))
    data = read_workbook(workbook, problems)
    return CheckResult(data, templates, problems)


def _check_read(checked: CheckResult, workbook: Path) -> None:
    """The checks after reading, each adding its problems (some look at those found before them)."""
    data, templates, problems = checked.data, checked.templates, checked.problems
    validate(data, templates, problems)
    check_indicators(data.get(INDICATORS), problems, data.get(PROJECTS))
    check_punctuation(data, templates, problems)
    check_write_back(workbook, problems)


# Measured on a 2-core machine (checks and records, medians of 7): with the checks in a forked process 23 ms
# against 12 ms in one for the sample (66 payments), 54 against 58 ms at 5,000 payments, 79 against 113 ms at
# 10,000 and 404 against 629 ms at 50,000. Both processes copy the pages the other shares as they touch them,
# so each is slower than alone.
CHECK_ALONGSIDE_FROM = 10_000


def _checked_and_recorded(checked: CheckResult, workbook: Path, indicators) -> list[ProjectRecord] | None:
    """Check what was read, and make the records when there is no error (None otherwise). A large ledger's
    checks run in a forked process while this one makes the records; the problems come back in their order."""
    ledger = checked.data.tables.get(DISBURSEMENTS.name)
    if ledger is None or len(ledger.columns[ROW]) < CHECK_ALONGSIDE_FROM:
        _check_read(checked, workbook)
        return None if checked.problems.has_errors else _records(checked.data, indicators)
    before = len(checked.problems.items)

    def checks() -> list:
        _check_read(checked, workbook)
        return checked.problems.items[before:]

    def records():
        try:
            return _records(checked.data, indicators), None
        except Exception as exc:  # noqa: BLE001 - a workbook with errors need not compute; the checks say why
            return None, exc

    found, (records, failure) = alongside(checks, records)
    checked.problems.items += found
    if checked.problems.has_errors:
        return None
    if failure is not None:
        raise failure
    return records


def check_write_back(workbook: Path, problems: Problems) -> None:
    """An error when the workbook is a spreadsheet package that the 汇总 could not be written back into, so
    that the run stops before any report rather than at the end."""
    try:
        kind = package_kind(workbook.resolve())
    except OSError as exc:
        raise file_problem(exc, workbook) from exc
    if kind.kind == DAMAGED:
        problems.error("workbook-unwritable", damaged_message(workbook, kind.detail), value=workbook.name)


def run(workbook: str | Path, outdir: str | Path, *, templates_dir: str | Path | None = None,
        now: dt.datetime | None = None, combined: bool = False, label: str | None = None, pdf: bool = False,
        workers: int | None = None, progress: Callable[[int, int], None] | None = None,
        fix_punctuation: bool = False) -> RunResult:
    """Write one report per project (and a 自评表 per project with indicators) into `outdir`, and the 汇总
    sheet into the workbook. `combined` (or a `label` such as “附件3”) also writes every report into one
    document; `pdf` converts what was written with LibreOffice. `progress(done, total)` is called as reports
    are written. `fix_punctuation` applies the punctuation fixes to the text of the reports and 自评表 (the
    workbook and its 汇总 keep the text as written).

    Raises WorkbookError (with every problem) before writing anything when the workbook has errors,
    RunLocked when another run holds `outdir`, and FileProblem (a Chinese sentence naming the file) when a
    file cannot be written.
    """
    workbook, outdir = Path(workbook), Path(outdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        with RunLock(outdir, workbook), collecting_later():
            return _run(workbook, outdir, templates_dir, now or dt.datetime.now(), combined or bool(label), label,
                        pdf, workers, progress, fix_punctuation)
    except OSError as exc:
        raise file_problem(exc) from exc


def _run(workbook: Path, outdir: Path, templates_dir, now: dt.datetime, combined: bool, label: str | None,
         pdf: bool, workers: int | None, progress, fix_punctuation: bool) -> RunResult:
    clock = _Clock()
    notes = _clean_up_after_killed_runs(workbook, outdir)
    checked = _read(workbook, templates_dir)
    clock.lap("read")
    templates, indicators = checked.templates, checked.data.get(INDICATORS)
    records = _checked_and_recorded(checked, workbook, indicators)
    result = RunResult(workbook, outdir, problems=checked.problems, notes=notes)
    result.problems_file = write_problems(checked.problems, outdir)
    if records is None:
        raise WorkbookError(f"工作簿中有 {len(checked.problems.errors)} 个错误，未生成报告。", checked.problems,
                            result.problems_file)
    result.records = records
    del checked  # the workbook's tables are not needed once the records are made (30 MiB at 5,000 projects)
    clock.lap("check_compute")  # the checks and the records, alongside for a large ledger
    shown = result.records  # the records the documents are made from
    if fix_punctuation:
        shown, fixes = fixed_records(result.records, templates)
        logger.info("已在报告中改正 {} 处标点（工作簿未改动）。", fixes)
    jobs, names = plan_files(shown, workbook, outdir)
    _say_changed_names(jobs, result.problems)
    entries: dict[Path, dict] = {}  # the record's entries of the reports and 自评表, made as they were written
    written = _render(result, jobs, templates, now.date(), workers, progress, entries)
    clock.lap("render")
    result.scores, result.scorecards = write_scorecards(
        shown, indicators, templates.get(SCORECARD_TEMPLATE),
        {job.record.project_id: job.path for job in jobs}, names, result.problems, now.date(),
        templates.get(SPLIT_SCORECARD_TEMPLATE), workers, entries)
    clock.lap("scorecards")
    if combined and result.reports:
        result.combined = _combine(result, workbook, label)
        clock.lap("combine")
    made = result.reports + result.scorecards + ([result.combined] if result.combined else [])
    if pdf:
        result.pdfs = _convert(made, outdir, result.problems)
        clock.lap("pdf")
    scores = {pid: (card.total, card.grade) for pid, card in result.scores.items()}
    result.summary = write_summary(
        workbook, lambda target: summary_sheet(result.records, written, target, now, scores), outdir,
        now.strftime("%Y%m%d-%H%M%S"))
    clock.lap("summary")
    _remove_stale_files(result, made + result.pdfs, entries)
    if result.problems.items:
        result.problems_file = write_problems(result.problems, outdir)
    result.timings = clock.laps
    logger.debug("用时（秒）：{}", {k: round(v, 3) for k, v in clock.laps.items()})
    return result


@contextmanager
def collecting_later() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the run: reading the workbook and making the records
    allocate about a million objects that live on until the reports are written, and every full collection
    walks all of them (0.25 s of a 1,000-project run). A run makes no reference cycles to collect (its lists,
    dicts and values have none; tests/test_pipeline.py counts them); the collector runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _records(data: WorkbookData, indicators) -> list[ProjectRecord]:
    """One record per project, scored when it has indicators (the 绩效指标 Table `indicators`)."""
    records = compute(data)
    for record in records:
        record.scorecard = score_project(record, indicators)
    return records


def _clean_up_after_killed_runs(workbook: Path, outdir: Path) -> list[str]:
    """Finish an in-place rewrite a killed run left, and remove the temporary files of runs that are gone."""
    notes = finish_rewrites(workbook) if workbook.exists() else []
    real = workbook.resolve()
    removed = remove_debris(outdir) + remove_debris(outdir / BACKUP_FOLDER)
    removed += remove_debris(real.parent, {real.name})
    for path in removed:
        logger.info("已删除上次运行中断时留下的临时文件：{}", path)
    return notes


def plan_files(records: list[ProjectRecord], workbook: Path, outdir: Path) -> tuple[list[RenderJob], set[str]]:
    """One render job per project with its report's path, and the names taken (the combined document's is
    reserved among them, so that no report can take it)."""
    budget = stem_budget(outdir)
    used = {Path(combined_filename(workbook, budget)).stem.lower()}
    jobs = [RenderJob(record, choose_template(record), outdir / report_filename(record, used, budget=budget))
            for record in records]
    return jobs, used


def _say_changed_names(jobs: list[RenderJob], problems: Problems) -> None:
    """A warning for each report whose name is not `<项目编号>_<项目名称>` as typed (cut, or numbered)."""
    for job in jobs:
        typed = clean_name(f"{job.record.project_id}_{job.record.name}")
        stem = job.path.stem
        if stem == typed:
            continue
        if stem.rstrip("_0123456789").endswith("…"):
            text = (f"项目 {job.record.project_id} 的名称太长（文件名最多 255 字节，Windows 路径最多 260 个字符），"
                    f"报告文件名已缩短为：{job.path.name}")
        else:
            text = (f"项目 {job.record.project_id} 的报告文件名与另一个项目的相同（不区分大小写，或只差不能用于文件名的"
                    f"符号），已改为：{job.path.name}")
        problems.warning("report-renamed", text,
                         sheet="项目", value=job.record.project_id)


def _render(result: RunResult, jobs: list[RenderJob], templates, run_date: dt.date, workers: int | None,
            progress, entries: dict[Path, dict]) -> dict[str, Path]:
    """Render every report; those that cannot be written are problems (the run goes on), except when the
    disk or folder fails as a whole: then the run stops with that sentence."""
    written: dict[str, Path] = {}
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, len(jobs))

    for outcome in render_reports(jobs, templates, run_date, workers, step):
        if outcome.fatal:
            raise FileProblem(outcome.error)
        if outcome.error:
            result.problems.error(outcome.code, outcome.error, value=outcome.path.name)
        else:
            written[outcome.project_id] = outcome.path
            result.reports.append(outcome.path)
            if outcome.entry:
                entries[outcome.path] = outcome.entry
    return written


def _remove_stale_files(result: RunResult, made: list[Path], entries: dict[Path, dict]) -> None:
    """After the backup exists: remove what an earlier run wrote that this one did not, then record this run."""
    outdir = result.outdir
    cleanup = remove_stale(outdir, result.workbook, made, folds_case(outdir, LOCK_NAME))
    result.removed = cleanup.removed
    for note in cleanup.kept:
        result.problems.warning("stale-file-kept", note)
    save_record(outdir, result.workbook, made, entries)


def combined_filename(workbook: Path, budget: tuple[int, int | None] | None = None) -> str:
    return safe_filename(f"{workbook.stem}_自评报告合集", *(budget or stem_budget())) + ".docx"


def _combine(result: RunResult, workbook: Path, label: str | None) -> Path | None:
    target = result.outdir / combined_filename(workbook, stem_budget(result.outdir))
    try:
        return write_atomically(target, lambda temp: combine_reports(result.reports, temp, label))
    except CombineError as exc:
        result.problems.warning("combine-failed", f"未能生成合集文档：{exc}", value=target.name)
    except PermissionError:
        result.problems.error("report-locked", f"合集文档 {target.name} 无法写入：它可能正在 Word 或 WPS 中打开。"
                                               "请关闭它后重新运行；各项目的报告已照常生成。", value=target.name)
    return None


def _convert(documents: list[Path], outdir: Path, problems: Problems) -> list[Path]:
    """PDFs of `documents`; a warning for fonts that are not installed, and for every PDF that lacks text."""
    fonts = font_warning(documents)  # before converting: the fonts LibreOffice will find
    try:
        pdfs = convert_to_pdf(documents, outdir)
    except PdfUnavailable as exc:
        problems.warning("pdf-unavailable", str(exc))
        return []
    except PdfFailed as exc:
        problems.warning("pdf-failed", str(exc))
        return []
    if fonts:
        problems.warning("pdf-fonts-missing", fonts)
    for name, message in lost_text_messages(documents, pdfs):
        problems.warning("pdf-text-lost", message, value=name)
    return pdfs


class _Clock:
    """Seconds spent in each stage of a run."""

    def __init__(self):
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = now - self._last
        self._last = now


def write_problems(problems: Problems, outdir: Path) -> Path | None:
    """Write 问题清单.csv into `outdir` (or remove the last run's when there are none). A problems file left
    open in Excel cannot be replaced on Windows: the list then goes to a new, numbered file instead."""
    target = outdir / PROBLEMS_FILE
    if not problems.items:
        try:
            target.unlink(missing_ok=True)
        except OSError:
            logger.warning("旧的 {} 无法删除（可能正在 Excel 中打开），其内容已过期，请关闭后手动删除。", target.name)
        return None
    for counter in range(1, 10):
        path = target if counter == 1 else target.with_name(f"{target.stem}_{counter}{target.suffix}")
        try:
            return problems.write_csv(path)
        except PermissionError:
            continue
    logger.warning("问题清单无法写入 {}（文件夹不可写或文件正在打开），问题已全部显示在上方。", outdir)
    return None


def report_filename(record: ProjectRecord, used: set[str], suffix: str = ".docx",
                    budget: tuple[int, int | None] | None = None) -> str:
    """`<项目编号>_<项目名称>.docx`, safe on Windows, within `budget` (UTF-8 bytes, path characters; by default
    255 bytes less the room for `_自评表`, a counter and the temporary suffix) and unique among `used` (lower
    case stems, updated)."""
    budget = budget or stem_budget()
    return unique(project_stem(record.project_id, record.name, *budget), used) + suffix
