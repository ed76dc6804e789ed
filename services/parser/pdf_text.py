"""Characters → text lines, for the PDF extractor.

``pdf_reader`` gives one dict per glyph. Everything here works on those dicts directly so a
page's characters are read once and never re-extracted (``extract_text`` per cell or per
region would re-sort the whole page each time and is the main cost of naive use).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

Char = dict[str, Any]

# Gaps wider than this many font sizes stay visible as one space even between CJK
# characters: they separate columns of an unruled table, not letters of a word.
WIDE_GAP_EMS = 1.5
# Between two Latin letters/digits a gap this wide (in font sizes) is a word break.
WORD_GAP_EMS = 0.25


def is_cjk(ch: str) -> bool:
    """CJK ideographs, CJK/full-width punctuation and kana: scripts written without spaces."""
    code = ord(ch)
    return (
        0x2E80 <= code <= 0x9FFF  # radicals, punctuation, kana, ideographs
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0xFE30 <= code <= 0xFE4F  # vertical-form punctuation
        or 0xFF00 <= code <= 0xFFEF  # full-width forms （），：
        or 0x20000 <= code <= 0x3FFFF  # extension ideographs
        or ch in "“”‘’、。《》"
    )


def is_bad_glyph(text: str) -> bool:
    """A glyph whose text is not a real character: the font had no usable ToUnicode map."""
    if text.startswith("(cid:"):
        return True
    if len(text) != 1:
        return False
    code = ord(text)
    if code in (0xFFFD, 0xFFFF) or 0xE000 <= code <= 0xF8FF:  # replacement / private use
        return True
    return unicodedata.category(text) == "Cc" and text not in "\t\n\r"


def is_space(text: str) -> bool:
    return text.isspace() or text == ""


@dataclass
class TextLine:
    """Characters sharing one baseline band, left to right."""

    chars: list[Char] = field(default_factory=list)
    top: float = 0.0
    bottom: float = 0.0
    # A row of an unruled table rebuilt from character positions (``pdf_unruled``): its
    # label and one text per column, blank cells kept as "".
    cells: list[str] | None = None
    # Their boxes (x0, top, x1, bottom), one per cell where known (None: unknown).
    cell_boxes: list[tuple[float, float, float, float] | None] | None = None

    @property
    def x0(self) -> float:
        return min(c["x0"] for c in self.chars)

    @property
    def x1(self) -> float:
        return max(c["x1"] for c in self.chars)

    @property
    def font_size(self) -> float:
        sizes = sorted(c["size"] for c in self.chars if not is_space(c["text"]))
        return sizes[len(sizes) // 2] if sizes else 0.0

    @property
    def text(self) -> str:
        if self.cells is not None:
            return "\t".join(self.cells)
        return join_chars(self.chars)

    @property
    def is_columnar(self) -> bool:
        """Whether wide gaps split the line into columns (a row of an unruled table)."""
        if self.cells is not None:
            return True
        visible = [c for c in self.chars if not is_space(c["text"])]
        return any(
            b["x0"] - a["x1"] > WIDE_GAP_EMS * max(a["size"], b["size"], 1.0)
            for a, b in zip(visible, visible[1:], strict=False)
        )


def group_lines(chars: list[Char]) -> list[TextLine]:
    """Group characters into lines by vertical overlap, top to bottom.

    Digits in a Latin font and ideographs in a CJK font sit at different heights on the
    same printed line, so a line is a band: a character belongs to it when its vertical
    centre falls inside the band of the characters already taken.
    """
    lines: list[TextLine] = []
    for char in sorted(chars, key=lambda c: (c["top"] + c["bottom"]) / 2):
        middle = (char["top"] + char["bottom"]) / 2
        if lines and lines[-1].top <= middle <= lines[-1].bottom:
            line = lines[-1]
            line.chars.append(char)
            line.top = min(line.top, char["top"])
            line.bottom = max(line.bottom, char["bottom"])
        else:
            lines.append(TextLine([char], char["top"], char["bottom"]))
    for line in lines:
        line.chars = _drop_overprinted(sorted(line.chars, key=lambda c: c["x0"]))
    return lines


def _drop_overprinted(chars: list[Char]) -> list[Char]:
    """Remove glyphs drawn twice at the same spot (fake bold), which would double letters."""
    kept: list[Char] = []
    for char in chars:
        if kept and char["text"] == kept[-1]["text"] and abs(char["x0"] - kept[-1]["x0"]) < 1.0:
            continue
        kept.append(char)
    return kept


def join_chars(chars: list[Char]) -> str:
    """One line's text: no spaces inside CJK runs, spaces between Latin words.

    Justified Chinese text is printed with widened gaps ("号 ， 邮 编 ："), and some
    producers emit literal spaces there; both are dropped between CJK characters. Between
    two digits or letters a space (literal or a visible gap) is kept, so two numbers in
    an unruled row never fuse into one.
    """
    parts: list[str] = []
    previous: Char | None = None
    pending_space = False
    for char in chars:
        text = char["text"]
        if is_space(text):
            pending_space = True
            continue
        if previous is not None:
            gap = char["x0"] - previous["x1"]
            size = max(previous["size"], char["size"], 1.0)
            cjk_boundary = is_cjk(previous["text"][-1]) or is_cjk(text[0])
            word_break = not cjk_boundary and (pending_space or gap > WORD_GAP_EMS * size)
            if word_break or gap > WIDE_GAP_EMS * size:
                parts.append(" ")
        parts.append(text)
        previous = char
        pending_space = False
    return "".join(parts)


def lines_to_cell_text(lines: list[TextLine]) -> str:
    """A table cell's text: its printed lines joined by newlines.

    A narrow cell printing its label one character per line (vertical writing, e.g.
    "三、本年度办理结果" down the left column) is read as one word, not nine lines.
    """
    texts = [line.text for line in lines]
    texts = [t for t in texts if t]
    if len(texts) >= 3 and all(len(t) == 1 for t in texts):
        return "".join(texts)
    return "\n".join(texts)
