"""The generated worksheet's XML (and its relationships), element by element in CT_Worksheet order."""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal

from .package import rels_xml
from .refs import MAX_COLS, MAX_ROWS, col_letter, parse_range, parse_ref, range_str
from .spec import Cell, ConditionalFormat, PageSetup, SheetSpec, Style
from .styles import Styles
from .xmltext import clean_text, esc_attr, esc_text

MAX_CELL_TEXT = 32_767
DEFAULT_DATE_FMT = "yyyy-mm-dd"
DEFAULT_DATETIME_FMT = "yyyy-mm-dd hh:mm:ss"
DEFAULT_TIME_FMT = "hh:mm:ss"
CF_OPERATORS = {"lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual", "equal", "notEqual",
                "between", "notBetween"}
_EXCEL_ESCAPE_LIKE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
# Characters that can never stand in a URI reference: escaped so that a target is always one (xs:anyURI).
_NOT_IN_URI = re.compile(r'[\x00-\x20"<>\\^`{|}\x7f]')


@dataclass
class SheetContext:
    """What the sheet's XML depends on in the workbook it goes into."""

    styles: Styles
    ns_main: str
    ns_r: str
    date1904: bool = False
    compat1900: bool = True
    tab_selected: bool = False
    hyperlink_rel_type: str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
    drawing_target: str | None = None  # the drawing part relative to the sheet part, when it has charts
    rels: list[str] = field(default_factory=list)

    def add_rel(self, kind: str, target: str, external: bool = False) -> str:
        rid = f"rId{len(self.rels) + 1}"
        rel_type = self.hyperlink_rel_type.rsplit("/", 1)[0] + "/" + kind
        mode = ' TargetMode="External"' if external else ""
        self.rels.append(f'<Relationship Id="{rid}" Type="{esc_attr(rel_type)}" Target="{esc_attr(target)}"{mode}/>')
        return rid


def build_sheet_xml(spec: SheetSpec, ctx: SheetContext) -> tuple[bytes, bytes | None]:
    """Return (worksheet xml, worksheet rels xml or None)."""
    rows, hyperlinks, extent = _sheet_data(spec, ctx)
    ps = spec.page_setup
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
           f'<worksheet xmlns="{ctx.ns_main}" xmlns:r="{ctx.ns_r}">']
    if ps is not None and ps.fit_to_width:
        out.append('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>')
    out.append(f'<dimension ref="{range_str(1, 1, *extent) if extent[0] else "A1"}"/>')
    out.append(f"<sheetViews>{_sheet_view(spec.freeze, ctx.tab_selected)}</sheetViews>")
    out.append('<sheetFormatPr defaultRowHeight="15"/>')
    out.append(_cols(spec.column_widths))
    out.append(f"<sheetData>{''.join(rows)}</sheetData>" if rows else "<sheetData/>")
    if spec.autofilter:
        out.append(f'<autoFilter ref="{range_str(*parse_range(spec.autofilter))}"/>')
    out.append(_merges(spec.merges))
    out.extend(conditional_formatting_xml(cf, priority, ctx.styles)
               for priority, cf in enumerate(spec.conditional_formats, start=1))
    out.append(_hyperlinks(hyperlinks, ctx))
    out.append(_page(ps))
    if ctx.drawing_target is not None:
        out.append(f'<drawing r:id="{ctx.add_rel("drawing", ctx.drawing_target)}"/>')
    out.append("</worksheet>")
    return "".join(out).encode("utf-8"), rels_xml(ctx.rels) if ctx.rels else None


# --------------------------------------------------------------------------- cells


def _sheet_data(spec: SheetSpec, ctx: SheetContext) -> tuple[list[str], list[tuple[str, str]], tuple[int, int]]:
    """The <row> elements, the hyperlinks (ref, target) and the used extent (last row, last column)."""
    if len(spec.rows) > MAX_ROWS:
        raise ValueError("too many rows for a worksheet")
    rows: list[str] = []
    hyperlinks: list[tuple[str, str]] = []
    max_row = max_col = 0
    for r_idx, row in enumerate(spec.rows, start=1):
        if len(row) > MAX_COLS:
            raise ValueError(f"row {r_idx} has too many columns")
        parts = []
        for c_idx, item in enumerate(row, start=1):
            value, style, link = (item.value, item.style, item.hyperlink) if isinstance(item, Cell) else (item, None, None)
            ref = f"{col_letter(c_idx)}{r_idx}"
            xml = cell_xml(value, style, link, ref, ctx)
            if xml is None:
                continue
            parts.append(xml)
            if link:
                hyperlinks.append((ref, link))
            max_row, max_col = max(max_row, r_idx), max(max_col, c_idx)
        ht = _row_height(spec.row_heights.get(r_idx))
        if parts or ht:
            rows.append(f'<row r="{r_idx}"{ht}>{"".join(parts)}</row>')
    return rows, hyperlinks, (max_row, max_col)


