"""A cell's number format, and a number as Excel shows it in that format.

Excel stores what the accountant typed as a number and a format: `93%` is 0.93 shown with `0%`, `12个` is 12
shown with `0"个"`, `001` is 1 shown with `000`. The format is part of the value, so the reader keeps, for each
number whose format changes what it means or how it reads, the text Excel shows, the exact number that text
stands for (93 for 93%), and the unit the format adds (`%`, `个`).

`NumberFormat.parse(code)` understands the formats accountants use: digits (`0`, `#`, `?`), decimals, thousands
separators, percent signs, scaling commas, literal text in quotes or after a backslash (units before or after
the number), colours, locale and currency tags, and up to four sections (positive; negative; zero; text).
Anything else (fractions, scientific notation, conditions, Chinese numerals `[DBNum1]`, dates) is marked
`supported = False`; the reader then says it cannot know what the cell shows instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

_BRACKET = re.compile(r"\[([^\]]*)\]")
_COLOURS = re.compile(r"(black|white|red|green|blue|yellow|magenta|cyan|color\s*\d+|黑色|白色|红色|绿色|蓝色|黄色|紫红色|青色)",
                      re.IGNORECASE)
_DATE_LETTERS = set("yYmMdDhHsSeEbBgG")  # outside quotes, a date or time format
_UNSUPPORTED = set("/Ee")  # fractions, scientific notation
_CURRENCY = " ¥￥$€£-+()"  # signs around an amount that do not change what it means


@dataclass(frozen=True)
class Section:
    prefix: str  # literal text before the first digit placeholder
    suffix: str  # literal text after the last one
    integer_zeros: int  # the number of 0 placeholders before the decimal point (001 → 3)
    decimals: int  # digit placeholders after the decimal point
    min_decimals: int  # of which 0 placeholders, always shown (0.0# shows 1.5 as 1.5, 1.25 as 1.25)
    thousands: bool  # a comma between digit placeholders
    percents: int  # each % multiplies by 100
    scale: int  # each comma after the last digit placeholder divides by 1000
    has_digits: bool  # False for a section of literal text only ("-" for zero)


@dataclass(frozen=True)
class NumberFormat:
    code: str
    sections: tuple[Section, ...]
    supported: bool
    is_date: bool = False

    @classmethod
    def parse(cls, code: str | None) -> "NumberFormat":
        code = code or "General"
        if code.strip().lower() in ("general", "常规", "g/通用格式"):
            return cls(code, (), True)
        texts = _split_sections(code)
        parsed = [_section(text) for text in texts[:3]]
        is_date = any(s is None and _is_date(t) for s, t in zip(parsed, texts))
        if any(s is None for s in parsed):
            return cls(code, (), False, is_date)
        return cls(code, tuple(parsed), True, is_date)

    @property
    def general(self) -> bool:
        return self.supported and not self.sections

    @property
    def main(self) -> Section | None:
        return self.sections[0] if self.sections else None

    @property
    def percent(self) -> bool:
        return bool(self.main and self.main.percents)

    @property
    def unit(self) -> str:
        """The unit the format adds after the number: '%' for a percent, the literal suffix ('个'), or ''."""
        main = self.main
        if main is None:
            return ""
        return "%" if main.percents else main.suffix.strip()

    @property
    def changes_meaning(self) -> bool:
        """The format makes the number read differently from its stored value: a percent, a unit or other text
        around it (a currency sign aside), a scale, leading zeros, or a format this module cannot render."""
        if not self.supported:
            return not self.is_date
        return any(s.percents or s.scale or s.prefix.strip(_CURRENCY) or s.suffix.strip(_CURRENCY) or s.integer_zeros > 1
                   for s in self.sections)

    def value(self, number: float | int | Decimal) -> Decimal:
        """The number the shown text stands for, exactly: 93 for 0.93 in a percent format; the stored value
        divided by 1000 for each scaling comma."""
        exact = number if isinstance(number, Decimal) else Decimal(str(number))
        main = self.main
        if main is None:
            return exact
        return _plain_decimal(exact.scaleb(2 * main.percents - 3 * main.scale))

    def show(self, number: float | int | Decimal) -> str:
        """The text Excel shows for `number` (General for an unsupported format, with 15 significant digits)."""
        exact = number if isinstance(number, Decimal) else Decimal(str(number))
        if not self.sections:
            return general_text(exact)
        section = self.sections[0]
        sign = ""
        if exact < 0:
            if len(self.sections) > 1:
                section = self.sections[1]
            else:
                sign = "-"
            exact = -exact
        elif exact == 0 and len(self.sections) > 2:
            section = self.sections[2]
        if not section.has_digits:
            return section.prefix + section.suffix
        shown = exact.scaleb(2 * section.percents - 3 * section.scale)
        rounded = shown.quantize(Decimal(1).scaleb(-section.decimals), rounding=ROUND_HALF_UP)
        whole, _, fraction = format(rounded, "f").partition(".")
        whole = whole.lstrip("0")
        if len(whole) < section.integer_zeros:
            whole = "0" * (section.integer_zeros - len(whole)) + whole
        if section.thousands and whole:
            whole = f"{int(whole):,}"
        while len(fraction) > section.min_decimals and fraction.endswith("0"):
            fraction = fraction[:-1]
        text = whole + ("." + fraction if section.decimals else "")
        return f"{sign}{section.prefix}{text}{'%' * section.percents}{section.suffix}"


def _plain_decimal(number: Decimal) -> Decimal:
    """The same number without an exponent (90, not 9E+1), so that it prints as written."""
    return Decimal(format(number, "f"))


def general_text(number: Decimal) -> str:
    """A number as Excel's General format shows it in a wide column: at most 15 significant digits, no
    trailing zeros (0.1 + 0.2 → 0.3, 12.0 → 12)."""
    if number == 0:
        return "0"
    digits = 15 - number.adjusted() - 1
    rounded = number.quantize(Decimal(1).scaleb(-max(digits, 0)), rounding=ROUND_HALF_UP) if digits > 0 else number
    text = format(rounded, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _split_sections(code: str) -> list[str]:
    """The sections of a format code, split at semicolons outside quotes and brackets."""
    sections, current, quoted, bracket, escape = [], [], False, False, False
    for ch in code:
        if escape:
            current.append(ch)
            escape = False
        elif ch == "\\":
            current.append(ch)
            escape = True
        elif ch == '"':
            quoted = not quoted
            current.append(ch)
        elif quoted:
            current.append(ch)
        elif ch == "[":
            bracket = True
            current.append(ch)
        elif ch == "]":
            bracket = False
            current.append(ch)
        elif ch == ";" and not bracket:
            sections.append("".join(current))
            current = []
        else:
            current.append(ch)
    sections.append("".join(current))
    return sections


def _tokens(text: str) -> list[tuple[str, str]] | None:
    """(kind, text) tokens of one section: 'lit' for literal text, 'fmt' for a format character; None when
    the section holds something this module does not render."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            end = text.find('"', i + 1)
            end = len(text) if end < 0 else end
            tokens.append(("lit", text[i + 1:end]))
            i = end + 1
        elif ch == "\\" and i + 1 < len(text):
            tokens.append(("lit", text[i + 1]))
            i += 2
        elif ch == "[":
            end = text.find("]", i)
            end = len(text) if end < 0 else end
            inner = text[i + 1:end]
            if inner.startswith("$"):
                symbol = inner[1:].split("-", 1)[0]
                if symbol:
                    tokens.append(("lit", symbol))
            elif not _COLOURS.fullmatch(inner.strip()):
                return None  # a condition such as [>=100], [DBNum1], elapsed time [h]
            i = end + 1
        elif ch in "_*":
            i += 2  # _x pads with the width of x, *x fills the column: nothing to read
        elif ch in "0#?.,%":
            tokens.append(("fmt", ch))
            i += 1
        elif ch in _UNSUPPORTED or ch in _DATE_LETTERS or ch == "@":
            return None
        else:
            tokens.append(("lit", ch))
            i += 1
    return tokens


