"""A project's 项目支出绩效自评表 (.docx): its scores (scoring.Scorecard) through the template 绩效自评表.

The template is a .docx with docxtpl tags like the report templates, rendered in the same sandbox with the same
filters; amounts come in 万元 with two decimals and scores without trailing zeros, ready for the table's cells. Its
indicator rows come from one loop row
(`{%tr for 行 in 指标 %}`); after rendering, consecutive cells with the same text in the columns headed 一级指标
and 二级指标 are merged vertically, as the published tables merge them, so the template stays a plain table
that a user edits in Word. The column widths are then chosen from the rendered text (table_fit), so that no
cell leaves a lonely character on a line and the form stays as short as its texts allow; the template's
widths are the defaults and their sum the table's width.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Callable

from docx.oxml.ns import nsmap, qn
from jinja2 import TemplateError
from lxml import etree

from .docx_render import CompiledDocx, RenderedXmlInvalid, first_child
from .files.atomic import write_bytes_atomically
from .files.record import entry_of
from .records import ProjectRecord
from .render import Section, TemplateProblem, clean_text, indicator_rows, make_environment, tidy
from .scoring import CENT, EXECUTION_WEIGHT, Scorecard
from .table_fit import Cell, fit_columns

TEMPLATE_NAME = "绩效自评表"
SPLIT_TEMPLATE_NAME = "绩效自评表（分列）"  # for indicators given as 指标性质, 指标值 and 度量单位
SUFFIX = "_自评表"
GOAL_SECTION = "绩效目标"  # 年度总体目标：预期目标
DONE_SECTION = "完成情况"  # 年度总体目标：实际完成情况
FALLBACK_GOAL_SECTIONS = ("主要内容",)
CARRIED_OVER = ("上年结转", "上年结转资金")
OTHER_FUNDS = ("其他资金",)
GROUP_HEADERS = ("一级指标", "二级指标")  # merged by group, the second within the first


# The variables the template can use, with what they hold.
VARIABLES = {
    "项目编号": "项目编号",
    "项目名称": "项目名称",
    "主管部门": "主管部门（项目表，未填时同单位名称）",
    "实施单位": "实施单位（项目表，未填时同单位名称）",
    "预算年度": "预算年度，如 2021",
    "报告日期": "填报日期（日期，配合“中文日期”使用）",
    "年初预算数": "年初预算数（批复数）合计（万元，两位小数）",
    "全年预算数": "全年预算数合计（万元）",
    "全年执行数": "全年执行数（支出数）合计（万元）",
    "执行率": "全年执行数 ÷ 全年预算数（小数，配合“百分比”使用）",
    "执行率分值": "预算执行率的分值（10）",
    "执行率得分": "10 × min(执行率, 1)，保留两位小数",
    "资金构成": "当年财政拨款、上年结转资金、其他资金，各有 年初预算数、全年预算数、全年执行数、执行率",
    "预期目标": "年度总体目标的预期目标（文字说明表“绩效目标”栏目的各段）",
    "实际完成情况": "年度总体目标的实际完成情况（文字说明表“完成情况”栏目的各段）",
    "指标": "绩效指标的列表，每项有 一级指标、二级指标、三级指标、年度指标值、实际完成值、分值、得分、偏差原因、计算说明，"
          "以及按自评表分列填写时的 指标性质、指标值、度量单位",
    "指标分值": "各绩效指标分值之和（通常为 90）",
    "指标得分": "各绩效指标得分之和（折算前）",
    "满分": "预算执行率分值 + 指标分值（指标分值合计不是 90 时按 90 折算，满分为 100）",
    "总分": "预算执行率得分 + 各指标得分（指标分值合计不是 90 时，指标部分按 90 分折算）",
    "折算说明": "指标分值合计不是 90 时的折算，如“（各指标分值合计100分，按90分折算：93.2 × 90 ÷ 100 = 83.88）”；否则为空",
    "等级": "优（≥90）、良（80–90）、中（60–80）、差（<60）",
}

_AMOUNTS = {"年初预算数": "万元", "全年预算数": "万元", "全年执行数": "万元", "执行率": "小数"}
# The fields of the lists and tables among VARIABLES (see render.FIELDS).
FIELDS = {
    "资金构成": {kind: _AMOUNTS for kind in ("当年财政拨款", "上年结转资金", "其他资金")},
    "预期目标": ["一段文字"],
    "实际完成情况": ["一段文字"],
    "指标": [{"一级指标": "文字", "二级指标": "文字", "三级指标": "文字", "年度指标值": "文字", "实际完成值": "文字",
            "分值": "数字", "得分": "数字", "偏差原因": "文字", "计算说明": "文字", "指标性质": "文字", "指标值": "文字",
            "度量单位": "文字"}],
}

# The sections of 文字说明 the 自评表 reads (its 年度总体目标), as the guide and `excel-eval templates` show them.
SECTIONS_USED = {
    GOAL_SECTION: "自评表“年度总体目标”的预期目标；未填时用“主要内容”栏目",
    DONE_SECTION: "自评表“年度总体目标”的实际完成情况；未填时空白",
}


def wan(fen: int) -> Decimal:
    """An amount in 万元 with two decimals, as the published tables write it: 54.75, 40.00, 0.08."""
    return (Decimal(fen) / 1_000_000).quantize(CENT, rounding=ROUND_HALF_UP)


def scorecard_filename(report_name: str) -> str:
    """`<项目编号>_<项目名称>_自评表.docx` beside the report `<项目编号>_<项目名称>.docx`."""
    stem = report_name[:-5] if report_name.lower().endswith(".docx") else report_name
    return f"{stem}{SUFFIX}.docx"


def _paragraphs(record: ProjectRecord, *keys: str) -> Section:
    for key in keys:
        if record.sections.get(key):
            return Section(clean_text(p) for p in record.sections[key])
    return Section([""])  # a table cell must keep a paragraph


def funding(record: ProjectRecord) -> dict[str, dict]:
    """资金构成: the budget and spending by kind of money, as in the published 自评表."""
    kinds = {"当年财政拨款": [0, 0, 0], "上年结转资金": [0, 0, 0], "其他资金": [0, 0, 0]}
    for s in record.by_source:
        kind = ("上年结转资金" if s["source"] in CARRIED_OVER else "其他资金" if s["source"] in OTHER_FUNDS
                else "当年财政拨款")
        for i, key in enumerate(("approved", "budget", "spent")):
            kinds[kind][i] += s[key]
    result: dict[str, dict] = {}
    for kind, (approved, budget, spent) in kinds.items():
        if not (approved or budget or spent):
            # blank cells: Jinja would print None as "None"
            result[kind] = {"年初预算数": "", "全年预算数": "", "全年执行数": "", "执行率": ""}
            continue
        result[kind] = {"年初预算数": wan(approved), "全年预算数": wan(budget), "全年执行数": wan(spent),
                        "执行率": Decimal(spent) / Decimal(budget) if budget else ""}
    return result


def context(record: ProjectRecord, card: Scorecard, run_date: dt.date | None = None) -> dict:
    f = record.figures
    return {
        "项目编号": clean_text(record.project_id),
        "项目名称": clean_text(record.name),
        "主管部门": clean_text(record.department or record.unit_name),
        "实施单位": clean_text(record.implementer or record.unit_name),
        "预算年度": record.year,
        "报告日期": record.report_date or run_date or dt.date.today(),
        "年初预算数": wan(f.approved),
        "全年预算数": wan(f.budget),
        "全年执行数": wan(f.spent),
        "执行率": f.execution_rate,
        "执行率分值": tidy(EXECUTION_WEIGHT),
        "执行率得分": tidy(card.execution_score),
        "资金构成": funding(record),
        "预期目标": _paragraphs(record, GOAL_SECTION, *FALLBACK_GOAL_SECTIONS),
        "实际完成情况": _paragraphs(record, DONE_SECTION),
        "指标": indicator_rows(card),
        "指标分值": tidy(card.weight_total),
        "指标得分": tidy(card.indicator_total),
        "满分": tidy(card.full_marks),
        "总分": tidy(card.total),
        "等级": card.grade,
        "折算说明": card.scaling_note,
    }


class ScorecardRenderer:
    """Renders 自评表 documents from one template file, compiled once per run (docx_render.CompiledDocx); the
    groups are merged and the column widths fitted on each rendered body."""

    def __init__(self, template_path: Path, run_date: dt.date | None = None):
        self.path = Path(template_path)
        self.run_date = run_date
        self.env = make_environment()
        self._compiled: CompiledDocx | None = None

    def compiled(self) -> CompiledDocx:
        if self._compiled is None:
            try:
                source = self.path.read_bytes()
            except OSError as exc:
                raise TemplateProblem(f"无法读取自评表模板 {self.path.name}：{exc}") from exc
            self._compiled = CompiledDocx(source, self.env)
            self._compiled.adjust = functools.partial(lay_out, em=_font_twips(self._compiled.document))
        return self._compiled

    def package(self, record: ProjectRecord, card: Scorecard) -> bytes:
        """The project's 自评表, as the bytes of its .docx file."""
        try:
            return self.compiled().package(context(record, card, self.run_date))
        except (TemplateError, RenderedXmlInvalid) as exc:
            raise TemplateProblem(f"模板 {self.path.name} 渲染失败（项目 {record.project_id}）：{exc}") from exc

    def render(self, record: ProjectRecord, card: Scorecard, out_path: Path) -> Path:
        """Write the 自评表 to `out_path`, under a temporary name until it is complete."""
        _write(out_path, self.package(record, card))
        return out_path

    def attempt(self, form: tuple[ProjectRecord, Scorecard, Path]) -> tuple[tuple[str, str] | None, dict | None]:
        """Render one (record, card, path): ((code, message), None) when it cannot be written, else (None, the
        run record's entry of the file written)."""
        record, card, path = form
        try:
            data = self.package(record, card)
            _write(path, data)
        except PermissionError:
            return ("report-locked", (f"自评表 {path.name} 无法写入：它可能正在 Word 或 WPS 中打开。"
                                      "请关闭它后重新运行；其他文件已照常生成。")), None
        except TemplateProblem as exc:
            return ("template-failed", str(exc)), None
        return None, entry_of(path, data)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomically(path, data)


