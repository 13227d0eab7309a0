"""Column widths of a fixed-layout table, chosen from its content.

A table of fixed column widths looks the same in Word, WPS and LibreOffice, but widths fixed in a template
suit one content only: a cell whose text is one character longer than its column leaves that character
alone on a line ("…批/次"), a wide column of short texts wastes the room a long one needs. Here each column
first gets the width its short texts need on one line (numbers, labels, headings up to SHORT em); the room
left is shared in proportion to how far each column's longest text is from fitting on one line; width then
moves from one column to another (MOVES) while that makes the table lower; last, every cell that would leave
a character alone on its last line has its column widened or narrowed, the width given to or taken from the
column that suits it best, as long as the table gets no taller. The short texts' cells stay one line at any
width the search tries, so they are left out of it (a form has many).

What a text needs is estimated as Word and LibreOffice set it: a Chinese character one em, a digit or Latin
letter about half (Times New Roman), a fifth of an em between Chinese and a digit or letter; lines break
between Chinese characters but not inside a number or a word, never before a closing mark nor after an
opening one. The estimate is not exact, so a lonely character is looked for a little either side of the
width (TOLERANCE).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import unicodedata
from dataclasses import dataclass

NO_LINE_START = set("，。、；：？！）》」』】〕”’…—％%,.;:?!)]}·")  # a line never starts with these
NO_LINE_END = set("（《「『【〔“‘([{")  # nor ends with these
_NARROW = {".": 0.25, ",": 0.25, ":": 0.28, ";": 0.28, "%": 0.83, " ": 0.25, "-": 0.33, "+": 0.56,
           "(": 0.33, ")": 0.33, "/": 0.28}
AUTOSPACE = 0.2  # em between Chinese and a digit or Latin letter (LibreOffice 7.4, measured; Word about 0.25)
TOLERANCE = 0.25  # em: a lonely character is looked for this much either side of the width, for the
#                   estimate is not exact (fonts differ from machine to machine, Word and LibreOffice differ)
SHORT = 6.0  # em: a text up to this long is kept on one line when the room allows
MOVES = (1.0, 2.0, 4.0)  # em moved from one column to another at a time when lowering the table


@functools.lru_cache(maxsize=None)  # a few thousand characters at most
def char_width(ch: str) -> float:
    """A character's advance in em."""
    if unicodedata.east_asian_width(ch) in "WFA":
        return 1.0
    if ch.isupper():
        return 0.67
    return _NARROW.get(ch, 0.5)


@functools.lru_cache(maxsize=4096)
def _pieces(text: str) -> tuple[tuple[float, str], ...]:
    """The pieces a line may break between, with their widths: each Chinese character, each number or word,
    with the closing marks after it and the opening marks before it."""
    pieces: list[list] = []  # [width, text, kind]
    pending, pending_width = "", 0.0
    for ch in text:
        width = char_width(ch)
        word = ch.isascii() and (ch.isalnum() or ch in ".%")
        if ch in NO_LINE_END:
            pending, pending_width = pending + ch, pending_width + width
            continue
        if pieces and not pending and (ch in NO_LINE_START or (word and pieces[-1][2] == "word")):
            pieces[-1][0] += width
            pieces[-1][1] += ch
            continue
        kind = "word" if word else "cjk" if width == 1.0 else "other"
        gap = AUTOSPACE if pieces and {kind, pieces[-1][2]} == {"word", "cjk"} else 0.0
        pieces.append([width + pending_width + gap, pending + ch, kind])
        pending, pending_width = "", 0.0
    if pending:
        pieces.append([pending_width, pending, "other"])
    return tuple((width, chars) for width, chars, _ in pieces)


@functools.lru_cache(maxsize=4096)
def _piece_widths(text: str) -> tuple[float, ...]:
    return tuple(w for w, _ in _pieces(text))


def _layout(text: str, width: float) -> tuple[int, int]:
    """(the number of lines, the index of the first piece on the last line) of `text` set in `width` em by a
    greedy line breaker: a piece goes on the next line when the line has pieces and the piece would take it
    past `width`. Each line's running widths are added up in order, as a loop adding piece by piece would."""
    return _breaks(text).at(width)[0]