def _section(text: str) -> Section | None:
    tokens = _tokens(text)
    if tokens is None:
        return None
    digit_positions = [i for i, (kind, ch) in enumerate(tokens) if kind == "fmt" and ch in "0#?"]
    percents = sum(1 for kind, ch in tokens if kind == "fmt" and ch == "%")
    prefix = "".join(t for k, t in tokens[:digit_positions[0]] if k == "lit") if digit_positions else ""
    if not digit_positions:
        literal = "".join(t for k, t in tokens if k == "lit")
        return Section(literal, "", 0, 0, 0, False, percents, 0, False)
    first, last = digit_positions[0], digit_positions[-1]
    body = [ch for kind, ch in tokens[first:last + 1] if kind == "fmt"]
    if any(kind == "lit" for kind, _ in tokens[first:last + 1]):
        return None  # text between digits (0"元"00) is not a number format an accountant types
    point = body.index(".") if "." in body else len(body)
    integer, fraction = body[:point], body[point + 1:]
    suffix_tokens = tokens[last + 1:]
    scale = 0
    for kind, ch in suffix_tokens:
        if kind == "fmt" and ch == ",":
            scale += 1
        elif not (kind == "fmt" and ch == "%"):
            break
    suffix = "".join(t for k, t in suffix_tokens if k == "lit")
    return Section(prefix, suffix, integer.count("0"), sum(1 for ch in fraction if ch in "0#?"), fraction.count("0"),
                   "," in integer, percents, scale, True)


def _is_date(text: str) -> bool:
    outside = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", text)
    return any(ch in _DATE_LETTERS for ch in outside)