def lay_out(body, em: int) -> None:
    """The rendered body of a 自评表: groups merged in each table, then column widths fitted to the text."""
    span = _spans(body)
    for table in body.iter(TBL):
        merge_groups(table, span)
    fit_widths(body, em, span)


# ------------------------------------------------------------------------------------ merging groups

# WordprocessingML names, spelled out once (qn() and path lookups are a good part of laying out a form)
TBL, TBL_GRID, TR, TC, P, T = qn("w:tbl"), qn("w:tblGrid"), qn("w:tr"), qn("w:tc"), qn("w:p"), qn("w:t")
TC_PR, P_PR, V_MERGE, VAL, W, TYPE = qn("w:tcPr"), qn("w:pPr"), qn("w:vMerge"), qn("w:val"), qn("w:w"), qn("w:type")
TR_PR, GRID_BEFORE, GRID_SPAN, TC_W = qn("w:trPr"), qn("w:gridBefore"), qn("w:gridSpan"), qn("w:tcW")
TBL_PR, CELL_MARGINS = qn("w:tblPr"), qn("w:tblCellMar")
BEFORE_MERGE = (TC_W, GRID_SPAN, qn("w:hMerge"))  # vMerge goes after these


def _property(element, properties: str, name: str):
    """The child `name` of the element's properties child (w:tcPr, w:trPr, w:tblPr), or None."""
    found = first_child(element, properties)
    return first_child(found, name) if found is not None else None


