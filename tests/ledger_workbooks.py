"""The sample workbook with its 支出明细 written as finance software exports it, for tests.

Every layout holds the sample's 65 payments; the other sheets are copied from the sample as they are. Written
with XlsxWriter (shared strings, number formats, formulas with cached values, as Excel stores them), the
three-column ledger also with openpyxl. Sums in the summary rows are worked out here with Decimal from the
sample's payments, not by the reader.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import xlsxwriter
from xlsxwriter.utility import xl_cell_to_rowcol

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_workbooks" / "仁和区信访局2021年度项目支出绩效自评.xlsx"
OTHER_SHEETS = ("项目", "预算", "文字说明", "绩效指标")
ACCOUNT = "7101 行政支出"

# The payment written as a debit and a later credit that nets to it (a 差旅费 over-claim paid back).
SPLIT_VOUCHER = "记-03-008"
SPLIT_BACK = Decimal("2000.00")
REVERSAL = ("记-03-018", dt.date(2021, 3, 30), "冲销记-03-008多报销的差旅费（退回）")


@dataclass(frozen=True)
class Entry:
    """One ledger line: a payment (debit) or a reversal (credit)."""

    project_id: str
    project: str  # 项目名称
    date: dt.date
    voucher: str  # 记-01-005
    memo: str
    category: str
    source: str
    debit: Decimal = Decimal(0)
    credit: Decimal = Decimal(0)

    @property
    def word(self) -> str:
        return self.voucher.split("-", 1)[0]

    @property
    def number(self) -> str:
        return self.voucher.split("-", 1)[1]


def sample_rows() -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(SAMPLE)
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def sample_entries(split: bool = False) -> list[Entry]:
    """The sample's payments as debits in date order; with `split`, one is a larger debit and a credit."""
    rows = sample_rows()
    names = {r[0]: r[1] for r in rows["项目"][1:]}
    header = rows["支出明细"][0]
    entries = []
    for values in rows["支出明细"][1:]:
        r = dict(zip(header, values))
        entries.append(Entry(r["项目编号"], names[r["项目编号"]], r["支付日期"].date(), r["凭证号"], r["摘要"],
                             r["支出类别"], r["资金来源"], debit=Decimal(str(r["金额（元）"]))))
    if split:
        index = next(i for i, e in enumerate(entries) if e.voucher == SPLIT_VOUCHER)
        paid = entries[index]
        voucher, date, memo = REVERSAL
        entries[index] = replace(paid, debit=paid.debit + SPLIT_BACK)
        entries.append(replace(paid, voucher=voucher, date=date, memo=memo, debit=Decimal(0), credit=SPLIT_BACK))
    return sorted(entries, key=lambda e: (e.date, e.voucher))


def by_month(entries: list[Entry]) -> list[tuple[int, list[Entry]]]:
    months: dict[int, list[Entry]] = {}
    for e in entries:
        months.setdefault(e.date.month, []).append(e)
    return sorted(months.items())


def money(value: Decimal) -> float | None:
    return float(value) if value else None


# --------------------------------------------------------------------------------------------- writing


class Sheet:
    """An XlsxWriter worksheet written row by row, with the formats Excel gives ledgers."""

    def __init__(self, book: xlsxwriter.Workbook, name: str):
        self.ws = book.add_worksheet(name)
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.amount = book.add_format({"num_format": "#,##0.00"})
        self.center = book.add_format({"align": "center", "valign": "vcenter", "bold": True})
        self.row = 0  # 0-based: the next row to write

    def write(self, values: list, amounts: tuple[int, ...] = ()) -> int:
        """Write a row; returns its Excel row number. A value (formula, cached) pair is a formula."""
        for c, value in enumerate(values):
            fmt = self.amount if c in amounts else None
            if isinstance(value, tuple):
                self.ws.write_formula(self.row, c, value[0], fmt, value[1])
            elif isinstance(value, dt.date):
                self.ws.write_datetime(self.row, c, dt.datetime.combine(value, dt.time()), self.date)
            elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                self.ws.write_number(self.row, c, float(value), fmt)
            elif value is not None:
                self.ws.write_string(self.row, c, str(value))
        self.row += 1
        return self.row

    def merge(self, cells: str, text: str) -> None:
        self.ws.merge_range(cells, text, self.center)


def write_sheets(path: Path, sheets: dict[str, list[list]], merges: dict[str, list[str]] | None = None) -> Path:
    """`sheets` (name -> rows) written by XlsxWriter; `merges` lists merged ranges (e.g. "A3:B3") per sheet, each
    showing the text its top-left cell has in `sheets`."""
    book = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        sheet = Sheet(book, name)
        for values in rows:
            sheet.write(values)
        for cells in (merges or {}).get(name, ()):
            row, column = xl_cell_to_rowcol(cells.split(":")[0])
            sheet.merge(cells, rows[row][column])
    book.close()
    return path


