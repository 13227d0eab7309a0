"""The template check: every tag of a .docx template, read as Word shows it, before docxtpl touches the XML.

docxtpl joins a tag's runs and cleans the XML with regular expressions; a tag that is not closed then swallows
the document up to the next closing braces, and Jinja's errors are English and name no place. This module
reads each paragraph and table cell of the parts docxtpl renders (found through the package's relationships)
with its runs joined, finds the tags, and reports, in Chinese, with the template and the place:

- braces that are not balanced, spaced (`{ {`) or full-width (`｛｛`);
- tags that are not Jinja or that Jinja cannot parse (its syntax errors translated);
- unknown variables, attributes, formats (filters) and tests, with the nearest valid name and the list;
- blocks that are not closed, closed twice, closed by the wrong tag or by a tag of another level;
- `{%p`, `{%tr`, `{%tc` (and the cell tags `colspan`, `cellbg`, `vm`, `hm`) where they cannot work;
- a tag whose runs carry different formatting (the report uses only the first run's);
- tags in parts docxtpl does not render (endnotes, comments).

What a template may use is described, not listed here: `describe(variables)` turns a description (a text for
a value, a dict for a table of named fields, `[item]` for a list, the key `*` for any name) into shapes.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from jinja2 import Environment, TemplateSyntaxError, nodes
from lxml import etree

from .docx_render import package_parts

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
ANY = "*"  # a description key: any name (the sections of 栏目)
QUOTE_WIDTH = 24  # columns of a place's text quoted in a message (a Chinese character is two)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})  # docxtpl's clean-up inside tags
# Run properties that do not change how a tag looks (language, proofing, complex-script variants).
_NEUTRAL = {"lang", "noProof", "webHidden", "szCs", "bCs", "iCs", "cs", "rtl", "kern", "specVanish"}
_NEUTRAL_ATTRIBUTES = {"hint", "cstheme"}
DATE_PARTS = ("year", "month", "day")


# --------------------------------------------------------------------------------------------- shapes


@dataclass(frozen=True)
class Text:
    """A value: text, a number or a date."""

    description: str = ""


@dataclass(frozen=True)
class Record:
    """A table of named fields (`any` for fields of any name, such as the sections of 栏目)."""

    fields: dict = field(default_factory=dict)
    any: object = None


@dataclass(frozen=True)
class Items:
    """A list; `printable` when it prints as text (a section's paragraphs)."""

    item: object
    printable: bool = False


class Unchecked:
    """A value whose shape is not known (the result of an expression): anything goes."""


UNCHECKED = Unchecked()
LOOP = Record({name: Text() for name in ("index", "index0", "revindex", "revindex0", "first", "last", "length",
                                          "depth", "depth0", "previtem", "nextitem", "cycle", "changed")})


def shape(description) -> object:
    """The shape a description gives: a text is a value, a dict a table, `[x]` a list of x."""
    if isinstance(description, dict):
        named = {k: shape(v) for k, v in description.items() if k != ANY}
        return Record(named, shape(description[ANY]) if ANY in description else None)
    if isinstance(description, (list, tuple)):
        item = shape(description[0]) if description else UNCHECKED
        return Items(item, printable=isinstance(item, Text))
    return Text(str(description))


def describe(variables: dict) -> dict[str, object]:
    """The shapes of a template's variables, from their descriptions."""
    return {name: shape(description) for name, description in variables.items()}


# --------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Issue:
    code: str
    message: str  # Chinese: the template, the place, what is wrong, how to fix it
    value: str = ""  # the tag as written


@dataclass
class LintResult:
    issues: list[Issue] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)  # the template's variables used, in order
    filters: list[str] = field(default_factory=list)
    keys: dict[str, list[str]] = field(default_factory=dict)  # variable -> the names of its fields used (栏目.职能)
    fields_used: list[tuple[str, str]] = field(default_factory=list)  # (variable, field) in order of first use


# --------------------------------------------------------------------------------------------- the places


@dataclass
class Place:
    """A paragraph as Word shows it: its text with the runs joined, and where it is."""

    label: str  # 第38段, 第1个表格第3行第2列, 页眉 …
    text: str
    segments: list[tuple[int, int, str, int]]  # (start, end, formatting, run number) of each piece of text
    paragraph: int  # unique in the template
    cell: tuple | None = None  # (table, row, column), unique in the template
    rendered: bool = True  # False in parts docxtpl leaves as they are

    @property
    def quoted(self) -> str:
        text = " ".join(self.text.split())
        width, end = 0, 0
        while end < len(text) and width + _width(text[end]) <= QUOTE_WIDTH:
            width += _width(text[end])
            end += 1
        return f"“{text[:end].rstrip()}{'…' if end < len(text) else ''}”"

    @property
    def row(self) -> tuple | None:
        return self.cell[:2] if self.cell else None

    @property
    def table(self) -> int | None:
        return self.cell[0] if self.cell else None


def _width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


class _Numbers:
    """Numbers of the tables, rows and cells of a part, in document order."""

    def __init__(self, root, first_table: int):
        self.tables = {t: n for n, t in enumerate(root.iter(W + "tbl"), start=first_table)}
        self.rows = {tr: n for t in self.tables for n, tr in enumerate(t.findall(W + "tr"), start=1)}
        self.cells = {tc: n for tr in self.rows for n, tc in enumerate(tr.findall(W + "tc"), start=1)}


