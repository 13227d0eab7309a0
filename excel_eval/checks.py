"""Rules within and across sheets. Produces problems; never raises on bad data."""

from __future__ import annotations

import re
from collections import defaultdict

from . import sentences
from .metrics import project_totals
from .problems import Problems
from .schema import BUDGET, DISBURSEMENTS, INDICATORS, NARRATIVE, PROJECT_TYPES, PROJECTS, default_template
from .reading import ROW, WorkbookData
from .scorecard import TEMPLATE_NAME as SCORECARD_TEMPLATE


def validate(data: WorkbookData, templates: dict, problems: Problems) -> None:
    """Check the workbook that `read_workbook` produced. `templates` maps a template name to an object with
    `sections`, `defaults`, `optional`, `required_sections` and the template check's `issues`
    (render.ReportTemplate)."""
    _check_templates(templates, templates_in_use(data), problems)
    if PROJECTS.name not in data.tables:
        return  # the reader has reported the missing sheet or columns
    projects = data.tables[PROJECTS.name]
    if projects.empty:
        problems.error("no-projects", "“项目”表中没有任何项目。请在表头下方每行填写一个项目。", sheet=projects.title)
        return

    known = _check_project_ids(data, problems)
    _check_projects(data, templates, problems)
    for sheet in (BUDGET, DISBURSEMENTS, NARRATIVE, INDICATORS):
        _check_references(data, sheet, known, problems)
    if BUDGET.name in data.tables and DISBURSEMENTS.name in data.tables:
        _check_figures(data, problems)
        _check_dates(data, problems)
        _check_wording(data, templates, problems)
    if NARRATIVE.name in data.tables:
        _check_sections(data, templates, problems)


def templates_in_use(data: WorkbookData) -> set[str] | None:
    """The templates this workbook needs: each project's report template, and the 自评表 when it has indicators
    (None when the 项目 sheet cannot be read: then every template counts)."""
    if PROJECTS.name not in data.tables:
        return None
    columns = data.tables[PROJECTS.name].columns
    used = {name or default_template(kind) for name, kind in zip(columns["报告模板"], columns["项目类型"])}
    indicators = data.tables.get(INDICATORS.name)
    if indicators is not None and not indicators.empty:
        used.add(SCORECARD_TEMPLATE)
    return used


def _check_templates(templates: dict, used: set[str] | None, problems: Problems) -> None:
    """What the template check found (each template's `issues`): errors for a template the workbook uses (all of
    them when `used` is None), warnings for the others, which stop nothing but would if used."""
    for name, template in templates.items():
        for issue in getattr(template, "issues", []):
            if used is None or name in used:
                problems.error(issue.code, issue.message, value=issue.value)
            else:
                problems.warning(issue.code, f"{issue.message}（没有项目使用这个模板，本次不影响生成报告。）",
                                 value=issue.value)


def _check_project_ids(data: WorkbookData, problems: Problems) -> set[str]:
    projects = data.tables[PROJECTS.name]
    first_row: dict[str, int] = {}
    for pid, row in zip(projects.columns["项目编号"], projects.columns[ROW]):
        if pid is None:
            continue
        if pid in first_row:
            problems.error(
                "project-duplicate",
                f"项目编号“{pid}”重复（第一次出现在 {projects.title}!{projects.cell('项目编号', first_row[pid])}）。每个项目的编号必须唯一，"
                "请修改其中一个或删除重复的行。",
                sheet=projects.title, cell=projects.cell("项目编号", row), value=pid,
            )
        else:
            first_row[pid] = row
    return set(first_row)