def _span(tc) -> int:
    span = _property(tc, TC_PR, GRID_SPAN)
    return int(span.get(VAL, "1")) if span is not None else 1


_SPANNING = etree.XPath(".//w:tc[w:tcPr/w:gridSpan]", namespaces={"w": nsmap["w"]})


def _spans(body) -> Callable[[object], int]:
    """_span for the cells of `body`, looked up: the cells that span columns are found at once (a form has
    hundreds of cells, most of them one column wide)."""
    spans = {tc: _span(tc) for tc in _SPANNING(body)}
    return lambda tc: spans.get(tc, 1)


def _cells(tr, span: Callable[[object], int] = _span) -> list[tuple[int, object]]:
    """(first grid column, tc) of each cell of a row."""
    column = 0
    grid_before = _property(tr, TR_PR, GRID_BEFORE)
    if grid_before is not None:
        column = int(grid_before.get(VAL, "0"))
    cells = []
    for tc in tr.iterchildren(TC):
        cells.append((column, tc))
        column += span(tc)
    return cells


def _text(tc) -> str:
    return "".join(tc.itertext(T, with_tail=False)).strip()


def merge_groups(tbl, span: Callable[[object], int] = _span) -> None:
    """Below the row headed 一级指标 / 二级指标, merge each run of equal cells in those columns vertically
    (二级 runs only within one 一级 run). The run ends at the first row without a cell at those columns."""
    rows = tbl.findall(TR)
    header_index, columns = None, []
    for index, tr in enumerate(rows):
        texts = {_text(tc): column for column, tc in _cells(tr, span)}
        if all(h in texts for h in GROUP_HEADERS):
            header_index, columns = index, [texts[h] for h in GROUP_HEADERS]
            break
    if header_index is None:
        return
    body: list[list] = []  # per row: the tc at each group column
    for tr in rows[header_index + 1:]:
        by_column = {column: tc for column, tc in _cells(tr, span)}
        if not all(c in by_column and span(by_column[c]) == 1 for c in columns):
            break
        body.append([by_column[c] for c in columns])
    keys: list[tuple] = [() for _ in body]
    for level in range(len(columns)):
        keys = [key + (_text(cells[level]),) for key, cells in zip(keys, body)]
        start = 0
        for i in range(1, len(body) + 1):
            if i == len(body) or keys[i] != keys[start] or not keys[start][-1]:
                if i - start > 1 and keys[start][-1]:
                    _merge([cells[level] for cells in body[start:i]])
                start = i


