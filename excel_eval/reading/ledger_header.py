"""What the header of a 支出明细 pasted from finance software says: which column holds what.

A ledger's header is found in the first 10 rows, on one row or over two: a group row (often merged cells) above
sub-headers, e.g. "2021年" over 月 | 日, 凭证 over 字 | 号, 发生额 over 借方 | 贷方; a cell of the group row without
sub-headers below it (摘要 merged over both rows) is a header by itself. A blank group cell with sub-headers
below takes the group to its left (a two-row header typed without merging). Title lines above the header may
name the account ("科目：7201 事业支出") or the project ("项目：…"). The rules the reader applies to the columns
found are in ledger.py.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field


from .. import money
from ..schema import DISBURSEMENTS, normalize_name
from .raw import column_letter
from .sheets import header_name

_DASHES = re.compile(r"[‐‑‒–—―−－~～_]+")


def fold(value: object) -> str:
    """Folded for matching: NFKC, no spaces, lower case, every dash a '-'."""
    return _DASHES.sub("-", normalize_name(value))


def header_key(value: object) -> str:
    """A header's folded name without its unit: 借方金额（元） → 借方金额."""
    return fold(header_name(value)).rstrip(":：")


ROLE_NAMES = {
    "debit": ("借方", "借方金额", "借方发生额", "本币借方", "借方本币"),
    "credit": ("贷方", "贷方金额", "贷方发生额", "本币贷方", "贷方本币"),
    "amount": ("金额", "发生额", "本币金额", "支付金额", "实付金额"),
    "direction": ("方向", "借贷方向", "借或贷", "借/贷", "借贷"),
    "balance": ("余额", "期末余额"),
    "date": ("日期", "支付日期", "凭证日期", "记账日期", "业务日期", "制单日期"),
    "month": ("月",),
    "day": ("日",),
    "voucher": ("凭证号", "凭证字号", "凭证编号", "凭证", "支付凭证号"),
    "voucher_word": ("字", "凭证字"),
    "voucher_number": ("号",),
    "memo": ("摘要", "用途", "资金用途"),
    "account": ("科目", "会计科目", "总账科目", "科目全称"),
    "account_code": ("科目编码", "科目代码", "科目编号"),
    "account_name": ("科目名称",),
    "category": ("支出类别", "经济分类", "支出经济分类", "政府支出经济分类", "部门支出经济分类", "政府经济分类",
                 "部门经济分类", "经济科目"),
    "source": ("资金来源", "资金性质", "经费来源"),
}
_ROLE_OF = {fold(name): role for role, names in ROLE_NAMES.items() for name in names}
_UNDER_VOUCHER = {"字": "voucher_word", "种类": "voucher_word", "类别": "voucher_word", "凭证字": "voucher_word",
                  "号": "voucher_number", "号数": "voucher_number", "编号": "voucher_number",
                  "凭证号": "voucher_number"}
_PROJECT_CODES = ("项目编号", "项目代码", "项目编码", "项目-编号", "项目-代码", "项目-编码")
_PROJECT_KEYS = tuple(fold(n) for n in _PROJECT_CODES + ("项目", "项目名称", "项目-名称", "预算项目", "预算项目名称"))
_AUX_KEYS = tuple(fold(n) for n in ("辅助核算", "辅助核算项", "辅助核算项目", "辅助项", "辅助账", "辅助信息", "核算项目"))
_DIM_TYPE = re.compile(r"^(?:核算项目|辅助核算|辅助项|辅助账)(?:类型|类别)?(\d+)$")
_DIM_VALUE = re.compile(r"^(?:核算项目|辅助核算|辅助项|辅助账)?(?:名称|编码|代码|编号|值|内容)(\d+)$")
_SUB_HEADERS = {fold(n) for n in ("月", "日", "字", "号", "种类", "号数", "编号", "借方", "贷方", "借方金额",
                                   "贷方金额", "金额", "方向", "余额", "名称", "编码", "代码")}
# The columns whose presence says "ledger": the standard layout has none of them.
_MARKERS = ("debit", "credit", "direction", "balance", "account", "account_code", "account_name", "month",
            "voucher_word")