def read_places(path: Path) -> tuple[list[list[Place]], str | None]:
    """The places of each part a user types into (a list per part: the main document, then its headers, footers,
    notes and comments; `Place.rendered` tells those docxtpl renders), or a Chinese reason why the file cannot
    be read."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            data = {name: archive.read(name) for name in names if name.endswith((".xml", ".rels"))}
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile):
        return [], "不是有效的 Word 文档（.docx），或文件已损坏。请在 Word 或 WPS 中打开它并另存为 .docx"
    parts = package_parts(data.get)
    if not parts:
        return [], "其中找不到 Word 文档的正文。请在 Word 或 WPS 中打开它并另存为 .docx"
    try:
        roots = {p.name: etree.fromstring(data[p.name], _PARSER) for p in parts}
    except etree.XMLSyntaxError:
        return [], "文件内容已损坏，无法读取。请在 Word 或 WPS 中打开它并另存为 .docx"
    names_of = _header_names(roots[parts[0].name])
    result, counter = [], [0, 1]  # paragraphs, tables so far
    for part in parts:
        root = roots[part.name]
        numbers = _Numbers(root, counter[1])
        counter[1] += len(numbers.tables)
        label = names_of.get(part.rel_id) or _PART_NAMES.get(part.kind, "")
        result.append(list(_part_places(root, part.kind, label, numbers, counter)))
    return result, None


_PART_NAMES = {"header": "页眉", "footer": "页脚", "footnotes": "脚注", "endnotes": "尾注", "comments": "批注"}
_REFERENCE_NAMES = {("header", "default"): "页眉", ("header", "first"): "首页页眉", ("header", "even"): "偶数页页眉",
                    ("footer", "default"): "页脚", ("footer", "first"): "首页页脚", ("footer", "even"): "偶数页页脚"}


def _header_names(document) -> dict[str, str]:
    """Relationship id -> 页眉, 首页页眉, … as the sections refer to them (第2节页眉 in a later section)."""
    names: dict[str, str] = {}
    r_id = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    for number, sect in enumerate(document.iter(W + "sectPr"), start=1):
        for kind in ("header", "footer"):
            for ref in sect.findall(f"{W}{kind}Reference"):
                name = _REFERENCE_NAMES.get((kind, ref.get(W + "type", "default")), _PART_NAMES[kind])
                names.setdefault(ref.get(r_id, ""), name if number == 1 else f"第{number}节{name}")
    return names


def _part_places(root, kind: str, part_label: str, numbers: _Numbers, counter: list[int]) -> Iterable[Place]:
    rendered = kind in ("document", "header", "footer", "footnotes")
    notes = {"footnotes": W + "footnote", "endnotes": W + "endnote", "comments": W + "comment"}.get(kind)
    body_numbers: dict = {}
    note_numbers: dict = {}
    paragraphs = [p for p in root.iter(W + "p") if not any(a.tag == MC_FALLBACK for a in p.iterancestors())]
    containers: dict = {}
    for p in paragraphs:
        containers.setdefault(_container(p, notes), []).append(p)
    for p in paragraphs:
        container = _container(p, notes)
        if notes and (container is None or container.get(W + "type")):
            continue  # the separators above the notes
        counter[0] += 1
        text, segments = _joined(p)
        cell = None
        if container is not None and container.tag == W + "tc":
            tr = container.getparent()
            cell = (numbers.tables.get(tr.getparent(), 0), numbers.rows.get(tr, 0), numbers.cells.get(container, 0))
            label = f"第{cell[0]}个表格第{cell[1]}行第{cell[2]}列"
            if kind != "document":
                label = f"{part_label}中的{label}"
        elif container is not None and notes:
            number = note_numbers.setdefault(container, len(note_numbers) + 1)
            label = f"第{number}个{part_label}"
        elif kind == "document":
            outer = next((a for a in p.iterancestors(W + "p")), None)
            if outer is not None:
                label = f"第{body_numbers.get(outer, 0)}段中的文本框"
            else:
                body_numbers[p] = len(body_numbers) + 1
                label = f"第{body_numbers[p]}段"
        else:
            label = part_label
        siblings = containers[container]
        if len(siblings) > 1 and not label.endswith("段"):
            label += f"第{siblings.index(p) + 1}段"
        yield Place(label, text, segments, counter[0], cell, rendered)


def _container(p, notes: str | None):
    """The cell, note or text box a paragraph is in (None at the top of the part)."""
    for ancestor in p.iterancestors():
        if ancestor.tag in (W + "tc", W + "txbxContent") or ancestor.tag == notes:
            return ancestor
    return None


def _joined(p) -> tuple[str, list[tuple[int, int, str, int]]]:
    """A paragraph's text as docxtpl joins it (the <w:t> of its runs, not those of nested text boxes)."""
    pieces, segments, position = [], [], 0
    runs: dict = {}
    for t in _texts(p):
        run = t.getparent()
        number = runs.setdefault(run, len(runs))
        text = t.text or ""
        segments.append((position, position + len(text), _formatting(run), number))
        pieces.append(text)
        position += len(text)
    return "".join(pieces), segments


def _texts(element) -> Iterable:
    for child in element:
        if child.tag in (W + "p", W + "txbxContent", W + "del", MC_FALLBACK):
            continue
        if child.tag == W + "t":
            yield child
        else:
            yield from _texts(child)


