"""One run, stage by stage: read → validate → compute → render → write back."""

from __future__ import annotations

import datetime as dt
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from loguru import logger

from .batch import RenderJob, render_reports
from .checks import validate
from .combine import CombineError, combine_reports
from .metrics import ProjectRecord, compute
from .pdf import PdfFailed, PdfUnavailable, convert_to_pdf
from .problems import Problems, WorkbookError
from .render import ReportTemplate, choose_template, load_templates, template_folder
from .schema import INDICATORS
from .scorecard import TEMPLATE_NAME as SCORECARD_TEMPLATE, write_scorecards
from .scoring import Scorecard, check_indicators, score_project
from .summary import SummaryWrite, summary_sheet, write_summary
from .workbook import WorkbookData, read_workbook

PROBLEMS_FILE = "问题清单.csv"
MANIFEST_FILE = ".excel-eval-reports.txt"  # the reports the last run wrote, so a re-run can remove stale ones
MAX_NAME = 120  # characters of a report's file name before the extension; Windows paths stay short enough

_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$", re.IGNORECASE)


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


def check(workbook: str | Path, templates_dir: str | Path | None = None) -> CheckResult:
    """Read and check the workbook; every problem is collected, nothing is written."""
    problems = Problems()
    templates = load_templates(template_folder(Path(templates_dir) if templates_dir else None, Path(workbook)))
    data = read_workbook(workbook, problems)
    validate(data, templates, problems)
    check_indicators(data.get(INDICATORS), problems)
    return CheckResult(data, templates, problems)


def run(workbook: str | Path, outdir: str | Path, *, templates_dir: str | Path | None = None,
        now: dt.datetime | None = None, combined: bool = False, label: str | None = None, pdf: bool = False,
        workers: int | None = None, progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Write one report per project (and a 自评表 per project with indicators) into `outdir`, and the 汇总
    sheet into the workbook. `combined` (or a `label` such as “附件3：”) also writes every report into one
    document; `pdf` converts what was written with LibreOffice. `progress(done, total)` is called as reports
    are written.

    Raises WorkbookError (with every problem) before writing anything when the workbook has errors.
    """
    workbook, outdir = Path(workbook), Path(outdir)
    now = now or dt.datetime.now()
    clock = _Clock()
    checked = check(workbook, templates_dir)
    clock.lap("read_check")
    result = RunResult(workbook, outdir, problems=checked.problems)
    outdir.mkdir(parents=True, exist_ok=True)
    result.problems_file = write_problems(checked.problems, outdir)
    if checked.problems.has_errors:
        raise WorkbookError(f"工作簿中有 {len(checked.problems.errors)} 个错误，未生成报告。", checked.problems,
                            result.problems_file)

    result.records = compute(checked.data)
    for record in result.records:
        record.scorecard = score_project(record, checked.data.get(INDICATORS))
    clock.lap("compute")
    names: set[str] = set()
    jobs = [RenderJob(record, choose_template(record), outdir / report_filename(record, names))
            for record in result.records]
    paths = {job.record.project_id: job.path for job in jobs}
    written: dict[str, Path] = {}
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, len(jobs))

    for outcome in render_reports(jobs, checked.templates, now.date(), workers, step):
        if outcome.error:
            result.problems.error(outcome.code, outcome.error, value=outcome.path.name)
        else:
            written[outcome.project_id] = outcome.path
            result.reports.append(outcome.path)
    clock.lap("render")

    result.scores, result.scorecards = write_scorecards(
        result.records, checked.data.get(INDICATORS), checked.templates.get(SCORECARD_TEMPLATE), paths, names,
        result.problems, now.date())
    clock.lap("scorecards")
    if (combined or label) and result.reports:
        result.combined = _combine(result, workbook, label)
        clock.lap("combine")
    made = result.reports + result.scorecards + ([result.combined] if result.combined else [])
    if pdf:
        result.pdfs = _convert(made, outdir, result.problems)
        clock.lap("pdf")
    result.removed = _remove_stale_reports(outdir, made + result.pdfs)
    scores = {pid: (card.total, card.grade) for pid, card in result.scores.items()}
    stamp = now.strftime("%Y%m%d-%H%M%S")
    result.summary = write_summary(
        workbook, lambda target: summary_sheet(result.records, written, target, now, scores), outdir, stamp)
    clock.lap("summary")
    if result.problems.items:
        result.problems_file = write_problems(result.problems, outdir)
    result.timings = clock.laps
    logger.debug("用时（秒）：{}", {k: round(v, 3) for k, v in clock.laps.items()})
    return result


def combined_filename(workbook: Path) -> str:
    return safe_filename(f"{workbook.stem}_自评报告合集") + ".docx"


def _combine(result: RunResult, workbook: Path, label: str | None) -> Path | None:
    target = result.outdir / combined_filename(workbook)
    try:
        return combine_reports(result.reports, target, label)
    except CombineError as exc:
        result.problems.warning("combine-failed", f"未能生成合集文档：{exc}", value=target.name)
    except PermissionError:
        result.problems.error("report-locked", f"合集文档 {target.name} 无法写入：它可能正在 Word 或 WPS 中打开。"
                                               "请关闭它后重新运行；各项目的报告已照常生成。", value=target.name)
    return None


def _convert(documents: list[Path], outdir: Path, problems: Problems) -> list[Path]:
    try:
        return convert_to_pdf(documents, outdir)
    except PdfUnavailable as exc:
        problems.warning("pdf-unavailable", str(exc))
    except PdfFailed as exc:
        problems.warning("pdf-failed", str(exc))
    return []


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


def report_filename(record: ProjectRecord, used: set[str], suffix: str = ".docx") -> str:
    """`<项目编号>_<项目名称>.docx`, safe on Windows and unique among `used` (which it updates)."""
    name = safe_filename(f"{record.project_id}_{record.name}")
    candidate, counter = name, 2
    while candidate.lower() in used:
        candidate = f"{name}_{counter}"
        counter += 1
    used.add(candidate.lower())
    return candidate + suffix


def safe_filename(text: str) -> str:
    """A file name Windows accepts: no \\ / : * ? " < > | or control characters, no trailing dot or space,
    not a reserved device name, not too long."""
    name = unicodedata.normalize("NFC", text)
    name = _FORBIDDEN.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip()
    name = name[:MAX_NAME].rstrip(". ")
    if not name or _RESERVED.match(name):
        name = f"_{name}"
    return name


def _remove_stale_reports(outdir: Path, reports: list[Path]) -> list[Path]:
    """Remove the reports an earlier run wrote that this run did not (projects no longer in the workbook).
    Files the user put in the folder are never touched: only names listed in the manifest are candidates."""
    manifest = outdir / MANIFEST_FILE
    current = {p.name for p in reports}
    removed = []
    if manifest.exists():
        for name in manifest.read_text(encoding="utf-8").splitlines():
            stale = outdir / name
            if name and name not in current and stale.is_file() and stale.parent == outdir:
                try:
                    stale.unlink()
                    removed.append(stale)
                except OSError:
                    logger.warning("旧报告 {} 无法删除（可能正在打开），请手动删除。", name)
    manifest.write_text("".join(f"{n}\n" for n in sorted(current)), encoding="utf-8")
    return removed