def write_book(path: Path, disbursements) -> Path:
    """The sample's sheets, with 支出明细 written by `disbursements(book, Sheet)`."""
    rows = sample_rows()
    book = xlsxwriter.Workbook(str(path))
    for name in rows:
        sheet = Sheet(book, name)
        if name == "支出明细":
            disbursements(sheet)
            continue
        for values in rows[name]:
            sheet.write([v.date() if isinstance(v, dt.datetime) else v for v in values])
    book.close()
    return path


def standard(sheet: Sheet) -> None:
    """The sample's own 支出明细, written the same way (the control)."""
    for values in sample_rows()["支出明细"]:
        sheet.write([v.date() if isinstance(v, dt.datetime) else v for v in values], amounts=(3,))


def _sum(column: str, first: int, last: int, value: Decimal) -> tuple[str, float]:
    return (f"=SUM({column}{first}:{column}{last})", float(value))


def three_column(sheet: Sheet) -> None:
    """三栏式明细账 of 7101 行政支出: two-row merged header with 2021年 over 月 | 日 and 凭证 over 字 | 号; 期初余额,
    本月合计 and 本年累计 each month (SUM formulas with cached values), 过次页/承前页 after June, a year-end 结转 credit,
    结转下年; the project by name in 项目名称; one payment split into a debit and a later credit."""
    sheet.merge("A1:J1", "明细账")
    sheet.row = 1
    sheet.write(["科目：" + ACCOUNT, None, None, None, None, None, None, None, "单位：元"])
    sheet.row = 4
    sheet.merge("A3:B3", "2021年")
    sheet.merge("C3:D3", "凭证")
    for column, text in zip("EFGHIJ", ("摘要", "借方", "贷方", "借或贷", "余额", "项目名称")):
        sheet.merge(f"{column}3:{column}4", text)
    sheet.ws.write_row(3, 0, ["月", "日", "字", "号"])
    balance, year_debit, year_credit = Decimal(0), Decimal(0), Decimal(0)
    last = sheet.write([1, 1, None, None, "期初余额", None, None, "平", 0], amounts=(8,))
    entries = sample_entries(split=True)
    total = sum(e.debit - e.credit for e in entries)
    closing = Entry("", "", dt.date(2021, 12, 31), "记-12-020", "年末结转本年行政支出", "", "", credit=total)
    for month, lines in by_month(entries + [closing]):
        first = sheet.row + 1
        for e in lines:
            balance += e.debit - e.credit
            running = (f"=I{last}+F{sheet.row + 1}-G{sheet.row + 1}", float(balance))
            last = sheet.write([e.date.month, e.date.day, e.word, e.number, e.memo, money(e.debit), money(e.credit),
                                "借" if balance else "平", running, e.project or None], amounts=(5, 6, 8))
        debit, credit = sum(e.debit for e in lines), sum(e.credit for e in lines)
        year_debit, year_credit = year_debit + debit, year_credit + credit
        sheet.write([month, lines[-1].date.day, None, None, "本月合计", _sum("F", first, last, debit),
                     _sum("G", first, last, credit), "借" if balance else "平", float(balance)], amounts=(5, 6, 8))
        sheet.write([month, lines[-1].date.day, None, None, "本年累计", float(year_debit), float(year_credit),
                     "借" if balance else "平", float(balance)], amounts=(5, 6, 8))
        if month == 6:
            carried = [None, None, None, None, None, float(year_debit), float(year_credit), "借", float(balance)]
            carried[4] = "过次页"
            sheet.write(carried, amounts=(5, 6, 8))
            carried[4] = "承前页"
            sheet.write(carried, amounts=(5, 6, 8))
        last = sheet.row
    sheet.write([12, 31, None, None, "结转下年", None, None, "平", 0], amounts=(8,))


