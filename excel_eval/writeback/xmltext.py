"""Parts of the user's package parsed safely and edited as text.

Every part is parsed with defusedxml first (DTDs and entity declarations refused: XML bombs, external
entities); an edited part is changed by splicing text at element boundaries, so that namespaces, prefixes,
``mc:Ignorable`` lists and extension elements stay exactly as the user's application wrote them.
"""

from __future__ import annotations

import codecs
import re
from xml.etree.ElementTree import Element

import defusedxml
import defusedxml.ElementTree as DET

from .spec import UnsafeXmlError, XlsxPackageError

ILLEGAL_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(s: str) -> str:
    return ILLEGAL_XML_CHARS.sub("", s)


def esc_text(s: str) -> str:
    return (
        s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def esc_attr(s: str) -> str:
    return (
        clean_text(s)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def ns(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def norm_color(value: str, what: str) -> str:
    v = value.strip().lstrip("#").upper()
    if not re.fullmatch(r"[0-9A-F]{6}([0-9A-F]{2})?", v):
        raise ValueError(f"{what} must be an RGB hex colour like 'FF0000', got {value!r}")
    return v if len(v) == 8 else "FF" + v


def parse_xml(data: bytes, part: str) -> Element:
    """Parse a part from the user's file, refusing DTDs / entities (XML bombs)."""
    try:
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise UnsafeXmlError(
            f"refusing to parse {part}: it contains a DTD or entity declarations "
            f"(possible XML bomb): {exc!r}"
        ) from exc
    except Exception as exc:  # ParseError and friends
        raise XlsxPackageError(f"{part} is not well-formed XML: {exc}") from exc


def decode(data: bytes, part: str) -> tuple[str, bytes, str]:
    """Return (text, bom, codec) so that bom + text.encode(codec) == data."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            break
    else:
        bom, codec = b"", "utf-8"
    try:
        text = data[len(bom):].decode(codec)
    except UnicodeDecodeError as exc:
        raise XlsxPackageError(f"{part}: unsupported text encoding ({exc})") from exc
    return text, bom, codec


_TOKEN = re.compile(
    r"<!--.*?-->"
    r"|<!\[CDATA\[.*?\]\]>"
    r"|<\?.*?\?>"
    r"|<!.*?>"
    r"|</(?P<close>[^\s>]+)\s*>"
    r"|<(?P<open>[^\s/>!?]+)(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(?P<selfclose>/?)>",
    re.S,
)
_ATTR = re.compile(r"([^\s=/>]+)\s*=\s*(\"[^\"]*\"|'[^']*')")


class TEl:
    """Position information of one element in the XML text, paired with its ET element."""

    __slots__ = ("qname", "start", "open_end", "close_start", "end", "self_closing", "children", "et")

    def __init__(self, qname: str, start: int, open_end: int, self_closing: bool):
        self.qname = qname
        self.start = start
        self.open_end = open_end
        self.close_start = open_end if self_closing else -1
        self.end = open_end if self_closing else -1
        self.self_closing = self_closing
        self.children: list[TEl] = []
        self.et: Element | None = None

    @property
    def prefix(self) -> str:
        return self.qname.split(":", 1)[0] + ":" if ":" in self.qname else ""

    @property
    def local(self) -> str:
        return self.qname.split(":", 1)[-1]

    def find(self, local: str) -> TEl | None:
        for ch in self.children:
            if ch.local == local and ch.prefix == self.prefix:
                return ch
        return None

    def findall(self, local: str) -> list[TEl]:
        return [ch for ch in self.children if ch.local == local and ch.prefix == self.prefix]


class Doc:
    """An XML part that is edited by splicing text; untouched regions keep their bytes."""

    def __init__(self, data: bytes, part: str):
        self.part = part
        self.original = data
        self.et_root = parse_xml(data, part)  # defusedxml first: refuses bombs before any scan
        self.text, self._bom, self._codec = decode(data, part)
        self.root = self._scan()
        self._pair(self.root, self.et_root)
        self._edits: list[tuple[int, int, int, str]] = []

    # -- structure
    def _scan(self) -> TEl:
        stack: list[TEl] = []
        root: TEl | None = None
        for m in _TOKEN.finditer(self.text):
            if m.group("open"):
                el = TEl(m.group("open"), m.start(), m.end(), bool(m.group("selfclose")))
                if stack:
                    stack[-1].children.append(el)
                elif root is None:
                    root = el
                if not el.self_closing:
                    stack.append(el)
            elif m.group("close"):
                if not stack or stack[-1].qname != m.group("close"):
                    raise XlsxPackageError(f"{self.part}: unexpected closing tag {m.group('close')}")
                el = stack.pop()
                el.close_start, el.end = m.start(), m.end()
        if root is None or stack:
            raise XlsxPackageError(f"{self.part}: could not scan the XML structure")
        return root

    def _pair(self, tel: TEl, et: Element) -> None:
        kids = list(et)
        if local(et.tag) != tel.local or len(kids) != len(tel.children):
            raise XlsxPackageError(f"{self.part}: XML structure scan mismatch at <{tel.qname}>")
        tel.et = et
        for t, e in zip(tel.children, kids):
            self._pair(t, e)

    # -- edits (applied on to_bytes)
    def _edit(self, start: int, end: int, new: str) -> None:
        self._edits.append((start, end, len(self._edits), new))

    @property
    def changed(self) -> bool:
        return bool(self._edits)

    def set_attr(self, el: TEl, name: str, value: str) -> None:
        open_tag = self.text[el.start:el.open_end]
        for m in _ATTR.finditer(open_tag, 1 + len(el.qname)):
            if m.group(1) == name:
                q = m.group(2)[0]
                self._edit(el.start + m.start(2), el.start + m.end(2), q + esc_attr(value) + q)
                return
        tail = 2 if el.self_closing else 1
        self._edit(el.open_end - tail, el.open_end - tail, f' {name}="{esc_attr(value)}"')

    def append_children(self, el: TEl, xml: str) -> None:
        if el.self_closing:
            # '<x a="1"/>' -> '<x a="1">' + xml + '</x>'
            slash = self.text.rindex("/", el.start, el.open_end)
            self._edit(slash, el.open_end, f">{xml}</{el.qname}>")
        else:
            self._edit(el.close_start, el.close_start, xml)

    def insert_after_open(self, el: TEl, xml: str) -> None:
        if el.self_closing:
            self.append_children(el, xml)
        else:
            self._edit(el.open_end, el.open_end, xml)

    def insert_after(self, el: TEl, xml: str) -> None:
        self._edit(el.end, el.end, xml)

    def remove(self, el: TEl) -> None:
        self._edit(el.start, el.end, "")

    def to_bytes(self) -> bytes:
        if not self._edits:
            return self.original
        out: list[str] = []
        pos = 0
        for start, end, _seq, new in sorted(self._edits):
            if start < pos:
                raise XlsxPackageError(f"{self.part}: overlapping edits")  # pragma: no cover
            out.append(self.text[pos:start])
            out.append(new)
            pos = end
        out.append(self.text[pos:])
        return self._bom + "".join(out).encode(self._codec)


def prefix_for(doc: Doc, namespace: str) -> str | None:
    """The prefix ('r:') bound to ``namespace`` on the root element of ``doc``, if any."""
    open_tag = doc.text[doc.root.start:doc.root.open_end]
    for m in _ATTR.finditer(open_tag):
        name, value = m.group(1), m.group(2)[1:-1]
        if name.startswith("xmlns:") and value == namespace:
            return name[len("xmlns:"):] + ":"
    return None
