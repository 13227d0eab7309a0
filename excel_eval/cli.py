"""The command line: a thin face over the library (pipeline).

Each command imports what it uses when it runs (pandas, openpyxl, the renderer take most of a second to
import), so that `--help` and `new` start at once; tests/test_cli.py checks which modules they load."""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import sys
from pathlib import Path

import click
from loguru import logger

from . import __version__
from .files.errors import FileProblem, describe
from .problems import Problems, TemplateProblem, UsageError, WorkbookError
from .resources import sample_workbook
from .schema import BLANK_NAME

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
LOG_FILE = "运行日志.log"
CONTEXT = {"help_option_names": ["-h", "--help"]}


def _setup_logging(debug: bool, quiet: bool) -> None:
    logger.remove()
    logger.enable("excel_eval")
    level = "DEBUG" if debug else ("WARNING" if quiet else "INFO")
    logger.add(sys.stderr, level=level, format="{message}")


class _LogFile:
    """The run's log file; when it can no longer be written (a full disk), logging goes on without it
    rather than printing logging errors over the messages that matter."""

    def __init__(self, path: Path):
        self.file = open(path, "w", encoding="utf-8")

    def write(self, message: str) -> None:
        if self.file is None:
            return
        try:
            self.file.write(message)
            self.file.flush()
        except OSError:
            self.file = None


def _log_file(outdir: Path) -> None:
    """The full log of this run, in the output folder (replaced by the next run)."""
    outdir.mkdir(parents=True, exist_ok=True)
    logger.add(_LogFile(outdir / LOG_FILE).write, level="DEBUG",
               format="{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <7} | {name}:{line} | {message}")