def yonyou(sheet: Sheet) -> None:
    """用友 GRP-U8 明细账: 科目 ("7101 行政支出") | 日期 | 凭证号 | 摘要 | 借方 | 贷方 | 余额 | 辅助核算 ("部门：…；项目：…；
    经济分类：…；资金来源：…"); rows 期初余额, 本月合计 and 本年累计 each month, 合计 at the end."""
    sheet.merge("A1:H1", "行政支出明细账")
    sheet.row = 1
    sheet.write(["科目：7101 行政支出    期间：2021.01—2021.12"])
    sheet.write(["科目", "日期", "凭证号", "摘要", "借方", "贷方", "余额", "辅助核算"])
    sheet.write([ACCOUNT, dt.date(2021, 1, 1), None, "期初余额", None, None, 0], amounts=(6,))
    balance, year = Decimal(0), Decimal(0)
    for month, lines in by_month(sample_entries()):
        for e in lines:
            balance += e.debit
            aux = f"部门：办公室；项目：{e.project}；经济分类：{e.category}；资金来源：{e.source}"
            sheet.write([ACCOUNT, e.date, e.voucher, e.memo, money(e.debit), None, float(balance), aux],
                        amounts=(4, 5, 6))
        debit = sum(e.debit for e in lines)
        year += debit
        sheet.write([ACCOUNT, None, None, "本月合计", float(debit), 0, float(balance)], amounts=(4, 5, 6))
        sheet.write([ACCOUNT, None, None, "本年累计", float(year), 0, float(balance)], amounts=(4, 5, 6))
    sheet.write([None, None, None, "合计", float(year), 0, float(balance)], amounts=(4, 5, 6))


def kingdee(sheet: Sheet) -> None:
    """金蝶 EAS 凭证分录: 日期 | 凭证字号 | 摘要 | 科目 | 科目名称 | 方向 | 借方金额 | 贷方金额 | 核算项目1/名称1 …
    核算项目8/名称8 (部门, 项目 by name, 支出经济分类, 资金来源); each voucher's other line (8101 资金结存) is there too."""
    header = ["日期", "凭证字号", "摘要", "科目", "科目名称", "方向", "借方金额", "贷方金额"]
    header += [h for n in range(1, 9) for h in (f"核算项目{n}", f"名称{n}")]
    sheet.write(header)
    for e in sample_entries():
        dims = ["部门", "办公室", "项目", e.project, "支出经济分类", e.category, "资金来源", e.source]
        sheet.write([e.date, e.voucher, e.memo, "7101", "行政支出", "借", money(e.debit), None] + dims, amounts=(6, 7))
        sheet.write([e.date, e.voucher, e.memo, "8101", "资金结存", "贷", None, money(e.debit)], amounts=(6, 7))


def nc_journal(sheet: Sheet) -> None:
    """用友 NC 序时账 (journal) of 政府会计制度 parallel entries: 5001 业务活动费用 / 1011 零余额账户用款额度 and
    7101 行政支出 / 8101 资金结存 for each payment; 日期 as text; the project in 项目－名称."""
    sheet.write(["序时账"])
    sheet.write(["核算账簿：攀枝花市仁和区信访局-基本账簿", None, None, None, None, None, None, "币种：人民币"])
    sheet.write(["日期", "凭证号", "摘要", "科目代码", "科目名称", "借方金额", "贷方金额", "项目－名称", "部门－名称"])
    for e in sample_entries():
        day = e.date.isoformat()
        for code, name, debit, credit, project in (("5001", "业务活动费用", e.debit, None, e.project),
                                                   ("1011", "零余额账户用款额度", None, e.debit, None),
                                                   ("7101", "行政支出", e.debit, None, e.project),
                                                   ("8101", "资金结存", None, e.debit, None)):
            sheet.write([day, e.voucher, e.memo, code, name, money(debit or 0), money(credit or 0), project,
                         "办公室" if project else None], amounts=(5, 6))


def three_column_openpyxl(path: Path) -> Path:
    """The three-column ledger of `three_column`, saved by openpyxl with merged two-row headers (numbers, no
    formulas: openpyxl cannot store a formula's value)."""
    staged = write_book(path.with_name("staged-" + path.name), three_column)
    source = openpyxl.load_workbook(staged)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for ws in source.worksheets:
        target = book.create_sheet(ws.title)
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str) and value.startswith("=SUM"):
                    value = _sum_of(ws, value)
                elif isinstance(value, str) and value.startswith("=I"):
                    value = None  # the running balance is not read
                copied = target.cell(cell.row, cell.column, value)
                if isinstance(value, str) and value.startswith("="):
                    copied.data_type = "s"  # text such as =100%, not a formula
        for merged in ws.merged_cells.ranges:
            target.merge_cells(str(merged))
    book.save(path)
    staged.unlink()
    return path


def _sum_of(ws, formula: str) -> float:
    """=SUM(F6:F9) worked out from the cells (numbers written by three_column)."""
    first, last = formula[5:-1].split(":")
    column = first[0]
    return float(sum(Decimal(str(ws[f"{column}{r}"].value or 0)) for r in range(int(first[1:]), int(last[1:]) + 1)))


LAYOUTS = {"三栏式明细账": three_column, "用友明细账": yonyou, "金蝶EAS凭证": kingdee, "用友NC序时账": nc_journal}