def _check_projects(data: WorkbookData, templates: dict, problems: Problems) -> None:
    projects = data.tables[PROJECTS.name]
    budget = data.tables.get(BUDGET.name)
    budgeted = set(budget.columns["项目编号"]) if budget is not None else set()
    reports = sorted(n for n, t in templates.items() if getattr(t, "purpose", "报告") == "报告")
    for record in projects.records():
        row, pid = record[ROW], record["项目编号"]

        def where(column: str) -> dict:
            return {"sheet": projects.title, "cell": projects.cell(column, row), "value": record[column]}

        year = record["预算年度"]
        if year is not None and not 1990 <= year <= 2100:
            problems.error("year-invalid", f"预算年度“{year}”不是合理的年份，请填写四位年份，如 2021。", **where("预算年度"))
        kind = record["项目类型"]
        if kind is not None and kind not in PROJECT_TYPES:
            problems.error("project-type-invalid", f"项目类型“{kind}”无法识别，只能填“常规”或“追加”（不填即为常规）。",
                           **where("项目类型"))
        name = record["报告模板"] or default_template(kind)
        if templates and name not in reports:
            problems.error(
                "template-unknown",
                f"报告模板“{name}”不存在。可用的模板有：{'、'.join(reports)}。请改为其中之一，或留空按项目类型选择。",
                **where("报告模板"),
            )
        if budget is not None and pid is not None and pid not in budgeted:
            problems.error("budget-missing", f"项目“{pid}”在“预算”表中没有任何行。请在预算表中填写它的申报数、批复数和到位数。",
                           **where("项目编号"))


def _check_references(data: WorkbookData, sheet, known: set[str], problems: Problems) -> None:
    table = data.tables.get(sheet.name)
    if table is None:
        return
    for pid, row in zip(table.columns["项目编号"], table.columns[ROW]):
        if pid is not None and pid not in known:
            problems.error(
                "project-unknown",
                f"项目编号“{pid}”在“项目”表中不存在。请核对编号，或先在“项目”表中添加这个项目。",
                sheet=table.title, cell=table.cell("项目编号", row), value=pid,
            )


def _unreadable_projects(data: WorkbookData, problems: Problems) -> set[str]:
    """Projects with a 预算 or 支出明细 row that has an error (an unreadable amount counts as 0): their
    totals are not checked, so that one bad cell is one problem, not also a zero budget or a negative total."""
    bad_rows: dict[str, set[int]] = defaultdict(set)
    for problem in problems.errors:
        match = _ROW_OF_CELL.fullmatch(problem.cell)
        if match:
            bad_rows[problem.sheet].add(int(match.group(1)))
    found = set()
    for sheet in (BUDGET, DISBURSEMENTS):
        table = data.tables[sheet.name]
        rows = bad_rows.get(table.title, set())
        found.update(pid for pid, row in zip(table.columns["项目编号"], table.columns[ROW]) if row in rows)
    return found


_ROW_OF_CELL = re.compile(r"[A-Z]{1,3}(\d+)")


def _check_figures(data: WorkbookData, problems: Problems) -> None:
    projects = data.tables[PROJECTS.name]
    totals = project_totals(data)
    unreadable = _unreadable_projects(data, problems)
    budgeted = set(data.tables[BUDGET.name].columns["项目编号"])
    for pid, row in zip(projects.columns["项目编号"], projects.columns[ROW]):
        if pid is None or pid not in totals or pid in unreadable:
            continue
        t = totals[pid]
        where = {"sheet": projects.title, "cell": projects.cell("项目编号", row), "value": pid}
        if t["全年预算数"] == 0 and pid in budgeted:
            problems.error(
                "budget-zero",
                f"项目“{pid}”的全年预算数（未填时为批复数）合计为 0，无法计算到位率和执行率。请在“预算”表中填写全年预算数或批复数。",
                **where,
            )
        if t["支出数"] < 0:
            _spending_negative(data, pid, int(t["支出数"]), problems)
        elif t["支出数"] > t["到位数"]:
            problems.warning(
                "spending-above-received",
                f"项目“{pid}”的支出数 {t['支出数'] / 100:,.2f} 元 大于到位数 {t['到位数'] / 100:,.2f} 元。"
                "请核对：常见原因是“元”和“万元”混用（表头写的单位与填写的数字不一致）。",
                **where,
            )


