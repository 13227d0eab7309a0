"""The 落款 of a report, placed as GB/T 9704 §7.3.5 asks: the date right-aligned four characters in from the
right margin, the unit name centred over the date.

Word has no paragraph setting for "centred over the next line", and the two texts differ in every report, so
the right indents are worked out per report from the rendered text: a full-width character is one
character of the style's size and pitch, a digit or other half-width character half of one (as 仿宋 and
Times New Roman set them). The date keeps the indent of its style (右空四字 in the bundled templates)
unless the name is so long that it would cross the margin; the date then moves left until the name fits.
The paragraph before the name is kept with it, so that the 落款 never stands alone at the top of a page.

The styles are found by id (SignOff, SignOffDate, as templates/build_templates.py names them), so a
template edited in Word keeps this behaviour as long as it uses the styles 落款 and 落款日期.
"""

from __future__ import annotations

import functools

import unicodedata
from dataclasses import dataclass

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NAME_STYLE = "SignOff"
DATE_STYLE = "SignOffDate"
_PPR_AFTER_IND = ("contextualSpacing", "mirrorIndents", "suppressOverlap", "jc", "textDirection", "textAlignment",
                  "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange")


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


@dataclass(frozen=True)
class SignOffStyle:
    """What the fit needs from the template's styles, in twips: the advance of a full-width and of a
    half-width character (size plus character spacing) and the date's right indent."""

    full: int = 315
    half: int = 155
    date_indent: int = 1260

    def width(self, text: str) -> int:
        """The advance of `text`, with the space that Word and LibreOffice add between Chinese and a digit or a
        Latin letter (autoSpaceDN/DE: LibreOffice 7.4 adds a fifth of the font size, measured; Word about a
        quarter, so that in Word a date's digits shift the name right by about an eighth of a character)."""
        kinds = [_kind(ch) for ch in text]
        total = sum(self.full if kind == "wide" else self.half for kind in kinds)
        boundaries = sum(1 for a, b in zip(kinds, kinds[1:]) if {a, b} == {"wide", "alnum"})
        return total + boundaries * self.autospace

    @property
    def autospace(self) -> int:
        return (self.full - self.half) * 2 // 5


def _kind(ch: str) -> str:
    if unicodedata.east_asian_width(ch) in "WFA":
        return "wide"
    return "alnum" if ch.isascii() and ch.isalnum() else "other"


@functools.lru_cache(maxsize=16)  # templates often share their styles part
def read_style(styles_xml: bytes) -> SignOffStyle | None:
    """The 落款 metrics from a template's styles.xml, or None when it has no 落款 and 落款日期 styles."""
    root = etree.fromstring(styles_xml)
    found = {s.get(_w("styleId")): s for s in root.iter(_w("style"))}
    name, date = found.get(NAME_STYLE), found.get(DATE_STYLE)
    if name is None or date is None:
        return None
    size = _inherited(found, name, ("rPr", "sz"), "val")
    half_points = int(size) if size else _default_size(root)
    spacing = int(_inherited(found, name, ("rPr", "spacing"), "val") or 0)
    indent = int(_inherited(found, date, ("pPr", "ind"), "right") or 0)
    return SignOffStyle(full=half_points * 10 + spacing, half=half_points * 5 + spacing, date_indent=indent)


def _inherited(styles: dict, style, path: tuple[str, str], attribute: str) -> str | None:
    """An attribute of a style's property, looked up along its basedOn chain."""
    seen = set()
    while style is not None and id(style) not in seen:
        seen.add(id(style))
        props = style.find(_w(path[0]))
        element = props.find(_w(path[1])) if props is not None else None
        if element is not None and element.get(_w(attribute)) is not None:
            return element.get(_w(attribute))
        based = style.find(_w("basedOn"))
        style = styles.get(based.get(_w("val"))) if based is not None else None
    return None


def _default_size(root) -> int:
    sz = root.find(f"{_w('docDefaults')}/{_w('rPrDefault')}/{_w('rPr')}/{_w('sz')}")
    return int(sz.get(_w("val"))) if sz is not None else 21


_NAMED = etree.XPath(f'.//w:p[w:pPr/w:pStyle/@w:val="{NAME_STYLE}"]', namespaces={"w": W})


def fit(body, style: SignOffStyle) -> None:
    """Set the right indents of every 落款 (a 落款 paragraph directly followed by a 落款日期 one) in `body`
    (the w:body element), and keep the paragraph before it with it."""
    names = [p for p in _NAMED(body) if _style_of(p) == NAME_STYLE]  # found at once, in document order
    if not names:
        return
    paragraphs = list(body.iter(_w("p")))
    position = {p: index for index, p in enumerate(paragraphs)}
    for name in names:
        index = position[name]
        date = paragraphs[index + 1] if index + 1 < len(paragraphs) else None
        if date is None or _style_of(date) != DATE_STYLE:
            continue
        name_width, date_width = style.width(_text(name)), style.width(_text(date))
        date_indent = max(style.date_indent, (name_width - date_width + 1) // 2)
        _set_right_indent(date, date_indent)
        _set_right_indent(name, date_indent + (date_width - name_width) // 2)
        if index and _text(paragraphs[index - 1]).strip():
            _keep_next(paragraphs[index - 1])


def fit_document_xml(xml: str, style: SignOffStyle | None) -> str:
    """`fit` on a rendered word/document.xml; the text is returned unchanged when there is nothing to fit."""
    if style is None or f'w:val="{NAME_STYLE}"' not in xml:
        return xml
    root = etree.fromstring(xml.encode("utf-8"))
    body = root.find(_w("body"))
    if body is None:
        return xml
    fit(body, style)
    declaration = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' if xml.startswith("<?xml") else ""
    return declaration + etree.tostring(root, encoding="unicode")


_P_PR, _P_STYLE, _VAL = _w("pPr"), _w("pStyle"), _w("val")


def _style_of(paragraph) -> str | None:
    properties = next(paragraph.iterchildren(_P_PR), None)  # as find("w:pPr/w:pStyle"), without its path parser
    style = next(properties.iterchildren(_P_STYLE), None) if properties is not None else None
    return style.get(_VAL) if style is not None else None


def _text(paragraph) -> str:
    return "".join(t.text or "" for t in paragraph.iter(_w("t")))


def _ppr(paragraph):
    ppr = paragraph.find(_w("pPr"))
    if ppr is None:
        ppr = etree.SubElement(paragraph, _w("pPr"))
        paragraph.insert(0, ppr)
    return ppr


def _set_right_indent(paragraph, twips: int) -> None:
    ppr = _ppr(paragraph)
    ind = ppr.find(_w("ind"))
    if ind is None:
        ind = etree.Element(_w("ind"))
        later = [child for child in ppr if etree.QName(child).localname in _PPR_AFTER_IND]
        if later:
            later[0].addprevious(ind)
        else:
            ppr.append(ind)
    ind.attrib.pop(_w("rightChars"), None)  # Word prefers *Chars over twips
    ind.attrib.pop(_w("endChars"), None)
    ind.set(_w("right"), str(twips))


def _keep_next(paragraph) -> None:
    ppr = _ppr(paragraph)
    if ppr.find(_w("keepNext")) is not None:
        return
    keep = etree.Element(_w("keepNext"))
    style = ppr.find(_w("pStyle"))
    if style is not None:
        style.addnext(keep)
    else:
        ppr.insert(0, keep)