class _Breaks:
    """A text's layouts, remembered by the range of widths each holds for. The greedy breaker's lines depend
    on the width only through comparisons of each line's running widths with it: a layout found at one width
    is the layout at every width for which those comparisons come out the same, from the widest line's
    running width (fits) up to the least running width that took a piece onto the next line (does not). A
    form's search asks a text's layout at hundreds of widths, most of them inside a range already found."""

    __slots__ = ("text", "widths", "whole", "lows", "found")

    def __init__(self, text: str):
        self.text = text
        self.widths = _piece_widths(text)
        self.whole = next(reversed(list(itertools.accumulate(self.widths))), 0.0)  # the running width of all
        self.lows: list[float] = []  # sorted lower ends of the ranges found
        self.found: list[tuple[float, tuple[int, int], bool | None]] = []  # (upper end, layout, lonely), by low

    def at(self, width: float) -> tuple[tuple[int, int], int]:
        """The layout at `width` and its place in `found`."""
        limit = width + 1e-9  # the breaker's tolerance for widths added up in another order
        index = bisect.bisect_right(self.lows, limit) - 1
        if index >= 0 and limit < self.found[index][0]:
            return self.found[index][1], index
        layout, low, high = self._lay_out(limit)
        index = bisect.bisect_right(self.lows, low)
        self.lows.insert(index, low)
        self.found.insert(index, (high, layout, None))
        return layout, index

    def lonely_at(self, width: float) -> bool:
        """Whether the last line at `width` holds a single character (punctuation aside): the same at every
        width of the layout's range, so worked out once for it."""
        (count, start), index = self.at(width)
        high, layout, alone = self.found[index]
        if alone is None:
            last = "".join(chars for _, chars in _pieces(self.text)[start:])
            alone = count >= 2 and len([ch for ch in last if ch not in NO_LINE_START and ch not in NO_LINE_END]) <= 1
            self.found[index] = (high, layout, alone)
        return alone

    def _lay_out(self, limit: float) -> tuple[tuple[int, int], float, float]:
        """The layout at `limit` and the range [low, high) of limits it holds for."""
        widths = self.widths
        most = int(max(limit, 0.0) * 4) + 2  # a piece is at least a quarter em wide: no more fit on a line
        low, high = float("-inf"), float("inf")
        if len(widths) <= most and self.whole <= limit:  # one line (most texts, most widths): as the loop finds
            return (1, 0), (self.whole if len(widths) > 1 else low), high
        count, start = 1, 0
        while True:
            running = list(itertools.accumulate(widths[start:start + most]))
            end = start + bisect.bisect_right(running, limit, 1)  # the first piece past the width, not the first
            if end - start > 1:
                low = max(low, running[end - start - 1])  # this line's pieces fit: at any limit from here
            if end >= len(widths):
                return (count, start), low, high
            high = min(high, running[end - start])  # and the next piece goes on the next line: below this
            count, start = count + 1, end


@functools.lru_cache(maxsize=4096)
def _breaks(text: str) -> _Breaks:
    return _Breaks(text)


@functools.lru_cache(maxsize=8192)
def line_count(text: str, width: float) -> int:
    return _layout(text, width)[0]


@functools.lru_cache(maxsize=4096)
def natural(text: str) -> float:
    """The width `text` needs on one line, in em."""
    return sum(w for w, _ in _pieces(text))


def lonely(text: str, width: float) -> bool:
    """True when the text, set in about `width` em (± TOLERANCE), may leave a single character (punctuation
    aside) alone on its last line."""
    return _lonely(text, width - TOLERANCE) or _lonely(text, width) or _lonely(text, width + TOLERANCE)


@functools.lru_cache(maxsize=8192)
def _lonely(text: str, width: float) -> bool:
    return _breaks(text).lonely_at(width)


@dataclass(frozen=True)
class Cell:
    """A cell: its first grid column, how many it spans, its paragraphs, the row it is in (any hashable), and
    whether it is merged with the cells below (its height is then not its row's)."""

    column: int
    span: int
    paragraphs: tuple[str, ...]
    row: object
    merged: bool = False


def _cell_lines(cell: Cell, width: float) -> int:
    return sum(line_count(p, width) for p in cell.paragraphs) if cell.paragraphs else 1