def _spending_negative(data: WorkbookData, pid: str, total: int, problems: Problems) -> None:
    """A project whose payments add up to less than zero, reported at the reversal rows that make it so."""
    ledger = data.tables[DISBURSEMENTS.name]
    columns = ledger.columns
    reversals = [(row, amount) for p, amount, row in zip(columns["项目编号"], columns["金额"], columns[ROW])
                 if p == pid and isinstance(amount, int) and amount < 0]
    listed = "、".join(f"{ledger.cell('金额', row)}（{amount / 100:,.2f} 元）" for row, amount in reversals[:10])
    more = f"等 {len(reversals)} 行" if len(reversals) > 10 else ""
    first = reversals[0][0] if reversals else None
    problems.error(
        "spending-negative",
        f"项目“{pid}”的支出明细合计为负数（{total / 100:,.2f} 元）：冲销金额大于支出。红字冲销（负数）的行是 "
        f"{ledger.title}!{listed}{more}。请核对这些行的金额和金额单位，或补上被冲销的那笔支出。",
        sheet=ledger.title, cell=ledger.cell("金额", first) if first else "", value=f"{total / 100:.2f}",
    )


def _check_dates(data: WorkbookData, problems: Problems) -> None:
    projects = data.tables[PROJECTS.name].columns
    years = {pid: year for pid, year in zip(projects["项目编号"], projects["预算年度"]) if year is not None}
    ledger = data.tables[DISBURSEMENTS.name]
    for pid, day, row in zip(ledger.columns["项目编号"], ledger.columns["支付日期"], ledger.columns[ROW]):
        year = years.get(pid)
        if day is not None and year is not None and day.year != year:
            problems.warning(
                "date-outside-year",
                f"支付日期 {day:%Y-%m-%d} 不在预算年度 {year} 年内。请核对日期，或确认这笔支出属于该项目。",
                sheet=ledger.title, cell=ledger.cell("支付日期", row), value=f"{day:%Y-%m-%d}",
            )


def _check_sections(data: WorkbookData, templates: dict, problems: Problems) -> None:
    if not templates:
        return
    scorecard_sections = set(getattr(templates.get(SCORECARD_TEMPLATE), "sections", []))
    templates = {n: t for n, t in templates.items() if getattr(t, "purpose", "报告") == "报告"}
    projects = data.tables[PROJECTS.name]
    narrative = data.tables[NARRATIVE.name]
    names = _template_names(data)
    filled: dict[str, set[str]] = defaultdict(set)
    for pid, section, text, row in zip(narrative.columns["项目编号"], narrative.columns["栏目"], narrative.columns["内容"],
                                       narrative.columns[ROW]):
        if pid is None or section is None:
            continue
        filled[pid].add(section.strip())
        template = templates.get(names.get(pid, ""))
        if template is not None and section.strip() not in template.sections and \
                section.strip() not in scorecard_sections:
            problems.warning(
                "section-unused",
                f"栏目“{section}”在项目“{pid}”使用的模板“{template.name}”中没有用到，这段文字不会出现在报告中。"
                f"该模板的栏目有：{'、'.join(template.sections) or '（无）'}。",
                sheet=narrative.title, cell=narrative.cell("栏目", row), value=section,
            )
    for pid, row in zip(projects.columns["项目编号"], projects.columns[ROW]):
        template = templates.get(names.get(pid, ""))
        if pid is None or template is None:
            continue
        for section in template.required_sections:
            if section not in filled[pid]:
                problems.error(
                    "section-missing",
                    f"项目“{pid}”的报告（模板“{template.name}”）需要栏目“{section}”，但“文字说明”表中没有填写。"
                    f"请在“文字说明”表中加一行：项目编号 {pid}，栏目 {section}，内容为这一栏的文字。",
                    sheet=narrative.title, value=section,
                )


def _template_names(data: WorkbookData) -> dict[str, str]:
    """项目编号 -> the name of the report template it uses."""
    columns = data.tables[PROJECTS.name].columns
    return {pid: record_template or default_template(kind) for pid, record_template, kind in
            zip(columns["项目编号"], columns["报告模板"], columns["项目类型"])}


# Words that praise how money was used, in a clause of a default text that also speaks of money.
_MONEY_WORDS = re.compile(r"资金|经费|开支|支付|支出|使用")
_PRAISE_WORDS = re.compile(r"及时|有效|合理|合规|规范|安全")
_CLAUSE = re.compile(r"[^，,。；;！？\n]+")