def _formatting(run) -> str:
    """A run's formatting, without what does not change how it looks."""
    rpr = run.find(W + "rPr") if run is not None else None
    if rpr is None:
        return ""
    items = []
    for prop in rpr:
        name = etree.QName(prop).localname
        if name in _NEUTRAL:
            continue
        attributes = sorted((etree.QName(k).localname, v) for k, v in prop.attrib.items()
                            if etree.QName(k).localname not in _NEUTRAL_ATTRIBUTES)
        if name == "rFonts" and not attributes:
            continue  # only a hint for the input method
        items.append(f"{name}{attributes}")
    return ";".join(sorted(items))


# --------------------------------------------------------------------------------------------- the tags


@dataclass
class Tag:
    """One tag of a place: `{{ … }}`, `{% … %}` or `{# … #}`, with docxtpl's level prefix (p, tr, tc, r)."""

    kind: str  # {{, {%, {#
    level: str  # "", p, tr, tc, r
    body: str  # between the braces, without the level
    start: int
    end: int
    place: Place

    @property
    def text(self) -> str:
        return self.place.text[self.start:self.end]

    @property
    def word(self) -> str:
        """The statement of a {% %} tag: if, for, endif …"""
        match = re.match(r"[-+]?\s*(\w+)", self.body)
        return match.group(1) if match else ""

    @property
    def rest(self) -> str:
        """What follows the statement, as Jinja reads it: curly quotes straight, without - or + for whitespace."""
        body = _clean(self.body).strip().lstrip("-+").strip()
        return body[len(self.word):].rstrip("-+").strip()


_CLOSERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_BRACE = re.compile(r"\{[ \t\u3000]*[{%#]|[}%#][ \t\u3000]*\}")
_FULL_WIDTH = re.compile(r"[{｛][ \t\u3000]*[｛％]|｛[ \t\u3000]*[{%]|[｝％][ \t\u3000]*[}｝]|[}%][ \t\u3000]*｝")
_LEVEL = re.compile(r"(p|tr|tc|r) ")


def scan(place: Place, say) -> list[Tag]:
    """The tags of a place; unbalanced, spaced and full-width braces are reported through `say(code, place,
    tag_text, message)`."""
    text = place.text
    for match in _FULL_WIDTH.finditer(text):
        say("template-brace-fullwidth", place, match.group(),
            f"“{match.group()}”用了全角符号，这不是标签。请改为半角的 {{{{ }}}} 或 {{% %}}（输入时切换到英文标点）。")
    tags: list[Tag] = []
    opened: tuple[str, int] | None = None  # the opening braces of the tag being read, and where
    for match in _BRACE.finditer(text):
        token = re.sub(r"[ \t\u3000]", "", match.group())
        if token != match.group() and (opened is None or opened[0] != "{#"):
            say("template-brace-spaced", place, match.group(),
                f"“{match.group()}”的两个符号之间有空格，程序不会把它当作标签。请删去空格，写成“{token}”。")
        if opened is None:
            if token in _CLOSERS:
                opened = (token, match.start(), match.end())
            else:
                _stray(place, token, match, say)
            continue
        kind, start, inner = opened
        if token == _CLOSERS[kind]:
            tags.append(_tag(kind, start, text[inner:match.start()], match.end(), place))
            opened = None
        elif kind == "{#":
            continue  # anything may be written inside a comment
        elif token not in _CLOSERS:
            say("template-brace-unclosed", place, text[start:match.end()],
                f"标签“{_short(text[start:match.end()])}”以“{kind}”开始，却以“{token}”结束。"
                f"请改为以“{_CLOSERS[kind]}”结束。")
            opened = None
        else:
            _unclosed(place, kind, start, match.start(), say)
            opened = (token, match.start(), match.end())
    if opened is not None:
        _unclosed(place, opened[0], opened[1], len(text), say)
    return tags


def _stray(place: Place, token: str, match, say) -> None:
    before = place.text[max(0, match.start() - 10):match.end()]
    opening = _opening(token)
    say("template-brace-stray", place, match.group(),
        f"“{before}”中多了“{token}”：前面没有与它配对的“{opening}”。"
        f"请检查是否少写了开头的“{opening}”（两个符号都要写），或删去多余的“{token}”。")


def _opening(closer: str) -> str:
    return {v: k for k, v in _CLOSERS.items()}[closer]


def _tag(kind: str, start: int, inner: str, end: int, place: Place) -> Tag:
    level = ""
    match = _LEVEL.match(inner)
    if match and (kind != "{#" or match.group(1) != "r"):
        level, inner = match.group(1), inner[match.end():]
    return Tag(kind, level, inner, start, end, place)


def _unclosed(place: Place, kind: str, start: int, end: int, say) -> None:
    written = place.text[start:end]
    closer = _CLOSERS[kind]
    hint = f"是否少写了一个“{closer[0]}”？" if closer[0] in written[2:] else ""
    say("template-brace-unclosed", place, written,
        f"标签“{_short(written)}”没有结束：缺少“{closer}”。{hint}请在标签末尾写上“{closer}”"
        "（两个符号都要写，且为半角）。一个标签必须在同一段中写完。")


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# --------------------------------------------------------------------------------------------- the checker

STATEMENTS = ("if", "elif", "else", "endif", "for", "endfor", "set", "colspan", "cellbg", "vm", "hm")
_OPENERS = {"if": "endif", "for": "endfor"}
_MIDDLES = {"elif": ("if",), "else": ("if", "for")}
_ENDS = {"endif": "if", "endfor": "for"}
_CELL_ONLY = ("colspan", "cellbg", "vm", "hm")
_SAME_SHAPE_FILTERS = {"sort", "reverse", "list", "unique", "selectattr", "rejectattr", "select", "reject",
                       "default", "d", "batch", "slice"}