# Headers of the 预算管理一体化 system's payment list (支付明细), which the standard layout has not either.
_PAYMENT_LIST = {fold(n) for n in ("支付金额", "实付金额", "预算项目", "预算项目名称", "支付凭证号")}
YEAR = re.compile(r"^(\d{4})年度?$")
_GROUPS = {fold(n) for n in ("凭证", "发生额", "本期发生额", "金额")}
_TITLE_LINE = re.compile(r"^(?:会计)?(科目|项目)(?:名称)?[:：]\s*(.+?)\s*(?:\s{2,}.*)?$")


@dataclass(frozen=True)
class Heading:
    """One column of the ledger's header."""

    position: int  # 0-based column
    text: str  # as written
    key: str  # folded, without unit
    cell: str  # where the text is, e.g. "E4"
    group: str = ""  # the group label above it, as written ("2021年", "凭证"); "" if none
    group_cell: str = ""

    @property
    def name(self) -> str:
        """The header's name for messages: 借方金额（元） → 借方金额."""
        return header_name(self.text).strip() or self.text

    @property
    def letter(self) -> str:
        return column_letter(self.position + 1)

    def at(self, row: int) -> str:
        return f"{self.letter}{row}"


@dataclass
class Layout:
    """What each column of a ledger's header holds."""

    first_row: int  # Excel rows of the header
    last_row: int
    roles: dict[str, Heading] = field(default_factory=dict)
    projects: list[Heading] = field(default_factory=list)  # project columns, 项目编号-like first
    aux: list[Heading] = field(default_factory=list)  # 辅助核算 cells
    dims: dict[str, list[Heading]] = field(default_factory=dict)  # N -> [核算项目N, 名称N, 编码N …]
    title_account: tuple[str, str] | None = None  # ("7201 事业支出", cell) from a "科目：" line above
    title_project: tuple[str, str] | None = None  # from a "项目：" line above
    duplicates: list[tuple[Heading, Heading]] = field(default_factory=list)  # (read, ignored)

    @property
    def is_ledger(self) -> bool:
        return (any(r in self.roles for r in _MARKERS) or bool(self.aux or self.dims)
                or any(h.key in _PAYMENT_LIST for h in self.headings()))

    @property
    def has_amount(self) -> bool:
        return any(r in self.roles for r in ("debit", "credit", "amount"))

    @property
    def has_date(self) -> bool:
        return "date" in self.roles or ("month" in self.roles and "day" in self.roles)

    @property
    def has_project(self) -> bool:
        return bool(self.projects or self.aux or self.dims or self.title_project)

    @property
    def score(self) -> tuple:
        return (self.has_amount + self.has_date + self.has_project, len(self.roles) + len(self.projects))

    @property
    def has_accounts(self) -> bool:
        return any(r in self.roles for r in ("account", "account_code", "account_name"))

    def headings(self) -> list[Heading]:
        listed = list(self.roles.values()) + self.projects + self.aux + [h for hs in self.dims.values() for h in hs]
        return sorted(set(listed), key=lambda h: h.position)


def present(value: object) -> bool:
    return value is not None and not money.is_blank(value)


def _at(head: list[list], r: int, p: int):
    return head[r][p] if 0 <= r < len(head) and p < len(head[r]) else None


def _merge_top(merged: list[tuple[int, int, int, int]], r: int, p: int) -> tuple[int, int] | None:
    """The top-left (row, position), 0-based, of the merged range covering row r, position p."""
    for min_col, min_row, max_col, max_row in merged:
        if min_row - 1 <= r <= max_row - 1 and min_col - 1 <= p <= max_col - 1:
            return min_row - 1, min_col - 1
    return None


def _label(head: list[list], r: int, p: int, merged, below: int | None = None) -> tuple[str, str]:
    """The text shown at row r, position p (a merged cell's text on every cell it covers) and its cell. With
    `below` (the sub-header row), a blank group cell takes the group to its left when both have sub-headers."""
    value = _at(head, r, p)
    if not present(value):
        top = _merge_top(merged, r, p)
        if top is not None:
            r, p = top
            value = _at(head, r, p)
        elif below is not None:
            q = p - 1
            while q >= 0 and not present(_at(head, r, q)) and present(_at(head, below, q)):
                q -= 1
            if q >= 0 and present(_at(head, below, q)):
                value, p = _at(head, r, q), q
    if not present(value):
        return "", ""
    return str(value).strip(), f"{column_letter(p + 1)}{r + 1}"


