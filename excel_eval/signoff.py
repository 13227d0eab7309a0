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
import re
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
        _fit_one(paragraphs[index - 1] if index else None, name, date, style)


def _fit_one(before, name, date, style: SignOffStyle) -> None:
    """One 落款: the name paragraph, its date paragraph and the paragraph before them (None at the start)."""
    name_width, date_width = style.width(_text(name)), style.width(_text(date))
    date_indent = max(style.date_indent, (name_width - date_width + 1) // 2)
    _set_right_indent(date, date_indent)
    _set_right_indent(name, date_indent + (date_width - name_width) // 2)
    if before is not None:
        _keep_if_text(before)


def _keep_if_text(paragraph) -> None:
    """The paragraph before a 落款 kept with it, unless it is empty."""
    if _text(paragraph).strip():
        _keep_next(paragraph)


# The 落款 of a rendered body found in its text, as python-docx serializes a paragraph: <w:p …><w:pPr> then the
# style first. A paragraph starts with "<w:p>", "<w:p " or, empty, "<w:p/>" (not "<w:pPr", "<w:pStyle").
_NAME_MARK = f'<w:pPr><w:pStyle w:val="{NAME_STYLE}"/>'
_DATE_MARK = f'<w:pPr><w:pStyle w:val="{DATE_STYLE}"/>'
_P_START = re.compile(r"<w:p[ >/]")
_P_TAG = re.compile(r"<w:p(?: [^<>]*?)?(/?)>")  # the start tag of a paragraph; "/" for an empty one
_P_END = "</w:p>"
_SEPARATOR = "<!--excel-eval-signoff-->"


def fit_text(body: str, style: SignOffStyle) -> str | None:
    """`fit` on the text of a rendered w:body (its start tag declaring the namespaces), parsing only the
    paragraphs it changes: the same result as `fit` on the parsed body, or None when the body is not plainly
    enough laid out to find those paragraphs in its text (a 落款 style written in another form or place, a
    落款 inside another paragraph, comments); the caller then fits the parsed body."""
    if not body.startswith("<w:body") or "<!--" in body or "<![CDATA[" in body or not _marks_plain(body):
        return None
    blocks: list[tuple] = []  # (before or None, name, date) of each 落款, as spans of the body
    at = body.find(_NAME_MARK)
    while at >= 0:
        name = _paragraph_at(body, at)
        if name is None:
            return None
        following = _P_START.search(body, name[1])
        tag = _P_TAG.match(body, following.start()) if following else None
        if following and not tag:
            return None
        if tag and not tag.group(1) and body.startswith(_DATE_MARK, tag.end()):
            date, before = _paragraph_at(body, tag.end()), _previous_paragraph(body, name[0])
            if date is None or before is False:
                return None
            blocks.append((before, name, date))
        at = body.find(_NAME_MARK, name[1])
    if not blocks:
        return body
    start_tag = body[:body.index(">") + 1]
    spans = [span for block in blocks for span in block if span is not None]
    if len(set(spans)) == len(spans):  # each paragraph in one 落款: fitted apart (the same text, once a run)
        pieces = []
        for before, name, date in blocks:
            if before is not None:
                pieces.append(_kept(body[before[0]:before[1]], start_tag))
            pieces += _fitted_pair(body[name[0]:name[1]], body[date[0]:date[1]], start_tag, style)
    else:  # a date that is the paragraph before the next 落款: all at once
        spans = sorted(set(spans))
        wrapper = _parse_paragraphs(start_tag, [body[a:b] for a, b in spans])
        fit(wrapper, style)
        pieces = _paragraphs_text(wrapper)
    out, last = [], 0
    for (a, b), piece in zip(spans, pieces, strict=True):
        out += [body[last:a], piece]
        last = b
    out.append(body[last:])
    return "".join(out)


@functools.lru_cache(maxsize=64)
def _fitted_pair(name: str, date: str, start_tag: str, style: SignOffStyle) -> tuple[str, str]:
    """A 落款's name and date paragraphs (XML text) with their indents."""
    wrapper = _parse_paragraphs(start_tag, [name, date])
    _fit_one(None, *wrapper.iter(_w("p")), style)
    return tuple(_paragraphs_text(wrapper))


@functools.lru_cache(maxsize=64)
def _kept(before: str, start_tag: str) -> str:
    """The paragraph before a 落款 (XML text), kept with it when it has text."""
    wrapper = _parse_paragraphs(start_tag, [before])
    _keep_if_text(next(wrapper.iter(_w("p"))))
    return _paragraphs_text(wrapper)[0]


def _parse_paragraphs(start_tag: str, paragraphs: list[str]):
    """Paragraphs of a body (XML text) parsed as the children of a body element with the body's start tag."""
    return etree.fromstring(f"{start_tag}{_SEPARATOR.join(paragraphs)}</w:body>".encode("utf-8"))


def _paragraphs_text(wrapper) -> list[str]:
    fitted = etree.tostring(wrapper, encoding="unicode")
    return fitted[fitted.index(">") + 1:-len("</w:body>")].split(_SEPARATOR)


def _marks_plain(body: str) -> bool:
    """Every 落款 and 落款日期 style of the body is written as python-docx writes it, first in its paragraph."""
    for style, mark in ((NAME_STYLE, _NAME_MARK), (DATE_STYLE, _DATE_MARK)):
        if body.count(f'"{style}"') + body.count(f"'{style}'") != body.count(mark):
            return False
        at = body.find(mark)
        while at >= 0:
            if _paragraph_at(body, at) is None:
                return False
            at = body.find(mark, at + 1)
    return True


def _paragraph_at(body: str, mark: int) -> tuple[int, int] | None:
    """The span of the paragraph whose <w:pPr> starts at `mark`, when it holds no other paragraph."""
    start = body.rfind("<w:p", 0, mark)
    tag = _P_TAG.fullmatch(body, start, mark) if start >= 0 else None
    if tag is None or tag.group(1):
        return None
    end = body.find(_P_END, mark)
    if end < 0 or _P_START.search(body, mark, end):
        return None
    return start, end + len(_P_END)


def _previous_paragraph(body: str, start: int) -> tuple[int, int] | None | bool:
    """The span of the paragraph before the one starting at `start` in document order (None when there is
    none; the last one to start before it, so it holds no other), or False when it holds that one."""
    found = body.rfind("<w:p", 0, start)
    while found >= 0 and not _P_START.match(body, found):  # not <w:pPr>, <w:pStyle …
        found = body.rfind("<w:p", 0, found)
    if found < 0:
        return None
    tag = _P_TAG.match(body, found)
    if tag is None:
        return False
    if tag.group(1):  # an empty paragraph, <w:p/>
        return found, tag.end()
    end = body.find(_P_END, found)
    if end < 0 or end > start:  # it holds the paragraph at `start`
        return False
    return found, end + len(_P_END)


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
