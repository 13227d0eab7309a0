"""Native bar charts: the chart part (with cached values from the sheet's own cells, so it renders without
recalculation) and the drawing part that anchors it on the sheet."""

from __future__ import annotations

import numbers
from decimal import Decimal

from .refs import col_letter, parse_range, quoted_sheet
from .sheet import is_missing, num_str
from .spec import BarChart, Cell, SheetSpec
from .xmltext import clean_text, esc_attr, esc_text, norm_color

DML_TRANSITIONAL = {
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
}
DML_STRICT = {
    "a": "http://purl.oclc.org/ooxml/drawingml/main",
    "c": "http://purl.oclc.org/ooxml/drawingml/chart",
    "xdr": "http://purl.oclc.org/ooxml/drawingml/spreadsheetDrawing",
}
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_SMALL_TEXT = ('<c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="900"/></a:pPr>'
               '<a:endParaRPr lang="zh-CN"/></a:p></c:txPr>')


def _spec_value(spec: SheetSpec, row: int, col: int) -> object:
    if row > len(spec.rows) or col > len(spec.rows[row - 1]):
        return None
    item = spec.rows[row - 1][col - 1]
    value = item.value if isinstance(item, Cell) else item
    return None if is_missing(value) else value


def _line_cells(spec: SheetSpec, ref: str, what: str) -> tuple[str, list[object]]:
    """A one-row or one-column range -> (absolute '$B$3:$B$6', cell values)."""
    r1, c1, r2, c2 = parse_range(ref)
    if r1 != r2 and c1 != c2:
        raise ValueError(f"chart {what} must be one row or one column: {ref!r}")
    cells = [(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
    absolute = f"${col_letter(c1)}${r1}" + ("" if (r1, c1) == (r2, c2) else f":${col_letter(c2)}${r2}")
    return absolute, [_spec_value(spec, r, c) for r, c in cells]


def _value_format(spec: SheetSpec, ref: str) -> str:
    """The number format of the first cell in `ref` that has one (the cache's formatCode)."""
    r1, c1, r2, c2 = parse_range(ref)
    for r in range(r1, min(r2, len(spec.rows)) + 1):
        for c in range(c1, min(c2, len(spec.rows[r - 1])) + 1):
            item = spec.rows[r - 1][c - 1]
            if isinstance(item, Cell) and item.style and item.style.number_format:
                return item.style.number_format
    return "General"


def _rich_text(text: str, size: int, bold: bool) -> str:
    b = ' b="1"' if bold else ' b="0"'
    return (f'<c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="{size}"{b}/></a:pPr>'
            f'<a:r><a:rPr lang="zh-CN" sz="{size}"{b}/><a:t>{esc_text(clean_text(text))}</a:t></a:r>'
            f"</a:p></c:rich></c:tx>")


def _solid(rgb: str, what: str) -> str:
    return f'<a:solidFill><a:srgbClr val="{norm_color(rgb, what)[2:]}"/></a:solidFill>'


def _category_points(cats: list[object]) -> str:
    pts = []
    for i, v in enumerate(cats):
        if v is None:
            continue
        numeric = isinstance(v, (numbers.Number, Decimal)) and not isinstance(v, bool)
        text = (num_str(v) or "") if numeric else str(v)
        pts.append(f'<c:pt idx="{i}"><c:v>{esc_text(clean_text(text))}</c:v></c:pt>')
    return "".join(pts)


def _value_points(vals: list[object]) -> str:
    pts = []
    for i, v in enumerate(vals):
        if isinstance(v, bool) or not isinstance(v, (numbers.Number, Decimal)):
            continue
        try:
            text = num_str(float(v) if isinstance(v, Decimal) else v)
        except OverflowError:
            continue
        if text is not None:
            pts.append(f'<c:pt idx="{i}"><c:v>{text}</c:v></c:pt>')
    return "".join(pts)


def _data_labels(label_format: str | None) -> str:
    if not label_format:
        return ""
    return (f'<c:dLbls><c:numFmt formatCode="{esc_attr(label_format)}" sourceLinked="0"/>'
            '<c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>' + _SMALL_TEXT +
            '<c:showLegendKey val="0"/><c:showVal val="1"/><c:showCatName val="0"/><c:showSerName val="0"/>'
            '<c:showPercent val="0"/><c:showBubbleSize val="0"/></c:dLbls>')


def _series(spec: SheetSpec, chart: BarChart) -> str:
    sheet_ref = quoted_sheet(spec.name) + "!"
    cat_ref, cats = _line_cells(spec, chart.categories, "categories")
    val_ref, vals = _line_cells(spec, chart.values, "values")
    if len(cats) != len(vals):
        raise ValueError(f"chart categories {chart.categories!r} and values {chart.values!r} differ in length")
    ser = ['<c:ser><c:idx val="0"/><c:order val="0"/>']
    if chart.series_name:
        ser.append(f"<c:tx><c:v>{esc_text(clean_text(chart.series_name))}</c:v></c:tx>")
    ser.append(f"<c:spPr>{_solid(chart.color, 'chart color')}</c:spPr>")
    ser.append('<c:invertIfNegative val="0"/>')
    for idx, rgb in sorted(chart.point_colors.items()):
        if not 0 <= int(idx) < len(vals):
            raise ValueError(f"chart point index out of range: {idx}")
        ser.append(f'<c:dPt><c:idx val="{int(idx)}"/><c:invertIfNegative val="0"/><c:bubble3D val="0"/>'
                   f"<c:spPr>{_solid(rgb, 'point color')}</c:spPr></c:dPt>")
    ser.append(_data_labels(chart.label_format))
    ser.append(f"<c:cat><c:strRef><c:f>{esc_text(sheet_ref + cat_ref)}</c:f><c:strCache>"
               f'<c:ptCount val="{len(cats)}"/>{_category_points(cats)}</c:strCache></c:strRef></c:cat>')
    ser.append(f"<c:val><c:numRef><c:f>{esc_text(sheet_ref + val_ref)}</c:f><c:numCache>"
               f"<c:formatCode>{esc_text(_value_format(spec, chart.values))}</c:formatCode>"
               f'<c:ptCount val="{len(vals)}"/>{_value_points(vals)}</c:numCache></c:numRef></c:val>')
    ser.append("</c:ser>")
    return "".join(ser)


def _axes(chart: BarChart) -> str:
    """The category and value axes. Horizontal bars list the first category at the top; the value axis then
    crosses at the maximum category so it stays at the bottom."""
    cat_pos, val_pos = ("l", "b") if chart.horizontal else ("b", "l")
    cat_orient = "maxMin" if chart.horizontal else "minMax"
    scaling = '<c:orientation val="minMax"/>'
    if chart.axis_max is not None:
        scaling += f'<c:max val="{num_str(chart.axis_max)}"/>'
    if chart.axis_min is not None:
        scaling += f'<c:min val="{num_str(chart.axis_min)}"/>'
    return (
        f'<c:catAx><c:axId val="510000001"/><c:scaling><c:orientation val="{cat_orient}"/></c:scaling>'
        f'<c:delete val="0"/><c:axPos val="{cat_pos}"/><c:numFmt formatCode="General" sourceLinked="0"/>'
        '<c:majorTickMark val="none"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        '<c:crossAx val="510000002"/><c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/>'
        '<c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
        f'<c:valAx><c:axId val="510000002"/><c:scaling>{scaling}</c:scaling><c:delete val="0"/>'
        f'<c:axPos val="{val_pos}"/><c:majorGridlines/>'
        f'<c:numFmt formatCode="{esc_attr(chart.number_format)}" sourceLinked="0"/>'
        '<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        f'<c:crossAx val="510000001"/><c:crosses val="{"max" if chart.horizontal else "autoZero"}"/>'
        '<c:crossBetween val="between"/></c:valAx>')


def build_chart_xml(spec: SheetSpec, chart: BarChart, dml: dict[str, str], ns_r: str) -> bytes:
    parse_range(chart.anchor)
    series = _series(spec, chart)
    title = f'<c:title>{_rich_text(chart.title, 1200, True)}<c:overlay val="0"/></c:title>' if chart.title else ""
    xml = (
        _XML_DECL + f'<c:chartSpace xmlns:c="{dml["c"]}" xmlns:a="{dml["a"]}" xmlns:r="{ns_r}">'
        '<c:roundedCorners val="0"/>'
        f'<c:chart>{title}<c:autoTitleDeleted val="{0 if chart.title else 1}"/><c:plotArea><c:layout/>'
        f'<c:barChart><c:barDir val="{"bar" if chart.horizontal else "col"}"/><c:grouping val="clustered"/>'
        f'<c:varyColors val="0"/>{series}<c:gapWidth val="60"/>'
        '<c:axId val="510000001"/><c:axId val="510000002"/></c:barChart>'
        f'{_axes(chart)}</c:plotArea><c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart>'
        f"{_SMALL_TEXT}</c:chartSpace>"
    )
    return xml.encode("utf-8")


def _anchor(chart: BarChart, number: int, rid: str, dml: dict[str, str], ns_r: str) -> str:
    r1, c1, r2, c2 = parse_range(chart.anchor)
    name = esc_attr(chart.title or f"Chart {number}")
    return (
        '<xdr:twoCellAnchor editAs="oneCell">'
        f"<xdr:from><xdr:col>{c1 - 1}</xdr:col><xdr:colOff>0</xdr:colOff>"
        f"<xdr:row>{r1 - 1}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
        f"<xdr:to><xdr:col>{c2}</xdr:col><xdr:colOff>0</xdr:colOff>"
        f"<xdr:row>{r2}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>"
        f'<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="{number + 1}" name="{name}"/>'
        "<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>"
        '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
        f'<a:graphic><a:graphicData uri="{dml["c"]}">'
        f'<c:chart xmlns:c="{dml["c"]}" xmlns:r="{ns_r}" r:id="{rid}"/>'
        "</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor>")


def build_drawing_xml(spec: SheetSpec, chart_rids: list[str], dml: dict[str, str], ns_r: str) -> bytes:
    anchors = "".join(_anchor(chart, i, rid, dml, ns_r)
                      for i, (chart, rid) in enumerate(zip(spec.charts, chart_rids), start=1))
    return (_XML_DECL + f'<xdr:wsDr xmlns:xdr="{dml["xdr"]}" xmlns:a="{dml["a"]}">{anchors}</xdr:wsDr>'
            ).encode("utf-8")