def _is_group_row(values: list) -> bool:
    """A row that can stand above sub-headers: it holds a header or a group label (凭证, 发生额, 2021年), not
    only a title."""
    keys = [header_key(v) for v in values if isinstance(v, str) and v.strip()]
    return any(k in _ROLE_OF or k in _PROJECT_KEYS or k in _AUX_KEYS or k in _GROUPS or YEAR.match(k) for k in keys)


def _is_sub_header(values: list) -> bool:
    cells = [v for v in values if present(v)]
    return bool(cells) and all(isinstance(v, str) for v in cells) and any(
        header_key(v) in _SUB_HEADERS or _DIM_VALUE.match(header_key(v)) for v in cells)


def _headings(head: list[list], top: int, depth: int, merged) -> list[Heading]:
    sub = top + depth - 1
    width = max(len(head[top]), len(head[sub]))
    found = []
    for p in range(width):
        below = _at(head, sub, p) if depth == 2 else None
        if present(below):
            group, group_cell = _label(head, top, p, merged, below=sub)
            found.append(Heading(p, str(below).strip(), header_key(below), f"{column_letter(p + 1)}{sub + 1}",
                                  group, group_cell))
            continue
        text, cell = _label(head, top, p, merged)
        if text:
            group, group_cell = _label(head, top - 1, p, merged) if top > 0 else ("", "")
            found.append(Heading(p, text, header_key(text), cell, group, group_cell))
    return found


def _layout(headings: list[Heading], first_row: int, last_row: int) -> Layout:
    layout = Layout(first_row, last_row)
    for h in headings:
        role = _UNDER_VOUCHER.get(h.key) if fold(h.group) == "凭证" else None
        role = role or _ROLE_OF.get(h.key)
        dim = _DIM_TYPE.match(h.key) or _DIM_VALUE.match(h.key)
        if role and role in layout.roles:
            layout.duplicates.append((layout.roles[role], h))
        elif role:
            layout.roles[role] = h
        elif h.key in _PROJECT_KEYS:
            layout.projects.append(h)
        elif h.key in _AUX_KEYS:
            layout.aux.append(h)
        elif dim:
            layout.dims.setdefault(dim.group(1), []).append(h)
    codes = {fold(n) for n in _PROJECT_CODES}
    layout.projects.sort(key=lambda h: h.key not in codes)
    for headings_of in layout.dims.values():
        headings_of.sort(key=lambda h: (not _DIM_TYPE.match(h.key), "名称" not in h.key))
    return layout


def _title_lines(layout: Layout, head: list[list]) -> None:
    """A "科目：7201 事业支出" or "项目：…" line above the header."""
    for r in range(layout.first_row - 1):
        for p, value in enumerate(head[r]):
            match = _TITLE_LINE.match(unicodedata.normalize("NFKC", value).strip()) if isinstance(value, str) else None
            if match:
                kind = "title_account" if match.group(1) == "科目" else "title_project"
                if getattr(layout, kind) is None:
                    setattr(layout, kind, (match.group(2).strip(), f"{column_letter(p + 1)}{r + 1}"))


def find_layout(head: list[list], merged: list[tuple[int, int, int, int]]) -> Layout | None:
    """The ledger layout of a sheet whose first rows are `head`, or None when it is not a ledger export. The first
    header (one row, or two with the second made of sub-headers) giving an amount, a date and a project; else the
    most complete one, whose gaps the reader reports."""
    best: Layout | None = None
    for top in range(len(head)):
        for depth in (2, 1):
            if depth == 2 and not (top + 1 < len(head) and _is_group_row(head[top])
                                   and _is_sub_header(head[top + 1])):
                continue
            layout = _layout(_headings(head, top, depth, merged), top + 1, top + depth)
            if not layout.is_ledger:
                continue
            _title_lines(layout, head)
            if layout.has_amount and layout.has_date and layout.has_project:
                return layout
            if best is None or layout.score > best.score:
                best = layout
    return best


def is_standard(head: list[list]) -> bool:
    """A row of `head` holds every required header of the standard 支出明细."""
    wanted = [{normalize_name(c.name), normalize_name(c.alias)} for c in DISBURSEMENTS.required_columns]
    for values in head:
        keys = {normalize_name(header_name(v)) for v in values if present(v)}
        if all(keys & names for names in wanted):
            return True
    return False