class _Progress:
    """A progress bar on the terminal while reports are written; silent when output is not a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < 20:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="正在生成报告", file=sys.stderr, show_pos=True)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _show_problems(problems: Problems) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
        logger.debug("{} {} {} {}", problem.code, problem.location, problem.value, problem.message)


def _workbook_option(function):
    return click.argument("workbook", required=False, type=click.Path(dir_okay=False, path_type=Path))(function)


def _templates_option(function):
    return click.option("--templates", "templates_dir", type=click.Path(file_okay=False, path_type=Path),
                        help="自定义模板所在的文件夹（其中的模板与内置模板同名时优先使用）；不写时使用工作簿旁边"
                             "（或程序文件夹中）名为“模板”的文件夹。")(function)


def _output_option(function):
    # a file in the way is reported by the run, in Chinese (files.errors)
    return click.option("-o", "--output", "outdir", type=click.Path(path_type=Path),
                        help="输出文件夹，默认为 output/<工作簿名>/。")(function)


def _quiet_option(function):
    return click.option("-q", "--quiet", is_flag=True, help="只显示警告和错误，不显示进度。")(function)


def _debug_option(function):
    return click.option("--debug", is_flag=True, help="出错时显示详细的程序信息（供技术人员排查）。")(function)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", message="excel-eval %(version)s")
def main() -> None:
    """excel-eval：根据标准填报工作簿，批量生成项目支出绩效自评报告（Word），并把汇总表写回工作簿。"""
    _leave_quickly()


_leaving_quickly = False
_whole_program = False  # set by `entry`: this process is the program itself, not a caller of `main`


def entry() -> None:
    """The `excel-eval` program (and `python -m excel_eval`): `main`, in a process of its own."""
    global _whole_program
    _whole_program = True
    main()


def _end(code: int) -> None:
    """End a command that has written and closed everything. As the program itself, the process ends at once:
    Python would otherwise take another tenth of a second to tear down the objects of a large run (a
    1,000-project workbook) before the process exits. Called from `main` (tests, other programs), it exits as
    usual."""
    if _whole_program:
        sys.stdout.flush()
        sys.stderr.flush()  # the log file is flushed after every message
        os._exit(code)
    sys.exit(code)


def _leave_quickly() -> None:
    """When the program ends, Python collects garbage over every object before it unloads the modules: a
    tenth of a second or more for a large workbook, after every file has been written and closed. Objects frozen
    just before are left out of those collections, and the memory goes back to the system all the same."""
    global _leaving_quickly
    if not _leaving_quickly:
        atexit.register(gc.freeze)
        _leaving_quickly = True


@main.command("run", context_settings=CONTEXT)
@_workbook_option
@_output_option
@_templates_option
@click.option("--combined", is_flag=True, help="另外把全部报告按工作簿顺序合并为一个 Word 文档（每份报告另起一页）。")
@click.option("--label", metavar="文字", help="合并文档第一行的标注，如“附件3”（按输入原样使用）；给出时即生成合并文档。")
@click.option("--pdf", is_flag=True, help="同时用 LibreOffice 把报告、自评表和合并文档转为 PDF。")
@click.option("--fix-punctuation", is_flag=True,
              help="在报告和自评表中改正检查出的标点问题（半角标点、书名号、文号括号、段末标点）；工作簿不改动。")
@click.option("-j", "--jobs", "workers", type=click.IntRange(1, 64), metavar="N",
              help="同时生成报告的进程数；默认按项目数和电脑核数自动决定。")
@_quiet_option
@_debug_option
def run_command(workbook: Path | None, outdir: Path | None, templates_dir: Path | None, combined: bool,
                label: str | None, pdf: bool, fix_punctuation: bool, workers: int | None, quiet: bool,
                debug: bool) -> None:
    """生成报告：每个项目一份 Word 报告（有绩效指标的另有一份绩效自评表），并在工作簿中写入“汇总”表。

    不指定 WORKBOOK 时，使用内置示例工作簿的副本（放在 output/ 下），不会改动程序自带的文件。
    """
    if workbook is not None:
        from .read_ahead import read_ahead

        read_ahead(workbook)  # parsed while the program is imported
    from .pipeline import run

    _setup_logging(debug, quiet)
    progress = _Progress(enabled=not quiet and sys.stderr.isatty())
    try:
        if workbook is None:
            sample = sample_workbook()
            Path("output").mkdir(exist_ok=True)
            workbook = Path("output") / sample.name
            shutil.copy2(sample, workbook)
            logger.info("未指定工作簿，使用示例工作簿的副本：{}", workbook)
        outdir = outdir or Path("output") / workbook.stem
        _log_file(outdir)
        logger.debug("excel-eval {} run {} -o {}", __version__, workbook, outdir)
        result = run(workbook, outdir, templates_dir=templates_dir, combined=combined, label=label, pdf=pdf,
                     workers=workers, progress=progress, fix_punctuation=fix_punctuation)
    except Exception as exc:
        progress.close()
        sys.exit(_fail(exc, debug))
    progress.close()

    _show_problems(result.problems)
    click.echo(f"已生成 {len(result.reports)} 份报告，保存在：{result.outdir.resolve()}")
    if result.scorecards:
        click.echo(f"已生成 {len(result.scorecards)} 份绩效自评表（文件名以“_自评表”结尾）。")
    if result.combined:
        click.echo(f"全部报告已合并为：{result.combined.name}")
    if result.pdfs:
        click.echo(f"已转换 {len(result.pdfs)} 个 PDF 文件。")
    for note in result.notes:
        click.echo(note)
    if result.summary and result.summary.in_workbook:
        click.echo(f"“汇总”表已写入工作簿：{result.summary.target}（原文件已备份到 {result.summary.backup}）")
    elif result.summary:
        click.echo(_separate_summary_line(result.summary))
    for path in result.removed:
        click.echo(f"已删除上次生成、本次没有再生成的旧文件：{path.name}")
    if result.problems.items:
        click.echo(f"有 {len(result.problems.errors)} 个错误、{len(result.problems.warnings)} 条警告，"
                   f"详见：{result.problems_file}")
    _end(EXIT_PROBLEMS if result.problems.has_errors else EXIT_OK)


@main.command("new", context_settings=CONTEXT)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default=BLANK_NAME)
@_templates_option
@click.option("--force", is_flag=True, help="文件已存在时覆盖它（原文件内容会丢失）。")
@_debug_option
def new_command(path: Path, templates_dir: Path | None, force: bool, debug: bool) -> None:
    """新建一个空白的标准填报工作簿（含填表说明、下拉选项和各表表头），默认文件名为“绩效自评填报表.xlsx”。"""
    from .blank import write_blank_workbook
    from .render import load_templates, template_folder

    _setup_logging(debug, quiet=False)
    try:
        templates = load_templates(template_folder(templates_dir, path))
        for issue in (i for t in templates.values() for i in t.issues):
            click.echo(f"[警告] {issue.message}", err=True)
        written = write_blank_workbook(path, templates, overwrite=force)
    except Exception as exc:
        sys.exit(_fail(exc, debug))
    click.echo(f"已新建空白工作簿：{written}。请按其中“填表说明”工作表填写，然后运行 excel-eval run {written.name}")
    sys.exit(EXIT_OK)


@main.command("check", context_settings=CONTEXT)
@click.argument("workbook", type=click.Path(dir_okay=False, path_type=Path))
@_templates_option
@_debug_option
def check_command(workbook: Path, templates_dir: Path | None, debug: bool) -> None:
    """只检查工作簿，不生成报告：列出所有错误和警告。没有错误时退出码为 0。"""
    from .pipeline import check

    _setup_logging(debug, quiet=False)
    try:
        result = check(workbook, templates_dir)
    except Exception as exc:
        sys.exit(_fail(exc, debug))
    _show_problems(result.problems)
    errors, warnings = len(result.problems.errors), len(result.problems.warnings)
    if errors:
        click.echo(f"检查完成：{errors} 个错误，{warnings} 条警告。请按提示修改工作簿后再生成报告。")
        _end(EXIT_PROBLEMS)
    click.echo(f"检查完成：没有错误，{warnings} 条警告。可以生成报告。")
    _end(EXIT_OK)


@main.command("templates", context_settings=CONTEXT)
@_templates_option
def templates_command(templates_dir: Path | None) -> None:
    """列出可用的模板，以及每个模板使用的变量、格式和文字说明栏目，并检查模板中的标签。模板有错误时退出码为 1。"""
    from .formats import FILTER_HELP
    from .render import FIELDS, VARIABLES, load_templates, template_folder

    try:
        templates = load_templates(template_folder(templates_dir))
    except UsageError as exc:
        click.echo(f"错误：{exc}", err=True)
        sys.exit(EXIT_USAGE)
    for template in templates.values():
        _describe_template(template)
    click.echo("可用的格式：")
    for text in FILTER_HELP.values():
        click.echo(f"  {text}")
    click.echo("报告模板可用的变量：")
    _list_variables(VARIABLES, FIELDS)
    from .scorecard import FIELDS as SCORECARD_FIELDS, VARIABLES as SCORECARD_VARIABLES

    click.echo("绩效自评表模板可用的变量：")
    _list_variables(SCORECARD_VARIABLES, SCORECARD_FIELDS)
    issues = [issue for template in templates.values() for issue in template.issues]
    for issue in issues:
        click.echo(f"[错误] {issue.message}", err=True)
    if issues:
        click.echo(f"模板检查：{len(issues)} 个错误。请按提示修改模板后再生成报告。", err=True)
        sys.exit(EXIT_PROBLEMS)
    click.echo("模板检查：没有发现错误。")


def _describe_template(template) -> None:
    from .formats import FILTERS
    from .render import readable_default

    click.echo(f"【{template.name}】 {template.path}")
    if template.description:
        click.echo(f"  说明：{template.description}")
    if template.project_type:
        click.echo(f"  默认用于项目类型：{template.project_type}")
    if template.purpose != "报告":
        click.echo(f"  用途：{template.purpose}（为每个填写了绩效指标的项目另生成一份，不作为报告模板）")
    click.echo(f"  变量：{'、'.join(v for v in template.variables if v != '栏目') or '（无）'}")
    click.echo(f"  格式：{'、'.join(f for f in template.filters if f in FILTERS) or '（无）'}")
    if template.sections:
        click.echo("  栏目（文字说明表的“栏目”列）：")
    for section in template.sections:
        if section in template.defaults:
            kind = f"有默认文字：{_shorten(readable_default(template.defaults[section]))}"
        elif section in template.optional:
            kind = f"选填：{template.optional[section]}" if template.purpose != "报告" else "选填"
        else:
            kind = "必填"
        click.echo(f"    {section}  —  {kind}")
    click.echo("")


def _list_variables(variables: dict, fields: dict) -> None:
    """Each variable with what it holds; for a list or a table, the names of its fields."""
    for name, text in variables.items():
        click.echo(f"  {name}：{text}")
        nested = fields.get(name)
        items = nested[0] if isinstance(nested, list) and nested and isinstance(nested[0], dict) else nested
        if isinstance(items, dict) and "*" not in items:
            lead = "每项有" if isinstance(nested, list) else "其中有"
            parts = [f"{key}（{_field_text(value)}）" for key, value in items.items()]
            click.echo(f"      {lead}：{'、'.join(parts)}")


def _field_text(value) -> str:
    if isinstance(value, dict):
        return "其中有 " + "、".join(value)
    return str(value)


def _separate_summary_line(summary) -> str:
    """One line: where the 汇总 went instead of the workbook, and why."""
    return f"{summary.reason}，“汇总”表另存为：{summary.target}（原工作簿未改动）。{summary.advice}"


def _shorten(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit] + "……"


def _fail(exc: Exception, debug: bool) -> int:
    """Print a Chinese message for `exc` and return the exit code; a traceback only with --debug."""
    if debug:
        logger.opt(exception=exc).debug("详细信息")
    if isinstance(exc, WorkbookError):
        _show_problems(exc.problems)
        saved = f"问题清单已保存到：{exc.problems_file}。" if exc.problems_file else ""
        click.echo(f"{exc}{saved}请按提示修改工作簿后重新运行。", err=True)
        return EXIT_PROBLEMS
    if isinstance(exc, (UsageError, TemplateProblem)):
        click.echo(f"错误：{exc}", err=True)
        return EXIT_USAGE
    if isinstance(exc, FileProblem):
        click.echo(f"错误：{exc}", err=True)
        return EXIT_USAGE
    if isinstance(exc, OSError):
        click.echo(f"错误：{describe(exc)}", err=True)
        return EXIT_USAGE
    click.echo(f"错误：运行中出现意外问题：{exc}。请加上 --debug 重新运行，并把显示的信息发给技术支持。", err=True)
    return EXIT_PROBLEMS