def _tc_pr(tc):
    """The cell's w:tcPr, added as its first child when it has none."""
    tc_pr = tc.find(TC_PR)
    if tc_pr is None:
        tc_pr = tc.makeelement(TC_PR, {})
        tc.insert(0, tc_pr)
    return tc_pr


def _merge(cells: list) -> None:
    for index, tc in enumerate(cells):
        tc_pr = _tc_pr(tc)
        for old in tc_pr.findall(V_MERGE):
            tc_pr.remove(old)
        merge = tc_pr.makeelement(V_MERGE, {})
        if index == 0:
            merge.set(VAL, "restart")
        anchor = None
        for tag in BEFORE_MERGE:
            found = tc_pr.find(tag)
            if found is not None:
                anchor = found
        if anchor is not None:
            anchor.addnext(merge)
        else:
            tc_pr.insert(0, merge)
        if index:
            paragraphs = tc.findall(P)
            for p in paragraphs[1:]:
                tc.remove(p)
            for child in list(paragraphs[0]):
                if child.tag != P_PR:
                    paragraphs[0].remove(child)


# ------------------------------------------------------------------------------------------ column widths

TEXT_STYLE = "表格文字"


def _font_twips(document) -> int:
    """The size of the table's text (the 表格文字 style), in twips: the em of the width estimates."""
    try:
        size = document.styles[TEXT_STYLE].font.size
    except KeyError:
        size = None
    return size.twips if size is not None else 210


def fit_widths(body, em: int, span: Callable[[object], int] = _span) -> None:
    """Give the top-level tables of `body` (the parts of one table, on one grid) column widths from their
    text (table_fit.fit_columns), keeping their width; left as they are when the grids differ or the text
    cannot fit."""
    tables = body.findall(TBL)
    grids = [[int(col.get(W)) for col in tbl.find(TBL_GRID)] for tbl in tables]
    if not grids or any(len(g) != len(grids[0]) for g in grids):
        return
    total = sum(grids[0])
    rows = [[_cells(tr, span) for tr in tbl.findall(TR)] for tbl in tables]
    cells = [cell for number, table_rows in enumerate(rows) for cell in _content_cells(number, table_rows, span)]
    widths = fit_columns(cells, len(grids[0]), total / em, _padding(tables[0]) / em)
    if widths is None:
        return
    twips = [round(w * em) for w in widths]
    twips[-1] += total - sum(twips)
    for tbl, table_rows in zip(tables, rows):
        for col, width in zip(tbl.find(TBL_GRID), twips):
            col.set(W, str(width))
        for row in table_rows:
            for column, tc in row:
                tc_w = _property(tc, TC_PR, TC_W)
                if tc_w is not None:
                    tc_w.set(W, str(sum(twips[column:column + span(tc)])))
                    tc_w.set(TYPE, "dxa")