class _Costs:
    """(the table's height in lines, the number of lonely characters) of `cells` at column widths; `rows` are
    the rows of the table (one line at least each), which may hold cells left out of `cells`. A search tries
    many widths that differ from a base in two columns: `base` measures every cell, `trial` only the cells on
    the columns that changed (the others' widths are the same sums of the same numbers). Cells on the same
    columns are measured together, and remembered by their width."""

    def __init__(self, cells: list[Cell], padding: float, rows: frozenset):
        self.cells, self.padding = cells, padding
        self.rows = set(rows) | {c.row for c in cells if not c.merged}
        spans: dict[tuple[int, int], list[int]] = {}
        for index, cell in enumerate(cells):
            spans.setdefault((cell.column, cell.span), []).append(index)
        self.groups = [(column, column + span, members) for (column, span), members in spans.items()]
        self.on_column: dict[int, list[int]] = {}
        for number, (first, end, _) in enumerate(self.groups):
            for column in range(first, end):
                self.on_column.setdefault(column, []).append(number)
        self.in_row: dict[object, list[int]] = {}
        for index, cell in enumerate(cells):
            if not cell.merged:
                self.in_row.setdefault(cell.row, []).append(index)
        self.memo: dict[tuple[int, float], tuple[dict[int, int], int]] = {}
        self.affected: dict[tuple[int, ...], tuple[list[int], list[object]]] = {}
        self._base: tuple[list[int], list[int], dict, tuple[int, int]] | None = None

    def _measure(self, group: int, widths: list[float]) -> tuple[dict[int, int], int]:
        """The lines of each cell of a group (by cell index), and the group's lonely characters."""
        first, end, members = self.groups[group]
        width = sum(widths[first:end]) - self.padding
        found = self.memo.get((group, width))
        if found is None:
            cells = self.cells
            found = self.memo[(group, width)] = (
                {i: _cell_lines(cells[i], width) for i in members},
                sum(lonely(p, width) for i in members for p in cells[i].paragraphs))
        return found

    def _affected(self, changed: tuple[int, ...]) -> tuple[list[int], list[object]]:
        """The groups on the columns `changed`, and the rows their cells are in."""
        groups = list(dict.fromkeys(g for column in changed for g in self.on_column.get(column, ())))
        cells = self.cells
        rows = list(dict.fromkeys(cells[i].row for g in groups for i in self.groups[g][2] if not cells[i].merged))
        found = self.affected[changed] = (groups, rows)
        return found

    def base(self, widths: list[float]) -> tuple[int, int]:
        """The cost of `widths`, which later trials are measured against."""
        lines = [1] * len(self.cells)
        alone = [0] * len(self.groups)
        for group in range(len(self.groups)):
            group_lines, alone[group] = self._measure(group, widths)
            for i, count in group_lines.items():
                lines[i] = count
        heights = {row: max([1] + [lines[i] for i in self.in_row.get(row, ())]) for row in self.rows}
        cost = (sum(heights.values()), sum(alone))
        self._base = (lines, alone, heights, cost)
        return cost

    def trial(self, widths: list[float], changed: tuple[int, ...]) -> tuple[int, int]:
        """The cost of `widths`, which differ from the base's in the columns `changed` only."""
        lines, base_alone, heights, (height, alone) = self._base
        groups, rows = self.affected.get(changed) or self._affected(changed)
        new: dict[int, int] = {}
        for group in groups:
            group_lines, group_alone = self._measure(group, widths)
            new.update(group_lines)
            alone += group_alone - base_alone[group]
        for row in rows:
            tallest = max([1] + [new[i] if i in new else lines[i] for i in self.in_row[row]])
            height += tallest - heights[row]
        return height, alone


def fit_columns(cells: list[Cell], columns: int, total: float, padding: float) -> list[float] | None:
    """Column widths in em that add up to `total` (em), each cell's text set in its columns less `padding`
    (the cell margins, em). None when the short texts alone need more than `total`."""
    least = _least_widths(cells, columns, padding)
    room = total - sum(least)
    if room < 0:
        return None
    want = [0.0] * columns  # what each column's longest text would take on one line beyond its least width
    for cell in cells:
        if cell.span == 1:
            longest = max((natural(p) for p in cell.paragraphs), default=0.0)
            need = (_merged_need(longest) if cell.merged else longest) + padding + 2 * TOLERANCE
            want[cell.column] = max(want[cell.column], need - least[cell.column])
    shares = want if sum(want) > room else [w + (room - sum(want)) * l / sum(least) for w, l in zip(want, least)]
    widths = [low + room * share / sum(shares) for low, share in zip(least, shares)] if sum(shares) else least
    # a short text in a column at least as wide as it needs stays one line whatever happens: left out of the
    # search (most of a form's cells), its row counted
    rows = frozenset(c.row for c in cells if not c.merged)
    open_cells = [c for c in cells if not _settled(c, least, padding)]
    costs = _Costs(open_cells, padding, rows)
    widths = _lower(open_cells, widths, least, costs)
    return _repair(open_cells, widths, least, padding, costs)