def praise_of_use(text: str) -> str | None:
    """The first clause of `text` that praises the use of money (资金使用及时有效, 经费开支按用途使用合理), or None."""
    return next((c.strip() for c in _CLAUSE.findall(text) if _MONEY_WORDS.search(c) and _PRAISE_WORDS.search(c)),
                None)


def _narrative_rows(data: WorkbookData) -> dict[str, dict[str, int]]:
    """项目编号 -> 栏目 -> the row of its first line in 文字说明 (sections written with some text)."""
    rows: dict[str, dict[str, int]] = defaultdict(dict)
    table = data.tables.get(NARRATIVE.name)
    if table is not None:
        for pid, section, text, row in zip(table.columns["项目编号"], table.columns["栏目"], table.columns["内容"],
                                           table.columns[ROW]):
            if pid is not None and section is not None and text is not None and str(text).strip():
                rows[pid].setdefault(section.strip(), row)
    return rows


def _check_wording(data: WorkbookData, templates: dict, problems: Problems) -> None:
    """Reviewer's warnings: what the report would say that the figures do not support, or leave unexplained.
    They wait while a 预算 or 支出明细 cell has an error: the totals they judge are not known until it is fixed."""
    figure_sheets = {data.tables[BUDGET.name].title, data.tables[DISBURSEMENTS.name].title}
    if any(p.sheet in figure_sheets for p in problems.errors):
        return
    projects = data.tables[PROJECTS.name]
    totals = project_totals(data)
    names = _template_names(data)
    written = _narrative_rows(data)
    for pid, row in zip(projects.columns["项目编号"], projects.columns[ROW]):
        if pid is None or pid not in totals:
            continue
        budget, spent = totals[pid]["全年预算数"], totals[pid]["支出数"]
        if budget <= 0 or spent < 0:
            continue  # errors of their own
        template = templates.get(names.get(pid, ""))
        uses = set(getattr(template, "sections", ()))
        where = {"sheet": projects.title, "cell": projects.cell("项目编号", row), "value": pid}
        reason_row = written[pid].get("偏差原因")
        if "偏差原因" in uses and reason_row is None and 10 * spent < 9 * budget:
            rate = sentences.rate_text(spent, budget, sentences.EXECUTION_BOUNDARIES)
            problems.warning(
                "deviation-reason-missing",
                f"项目“{pid}”的执行率为{rate}，低于90%，但没有填写偏差原因（项目支出绩效自评报告要求说明原因），"
                f"报告中只写“与预算不符”，不说明原因。请在“文字说明”表中加一行：项目编号 {pid}，栏目 偏差原因，"
                "内容为支出未达到预算的原因。",
                **where)
        if reason_row is not None and spent == budget and "偏差原因" in uses:
            narrative = data.tables[NARRATIVE.name]
            problems.warning(
                "deviation-reason-unused",
                f"项目“{pid}”填写了偏差原因，但支出数等于全年预算数，报告写“与预算相符”，这段原因不会出现在报告中。"
                "如果它说明的是别的差异，请写入相应的栏目；否则可以删除这一行。",
                sheet=narrative.title, cell=narrative.cell("内容", reason_row), value="偏差原因")
        if spent == 0 and template is not None:
            _check_praise_without_spending(pid, template, written[pid], where, problems)


def _check_praise_without_spending(pid: str, template, written: dict[str, int], where: dict,
                                   problems: Problems) -> None:
    for section in template.sections:
        text = template.defaults.get(section)
        clause = praise_of_use(text) if text is not None and section not in written else None
        if clause:
            problems.warning(
                "praise-without-spending",
                f"项目“{pid}”没有任何支出（支出数为 0），但报告中的栏目“{section}”将使用模板“{template.name}”的默认文字，"
                f"其中“{clause}”肯定了资金的使用，与没有支出不符。请在“文字说明”表中为该项目填写“{section}”，"
                "写明实际情况。",
                **where)