def _content_cells(number: int, rows: list[list[tuple[int, object]]], span: Callable[[object], int] = _span
                   ) -> list[Cell]:
    """The cells of one table (its rows as _cells gives them) for table_fit."""
    cells = []
    for row, row_cells in enumerate(rows):
        for column, tc in row_cells:
            merge = _property(tc, TC_PR, V_MERGE)
            if merge is not None and merge.get(VAL) != "restart":
                continue  # continues the cell above
            paragraphs = tuple("".join(p.itertext(T, with_tail=False)) for p in tc.iterchildren(P))
            cells.append(Cell(column, span(tc), paragraphs, (number, row), merged=merge is not None))
    return cells


def _padding(tbl) -> int:
    """The left and right cell margins of a table, in twips (Word's default 108 each when not set)."""
    margins = _property(tbl, TBL_PR, CELL_MARGINS)
    total = 0
    for side in ("left", "right"):
        found = margins.find(qn(f"w:{side}")) if margins is not None else None
        total += int(found.get(W)) if found is not None else 108
    return total


# ------------------------------------------------------------------------------------------ the run

def write_scorecards(records: list[ProjectRecord], indicators, template, report_paths: dict[str, Path],
                     used: set[str], problems, run_date: dt.date | None = None, split_template=None,
                     workers: int | None = None, entries: dict[Path, dict] | None = None
                     ) -> tuple[dict[str, Scorecard], list[Path]]:
    """Write the 自评表 of every project scored before rendering (`record.scorecard`, from the 绩效指标 Table
    `indicators`) beside its report (`report_paths`: 项目编号 → the report's path). `used` holds the file names
    taken (lower case, no extension) and is updated. A project whose indicators give their targets in the
    official layout's columns (指标性质, 指标值, 度量单位) gets `split_template`, which prints those columns, when
    there is one. Returns the scorecards by 项目编号 and the files written; a file that cannot be written is an
    error in `problems`, the others are written all the same. `workers` is the number of processes
    (batch.default_workers when None). `entries` receives the run record's entry of each file written."""
    from .batch import default_workers, map_in_order

    cards = {record.project_id: record.scorecard for record in records if record.scorecard is not None}
    if not cards:
        return cards, []
    if template is None:
        problems.error("template-failed", f"找不到自评表模板“{TEMPLATE_NAME}.docx”，未生成绩效自评表。"
                                          f"请把它放回模板文件夹。", value=TEMPLATE_NAME)
        return cards, []
    renderer = ScorecardRenderer(getattr(template, "path", template), run_date)
    split_renderer = ScorecardRenderer(getattr(split_template, "path", split_template), run_date) \
        if split_template is not None else renderer
    by_id = {r.project_id: r for r in records}
    forms = [(by_id[pid], card, _form_path(report_paths[pid], used)) for pid, card in cards.items()
             if pid in report_paths]
    renderers = [split_renderer if any(i.indicator.split for i in card.indicators) else renderer
                 for _, card, _ in forms]
    workers = default_workers(len(forms)) if workers is None else workers
    if workers > 1:
        for chosen in dict.fromkeys(renderers):  # before the fork: the workers share them
            try:
                chosen.compiled()
            except TemplateProblem:
                pass  # reported for each form below
    jobs = list(zip(renderers, forms))
    written: list[Path] = []
    outcomes = map_in_order(lambda job: job[0].attempt(job[1]), jobs, workers)
    for (record, _, path), (failure, entry) in zip(forms, outcomes):
        if failure is None:
            written.append(path)
            if entries is not None:
                entries[path] = entry
        else:
            code, message = failure
            problems.error(code, message, value=path.name if code == "report-locked" else record.project_id)
    return cards, written


def _form_path(report: Path, used: set[str]) -> Path:
    """`<report's stem>_自评表.docx` beside the report, numbered when the name is taken (`used` is updated)."""
    stem, counter = scorecard_filename(report.name)[:-5], 2
    candidate = stem
    while candidate.lower() in used:
        candidate, counter = f"{stem}_{counter}", counter + 1
    used.add(candidate.lower())
    return report.with_name(candidate + ".docx")
