"""支出明细 pasted as the finance software exports it: a 明细账 or 序时账 read into the standard Table.

The workbook contract ("支出明细 as a ledger export") lets the sheet be a 三栏式明细账, a 用友 / 金蝶 / 浪潮 export
or a 序时账; `read_disbursements` reads it into the same Table (项目编号, 支付日期, 金额, 支出类别, 资金来源, 凭证号,
摘要, `_row`) as the standard layout. Where the contract is silent these rules are an accountant's reading:

Header. Found in the first 10 rows, on one row or over two (a group row, often merged, above sub-headers:
"2021年" over 月 | 日, 凭证 over 字 | 号, 发生额 over 借方 | 贷方); title lines above it are skipped. The sheet is
a ledger when its header lacks one of 项目编号, 支付日期, 金额 and has a column the standard layout has not (借方,
贷方, 方向, 借或贷, 余额, a 科目 column, 月, 字, 辅助核算, 核算项目N, or the 预算管理一体化 system's 支付金额,
预算项目, 支付凭证号); otherwise it is the standard layout, read with the standard layout's messages.

Amount. 借方 and 贷方 (借方金额/贷方金额, 借方发生额/贷方发生额): 支出 = 借方 − 贷方, a credit being a reversal
(红字冲销); a row with neither is an error. With 借方 and 贷方 given, 方向/借或贷 is not read (in a 三栏式明细账
it is the balance's direction). One amount column (金额, 发生额, 支付金额) with 方向 or 借或贷: 借 is spending, 贷 a
reversal. One amount column with no direction is signed, as in the standard layout. 余额 is never read.

Date. 日期 (also 凭证日期, 记账日期, 业务日期, 制单日期); or 月 and 日 with the year of the group header above them
("2021年", "2021年度"), else the 预算年度 of the 项目 sheet when every project has the same one, else an error at
the 月 header.

Voucher. 字 and 号 (种类 and 号数 or 编号 under a 凭证 group) joined as "记-15"; 凭证字 with 凭证号 the same way;
else 凭证号 / 凭证字号 / 凭证编号 / 支付凭证号 as written. 摘要 may be headed 用途.

Project. From 项目编号; or an auxiliary column 项目, 项目名称, 项目－名称 (－编码, －代码), 预算项目; or 核算项目N with
名称N / 编码N (the dimension whose type names 项目); or a 辅助核算 cell: "项目：仁和区信访工作专项经费",
"[0101]仁和区信访工作专项经费", "部门：办公室；项目：…", K/3's "项目---0101---…"; or, with none of these, a title
line "项目：…" above the header (a 项目明细账). Each is matched to the 项目 sheet by 项目编号 or 项目名称 after trimming
and folding full/half width. A value that matches no project is an error naming the nearest project names; a
row with no project at all (基本支出 in a 事业支出 ledger) is no project's spending: left out, with a warning
naming the rows. 支出类别 and 资金来源 come from columns of those names (also 经济分类, 支出经济分类; 资金性质),
or from the auxiliary dimensions of those names.

Accounts. A ledger with a 科目 column (科目, 科目代码/科目编码, 科目名称) may hold several accounts. Kept are
the 支出 accounts of budget accounting: codes beginning with 7 (7101 行政支出, 7201 事业支出 …) and accounts
named …支出 (事业支出, 经费支出 of the older systems); only when there are none, the 费用 accounts (codes
beginning with 5, names …费用: 业务活动费用, 单位管理费用). Under 政府会计制度 a payment is booked in both (平行记账),
so keeping both would count it twice. Every other account (零余额账户用款额度, 银行存款, 资金结存 …) and a blank
科目 are left out with a warning per account naming its rows. A ledger with no 科目 column is one account's:
every row is kept, but a "科目：" title line naming an account that is neither 支出 nor 费用 is an error. A credit
whose 摘要 says 结转 or 结账 (and not 冲) is the closing of the account into 结转结余 or 本期盈余, not a reversal:
left out, with a warning naming the rows.

Summary rows, recognised by 摘要 (or by the row's first text when 摘要 is blank), are not payments. 本日合计,
本月合计, 本期合计, 月计, 本页合计, 小计 cover the rows since the previous summary of their level or a higher one;
本季合计 since the previous 本季合计; 本年累计, 本年合计, 累计, 合计, 总计 every row of the year so far (from the
sheet's start or the last 期初余额 / 年初余额 / 上年结转 row, which opens a year or an account). Each of 借方 and
贷方 (or the amount) is checked against the rows it covers, all of the sheet's rows as exported whatever their
account or project; a mismatch is a warning naming the cell. 期初余额, 年初余额, 上年结转, 承前页, 过次页,
结转下年, 期末余额 carry balances, not payments: skipped and not checked.

Problems are located at the original cell; 借方 and 贷方 report their own letters, and the Table's 金额 cell of a
row whose amount is a credit is its 贷方 cell (LedgerTable.cell). What was recognised is logged in one line.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from loguru import logger

from .. import money
from ..problems import ERROR, WARNING, Problems
from ..schema import AMOUNT, DATE, DISBURSEMENTS, TEXT, Column
from .columns import Formats, Issue, convert_column
from .facts import CellFacts
from .ledger_header import ROLE_NAMES, YEAR, Heading, Layout, find_layout, fold, is_standard, present
from .raw import RawSheet
from .sheets import (CHUNK_ROWS, HEADER_SEARCH_ROWS, ROW, Table, merged_filled, no_value_message, read_sheet, show_amount,
                     unit_line)
from .styles import NO_STYLES, BookStyles

# --------------------------------------------------------------------------------------------- summary rows

_BALANCE, _DAY, _MONTH, _QUARTER, _YEAR_SUM = 0, 1, 2, 3, 4
_OPENING = ("期初余额", "年初余额", "上年结转")
_SUMMARIES = {**{w: _BALANCE for w in _OPENING + ("承前页", "过次页", "结转下年", "期末余额", "年末余额")},
              "本日合计": _DAY, "本月合计": _MONTH, "本期合计": _MONTH, "月计": _MONTH, "本页合计": _MONTH,
              "小计": _MONTH, "本季合计": _QUARTER, "本季度合计": _QUARTER, "本年累计": _YEAR_SUM,
              "本年合计": _YEAR_SUM, "累计": _YEAR_SUM, "合计": _YEAR_SUM, "总计": _YEAR_SUM}
_SUMMARY_NOISE = re.compile(r"[\s:：*＊★☆\-—_【】\[\]()（）<>《》]")
_CLOSING = re.compile(r"结转|结账")

# --------------------------------------------------------------------------------------------- accounts

_SPENDING, _EXPENSE, _OTHER = "支出", "费用", "其他"
_ACCOUNT = re.compile(r"^[\[【(（]?\s*(\d[\d.]*)\s*[\]】)）]?\s*[-/\\·、]?\s*(.*)$")


def _account_class(code: str, name: str) -> str:
    """支出 (budget accounting's 7xxx, or a …支出 account), 费用 (5xxx, …费用), or 其他."""
    top = re.split(r"[-/\\·]", name, maxsplit=1)[0].strip() if name else ""
    if code[:1] == "7" or (code[:1] in ("5", "") and top.endswith("支出")):
        return _SPENDING
    if code[:1] == "5" or (not code and top.endswith("费用")):
        return _EXPENSE
    return _OTHER


def _split_account(text: str) -> tuple[str, str]:
    """'7201 事业支出' → ('7201', '事业支出'); '事业支出' → ('', '事业支出')."""
    match = _ACCOUNT.match(unicodedata.normalize("NFKC", text).strip())
    return (match.group(1), match.group(2).strip()) if match else ("", text.strip())


# --------------------------------------------------------------------------------------------- projects

_BRACKETED = re.compile(r"^[\[【(（]\s*([^\]】)）]+?)\s*[\]】)）]\s*(.+)$")
_CODE_NAME = re.compile(r"^(\S*\d\S*)\s+(.+)$")
_K3_ITEM = re.compile(r"^(.{1,10}?)-{2,}(.+?)-{2,}(.+)$")
_AUX_SPLIT = re.compile(r"[;；|\n]+|[，,]\s*(?=[^，,:：]{1,10}[:：])|\s{2,}|(?<=[】\]])\s*(?=[【\[])")
_AUX_ITEM = re.compile(r"^[【\[]?\s*([^:：\]】]{1,12}?)\s*[:：]\s*(.*?)\s*[】\]]?$")
_CATEGORY_KEYS = tuple(fold(n) for n in ROLE_NAMES["category"])
_SOURCE_KEYS = tuple(fold(n) for n in ROLE_NAMES["source"])


def _dimension(kind: str) -> str | None:
    """What an auxiliary dimension's type names: 项目, 支出类别, 资金来源, or None (部门, 人员 …)."""
    key = fold(kind)
    if key.startswith("项目"):
        return "项目"
    if key in _CATEGORY_KEYS or key.endswith("经济分类"):
        return "支出类别"
    if key in _SOURCE_KEYS:
        return "资金来源"
    return None


def auxiliary_items(text: str) -> dict[str, str]:
    """A 辅助核算 cell as {项目 / 支出类别 / 资金来源: value}: "部门：办公室；项目：[01]某专项" → {"项目": "[01]某专项"}.
    A cell with no "名称：" parts is a project by itself."""
    items: dict[str, str] = {}
    parts = [p.strip() for p in _AUX_SPLIT.split(text.strip()) if p and p.strip()]
    keyed = False
    for part in parts:
        match = _K3_ITEM.match(part)
        if match:
            key, value = match.group(1), f"[{match.group(2).strip()}]{match.group(3).strip()}"
        else:
            match = _AUX_ITEM.match(part)
            if not match:
                continue
            key, value = match.group(1), match.group(2)
        keyed = True
        kind = _dimension(key)
        if kind and value and kind not in items:
            items[kind] = value
    if not keyed and text.strip():
        items["项目"] = text.strip()
    return items


def _forms(text: str) -> list[str]:
    """The ways a project cell may name a project: itself, and the code and the name of "[code]name" and of
    "code name"."""
    text = text.strip()
    forms = [text]
    for pattern in (_BRACKETED, _CODE_NAME):
        match = pattern.match(text)
        if match:
            forms += [match.group(1), match.group(2)]
    return forms


class ProjectIndex:
    """The 项目 sheet's projects by folded 项目编号 and 项目名称."""

    def __init__(self, projects: Table | None):
        self.known = projects is not None
        self.by_key: dict[str, set[str]] = defaultdict(set)
        self.names: dict[str, str] = {}  # folded name -> name as written
        if projects is None:
            return
        for pid, name in zip(projects.columns["项目编号"], projects.columns["项目名称"]):
            if pid is None:
                continue
            self.by_key[fold(pid)].add(pid)
            if name:
                self.by_key[fold(name)].add(pid)
                self.names[fold(name)] = str(name)

    def match(self, text: str) -> set[str]:
        """The projects `text` names (empty: none; two or more: a name shared by several projects)."""
        for form in _forms(text):
            found = self.by_key.get(fold(form))
            if found:
                return found
        return set()

    def nearest(self, text: str) -> list[str]:
        names = [fold(f) for f in _forms(text)]
        close = dict.fromkeys(n for form in names for n in difflib.get_close_matches(form, self.names, 3, 0.3))
        return [self.names[n] for n in close][:3] or list(self.names.values())[:5]


# --------------------------------------------------------------------------------------------- the table


@dataclass
class LedgerTable(Table):
    """A 支出明细 read from a ledger; a row whose 金额 is a credit has its 贷方 cell as its 金额 cell."""

    amount_cells: dict[int, str] = field(default_factory=dict)  # Excel row -> cell

    def cell(self, column: str, row: int) -> str:
        if column == "金额" and row in self.amount_cells:
            return self.amount_cells[row]
        return super().cell(column, row)


def read_disbursements(raw: RawSheet, problems: Problems, facts: CellFacts | None = None,
                       styles: BookStyles = NO_STYLES, projects: Table | None = None) -> Table | None:
    """The 支出明细 sheet in the standard layout (sheets.read_sheet) or as a ledger export (module docstring).
    `projects` is the 项目 table the project names are matched against."""
    stream = iter(raw.rows)
    head = list(itertools.islice(stream, HEADER_SEARCH_ROWS))
    raw.rows = itertools.chain(head, stream)
    layout = None if is_standard(head) else find_layout(head, raw.merged)
    if layout is None:
        return read_sheet(raw, DISBURSEMENTS, problems, facts, styles)
    return _LedgerReader(raw, layout, head, problems, facts or CellFacts(), styles, projects).read()


_OUTPUT = [c.name for c in DISBURSEMENTS.columns] + [ROW]
_SIGNS = {"借": 1, "借方": 1, "d": 1, "dr": 1, "贷": -1, "贷方": -1, "c": -1, "cr": -1}
_DAY_OR_MONTH = re.compile(r"^(\d{1,2})[月日号]?$")
_CHECKED_LEVELS = (_DAY, _MONTH, _QUARTER)


def _join(word, number):
    """字 and 号 as one voucher number: 记 + 15 → 记-15."""
    if word and number:
        return f"{str(word).rstrip('-－ ')}-{str(number).lstrip('-－ ')}"
    return word or number


class _LedgerReader:
    """The rows below a ledger's header into the standard table (module docstring)."""

    def __init__(self, raw: RawSheet, layout: Layout, head: list[list], problems: Problems, facts: CellFacts,
                 styles: BookStyles, projects: Table | None):
        self.raw, self.title, self.layout, self.head, self.problems = raw, raw.title, layout, head, problems
        self.uncached, self.styled, self.styles = facts.uncached, facts.styles, styles
        self.projects = ProjectIndex(projects)
        self.years = sorted({y for y in projects.columns["预算年度"] if y is not None}) if projects is not None else []
        self.year: tuple[int, str] | None = None  # (year, where it comes from)
        self.units: dict[int, str] = {}  # amount column position -> 元 / 万元
        self.found: list[tuple] = []  # summary rows' problems: (row, order, severity, code, message, cell, value)
        self.row_problems: dict[int, list[tuple]] = defaultdict(list)  # data rows' problems, kept rows' reported
        self.records: dict[str, list] = {name: [] for name in _OUTPUT}
        self.accounts: list[tuple[str, str, str]] = []  # per data row: (account, its class, its cell)
        self.states: list[str] = []  # per data row: "" (a payment), "closing", "no-project"
        self.credit_cells: list[str | None] = []
        self.sums: list[tuple[Heading, list]] = []  # amount columns of every data row, for the summary rows
        self.summary_counts: Counter = Counter()
        self.starts = dict.fromkeys(_CHECKED_LEVELS + (_YEAR_SUM,), 0)
        self.positions = [h.position for h in layout.headings()]
        self.matched: dict[str, set[str]] = {}  # project text -> projects, each text matched once
        self.classes: dict[tuple[str, str], str] = {}  # (code, name) -> account class

    # ------------------------------------------------------------------ header

    def read(self) -> Table | None:
        if not self._check_layout():
            return None
        layout = self.layout
        amounts = {layout.roles[r].position for r in ("debit", "credit", "amount") if r in layout.roles}
        filled = [h.position for h in layout.headings() if h.position not in amounts]
        body = merged_filled(itertools.islice(self.raw.rows, layout.last_row, None), self.raw.merged,
                              layout.last_row + 1, filled)
        numbered = enumerate(body, layout.last_row + 1)
        while chunk := list(itertools.islice(numbered, CHUNK_ROWS)):
            self._chunk(chunk)
        return self._finish()

    def _where(self) -> str:
        layout = self.layout
        rows = f"第{layout.first_row}行" if layout.first_row == layout.last_row else \
            f"第{layout.first_row}–{layout.last_row}行"
        names = list(dict.fromkeys(h.name for h in layout.headings()))
        names = "、".join(names[:12]) + ("等" if len(names) > 12 else "")
        return f"“{self.title}”表{rows}的表头（{names}）是财务软件导出的明细账格式"

    def _check_layout(self) -> bool:
        layout, title = self.layout, self.title
        gaps = []
        if not layout.has_amount:
            gaps.append(("ledger-amount-missing", "没有找到金额列。请保留导出时的“借方”“贷方”两列（也可写作“借方金额”"
                         "“贷方金额”），或一个“金额”列加一个“方向”列（借/贷）"))
        if not layout.has_date:
            gaps.append(("ledger-date-missing", "没有找到日期列。请保留“日期”列，或“月”“日”两列（年份写在它们上方的"
                         "表头中，如“2021年”）"))
        if not layout.has_project:
            gaps.append(("ledger-project-missing", "没有找到项目列，无法把支出归到项目。请保留导出时的项目辅助核算列（如"
                         "“项目”“项目名称”“项目－名称”“核算项目1”与“名称1”“辅助核算”），或加一列“项目编号”"))
        for code, text in gaps:
            self.problems.error(code, f"{self._where()}，但{text}；也可以改用标准格式，表头为：项目编号、支付日期、金额。",
                                sheet=title)
        for first, again in layout.duplicates:
            self.problems.warning(
                "column-duplicate", f"表头中“{again.name}”出现了两次（{first.cell} 和 {again.cell}），只读取了第一列。"
                "请删除或改名多余的一列。", sheet=title, cell=again.cell, value=again.text)
        year_known, account_kept = self._check_year(), self._check_title_account()
        ok = not gaps and year_known and account_kept
        if ok:
            self._read_units()
        return ok

    def _check_year(self) -> bool:
        month = self.layout.roles.get("month")
        if "date" in self.layout.roles or month is None:
            return True
        match = YEAR.match(fold(month.group))
        if match:
            self.year = (int(match.group(1)), f"表头“{month.group}”（{month.group_cell}）")
            return True
        if len(self.years) == 1:
            self.year = (self.years[0], f"“项目”表的预算年度 {self.years[0]}")
            return True
        why = (f"“项目”表中各项目的预算年度不同（{'、'.join(map(str, self.years))}）" if self.years
               else "也无法从“项目”表的预算年度得知")
        self.problems.error(
            "ledger-year-missing",
            f"“月”“日”列上方的表头中没有写年份（如“2021年”），{why}，无法确定支付日期是哪一年。请在“月”“日”上方的"
            "表头中写上年份，如“2021年”，或把“月”“日”两列换成一个“日期”列（如 2021-05-10）。",
            sheet=self.title, cell=month.cell, value=month.text)
        return False

    def _check_title_account(self) -> bool:
        if self.layout.has_accounts or self.layout.title_account is None:
            return True
        text, cell = self.layout.title_account
        if _account_class(*_split_account(text)) != _OTHER:
            return True
        self.problems.error(
            "ledger-account-not-expense",
            f"标题行表明这是“{text}”的明细账。它不是支出科目，其中的借方不是项目支出。请导出支出科目（如 7101 行政支出、"
            "7201 事业支出）的明细账粘贴到这里。", sheet=self.title, cell=cell, value=text)
        return False

    def _read_units(self) -> None:
        default = unit_line(self.head[:self.layout.first_row - 1], self.title, self.problems) or "元"
        for role in ("debit", "credit", "amount"):
            h = self.layout.roles.get(role)
            if h is None:
                continue
            unit = None
            for text, cell in ((h.text, h.cell), (h.group, h.group_cell)):
                try:
                    unit = unit or money.unit_from_header(text)[1]
                except money.ValueProblem as exc:
                    self.problems.error("unit-unsupported", f"表头“{text}”：{exc}。", sheet=self.title, cell=cell,
                                        value=text)
            self.units[h.position] = unit or default

    # ------------------------------------------------------------------ rows

    def _chunk(self, chunk: list[tuple[int, list]]) -> None:
        data, summaries = [], []
        for excel_row, values in chunk:
            if self._blank(excel_row, values):
                continue
            kind = self._summary(values)
            if kind is None:
                data.append((excel_row, values))
            else:
                summaries.append((excel_row, kind, values, len(self.states) + len(data)))
        if data:
            self._convert(data)
        for summary in summaries:
            self._check_summary(*summary)

    def _blank(self, excel_row: int, values: list) -> bool:
        for position in self.positions:
            if position < len(values) and present(values[position]):
                return False
            if self.uncached and (excel_row, position + 1) in self.uncached:
                return False
        return True

    def _summary(self, values: list) -> tuple[str, int] | None:
        memo = self.layout.roles.get("memo")
        key = values[memo.position] if memo is not None and memo.position < len(values) else None
        if not present(key):
            key = next((v for v in values if present(v)), None)
        if not isinstance(key, str) or not any(c in key for c in "计余页转"):  # every summary word has one
            return None
        word = _SUMMARY_NOISE.sub("", unicodedata.normalize("NFKC", key))
        return (word, _SUMMARIES[word]) if word in _SUMMARIES else None

    def _issue(self, row: int, h: Heading, code: str, message: str, value: object, severity: str = ERROR) -> None:
        self.row_problems[row].append((row, h.position, severity, code, message, h.at(row), value))

    def _column(self, h: Heading, kind: str, rows: list[int], data: list[tuple[int, list]],
                required: bool = False) -> tuple[list, set[int]]:
        """One column converted (columns.convert_column), its issues recorded; the indexes it could not read."""
        values = [v[h.position] if h.position < len(v) else None for _, v in data]
        column = Column(h.name, "", required, kind)
        out, issues = convert_column(values, column, self.units.get(h.position, "元"), self._formats(rows, h.position))
        formulas = {i: self.uncached[(r, h.position + 1)] for i, r in enumerate(rows)
                    if (r, h.position + 1) in self.uncached} if self.uncached else {}
        if formulas:
            issues = [i for i in issues if i.index not in formulas]
            for index, formula in formulas.items():
                out[index] = None
                issues.append(Issue(index, "formula-no-value", no_value_message(h.name, formula)))
        for issue in issues:
            value = formulas.get(issue.index, values[issue.index])
            self._issue(rows[issue.index], h, issue.code, issue.message, value, ERROR if issue.error else WARNING)
        return out, {issue.index for issue in issues if issue.error}

    def _formats(self, rows: list[int], position: int) -> Formats:
        styled, column = self.styled, position + 1
        by_index = {i: self.styles.number_format(styled[(row, column)]) for i, row in enumerate(rows)
                    if (row, column) in styled} if styled else {}
        return Formats(by_index, self.styles.recorded, self.styles.date1904)

    def _texts(self, role: str, rows: list[int], data: list) -> list:
        h = self.layout.roles.get(role)
        return self._column(h, TEXT, rows, data)[0] if h is not None else [None] * len(rows)

    def _convert(self, data: list[tuple[int, list]]) -> None:
        rows = [r for r, _ in data]
        amounts, credit_cells = self._amounts(rows, data)
        dates = self._dates(rows, data)
        vouchers = [_join(w, n) for w, n in zip(self._texts("voucher_word", rows, data),
                                                self._texts("voucher_number", rows, data)
                                                if "voucher_number" in self.layout.roles
                                                else self._texts("voucher", rows, data))]
        memos = self._texts("memo", rows, data)
        items = self._auxiliary(rows, data)
        accounts = self._accounts(rows, data)
        for i, row in enumerate(rows):
            project, state = self._project(row, items[i])
            closing = (amounts[i] is not None and amounts[i] < 0 and credit_cells[i] is not None
                       and _CLOSING.search(memos[i] or "") and "冲" not in (memos[i] or ""))
            values = (project, dates[i], amounts[i], self._first(items[i], "支出类别"),
                      self._first(items[i], "资金来源"), vouchers[i], memos[i], row)
            for name, value in zip(_OUTPUT, values):
                self.records[name].append(value)
            self.states.append("closing" if closing else state)
            self.credit_cells.append(credit_cells[i])
            self.accounts.append(accounts[i])

    @staticmethod
    def _first(items: dict[str, list], kind: str):
        return items[kind][0][0] if items.get(kind) else None

    # ------------------------------------------------------------------ amounts, dates

    def _amounts(self, rows: list[int], data: list) -> tuple[list, list]:
        """Each row's 支出 in fen (None where unreadable), and the 贷方 cell of a row whose amount is a credit."""
        roles, n = self.layout.roles, len(rows)
        debit_h, credit_h = roles.get("debit"), roles.get("credit")
        if debit_h is None and credit_h is None:
            return self._directed(rows, data)
        debits, bad_debits = self._column(debit_h, AMOUNT, rows, data) if debit_h else ([None] * n, set())
        credits, bad_credits = self._column(credit_h, AMOUNT, rows, data) if credit_h else ([None] * n, set())
        self._keep_sums(debit_h, debits)
        self._keep_sums(credit_h, credits)
        amounts, cells = [], []
        for i, row in enumerate(rows):
            debit, credit = debits[i], credits[i]
            if i in bad_debits or i in bad_credits:
                amounts.append(None)
            elif debit is None and credit is None:
                names = "”和“".join(h.name for h in (debit_h, credit_h) if h)
                self._issue(row, debit_h or credit_h, "ledger-amount-blank",
                            f"这一行的“{names}”都是空的，不是一笔支出。请填写借方（支出）或贷方（冲销）金额，或删除这一行。", None)
                amounts.append(None)
            else:
                amounts.append((debit or 0) - (credit or 0))
            cells.append(credit_h.at(row) if credit and not debit else None)
        return amounts, cells

    def _keep_sums(self, h: Heading | None, values: list) -> None:
        if h is None:
            return
        for heading, sums in self.sums:
            if heading is h:
                sums.extend(values)
                return
        self.sums.append((h, list(values)))

    def _directed(self, rows: list[int], data: list) -> tuple[list, list]:
        """One amount column: signed by 方向 / 借或贷 (借 spending, 贷 a reversal), else signed as written; and the
        amount cell of each 贷 row."""
        h, direction = self.layout.roles["amount"], self.layout.roles.get("direction")
        values, _ = self._column(h, AMOUNT, rows, data, required=direction is None)
        if direction is None:
            self._keep_sums(h, values)
            return values, [None] * len(rows)
        signs = self._column(direction, TEXT, rows, data)[0]
        signed = []
        for i, row in enumerate(rows):
            sign = _SIGNS.get(fold(signs[i] or ""))
            if values[i] is not None and sign is None:
                told = f"是“{signs[i]}”，应为“借”或“贷”" if signs[i] else "为空"
                self._issue(row, direction, "ledger-direction-invalid",
                            f"“{direction.name}”{told}，无法判断这笔金额是支出（借）还是冲销（贷）。请填写“借”或“贷”。",
                            signs[i])
            signed.append(values[i] * sign if values[i] is not None and sign is not None else None)
        self._keep_sums(h, signed)
        return signed, [h.at(row) if _SIGNS.get(fold(sign or "")) == -1 else None for row, sign in zip(rows, signs)]

    def _dates(self, rows: list[int], data: list) -> list:
        roles = self.layout.roles
        if "date" in roles:
            return self._column(roles["date"], DATE, rows, data, required=True)[0]
        months = self._numbers(roles["month"], rows, data, 12)
        days = self._numbers(roles["day"], rows, data, 31)
        year, source = self.year
        dates = []
        for row, month, day in zip(rows, months, days):
            try:
                dates.append(dt.date(year, month, day) if month and day else None)
            except ValueError:
                self._issue(row, roles["day"], "ledger-date-invalid",
                            f"{year}年{month}月{day}日不是有效的日期（年份取自{source}）。请核对“月”“日”。", day)
                dates.append(None)
        return dates

    def _numbers(self, h: Heading, rows: list[int], data: list, top: int) -> list:
        """A 月 or 日 column as numbers 1..top; a blank or other value is an issue."""
        texts, bad = self._column(h, TEXT, rows, data)
        numbers = []
        for i, (row, text) in enumerate(zip(rows, texts)):
            match = _DAY_OR_MONTH.match(unicodedata.normalize("NFKC", text).strip()) if text else None
            number = int(match.group(1)) if match else None
            if number is None or not 1 <= number <= top:
                if i not in bad:
                    told = f"应为 1–{top} 的数字，这里是“{text}”。请改正" if text else "为空。每笔支出都要有月和日，请填写"
                    self._issue(row, h, "ledger-date-invalid", f"“{h.name}”{told}。", text)
                number = None
            numbers.append(number)
        return numbers

    # ------------------------------------------------------------------ projects, accounts

    def _auxiliary(self, rows: list[int], data: list) -> list[dict[str, list[tuple[str, str, Heading | None]]]]:
        """Per row, what the project, 支出类别 and 资金来源 columns, the 核算项目 dimensions and the 辅助核算 cells
        say: {项目 / 支出类别 / 资金来源: [(text, cell, heading)]}, in the order they are tried."""
        layout = self.layout
        items: list[dict[str, list]] = [defaultdict(list) for _ in rows]

        def add(kind: str, texts: list, h: Heading) -> None:
            for i, text in enumerate(texts):
                if text:
                    items[i][kind].append((str(text), h.at(rows[i]), h))

        for h in layout.projects:
            add("项目", self._column(h, TEXT, rows, data)[0], h)
        for role, kind in (("category", "支出类别"), ("source", "资金来源")):
            if role in layout.roles:
                add(kind, self._texts(role, rows, data), layout.roles[role])
        for kind_h, *value_hs in layout.dims.values():
            kinds = self._column(kind_h, TEXT, rows, data)[0]
            values = [(h, self._column(h, TEXT, rows, data)[0]) for h in value_hs]
            for i, kind in enumerate(kinds):
                dimension = _dimension(kind) if kind else None
                for h, texts in values if dimension else ():
                    if texts[i]:
                        items[i][dimension].append((str(texts[i]), h.at(rows[i]), h))
                if kind and not value_hs:
                    for found, value in auxiliary_items(str(kind)).items():
                        items[i][found].append((value, kind_h.at(rows[i]), kind_h))
        for h in layout.aux:
            for i, text in enumerate(self._column(h, TEXT, rows, data)[0]):
                for kind, value in auxiliary_items(str(text)).items() if text else ():
                    items[i][kind].append((value, h.at(rows[i]), h))
        if layout.title_project:
            text, cell = layout.title_project
            for found in items:
                found["项目"].append((text, cell, None))
        return items

    def _project(self, row: int, items: dict[str, list]) -> tuple[str | None, str]:
        """The 项目编号 a row belongs to and its state: "" (matched), "no-project", "unknown"."""
        candidates = items.get("项目", [])
        if not candidates:
            return None, "no-project"
        if not self.projects.known:
            return candidates[0][0].strip(), ""
        for text, cell, h in candidates:
            found = self.matched.get(text)
            if found is None:
                found = self.matched[text] = self.projects.match(text)
            if len(found) == 1:
                return next(iter(found)), ""
            if found:
                self._project_problem(row, "ledger-project-ambiguous", cell, text, (
                    f"“{text}”是“项目”表中 {len(found)} 个项目共用的名称（项目编号 {'、'.join(sorted(found))}），"
                    "无法判断这笔支出属于哪一个。请改填项目编号。"))
                return None, "unknown"
        text, cell, h = candidates[0]
        nearest = "、".join(f"“{n}”" for n in self.projects.nearest(text))
        where = f"“{h.name}”中的" if h is not None else "标题行中的"
        self._project_problem(row, "ledger-project-unknown", cell, text, (
            f"{where}项目“{text}”在“项目”表中找不到（与各项目的项目编号、项目名称都对不上）。最接近的项目：{nearest}。"
            "请改为“项目”表中的项目名称或项目编号（全角半角、前后空格不计），或在“项目”表中添加这个项目；"
            "如果这笔支出不属于本次评价的项目，请删除这一行。"))
        return None, "unknown"

    def _project_problem(self, row: int, code: str, cell: str, value: str, message: str) -> None:
        self.row_problems[row].append((row, -1, ERROR, code, message, cell, value))

    def _accounts(self, rows: list[int], data: list) -> list[tuple[str, str, str]]:
        """Per row: the account as written ("7201 事业支出"), its class (支出, 费用, 其他) and its cell."""
        roles = self.layout.roles
        if not self.layout.has_accounts:
            text = self.layout.title_account[0] if self.layout.title_account else ""
            return [(text, _SPENDING, "")] * len(rows)
        codes, names, whole = (self._texts(r, rows, data) for r in ("account_code", "account_name", "account"))
        h = roles.get("account_code") or roles.get("account") or roles.get("account_name")
        found = []
        for i, row in enumerate(rows):
            code, name = (str(codes[i] or "").strip(), str(names[i] or "").strip())
            if whole[i]:
                split_code, split_name = _split_account(str(whole[i]))
                code, name = code or split_code, name or split_name
            text = " ".join(part for part in (code, name) if part)
            cls = self.classes.get((code, name))
            if cls is None:
                cls = self.classes[(code, name)] = _account_class(code, name) if text else _OTHER
            found.append((text, cls, h.at(row)))
        return found

    # ------------------------------------------------------------------ summary rows

    def _check_summary(self, row: int, kind: tuple[str, int], values: list, before: int) -> None:
        """A summary row against the data rows it covers (module docstring); `before` data rows precede it."""
        word, level = kind
        self.summary_counts[word] += 1
        if level == _BALANCE:
            if word in _OPENING:
                self.starts = dict.fromkeys(self.starts, before)
            return
        start = self.starts[level]
        rows = self.records[ROW]
        for h, sums in self.sums:
            value = values[h.position] if h.position < len(values) else None
            formula = self.uncached.get((row, h.position + 1)) if self.uncached else None
            if formula is not None:
                self.found.append((row, h.position, WARNING, "formula-no-value", (
                    f"“{word}”行的公式 {formula or '（共享公式）'} 没有保存计算结果，无法核对这一行（汇总行不计入支出，"
                    "不影响报告）。请在 Excel 或 WPS 中打开并保存一次工作簿，再重新运行。"), h.at(row), formula))
                continue
            stated = self._stated(value, h, values)
            if stated is None:
                continue
            computed = sum(v for v in sums[start:before] if isinstance(v, int))
            if stated != computed:
                unit = self.units[h.position]
                span = ("上方没有明细行" if before == start else f"第{rows[start]}行" if before == start + 1
                        else f"第{rows[start]}–{rows[before - 1]}行")
                self.found.append((row, h.position, WARNING, "total-mismatch", (
                    f"“{word}”行的“{h.name}”为 {show_amount(stated, unit)}，但它汇总的明细行（{span}）的“{h.name}”相加为 "
                    f"{show_amount(computed, unit)}。汇总行不计入支出，报告按明细行计算；请核对这一行或明细，使二者一致。"),
                    h.at(row), value))
        for lower in _CHECKED_LEVELS:
            if lower <= level:
                self.starts[lower] = before

    def _stated(self, value, h: Heading, values: list) -> int | None:
        """A summary row's amount in fen; None when blank or unreadable (a summary row is only not checked). In a
        one-amount ledger a summary's 贷 direction makes it a net credit."""
        if money.is_blank(value):
            return None
        try:
            stated = money.parse_amount(value, self.units[h.position])
        except money.ValueProblem:
            return None
        direction = self.layout.roles.get("direction")
        if h is self.layout.roles.get("amount") and direction is not None and direction.position < len(values):
            stated *= -1 if _SIGNS.get(fold(values[direction.position] or "")) == -1 else 1
        return stated

    # ------------------------------------------------------------------ the table

    def _finish(self) -> Table | None:
        classes = Counter(cls for _, cls, _ in self.accounts)
        keep = _SPENDING if classes[_SPENDING] else _EXPENSE if classes[_EXPENSE] else None
        if self.accounts and keep is None:
            shown = "、".join(dict.fromkeys(text or "（空）" for text, _, _ in self.accounts))
            self.problems.error(
                "ledger-account-none",
                f"“{self.title}”表的科目中没有支出科目（表中的科目有：{_clip(shown)}），无法得知哪些是项目支出。请导出支出"
                "科目（如 7101 行政支出、7201 事业支出）的明细账或序时账粘贴到这里。", sheet=self.title)
            return None
        kept = [i for i, (_, cls, _) in enumerate(self.accounts) if cls == keep]
        dropped = [i for i, (_, cls, _) in enumerate(self.accounts) if cls != keep]
        closing = [i for i in kept if self.states[i] == "closing"]
        orphans = [i for i in kept if self.states[i] == "no-project"]
        payments = [i for i in kept if self.states[i] in ("", "unknown")]
        rows = self.records[ROW]
        found = self.found + [p for i in payments for p in self.row_problems.get(rows[i], ())]
        for row, _, severity, code, message, cell, value in sorted(found, key=lambda f: (f[0], f[1])):
            self.problems.add(code, severity, message, sheet=self.title, cell=cell, value=value)
        self._warn_dropped(dropped, keep)
        self._warn_rows(closing, "ledger-closing-skipped", "以下贷方行的摘要是结转或结账，是年末把支出科目结转到结转结余"
                        "（或本期盈余）的分录，不是冲销，未计入支出：", "如果其中有冲销，请把摘要改为写明冲销的内容。", None)
        self._warn_rows(orphans, "ledger-project-none", "以下行没有项目（项目列和辅助核算中都没有项目），不属于任何项目，"
                        "未计入支出：", "如果它们属于某个项目，请填写项目名称或项目编号。", self._project_heading())
        columns = {name: [self.records[name][i] for i in payments] for name in _OUTPUT}
        self._log(len(payments), len(dropped), keep)
        return LedgerTable(DISBURSEMENTS, self.title, columns, self._letters(), self._units_out(),
                           amount_cells={rows[i]: self.credit_cells[i] for i in payments if self.credit_cells[i]})

    def _warn_dropped(self, dropped: list[int], keep: str) -> None:
        by_account: dict[str, list[int]] = defaultdict(list)
        for i in dropped:
            by_account[self.accounts[i][0]].append(i)
        kept = "支出科目（7 开头，如 7101 行政支出、7201 事业支出）" if keep == _SPENDING else \
            "费用科目（5 开头，如 5001 业务活动费用），表中没有支出科目"
        for account, indexes in by_account.items():
            cells = [self.accounts[i][2] for i in indexes]
            self.problems.warning(
                "ledger-account-dropped",
                f"科目“{account or '（空）'}”的 {len(cells)} 行不是支出，未计入：{_cells(cells)}。本表只计入{kept}的行。"
                "如果这不对，请只粘贴支出科目的明细账。", sheet=self.title, cell=cells[0], value=account)

    def _warn_rows(self, indexes: list[int], code: str, text: str, advice: str, heading: Heading | None) -> None:
        """One warning listing rows left out, each at `heading`'s cell (its 贷方 cell when None) with its amount."""
        if not indexes:
            return
        rows, amounts = self.records[ROW], self.records["金额"]
        cells = [heading.at(rows[i]) if heading else self.credit_cells[i] for i in indexes]
        listed = [f"{cell}（{show_amount(abs(amounts[i]), self._units_out()['金额'])}）" if isinstance(amounts[i], int)
                  else cell for cell, i in zip(cells, indexes)]
        self.problems.warning(code, f"{text}{_cells(listed)}。{advice}", sheet=self.title, cell=cells[0],
                              value=self.records["摘要"][indexes[0]])

    def _project_heading(self) -> Heading | None:
        layout = self.layout
        return next(iter(layout.projects + [hs[min(1, len(hs) - 1)] for hs in layout.dims.values()] + layout.aux),
                    None)

    def _letters(self) -> dict[str, str]:
        roles = self.layout.roles
        where = {"项目编号": self._project_heading(), "支付日期": roles.get("date") or roles.get("month"),
                 "金额": roles.get("debit") or roles.get("amount") or roles.get("credit"),
                 "支出类别": roles.get("category"), "资金来源": roles.get("source"),
                 "凭证号": roles.get("voucher_number") or roles.get("voucher"), "摘要": roles.get("memo")}
        return {name: h.letter for name, h in where.items() if h is not None}

    def _units_out(self) -> dict[str, str]:
        h = self.layout.roles.get("debit") or self.layout.roles.get("amount") or self.layout.roles.get("credit")
        return {"金额": self.units[h.position]}

    def _log(self, payments: int, dropped: int, keep: str | None) -> None:
        roles, layout = self.layout.roles, self.layout
        parts = []
        if "debit" in roles or "credit" in roles:
            parts.append("金额 = " + " − ".join(f"{h.name}（{h.letter}列）" for h in (roles.get("debit"),
                                                                                  roles.get("credit")) if h))
        else:
            direction = roles.get("direction")
            parts.append(f"金额 = {roles['amount'].name}（{roles['amount'].letter}列）" +
                         (f"，{direction.name}（{direction.letter}列）为贷的是冲销" if direction else ""))
        if "date" in roles:
            parts.append(f"日期取自“{roles['date'].name}”（{roles['date'].letter}列）")
        else:
            parts.append(f"日期 = 月（{roles['month'].letter}列）、日（{roles['day'].letter}列），年份取自{self.year[1]}")
        voucher = [roles[r] for r in ("voucher_word", "voucher_number") if r in roles] or \
            [roles[r] for r in ("voucher",) if r in roles]
        if voucher:
            parts.append("凭证号 = " + " + ".join(f"{h.name}（{h.letter}列）" for h in voucher))
        sources = [f"“{h.name}”（{h.letter}列）" for h in layout.projects + layout.aux]
        if layout.dims:
            numbers = sorted(layout.dims, key=int)
            span = numbers[0] if len(numbers) == 1 else f"{numbers[0]}–{numbers[-1]}"
            sources.append(f"核算项目{span}（类型为“项目”的一项）")
        sources += [f"标题行“项目：{layout.title_project[0]}”"] if layout.title_project else []
        parts.append(f"项目取自{'、'.join(sources)}，按项目编号或项目名称对应“项目”表")
        if keep and layout.has_accounts:
            parts.append(f"只计入{keep}科目的行（另有 {dropped} 行其他科目未计入，见警告）" if dropped
                         else f"科目均为{keep}科目")
        skipped = "、".join(f"{word} {n} 行" for word, n in self.summary_counts.items())
        logger.info("“{}”表按财务软件导出的明细账读取（表头第{}行）：{}。读入 {} 笔支出{}。", self.title,
                    f"{layout.first_row}–{layout.last_row}" if layout.last_row > layout.first_row else layout.first_row,
                    "；".join(parts), payments, f"；跳过汇总行：{skipped}，合计与累计已与明细核对" if skipped else "")


def _cells(cells: list[str], limit: int = 10) -> str:
    more = f" 等，共 {len(cells)} 行" if len(cells) > limit else ""
    return "、".join(cells[:limit]) + more


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