_ITEM_FILTERS = {"first", "last", "random", "min", "max"}
_LEVEL_NAMES = {"": "", "p": "段落", "tr": "表格行", "tc": "单元格", "r": "文字"}


@dataclass
class _Block:
    word: str  # if, for
    tag: Tag
    frame: dict | None = None  # names the block defines (a for loop's variable and loop)


# Tags parsed, by the environment's syntax and the source: the bundled templates share half of their 270 tags.
# The trees are only read.
_PARSED: dict[tuple, object] = {}
_PARSED_AT_MOST = 4096


def _syntax_of(env: Environment) -> tuple:
    """What an environment's parse of a source depends on."""
    return (env.block_start_string, env.block_end_string, env.variable_start_string, env.variable_end_string,
            env.comment_start_string, env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
            env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
            tuple(sorted(env.extensions)))


class Checker:
    """Checks a template's tags in document order, part by part, with Jinja's scoping of loop variables."""

    def __init__(self, filename: str, shapes: dict[str, object], env, formats: Iterable[str],
                 hints: dict[str, str] | None = None):
        self.filename = filename
        self.shapes = shapes
        self.env = env
        self._syntax_key = _syntax_of(env)  # where its parsed tags are kept in _PARSED
        self.formats = list(formats)
        self.hints = hints or {}
        self.result = LintResult()
        self._seen: set[tuple] = set()
        self._found: list[tuple[int, Issue]] = []
        self.stack: list[_Block] = []
        self.frame: dict[str, object] = {}
        self.by_cell: dict[tuple, list[Place]] = {}  # (table, row) and (table, row, column) -> their places

    def index(self, places: list[Place]) -> None:
        for place in places:
            if place.cell:
                self.by_cell.setdefault(place.row, []).append(place)
                self.by_cell.setdefault(place.cell, []).append(place)

    # ------------------------------------------------------------------ reporting

    def say(self, code: str, place: Place, tag_text: str, message: str) -> None:
        key = (code, place.paragraph, tag_text, message)
        if key not in self._seen:
            self._seen.add(key)
            where = f"{self.filename} {place.label}{place.quoted}"
            self._found.append((place.paragraph, Issue(code, f"{where}：{message}", tag_text)))

    def issues(self) -> list[Issue]:
        """Every issue, in document order."""
        return [issue for _, issue in sorted(self._found, key=lambda found: found[0])]

    # ------------------------------------------------------------------ parts and tags

    def check_part(self, places: list[Place]) -> None:
        self.stack, self.frame = [], {}
        tags: list[Tag] = []
        for place in places:
            found = scan(place, self.say)
            if not place.rendered:
                for tag in found:
                    self.say("template-tag-not-rendered", place, tag.text,
                             f"标签“{_short(tag.text)}”写在{place.label}中，程序不会替换这里的标签，"
                             "报告中会原样出现。请把它移到正文、页眉、页脚或脚注中。")
                continue
            tags += found
        for tag in tags:
            self._check_formatting(tag)
            self._check_tag(tag)
        for block in reversed(self.stack):
            end = _OPENERS[block.word]
            self.say("template-block-unclosed", block.tag.place, block.tag.text,
                     f"“{_short(block.tag.text)}”没有对应的结束标签。请在{_level_text(block.tag.level)}"
                     f"写上“{_end_tag(block.tag.level, end)}”。")

    def _check_tag(self, tag: Tag) -> None:
        if tag.kind == "{#":
            if tag.level:
                self._check_level(tag)
            return
        if tag.kind == "{{":
            self._check_output(tag)
            return
        word = tag.word
        if word not in STATEMENTS:
            self._unknown_statement(tag, word)
            return
        if word in _CELL_ONLY:
            self._check_cell_tag(tag, word)
        elif tag.level:
            self._check_level(tag)
        if word in _OPENERS:
            self._open(tag, word)
        elif word in _MIDDLES:
            self._middle(tag, word)
        elif word in _ENDS:
            self._close(tag, word)
        else:
            self._statement(tag, word)

    def _check_output(self, tag: Tag) -> None:
        if tag.level:
            self.say("template-tag-misplaced", tag.place, tag.text,
                     f"“{_short(tag.text)}”中的“{tag.level}”用于图片、子文档等特殊内容，这里的数据都是文字。"
                     f"请写成“{{{{ {tag.body.strip()} }}}}”。")
            return
        template = self._parse(tag, "{{" + _clean(tag.body) + "}}")
        if template is None:
            return
        expression = template.body[0].nodes[0]
        found = self._expression(tag, expression)
        if isinstance(found, Record) or (isinstance(found, Items) and not found.printable):
            what = "一组数据" if isinstance(found, Record) else "一个列表"
            self.say("template-value-not-text", tag.place, tag.text,
                     f"“{_short(tag.text)}”是{what}，不能直接写在报告中。请写出其中的一项（如 "
                     f"{{{{ 来源.名称 }}}}），或用 {{%tr for 项 in … %}} 逐行列出。")

    def _statement(self, tag: Tag, word: str) -> None:
        rest = tag.rest
        if word in ("colspan", "cellbg"):
            template = self._parse(tag, "{{ " + rest + " }}") if rest else self._incomplete(tag, word)
            if template is not None:
                self._expression(tag, template.body[0].nodes[0])
        elif word == "set":
            template = self._parse(tag, "{% set " + rest + " %}") if "=" in rest else self._incomplete(tag, word)
            if template is not None:
                assign = template.body[0]
                value = self._expression(tag, assign.node)
                target = self.stack[-1].frame if self.stack and self.stack[-1].frame is not None else self.frame
                for name in _targets(assign.target):
                    target[name] = value
        elif rest:  # vm, hm
            self._syntax(tag, f"“{word}”后面不能再写别的内容")

    def _incomplete(self, tag: Tag, word: str) -> None:
        examples = {"set": "{% set 合计 = 支出数 + 结余 %}", "colspan": "{% colspan 2 %}",
                    "cellbg": '{% cellbg "FF0000" %}'}
        self._syntax(tag, f"“{word}”标签不完整，应写成 {examples[word]}")

    # ------------------------------------------------------------------ blocks

    def _open(self, tag: Tag, word: str) -> None:
        rest = tag.rest
        source = f"{{% {word} {rest} %}}{{% end{word} %}}"
        template = self._parse(tag, source) if rest else self._syntax(tag, _EMPTY[word])
        block = _Block(word, tag)
        if template is not None:
            node = template.body[0]
            if word == "if":
                self._expression(tag, node.test)
            else:
                iterated = self._expression(tag, node.iter)
                item = _item_of(iterated)
                block.frame = {name: item for name in _targets(node.target)}
                block.frame["loop"] = LOOP
                if node.test is not None:
                    self.stack.append(block)
                    self._expression(tag, node.test)
                    self.stack.pop()
        elif word == "for":
            block.frame = {"loop": LOOP}
        self.stack.append(block)

    def _middle(self, tag: Tag, word: str) -> None:
        block = self.stack[-1] if self.stack else None
        if block is None or block.word not in _MIDDLES[word]:
            opener = "、".join(f"{{% {w} %}}" for w in _MIDDLES[word])
            self.say("template-block-unopened", tag.place, tag.text,
                     f"“{_short(tag.text)}”前面没有与它配对的 {opener}。请补上开始的标签，或删去它。")
            return
        self._check_pair(block.tag, tag)
        if word == "elif":
            template = self._parse(tag, f"{{% if {tag.rest} %}}{{% endif %}}") if tag.rest else self._syntax(
                tag, _EMPTY["if"])
            if template is not None:
                self._expression(tag, template.body[0].test)
        elif tag.rest:
            self._syntax(tag, "“else”后面不能再写别的内容")

    def _close(self, tag: Tag, word: str) -> None:
        wanted = _ENDS[word]
        if tag.rest:
            self._syntax(tag, f"“{word}”后面不能再写别的内容")
        if not any(b.word == wanted for b in self.stack):
            self.say("template-block-unopened", tag.place, tag.text,
                     f"“{_short(tag.text)}”前面没有与它配对的 {{% {wanted} … %}}。请补上开始的标签，或删去它。")
            return
        while self.stack[-1].word != wanted:
            inner = self.stack.pop()
            self.say("template-block-mismatched", tag.place, tag.text,
                     f"“{_short(tag.text)}”之前，{inner.tag.place.label}的“{_short(inner.tag.text)}”还没有结束。"
                     f"请先写“{_end_tag(inner.tag.level, _OPENERS[inner.word])}”。")
        block = self.stack.pop()
        self._check_pair(block.tag, tag)

    def _check_pair(self, opener: Tag, other: Tag) -> None:
        """A block's tags on one level and where that level needs them: one paragraph for plain tags, one cell
        for {%p, one table for {%tr (other rows), one row for {%tc (other cells)."""
        a, b = opener.place, other.place
        if opener.level in ("tr", "tc") and (a.cell is None or b.cell is None):
            return  # outside a table: said where the tag is
        if opener.level != other.level:
            have = f"带 {opener.level}" if opener.level else "不带 p、tr、tc"
            self.say("template-block-mismatched", b, other.text,
                     f"“{_short(other.text)}”对应{a.label}的“{_short(opener.text)}”，开始标签{have}，"
                     f"这里也要一样：请写成“{_end_tag(opener.level, other.word)}”。")
            return
        problem = None
        if opener.level in ("", "r") and a.paragraph != b.paragraph:
            self.say("template-block-split", b, other.text,
                     f"“{_short(other.text)}”与{a.label}的“{_short(opener.text)}”不在同一段中：不带 p 的标签只能在一段之内"
                     f"使用。要按条件保留或重复整段，请把标签单独成段，写成 {{%p {opener.word} … %}} 和 "
                     f"{{%p {_OPENERS.get(opener.word, other.word)} %}}。")
            return
        if opener.level == "p" and a.cell != b.cell:
            problem = "不在同一个单元格中（或一个在表格中，一个不在）。{%p 只能在一个单元格内使用；要按行重复表格，请用 {%tr for … %} 和 {%tr endfor %}"
        elif opener.level == "tr" and (a.table != b.table or a.row == b.row):
            problem = "应写在同一个表格的不同行中（开始标签所在的行和结束标签所在的行都会被删去）"
        elif opener.level == "tc" and (a.row != b.row or a.cell == b.cell):
            problem = "应写在同一行的不同单元格中（开始和结束标签所在的单元格都会被删去）"
        if problem:
            self.say("template-tag-misplaced", b, other.text,
                     f"“{_short(other.text)}”与{a.label}的“{_short(opener.text)}”{problem}。")

    # ------------------------------------------------------------------ where docxtpl's level tags work

    def _check_level(self, tag: Tag) -> None:
        """Where docxtpl can use a tag with a level: tr and tc in a table, nothing after it in its paragraph,
        row or cell, and no % or } inside (its pattern ends the tag there)."""
        place = tag.place
        if tag.level in ("tr", "tc") and place.cell is None:
            self.say("template-tag-misplaced", place, tag.text,
                     f"“{_short(tag.text)}”只能写在表格的单元格中（{_LEVEL_NAMES[tag.level]}标签）。"
                     f"表格之外请用“{{%p {tag.body.strip()} %}}”。")
            return
        inner = r"[}#]" if tag.kind == "{#" else r"[}%]"
        if re.search(inner, tag.body):
            mark = "#" if tag.kind == "{#" else "%"
            self.say("template-tag-misplaced", place, tag.text,
                     f"“{_short(tag.text)}”中不能有“{mark}”或“}}”：带 {tag.level} 的标签在第一个“{mark}”或“}}”处就结束了。")
            return
        self._check_alone(tag)

    def _check_alone(self, tag: Tag) -> None:
        """A level tag replaces its whole paragraph, row, cell or run: other text there would be lost."""
        if not tag.level:
            return
        place = tag.place
        if tag.level == "p":
            others = place.text[:tag.start] + place.text[tag.end:]
        elif tag.level == "r":
            run = next(s[3] for s in place.segments if s[0] <= tag.start < s[1] or s[0] == tag.start)
            others = "".join(place.text[s:e] for s, e, _, n in place.segments if n == run)
            others = others.replace(tag.text, "", 1)
        else:
            key = place.row if tag.level == "tr" else place.cell
            others = self._text_of(key, tag)
            others = re.sub(r"\{%%%s .*?%%\}" % tag.level, "", others)  # the block's other tags: said elsewhere
        if others.strip():
            where = {"p": "这一段", "tr": "这一行", "tc": "这个单元格", "r": "这一段文字"}[tag.level]
            self.say("template-tag-alone", place, tag.text,
                     f"“{_short(tag.text)}”所在的{where[2:]}会整个被它替换，{where}中的其他文字“{_short(others.strip(), 20)}”"
                     f"不会出现在报告中。请把“{_short(tag.text)}”单独放在{where}中。")

    def _text_of(self, key: tuple, tag: Tag) -> str:
        places = self.by_cell.get(key, [])
        return "".join(p.text.replace(tag.text, "", 1) if p is tag.place else p.text for p in places)

    def _check_cell_tag(self, tag: Tag, word: str) -> None:
        place = tag.place
        if place.cell is None or tag.level:
            example = {"colspan": "{% colspan 2 %}", "cellbg": '{% cellbg "FF0000" %}'}.get(word, f"{{% {word} %}}")
            self.say("template-tag-misplaced", place, tag.text,
                     f"“{_short(tag.text)}”只能写在表格的单元格中，且不带 p、tr、tc，写成 {example}。")
            return
        if word == "vm" and not any(b.word == "for" for b in self.stack):
            self.say("template-tag-misplaced", place, tag.text,
                     "{% vm %} 用于 {%tr for … %} 循环出的行，把各行的这一格上下合并为一格（只保留第一行的文字）。请把它放在循环的行中。")
        if word == "hm" and not any(b.word == "for" and b.tag.level == "tc" for b in self.stack):
            self.say("template-tag-misplaced", place, tag.text,
                     "{% hm %} 用于 {%tc for … %} 循环中的单元格，把循环出的各列合并为一格。请把它放在循环的单元格中。")

    def _check_formatting(self, tag: Tag) -> None:
        place = tag.place
        formats = {f for s, e, f, _ in place.segments if s < tag.end and e > tag.start
                   and place.text[max(s, tag.start):min(e, tag.end)].strip()}
        if len(formats) > 1:
            self.say("template-format-split", place, tag.text,
                     f"标签“{_short(tag.text)}”中途改变了格式（字体、字号、颜色或加粗等），报告中这里只会用标签开头部分的"
                     "格式。请选中整个标签（连同两边的括号），统一设置一种格式。")

    # ------------------------------------------------------------------ expressions

    def _parse(self, tag: Tag, source: str):
        key = (self._syntax_key, source)
        if key in _PARSED:
            return _PARSED[key]
        try:
            parsed = self.env.parse(source)
        except TemplateSyntaxError as exc:
            self._syntax(tag, explain_syntax(exc.message or "", self.formats))
            return None
        if len(_PARSED) >= _PARSED_AT_MOST:  # a program that checks many templates: started afresh
            _PARSED.clear()
        _PARSED[key] = parsed
        return parsed

    def _syntax(self, tag: Tag, reason: str) -> None:
        self.say("template-syntax", tag.place, tag.text,
                 f"标签“{_short(tag.text)}”写法有误：{reason}。"
                 "写法见 README“修改报告模板”：变量 {{ 名称 }}，格式 {{ 名称|格式 }}，条件 {% if … %}…{% endif %}。")

    def _unknown_statement(self, tag: Tag, word: str) -> None:
        spaced = re.match(r"\s+(p|tr|tc)\s+(\w+)", tag.body)
        if spaced and spaced.group(2) in STATEMENTS:
            message = (f"“{_short(tag.text)}”中“%”和“{spaced.group(1)}”之间有空格。"
                       f"请写成“{{%{spaced.group(1)} {spaced.group(2)} …”。")
        else:
            near = _nearest(word, STATEMENTS)
            message = (f"没有“{word or tag.body.strip()}”这种标签。{near}"
                       f"可用的标签有：{'、'.join(STATEMENTS)}。")
        self.say("template-tag-unknown", tag.place, tag.text, message)

    def _lookup(self, name: str):
        for block in reversed(self.stack):
            if block.frame and name in block.frame:
                return block.frame[name]
        if name in self.frame:
            return self.frame[name]
        if name in self.shapes:
            if name not in self.result.variables:
                self.result.variables.append(name)
            return self.shapes[name]
        if name in self.env.globals:
            return UNCHECKED
        return None

    def _visible(self) -> list[str]:
        names = [n for b in self.stack if b.frame for n in b.frame if n != "loop"] + list(self.frame)
        return names + [n for n in self.shapes if n not in names]

    def _expression(self, tag: Tag, node) -> object:
        """The shape of an expression; its unknown names, attributes, formats and tests reported."""
        if isinstance(node, nodes.Name):
            found = self._lookup(node.name)
            if found is None:
                self._unknown_name(tag, node.name)
                return UNCHECKED
            return found
        if isinstance(node, nodes.Getattr):
            return self._attribute(tag, node, node.node, node.attr)
        if isinstance(node, nodes.Getitem):
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                return self._attribute(tag, node, node.node, node.arg.value)
            base = self._expression(tag, node.node)
            self._expression(tag, node.arg)
            if isinstance(node.arg, nodes.Slice):
                return base
            return _item_of(base) if isinstance(base, Items) else UNCHECKED
        if isinstance(node, nodes.Filter):
            return self._filter(tag, node)
        if isinstance(node, nodes.Test):
            if node.name not in self.env.tests:
                named = [t for t in sorted(self.env.tests) if t.isidentifier()]
                self._unknown(tag, "template-test-unknown", "判断", node.name, named)
            self._children(tag, node)
            return Text()
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
            self._expression(tag, node.node.node)  # a method: its name is not checked
            for child in [*node.args, *node.kwargs]:
                self._expression(tag, child)
            return UNCHECKED
        self._children(tag, node)
        return UNCHECKED

    def _children(self, tag: Tag, node) -> None:
        for child in node.iter_child_nodes():
            self._expression(tag, child)

    def _attribute(self, tag: Tag, node, base_node, name: str) -> object:
        base = self._expression(tag, base_node)
        written = _written(base_node)
        if name.startswith("_"):
            self.say("template-attribute-unknown", tag.place, tag.text,
                     f"“{_short(tag.text)}”中的“{name}”不能使用：模板只能使用 excel-eval templates 列出的数据。请删去它。")
            return UNCHECKED
        if isinstance(base, Record):
            if isinstance(base_node, nodes.Name) and (name in base.fields or base.any is not None):
                keys = self.result.keys.setdefault(base_node.name, [])
                if name not in keys:
                    keys.append(name)
                    self.result.fields_used.append((base_node.name, name))
            if name in base.fields:
                return base.fields[name]
            if base.any is not None:
                return base.any
            self._unknown(tag, "template-attribute-unknown", "项", name, list(base.fields), owner=written)
            return UNCHECKED
        if isinstance(base, Items):
            self.say("template-attribute-unknown", tag.place, tag.text,
                     f"“{written}”是一个列表，没有“{name}”这一项。要写出每一项的“{name}”，请用 "
                     f"{{% for 项 in {written} %}}{{{{ 项.{name} }}}}{{% endfor %}}；只要第一项，请写 {written}[0].{name}。")
            return UNCHECKED
        if isinstance(base, Text) and name not in DATE_PARTS:
            self.say("template-attribute-unknown", tag.place, tag.text,
                     f"“{written}”是一个值，没有“{name}”这一项。请删去“.{name}”，或检查是否应写成“{written}|{name}”（格式）。")
        return UNCHECKED

    def _filter(self, tag: Tag, node: nodes.Filter) -> object:
        base = self._expression(tag, node.node) if node.node is not None else UNCHECKED
        for child in [*node.args, *node.kwargs]:
            self._expression(tag, child)
        if node.name not in self.env.filters:
            self._unknown(tag, "template-filter-unknown", "格式", node.name, self.formats,
                          extra="，以及 length、join、default 等通用格式")
            return UNCHECKED
        if node.name not in self.result.filters:
            self.result.filters.append(node.name)
        if node.name in _SAME_SHAPE_FILTERS:
            return base
        if node.name in _ITEM_FILTERS:
            return _item_of(base)
        return Text() if node.name in self.formats or node.name in ("length", "count", "join") else UNCHECKED

    def _unknown_name(self, tag: Tag, name: str) -> None:
        self._unknown(tag, "template-variable-unknown", "变量", name, self._visible(),
                      extra="" if not self.stack else "（包括循环变量）")

    def _unknown(self, tag: Tag, code: str, what: str, name: str, valid: list[str], extra: str = "",
                 owner: str = "") -> None:
        """No such name: what it is, the nearest valid name (a hint first) and the list of valid names."""
        near = self.hints.get(name) if self.hints.get(name) in valid else None
        suggestion = f"您是否要写 {near}？" if near else _nearest(name, valid)
        listed = "、".join(valid) if valid else "（无）"
        blank = "，报告中这里会是空白" if code in ("template-variable-unknown", "template-attribute-unknown") else ""
        among = f"“{owner}”中的{what}" if owner else f"可用的{what}"
        self.say(code, tag.place, tag.text,
                 f"“{_short(tag.text)}”中的“{name}”不是{among}{blank}。{suggestion}{among}有：{listed}{extra}。")


