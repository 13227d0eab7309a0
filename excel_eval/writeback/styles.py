"""Cell formats of the generated sheet, found in or appended to the user's styles.xml (append only).

Existing entries keep their indexes, so the user's own cells never change format; an identical existing
font, fill, border, xf or dxf is reused instead of appended again.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from .spec import Style, XlsxPackageError
from .xmltext import Doc, TEl, esc_attr, local, norm_color

_PLAIN = Style()

BUILTIN_NUMFMTS = {
    "General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10, "0.00E+00": 11,
    "# ?/?": 12, "# ??/??": 13, "@": 49,
}
# The Open XML SDK models <font> as a sequence in this order (ECMA-376 allows any order; Excel writes this one).
FONT_ORDER = ("b", "i", "strike", "condense", "extend", "outline", "shadow", "u", "vertAlign", "sz", "color",
              "name", "family", "charset", "scheme")
BORDER_STYLES = {"thin", "medium", "thick", "double", "dashed", "dotted", "hair", "mediumDashed", "dashDot",
                 "mediumDashDot", "dashDotDot", "mediumDashDotDot", "slantDashDot"}
HORIZONTAL = {"general", "left", "center", "right", "fill", "justify", "centerContinuous", "distributed"}
VERTICAL = {"top", "center", "bottom", "justify", "distributed"}
_GROUPS = ("fonts", "fills", "borders", "cellXfs", "dxfs")
# CT_Stylesheet: the elements a new <dxfs> follows
_BEFORE_DXFS = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles")


def norm_el(el: Element) -> tuple:
    """A comparable form of an element: local names, sorted attributes, children."""
    return (local(el.tag), tuple(sorted((local(k), v) for k, v in el.attrib.items())),
            tuple(norm_el(c) for c in el))


def ser_el(el: Element, prefix: str) -> str:
    tag = prefix + local(el.tag)
    attrs = "".join(f' {k}="{esc_attr(v)}"' for k, v in el.attrib.items())
    kids = "".join(ser_el(c, prefix) for c in el)
    return f"<{tag}{attrs}>{kids}</{tag}>" if kids else f"<{tag}{attrs}/>"


def E(tag: str, attrib: dict | None = None, *children: Element) -> Element:
    el = Element(tag, attrib or {})
    el.extend(children)
    return el


class _Group:
    """One list of styles.xml (fonts, fills, …): its element, the entries it has and the ones to append."""

    def __init__(self, el: TEl | None):
        self.el = el
        kids = list(el.children) if el is not None else []
        self.count = len(kids)
        self.index: dict[tuple, int] = {}
        self.new: list[Element] = []
        for i, c in enumerate(kids):
            self.index.setdefault(norm_el(c.et), i)

    def intern(self, el: Element) -> int:
        key = norm_el(el)
        if key not in self.index:
            self.index[key] = self.count + len(self.new)
            self.new.append(el)
        return self.index[key]


class Styles:
    """Finds or appends the cellXfs (and dxfs) entries for our Styles in styles.xml."""

    def __init__(self, doc: Doc):
        self.doc = doc
        root = doc.root
        self.prefix = root.prefix
        self.numfmts_el = root.find("numFmts")
        self.numfmts, self.max_numfmt = _existing_numfmts(self.numfmts_el)
        self.groups = {name: _Group(root.find(name)) for name in _GROUPS}
        csx = root.find("cellStyleXfs")
        self.has_cell_style_xfs = csx is not None and bool(csx.children)
        fonts = self.groups["fonts"].el
        self.font0 = fonts.children[0].et if fonts is not None and fonts.children else None
        self.new_numfmts: list[tuple[int, str]] = []
        self.cache: dict[Style, int] = {}

    def _intern(self, group: str, el: Element) -> int:
        g = self.groups[group]
        if g.el is None and group != "dxfs":  # a missing <dxfs> is created by apply()
            raise XlsxPackageError(f"styles.xml has no <{group}> element")
        return g.intern(el)

    def _numfmt(self, code: str) -> int:
        if code in BUILTIN_NUMFMTS:
            return BUILTIN_NUMFMTS[code]
        if code not in self.numfmts:
            self.max_numfmt += 1
            self.numfmts[code] = self.max_numfmt
            self.new_numfmts.append((self.max_numfmt, code))
        return self.numfmts[code]

    def _font(self, st: Style) -> int:
        """The workbook's default font with our bold, underline and colour, children in the SDK's order."""
        if not (st.bold or st.underline or st.font_color):
            return 0
        base = list(self.font0) if self.font0 is not None else [E("sz", {"val": "11"}), E("name", {"val": "Calibri"})]
        kids = {local(c.tag): E(local(c.tag), {local(k): v for k, v in c.attrib.items()})
                for c in base if local(c.tag) not in ("b", "u")}
        if st.bold:
            kids["b"] = E("b")
        if st.underline:
            kids["u"] = E("u")
        if st.font_color:
            kids["color"] = E("color", {"rgb": norm_color(st.font_color, "font_color")})
        ordered = [kids[t] for t in FONT_ORDER if t in kids] + [v for t, v in kids.items() if t not in FONT_ORDER]
        return self._intern("fonts", E("font", {}, *ordered))

    def _fill(self, st: Style) -> int:
        if not st.fill:
            return 0
        pattern = E("patternFill", {"patternType": "solid"}, E("fgColor", {"rgb": norm_color(st.fill, "fill")}),
                    E("bgColor", {"indexed": "64"}))
        return self._intern("fills", E("fill", {}, pattern))

    def _border(self, st: Style) -> int:
        el = border_el(st)
        return 0 if el is None else self._intern("borders", el)

    def dxf(self, st: Style) -> int:
        """The index of a differential format (conditional formatting) for ``st``."""
        if st.number_format or st.wrap or st.horizontal or st.vertical:
            raise ValueError("conditional formats support font, fill and border only")
        font = [E(t) for t, on in (("b", st.bold), ("u", st.underline)) if on]
        if st.font_color:
            font.append(E("color", {"rgb": norm_color(st.font_color, "font_color")}))
        kids = [E("font", {}, *font)] if font else []
        if st.fill:  # Excel's own dxf form: the solid colour is the pattern's bgColor
            kids.append(E("fill", {}, E("patternFill", {}, E("bgColor", {"rgb": norm_color(st.fill, "fill")}))))
        border = border_el(st)
        if border is not None:
            kids.append(border)
        if not kids:
            raise ValueError("a conditional format needs a font colour, bold, underline, fill or border")
        return self._intern("dxfs", E("dxf", {}, *kids))

    def xf(self, st: Style | None) -> int:
        if st is None:
            return 0
        index = self.cache.get(st)  # looked up once: a Style hashes all its fields (12,000 cells in a 汇总)
        if index is None:
            index = self.cache[st] = 0 if st == _PLAIN else self._intern("cellXfs", self._xf_el(st))
        return index

    def _xf_el(self, st: Style) -> Element:
        if st.horizontal is not None and st.horizontal not in HORIZONTAL:
            raise ValueError(f"invalid horizontal alignment: {st.horizontal!r}")
        if st.vertical is not None and st.vertical not in VERTICAL:
            raise ValueError(f"invalid vertical alignment: {st.vertical!r}")
        num = self._numfmt(st.number_format) if st.number_format else 0
        font, fill, border = self._font(st), self._fill(st), self._border(st)
        attrs = {"numFmtId": str(num), "fontId": str(font), "fillId": str(fill), "borderId": str(border)}
        if self.has_cell_style_xfs:
            attrs["xfId"] = "0"
        for flag, used in (("applyNumberFormat", num), ("applyFont", font), ("applyFill", fill),
                           ("applyBorder", border)):
            if used:
                attrs[flag] = "1"
        align = {k: v for k, v in (("horizontal", st.horizontal), ("vertical", st.vertical),
                                   ("wrapText", "1" if st.wrap else None)) if v}
        if not align:
            return E("xf", attrs)
        attrs["applyAlignment"] = "1"
        return E("xf", attrs, E("alignment", align))

    def apply(self) -> None:
        """Write the appended entries into the document (counts updated)."""
        self._apply_numfmts()
        for name, group in self.groups.items():
            if group.new:
                self._apply_group(name, group)

    def _apply_numfmts(self) -> None:
        if not self.new_numfmts:
            return
        doc, p = self.doc, self.prefix
        xml = "".join(f'<{p}numFmt numFmtId="{i}" formatCode="{esc_attr(code)}"/>' for i, code in self.new_numfmts)
        if self.numfmts_el is None:
            doc.insert_after_open(doc.root, f'<{p}numFmts count="{len(self.new_numfmts)}">{xml}</{p}numFmts>')
        else:
            doc.set_attr(self.numfmts_el, "count", str(len(self.numfmts_el.children) + len(self.new_numfmts)))
            doc.append_children(self.numfmts_el, xml)

    def _apply_group(self, name: str, group: _Group) -> None:
        doc, p = self.doc, self.prefix
        xml = "".join(ser_el(e, p) for e in group.new)
        if group.el is not None:
            doc.set_attr(group.el, "count", str(group.count + len(group.new)))
            doc.append_children(group.el, xml)
            return
        assert name == "dxfs"  # only <dxfs> may be missing: it goes after cellStyles (CT_Stylesheet order)
        el = f'<{p}dxfs count="{len(group.new)}">{xml}</{p}dxfs>'
        anchor = None
        for before in _BEFORE_DXFS:
            anchor = doc.root.find(before) or anchor
        if anchor is None:
            doc.insert_after_open(doc.root, el)
        else:
            doc.insert_after(anchor, el)


def _existing_numfmts(numfmts_el: TEl | None) -> tuple[dict[str, int], int]:
    codes: dict[str, int] = {}
    highest = 163
    for nf in numfmts_el.findall("numFmt") if numfmts_el is not None else []:
        try:
            nid = int(nf.et.get("numFmtId", ""))
        except ValueError:
            continue
        highest = max(highest, nid)
        codes.setdefault(nf.et.get("formatCode", ""), nid)
    return codes, highest


def border_el(st: Style) -> Element | None:
    if not (st.border or st.top_border):
        return None
    if st.top_border is not None and st.top_border not in BORDER_STYLES:
        raise ValueError(f"invalid border style: {st.top_border!r}")
    sides = []
    for side in ("left", "right", "top", "bottom"):
        kind = (st.top_border or "thin") if side == "top" else ("thin" if st.border else None)
        sides.append(E(side, {"style": kind}, E("color", {"indexed": "64"})) if kind else E(side))
    return E("border", {}, *sides, E("diagonal"))