def _row_height(height) -> str:
    if height is None:
        return ""
    height = float(height)
    if not 0 <= height <= 409:
        raise ValueError(f"row height out of range: {height}")
    return f' ht="{height:g}" customHeight="1"'


def cell_xml(value, style: Style | None, link: str | None, ref: str, ctx: SheetContext) -> str | None:
    """One <c> element (a Cell's value, style and link), or None for an empty cell without format or link."""
    value = None if is_missing(value) else value
    t, v, inline, st = _typed(value, style, ctx)
    s = ctx.styles.xf(st)
    if value is None and s == 0 and not link:
        return None
    attrs = f' r="{ref}"' + (f' s="{s}"' if s else "")
    if inline is not None:
        text = _EXCEL_ESCAPE_LIKE.sub(r"_x005F_\1", clean_text(inline)[:MAX_CELL_TEXT])
        return f'<c{attrs} t="inlineStr"><is><t xml:space="preserve">{esc_text(text)}</t></is></c>'
    if v is not None:
        return f'<c{attrs}{f" t={chr(34)}{t}{chr(34)}" if t else ""}><v>{v}</v></c>'
    return f"<c{attrs}/>"


def _typed(value, st: Style | None, ctx: SheetContext) -> tuple[str | None, str | None, str | None, Style | None]:
    """(cell type, <v> text, inline text, style) for a value; dates get a default number format."""
    if value is None:
        return None, None, None, st
    kind = type(value)  # the common cases first, by exact type
    if kind is str:
        return None, None, value, st
    if kind is int:
        return None, str(value), None, st
    if kind is float:
        try:
            return None, num_str(value), None, st
        except OverflowError:
            return "e", "#NUM!", None, st
    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b":
        return "b", "1" if value else "0", None, st
    if isinstance(value, (dt.date, dt.datetime)):
        serial = excel_serial(value, ctx.date1904, ctx.compat1900)
        if serial is None:  # before the epoch: keep it readable as text
            return None, None, value.isoformat(), st
        fmt = DEFAULT_DATETIME_FMT if isinstance(value, dt.datetime) else DEFAULT_DATE_FMT
        return None, num_str(serial), None, _with_format(st, fmt)
    if isinstance(value, dt.time):
        secs = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return None, num_str(secs / 86400.0), None, _with_format(st, DEFAULT_TIME_FMT)
    if isinstance(value, (numbers.Number, Decimal)) and not isinstance(value, complex):
        try:
            return None, num_str(value), None, st
        except OverflowError:
            return "e", "#NUM!", None, st
    return None, None, str(value), st


def _with_format(st: Style | None, fmt: str) -> Style:
    return st if st is not None and st.number_format is not None else replace(st or Style(), number_format=fmt)


