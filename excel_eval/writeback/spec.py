"""What a generated worksheet holds: cells with styles, layout, conditional formats, charts and print setup.

These are plain descriptions; `sheet.py`, `styles.py` and `chart.py` turn them into XML.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class XlsxPackageError(Exception):
    """The workbook package cannot be edited (malformed, unsupported, …)."""


class UnsafeXmlError(XlsxPackageError):
    """A part of the workbook contains a DTD / entity declarations (e.g. an XML bomb)."""


@dataclass(frozen=True)
class Style:
    """A cell format; equal Styles share one ``cellXfs`` entry."""

    number_format: str | None = None  # e.g. '#,##0.00', '0.00%', 'yyyy"年"m"月"d"日"'
    bold: bool = False
    font_color: str | None = None  # 'FF0000' style RGB (or 8-digit ARGB)
    fill: str | None = None  # solid fill RGB, e.g. 'DDEBF7'
    wrap: bool = False
    horizontal: str | None = None  # 'center', 'left', 'right', …
    vertical: str | None = None  # 'top', 'center', 'bottom', …
    border: bool = False  # thin border all round
    underline: bool = False  # for hyperlinks (blue + underline via font_color)
    top_border: str | None = None  # top edge style ('thin', 'medium', 'double', …), e.g. above a totals row


@dataclass(frozen=True)
class Cell:
    value: object  # None, str, bool, int, float, Decimal, date / datetime / time
    style: Style | None = None
    hyperlink: str | None = None  # a URI reference (external relationship) or '#Sheet!A1' (internal)


@dataclass(frozen=True)
class ConditionalFormat:
    """A ``cellIs`` rule: cells in ``range`` whose value satisfies ``operator`` get ``style``.

    Only the font (bold, underline, font_color), the fill and the borders of ``style`` apply;
    it is written as a ``<dxf>`` in styles.xml (an identical existing one is reused).
    """

    range: str  # e.g. 'H3:H6'; several ranges separated by spaces
    operator: str  # lessThan, lessThanOrEqual, greaterThan, greaterThanOrEqual, equal, notEqual,
    #                between, notBetween
    formula: str  # e.g. '0.9' (a formula without the leading '=')
    formula2: str | None = None  # the upper bound for between / notBetween
    style: Style = Style(font_color="9C0006", fill="FFC7CE")  # Excel's "light red fill, dark red text"


@dataclass
class BarChart:
    """A native clustered bar (horizontal) or column chart of one series from this sheet.

    ``categories`` and ``values`` are ranges on the generated sheet (one row or one column,
    same length); the chart caches the labels and numbers found there in ``SheetSpec.rows``.
    """

    title: str
    categories: str  # e.g. 'B3:B6'
    values: str  # e.g. 'H3:H6'
    anchor: str  # the cells the chart covers, e.g. 'B9:H26'
    series_name: str | None = None
    number_format: str = "General"  # value axis, e.g. '0%'
    label_format: str | None = None  # show data labels in this format, e.g. '0.00%'; None = no labels
    horizontal: bool = True  # bars (True) or columns (False)
    color: str = "4472C4"  # bar fill RGB
    point_colors: dict[int, str] = field(default_factory=dict)  # 0-based point -> fill RGB
    axis_min: float | None = None
    axis_max: float | None = None


@dataclass(frozen=True)
class Margins:
    """Page margins in inches (Excel's "normal" margins by default)."""

    left: float = 0.7
    right: float = 0.7
    top: float = 0.75
    bottom: float = 0.75
    header: float = 0.3
    footer: float = 0.3


@dataclass(frozen=True)
class PageSetup:
    landscape: bool = False
    paper_size: int | None = 9  # 9 = A4
    fit_to_width: int | None = None  # scale to this many pages wide (height unlimited)
    margins: Margins = Margins()
    title_rows: tuple[int, int] | None = None  # rows repeated at the top of every printed page, e.g. (2, 2)
    print_area: str | None = None  # the cells printed, e.g. 'A1:K30'; None prints the used range
    breaks_after: tuple[int, ...] = ()  # manual page breaks below these rows
    center_horizontally: bool = False


@dataclass
class SheetSpec:
    name: str
    rows: list[list[object | Cell]]  # row-major from A1; plain values are wrapped as Cell(value)
    column_widths: dict[int, float] = field(default_factory=dict)  # 1-based column -> width
    row_heights: dict[int, float] = field(default_factory=dict)  # 1-based row -> height in points
    freeze: str | None = None  # top-left unfrozen cell, e.g. 'A3'
    merges: list[str] = field(default_factory=list)  # e.g. ['A1:L1']
    autofilter: str | None = None  # e.g. 'A2:L10'
    conditional_formats: list[ConditionalFormat] = field(default_factory=list)
    charts: list[BarChart] = field(default_factory=list)
    page_setup: PageSetup | None = None