def _settled(cell: Cell, least: list[float], padding: float) -> bool:
    return (cell.span == 1 and len(cell.paragraphs) <= 1 and
            all(natural(p) + padding + 2 * TOLERANCE <= least[cell.column] for p in cell.paragraphs))


def _merged_need(longest: float) -> float:
    """A cell merged over several rows has their height: two lines are fine."""
    return longest / 2


def _least_widths(cells: list[Cell], columns: int, padding: float) -> list[float]:
    """Each column wide enough for its short texts on one line and for the longest piece that cannot break."""
    widths = [padding + 1.0] * columns
    for cell in cells:
        if cell.span == 1:
            longest = max((natural(p) for p in cell.paragraphs), default=0.0)
            need = min(_merged_need(longest) if cell.merged else longest, SHORT) + 2 * TOLERANCE
            widths[cell.column] = max(widths[cell.column], need + padding)
    for cell in cells:
        piece = max((max((w for w, _ in _pieces(p)), default=0.0) for p in cell.paragraphs), default=0.0)
        share = sum(widths[cell.column:cell.column + cell.span])
        if share - padding < piece:
            widths[cell.column + cell.span - 1] += piece - (share - padding)
    return widths


def _lower(cells: list[Cell], widths: list[float], least: list[float], costs: _Costs, rounds: int = 30
           ) -> list[float]:
    """Move width (MOVES) from one column to another while that makes the table lower and leaves no more
    lonely characters: the proportional start knows how long texts are, not where their lines break."""
    cost = costs.base(widths)
    for _ in range(rounds):
        best = None
        for give, take, step in itertools.product(range(len(widths)), range(len(widths)), MOVES):
            if take == give or widths[give] - step < least[give]:
                continue
            trial = widths.copy()
            trial[give] -= step
            trial[take] += step
            trial_cost = costs.trial(trial, (give, take))
            if trial_cost[0] < (best or (cost,))[0][0] and trial_cost[1] <= cost[1]:
                best = (trial_cost, trial)
        if best is None:
            break
        cost, widths = best
        costs.base(widths)
    return widths


def _repair(cells: list[Cell], widths: list[float], least: list[float], padding: float, costs: _Costs,
            rounds: int = 20) -> list[float]:
    """For each cell that leaves a character alone, make its (last) column as much wider or narrower as it
    takes to set the text without, moving the width to or from the column that suits it best; a change is
    kept only when the table gets no taller and has fewer lonely characters."""
    cost = costs.base(widths)
    for _ in range(rounds):
        changed = False
        for cell, text in _lonely_texts(cells, widths, padding):
            column = cell.column + cell.span - 1
            width = sum(widths[cell.column:column + 1]) - padding
            trials = []
            for delta in _cures(text, width, widths[column] - least[column]):
                for partner in range(len(widths)):
                    if cell.column <= partner <= column or widths[partner] - delta < least[partner]:
                        continue
                    trial = widths.copy()
                    trial[column] += delta
                    trial[partner] -= delta
                    trials.append((costs.trial(trial, (column, partner)), trial))
            better = min(trials, key=lambda t: t[0], default=None)
            if better and better[0][0] <= cost[0] and better[0][1] < cost[1]:
                cost, widths, changed = better[0], better[1], True
                costs.base(widths)
        if not changed:
            break
    return widths


def _cures(text: str, width: float, spare: float) -> list[float]:
    """The smallest widening and the smallest narrowing (at most `spare`) that set `text` without a lonely
    character, up to four em either way."""
    steps = [0.25 * n for n in range(1, 17)]
    wider = next((d for d in steps if not lonely(text, width + d)), None)
    narrower = next((-d for d in steps if d <= spare and not lonely(text, width - d)), None)
    return [d for d in (wider, narrower) if d is not None]


def _lonely_texts(cells: list[Cell], widths: list[float], padding: float) -> list[tuple[Cell, str]]:
    found = []
    for cell in cells:
        width = sum(widths[cell.column:cell.column + cell.span]) - padding
        found += [(cell, text) for text in cell.paragraphs if lonely(text, width)]
    return found