def excel_serial(value: dt.date | dt.datetime, date1904: bool, compat1900: bool = True) -> float | None:
    """Excel serial number, or None when the date precedes the workbook's epoch.

    ``compat1900`` is workbookPr/@dateCompatibility (default true: Excel's 1900 system with
    its fictitious 1900-02-29).  LibreOffice writes dateCompatibility="false", meaning a plain
    1899-12-30 base; both agree from 1900-03-01 on.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        day = value.date()
        frac = (value - dt.datetime.combine(day, dt.time())).total_seconds() / 86400.0
    else:
        day, frac = value, 0.0
    if date1904:
        n = (day - dt.date(1904, 1, 1)).days
        return None if n < 0 else n + frac
    if not compat1900:
        n = (day - dt.date(1899, 12, 30)).days
        return None if n < 1 else n + frac
    n = (day - dt.date(1899, 12, 31)).days
    if n < 1:
        return None
    return n + (1 if n >= 60 else 0) + frac  # Excel's fictitious 1900-02-29


def num_str(value) -> str | None:
    """Plain number text for <v>, or None for NaN; raises OverflowError for infinities."""
    if isinstance(value, Decimal):
        if value.is_nan():
            return None
        if value.is_infinite():
            raise OverflowError
        s = format(value, "f")
        if "." in s:
            s = s.rstrip("0").rstrip(".")
        return "0" if s in ("", "-0") else s
    if isinstance(value, numbers.Integral):
        return str(int(value))
    f = float(value)
    if math.isnan(f):
        return None
    if math.isinf(f):
        raise OverflowError
    if f.is_integer() and abs(f) < 1e16:
        return str(int(f))
    return repr(f)


def is_missing(value) -> bool:
    try:
        return value != value  # NaN, pandas NaT
    except Exception:
        return False


# --------------------------------------------------------------------------- layout


def _sheet_view(freeze: str | None, tab_selected: bool) -> str:
    view = f'<sheetView{" tabSelected=" + chr(34) + "1" + chr(34) if tab_selected else ""} workbookViewId="0">'
    if freeze:
        view += _frozen_pane(*parse_ref(freeze))
    return view + "</sheetView>"


def _frozen_pane(frow: int, fcol: int) -> str:
    xs, ys = fcol - 1, frow - 1
    if not (xs or ys):
        return ""
    top_left = f"{col_letter(fcol)}{frow}"
    active = "bottomRight" if xs and ys else ("bottomLeft" if ys else "topRight")
    pane = "<pane" + (f' xSplit="{xs}"' if xs else "") + (f' ySplit="{ys}"' if ys else "")
    pane += f' topLeftCell="{top_left}" activePane="{active}" state="frozen"/>'
    if xs and ys:
        pane += '<selection pane="topRight"/><selection pane="bottomLeft"/>'
    return pane + f'<selection pane="{active}" activeCell="{top_left}" sqref="{top_left}"/>'


def _cols(widths: dict[int, float]) -> str:
    cols = []
    for col, width in sorted(widths.items()):
        col, width = int(col), float(width)
        if not 1 <= col <= MAX_COLS:
            raise ValueError(f"column index out of range: {col}")
        if not 0 <= width <= 255:
            raise ValueError(f"column width out of range: {width}")
        cols.append(f'<col min="{col}" max="{col}" width="{width:g}" customWidth="1"/>')
    return f"<cols>{''.join(cols)}</cols>" if cols else ""


def _merges(merges: list[str]) -> str:
    if not merges:
        return ""
    rects = [parse_range(m) for m in merges]
    for i, a in enumerate(rects):
        if a[0] == a[2] and a[1] == a[3]:
            raise ValueError(f"merge range is a single cell: {merges[i]!r}")
        for b in rects[:i]:
            if a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]:
                raise ValueError(f"overlapping merge ranges: {merges[i]!r}")
    cells = "".join(f'<mergeCell ref="{range_str(*r)}"/>' for r in rects)
    return f'<mergeCells count="{len(rects)}">{cells}</mergeCells>'


def _hyperlinks(hyperlinks: list[tuple[str, str]], ctx: SheetContext) -> str:
    if not hyperlinks:
        return ""
    links = []
    for ref, target in hyperlinks:
        target = clean_text(target)
        if target.startswith("#"):
            links.append(f'<hyperlink ref="{ref}" location="{esc_attr(target[1:])}"/>')
        else:
            rid = ctx.add_rel("hyperlink", uri_safe(target), external=True)
            links.append(f'<hyperlink ref="{ref}" r:id="{rid}"/>')
    return f"<hyperlinks>{''.join(links)}</hyperlinks>"


def uri_safe(target: str) -> str:
    """`target` (a URI reference) with the characters no URI may hold percent-encoded."""
    return _NOT_IN_URI.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), target)


def _page(ps: PageSetup | None) -> str:
    """printOptions, pageMargins, pageSetup and rowBreaks."""
    m = ps.margins if ps is not None else PageSetup().margins
    out = '<printOptions horizontalCentered="1"/>' if ps is not None and ps.center_horizontally else ""
    out += (f'<pageMargins left="{m.left:g}" right="{m.right:g}" top="{m.top:g}" bottom="{m.bottom:g}" '
            f'header="{m.header:g}" footer="{m.footer:g}"/>')
    if ps is None:
        return out
    attrs = f' paperSize="{int(ps.paper_size)}"' if ps.paper_size else ""
    attrs += f' orientation="{"landscape" if ps.landscape else "portrait"}"'
    if ps.fit_to_width:
        attrs += f' fitToWidth="{int(ps.fit_to_width)}" fitToHeight="0"'
    out += f"<pageSetup{attrs}/>"
    if ps.breaks_after:
        breaks = "".join(f'<brk id="{int(r)}" max="{MAX_COLS - 1}" man="1"/>' for r in sorted(ps.breaks_after))
        out += f'<rowBreaks count="{len(ps.breaks_after)}" manualBreakCount="{len(ps.breaks_after)}">{breaks}</rowBreaks>'
    return out


# --------------------------------------------------------------------------- conditional formats


def _formula_xml(formula: str) -> str:
    f = clean_text(str(formula)).strip()
    if f.startswith("="):
        f = f[1:]
    if not f:
        raise ValueError("empty formula in a conditional format")
    return f"<formula>{esc_text(f)}</formula>"


def _sqref(ranges: str) -> str:
    refs = [range_str(*parse_range(r)) for r in ranges.split()]
    if not refs:
        raise ValueError("conditional format without a range")
    return " ".join(refs)


def conditional_formatting_xml(cf: ConditionalFormat, priority: int, styles: Styles) -> str:
    if cf.operator not in CF_OPERATORS:
        raise ValueError(f"invalid conditional format operator: {cf.operator!r}")
    two = cf.operator in ("between", "notBetween")
    if two != (cf.formula2 is not None):
        raise ValueError(f"operator {cf.operator!r} needs {'two formulas' if two else 'one formula'}")
    formulas = _formula_xml(cf.formula) + (_formula_xml(cf.formula2) if two else "")
    dxf = styles.dxf(cf.style)
    return (f'<conditionalFormatting sqref="{_sqref(cf.range)}">'
            f'<cfRule type="cellIs" dxfId="{dxf}" priority="{priority}" operator="{cf.operator}">'
            f"{formulas}</cfRule></conditionalFormatting>")