_EMPTY = {"if": "“if”后面要写条件，如 {% if 支出数 == 全年预算数 %}",
          "for": "“for”应写成 {% for 项 in 列表 %}，如 {%tr for 笔 in 支出明细 %}"}


def _targets(node) -> list[str]:
    """The names a for loop or a set assigns (one name, or a tuple of names)."""
    if isinstance(node, nodes.Name):
        return [node.name]
    return [n.name for n in node.find_all(nodes.Name)]


def _item_of(found) -> object:
    if isinstance(found, Items):
        return found.item
    if isinstance(found, Record):
        return Text()  # iterating a table gives its names
    return UNCHECKED


def _written(node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_written(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return f"{_written(node.node)}[{node.arg.value!r}]"
    return "…"


def _clean(body: str) -> str:
    """The tag's content as docxtpl hands it to Jinja: curly quotes made straight."""
    return body.translate(_QUOTES)


def _nearest(name: str, valid: Iterable[str]) -> str:
    near = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.5)
    return f"您是否要写 {near[0]}？" if near else ""


def _level_text(level: str) -> str:
    return {"": "同一段中", "p": "后面单独的一段中", "tr": "后面的一行中", "tc": "后面的一个单元格中",
            "r": "同一段中"}[level]


def _end_tag(level: str, word: str) -> str:
    return f"{{%{level} {word} %}}" if level else f"{{% {word} %}}"


# --------------------------------------------------------------------------------------------- syntax errors


def explain_syntax(message: str, formats: Iterable[str] = ()) -> str:
    """Jinja's syntax error message, in Chinese (never the English text)."""
    formats = set(formats)
    match = re.match(r"unexpected char '(.)'", message)
    if match:
        char = match.group(1)
        narrow = unicodedata.normalize("NFKC", char)
        if narrow != char and narrow.isascii():
            return f"“{char}”是全角字符，请改为半角的“{narrow}”（输入时切换到英文标点）"
        if char in "\"'":
            return f"引号“{char}”没有配对，请在文字两边都加上引号"
        return f"标签中不能使用字符“{char}”"
    match = re.match(r"expected token '(end of print statement|end of statement block)', got '(.+)'", message)
    if match:
        got = match.group(2)
        if got in formats:
            return f"“{got}”是格式，要用竖线连接，写成 …|{got}"
        if got == "=":
            return "比较是否相等要写两个等号“==”"
        return f"“{got}”前面缺少连接的符号：一个标签中只能写一个变量（可以带格式），两个名称之间不能只用空格隔开"
    match = re.match(r"expected token 'in', got", message)
    if match:
        return "“for”应写成 {% for 项 in 列表 %}，如 {%tr for 笔 in 支出明细 %}"
    match = re.match(r"expected token 'name', got 'end of (print statement|statement block)'", message)
    if match:
        return "竖线“|”后面要写格式的名称，如 |金额"
    if message.startswith("Expected an expression") or message.startswith("unexpected 'end of"):
        return "标签不完整：缺少要写出或比较的内容"
    match = re.match(r"unexpected '(.+?)', expected '(.+?)'", message)
    if match:
        return f"括号没有配对：缺少“{match.group(2)}”"
    match = re.match(r"unexpected '(.+)'", message)
    if match:
        return f"“{match.group(1)}”的位置写法有误（可能多了这个符号，或它前面少了内容）"
    if message.startswith("expected name or number"):
        return "点“.”后面要写项目的名称，如 来源.名称"
    if message.startswith("tag name expected"):
        return "标签中没有内容"
    return "无法识别这个标签的写法"


# --------------------------------------------------------------------------------------------- the entry


def lint_docx(path: Path, shapes: dict[str, object], env, formats: Iterable[str] = (),
              hints: dict[str, str] | None = None) -> LintResult:
    """Check every tag of the template at `path`. `shapes` (see `describe`) says what it may use; `env` is the
    Jinja environment it renders in (its filters, tests and globals); `formats` are the report formats to
    list and `hints` maps names users guess to the valid ones (总分 → 自评得分)."""
    checker = Checker(Path(path).name, shapes, env, formats, hints)
    parts, unreadable = read_places(Path(path))
    if unreadable:
        checker.result.issues.append(Issue("template-unreadable", f"{Path(path).name} {unreadable}。"))
        return checker.result
    checker.index([p for places in parts for p in places])
    for places in parts:
        checker.check_part(places)
    checker.result.issues = checker.issues()
    return checker.result


def lint_texts(filename: str, texts: dict[str, str], shapes: dict[str, object], env, formats: Iterable[str] = (),
               hints: dict[str, str] | None = None) -> list[Issue]:
    """Check template text kept outside the .docx (the default texts of a .toml): each text is one place,
    named by its key in `texts`."""
    checker = Checker(filename, shapes, env, formats, hints)
    for number, (label, text) in enumerate(texts.items(), start=1):
        checker.check_part([Place(label, text, [(0, len(text), "", 0)], number)])
    return checker.issues()
