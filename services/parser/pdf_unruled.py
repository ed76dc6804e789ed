"""Rows of tables printed without ruling lines, rebuilt from character positions.

Without rulings ``pdf_tables`` finds no grid, and plain text lines lose what the eye sees:
which column a number stands in (blank cells vanish), that "1,01" over "3" is one cell
"1,013", and that a number printed a little higher than its row (a top-aligned 总计 cell)
still belongs to it. Here each table region's columns are found from where its numbers and
column titles stand, and every data row becomes one line of cells: label, then one text per
column, blanks kept. The cells still go through the text mapper, so they never get the
confidence of a ruled grid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.parser.labels import label_completeness, starts_row_label, without_leading_group_debris
from services.parser.normalize import label_key
from services.parser.pdf_text import Char, TextLine, is_cjk, is_space
from services.parser.sections import section_of_heading

# A number stands apart from its neighbours by at least this many font sizes.
DATA_GAP_EMS = 1.0
# Between an ideograph and a digit: typesetters leave ~0.25 em; a cell boundary is wider.
LABEL_NUMBER_GAP_EMS = 0.45
# Characters closer than this (in font sizes) along x belong to one column.
COLUMN_JOIN_EMS = 0.3
# A data-only line belongs to a labelled row when their bands overlap by this share.
MIN_BAND_OVERLAP = 0.2
# A wrapped label's next line starts within this many line heights below the previous one.
MAX_WRAP_GAP_LINES = 0.8

# Digits, separators and the zero markers a cell may hold instead of a number (§5).
_NUMERIC_CHARS = set("0123456789,.-/—–－／%无無")
# Header words that span several columns; their positions say nothing about one column.
_SPANNING_HEADERS = re.compile(
    r"申请人情况|法人或其他组织|行政复议|行政诉讼|未经复议|复议后起诉|勾稽|第二十条"
)
_PAGE_NUMBER = re.compile(r"^[-—–－_\s]*\d{1,3}[-—–－_\s]*$")
_ROW_START = re.compile(r"^[一二三四五六七八九十]+,|\([一二三四五六七八九]\)|[0-9]{1,2}[.,]")


@dataclass
class _Word:
    chars: list[Char]

    @property
    def x0(self) -> float:
        return float(self.chars[0]["x0"])

    @property
    def x1(self) -> float:
        return float(self.chars[-1]["x1"])

    @property
    def text(self) -> str:
        return "".join(c["text"] for c in self.chars)


@dataclass
class _Row:
    """One printed row being rebuilt: its label and the characters of each column."""

    lines: list[TextLine]
    label: str
    slots: list[list[str]]
    # Where each column's words sit, (x0, top, x1, bottom) as ``pdf_reader`` measures: the
    # cells' boxes, so the review desk can frame one cell of the row.
    boxes: list[tuple[float, float, float, float] | None] = field(default_factory=list)
    columns: list[tuple[float, float]] = field(default_factory=list)

    def place(self, word: _Word, line: TextLine, columns: list[tuple[float, float]]) -> None:
        column = _column_of(word, columns)
        self.slots[column].append(word.text)
        if not self.boxes:
            self.boxes, self.columns = [None] * len(columns), columns
        box = self.boxes[column]
        found = (word.x0, line.top, word.x1, line.bottom)
        self.boxes[column] = found if box is None else (
            min(box[0], found[0]), min(box[1], found[1]), max(box[2], found[2]), max(box[3], found[3])
        )

    def cell_boxes(self, top: float, bottom: float) -> list[tuple[float, float, float, float] | None]:
        """One box per cell of the emitted line (label first when there is one): a blank
        cell gets its column's span over the row's band."""
        boxes = [
            box if box is not None else (span[0], top, span[1], bottom)
            for box, span in zip(self.boxes, self.columns, strict=True)
        ]
        return ([None] if self.label else []) + boxes if boxes else []


def _words(line: TextLine) -> list[_Word]:
    """The line's characters split wherever a gap is wide enough to separate cells."""
    words: list[_Word] = []
    for char in line.chars:
        if is_space(char["text"]):
            continue
        if words:
            previous = words[-1].chars[-1]
            size = max(float(previous["size"]), float(char["size"]), 1.0)
            gap = float(char["x0"]) - float(previous["x1"])
            # A long label can run up to the first column: a number right after an
            # ideograph is still a cell when the gap is wider than CJK-Latin spacing.
            script_change = is_cjk(previous["text"][-1]) != is_cjk(char["text"][0])
            limit = LABEL_NUMBER_GAP_EMS if script_change and char["text"].isdigit() else DATA_GAP_EMS
            if gap < limit * size:
                words[-1].chars.append(char)
                continue
        words.append(_Word([char]))
    return words


def _is_number_word(word: _Word) -> bool:
    text = word.text
    return all(ch in _NUMERIC_CHARS for ch in text) and (any(ch.isdigit() for ch in text) or len(text) == 1)


def _split_label_and_data(line: TextLine) -> tuple[list[_Word], list[_Word]]:
    """Label words, then the number words right of them (a number inside prose is not data)."""
    if _PAGE_NUMBER.match(line.text.strip()) and not line.text.strip().isdigit():
        return _words(line), []
    words = _words(line)
    first_data = len(words)
    while first_data > 0 and _is_number_word(words[first_data - 1]):
        first_data -= 1
    return words[:first_data], words[first_data:]


@dataclass
class ColumnMemory:
    """The columns of the last unruled table seen, for its continuation on the next page,
    where no column titles are printed and a column blank in every row shows nothing."""

    columns: list[tuple[float, float]] | None = None


def rebuild_unruled_rows(lines: list[TextLine], memory: ColumnMemory | None = None) -> list[TextLine]:
    """The page's free lines with the data rows of unruled tables turned into cell rows."""
    memory = memory if memory is not None else ColumnMemory()
    out: list[TextLine] = []
    for region in _regions(lines):
        out.extend(_rebuild_region(region, memory))
    return out


def _regions(lines: list[TextLine]) -> list[list[TextLine]]:
    """Runs of lines between section headings and table-二 block titles."""
    regions: list[list[TextLine]] = [[]]
    for line in lines:
        text = line.text
        if len(text) <= 80 and (section_of_heading(text) or "第二十条" in label_key(text)):
            regions.append([])
        regions[-1].append(line)
    return [r for r in regions if r]


def _rebuild_region(region: list[TextLine], memory: ColumnMemory) -> list[TextLine]:
    heading = section_of_heading(region[0].text) if len(region[0].text) <= 80 else None
    if heading is not None or _starts_table(region[0]):
        memory.columns = None  # a new table (or prose) begins: earlier columns do not apply
    split = _resplit([_split_label_and_data(line) for line in region])
    data_indices = [i for i, (_, data) in enumerate(split) if data]
    if not data_indices or not _is_table_region(region, split):
        return region
    label_right = max((labels[-1].x1 for labels, data in split if data and labels), default=float("-inf"))
    header_lines = _header_lines(region, data_indices[0])
    columns = _columns(header_lines, [w for _, data in split for w in data], label_right)
    continued = not header_lines and not _starts_table(region[0])
    if continued and memory.columns and len(memory.columns) > len(columns):
        columns = memory.columns
    if not columns:
        return region
    memory.columns = columns
    rows = _rows(region, split, columns)
    if header_lines:
        rows.append(_header_row(header_lines, columns, label_right))
    return _emit(region, rows)


def _resplit(split: list[tuple[list[_Word], list[_Word]]]) -> list[tuple[list[_Word], list[_Word]]]:
    """Label and data words again, cut where the data area begins.

    The data area starts where the rows with several numbers have their first number. A
    line whose marker ("无") or label-glued number stood inside that area had it counted as
    label; everything from the data area on is cells.
    """
    rows_with_numbers = [data for _, data in split if len(data) >= 2]
    if not rows_with_numbers:
        return split
    data_left = min(data[0].x0 for data in rows_with_numbers)
    out: list[tuple[list[_Word], list[_Word]]] = []
    for labels, data in split:
        words = labels + data
        inside = [w for w in words if w.x0 >= data_left - _tolerance(w)]
        if data or any(_is_number_word(w) for w in inside):
            out.append(([w for w in words if w not in inside], inside))
        else:
            out.append((labels, data))
    return out


def _tolerance(word: _Word) -> float:
    return 0.5 * float(word.chars[0]["size"])


def _header_lines(region: list[TextLine], first_data: int) -> list[TextLine]:
    """Column-title lines between a table's heading (or spanning title) and its first row.

    Titles spanning several columns (申请人情况) stay lines of their own. A table continued
    on a new page has no title lines: what stands above its first row is a running header.
    """
    starts = [
        i
        for i, line in enumerate(region[:first_data])
        if _starts_table(line) or _SPANNING_HEADERS.search(label_key(line.text))
    ]
    if not starts:
        return []
    return [
        line
        for line in region[starts[0] + 1 : first_data]
        if not _SPANNING_HEADERS.search(label_key(line.text))
    ]


def _header_row(lines: list[TextLine], columns: list[tuple[float, float]], label_right: float) -> _Row:
    """The title lines as one row: a title wrapped over lines ("本年新" / "制作数量") rejoined."""
    row = _Row(list(lines), "", [[] for _ in columns])
    for line in lines:
        for word in _words(line):
            # Whole words: a title's characters stay together even where the numbers
            # below are aligned left and the title is centred.
            if word.x0 > label_right:
                row.place(word, line, columns)
            else:
                row.label += word.text
    row.slots = [["".join(slot)] if slot else [] for slot in row.slots]
    return row


def _is_table_region(region: list[TextLine], split: list[tuple[list[_Word], list[_Word]]]) -> bool:
    """A region under a table heading or block title, or one with a row of several numbers
    (a table continued from the previous page). Prose never qualifies."""
    return _starts_table(region[0]) or any(
        len(data) >= 3 or (labels and label_completeness("".join(w.text for w in labels)) == "whole")
        for labels, data in split
        if data
    )


def _starts_table(line: TextLine) -> bool:
    """A heading of section 二/三/四 or a table-二 block title."""
    key = label_key(line.text)
    return len(key) <= 80 and (section_of_heading(line.text) in ("2", "3", "4") or "第二十条" in key)


def _columns(
    header_lines: list[TextLine], data_words: list[_Word], label_right: float
) -> list[tuple[float, float]]:
    """Column x-ranges, from where the numbers stand and where the column titles stand.

    Numbers may be aligned left, centred or right in their cells, titles are usually
    centred, so the two need not overlap. The numbers' columns are used unless the titles
    show more columns (a column blank in every row prints no number at all) — and titles
    packed so tightly that one reaches over two number columns show nothing reliable.
    """
    size = max(float(w.chars[0]["size"]) for w in data_words) if data_words else 10.0
    number_columns = _merge_spans([(w.x0, w.x1) for w in data_words], size)
    title_spans = [
        (float(c["x0"]), float(c["x1"]))
        for line in header_lines
        if not _SPANNING_HEADERS.search(label_key(line.text))
        for c in line.chars
        if not is_space(c["text"]) and float(c["x0"]) > label_right
    ]
    title_columns = _merge_spans(title_spans, size)
    columns = number_columns
    if len(title_columns) > len(number_columns) and not _any_spans_two(title_columns, number_columns):
        columns = title_columns
    return [span for span in columns if span[0] > label_right]


def _any_spans_two(titles: list[tuple[float, float]], numbers: list[tuple[float, float]]) -> bool:
    return any(sum(1 for n in numbers if n[0] < t[1] and t[0] < n[1]) > 1 for t in titles)


def _merge_spans(spans: list[tuple[float, float]], size: float) -> list[tuple[float, float]]:
    """Spans that overlap (or nearly touch) along x joined into one."""
    merged: list[tuple[float, float]] = []
    for x0, x1 in sorted(spans):
        if merged and x0 <= merged[-1][1] + COLUMN_JOIN_EMS * size:
            merged[-1] = (merged[-1][0], max(merged[-1][1], x1))
        else:
            merged.append((x0, x1))
    return merged


def _column_of(word: _Word, columns: list[tuple[float, float]]) -> int:
    middle = (word.x0 + word.x1) / 2
    return min(range(len(columns)), key=lambda i: _distance(middle, columns[i]))


def _distance(x: float, span: tuple[float, float]) -> float:
    return 0.0 if span[0] <= x <= span[1] else min(abs(x - span[0]), abs(x - span[1]))


def _rows(
    region: list[TextLine], split: list[tuple[list[_Word], list[_Word]]], columns: list[tuple[float, float]]
) -> list[_Row]:
    """Data rows, with the wrapped pieces of each (label lines, number lines) merged into it."""
    rows: list[_Row] = []
    owner: dict[int, _Row] = {}
    for i, (labels, data) in enumerate(split):
        if not (labels and data):
            continue
        label = "".join(w.text for w in labels)
        last = rows[-1] if rows else None
        added = _continuation(last, label, region[i]) if last is not None else None
        if last is not None and added is not None:
            last.label += added
            row = last
        else:
            row = _Row([], label, [[] for _ in columns])
            rows.append(row)
        owner[i] = row
        _add(row, region[i], data, columns)
    for i, (labels, data) in enumerate(split):
        if data and not labels:
            target = _overlapping_row(i, region, owner)
            if target is None and len(data) == 1:
                continue  # a lone number beside no row: a page number, not a table row
            if target is None:
                target = _Row([], "", [[] for _ in columns])
                rows.append(target)
            _add(target, region[i], data, columns)
            owner[i] = target
    for i, (labels, data) in enumerate(split):
        above = owner.get(i - 1)
        added = _continuation(above, region[i].text, region[i]) if labels and not data and above else None
        if above is not None and added is not None:
            above.label += added
            above.lines.append(region[i])
            owner[i] = above
    return rows


def _continuation(row: _Row, piece: str, line: TextLine) -> str | None:
    """The text a wrapped label's next line adds, or None when the line is not one.

    It must sit just below, not start a row of its own, and leave the label (a piece of) a
    template label. A merged group cell's text may run into it ("他处理" + "纳费用、…"):
    that debris is dropped.
    """
    if _starts_row(piece) or label_completeness(row.label) == "whole":
        return None
    above_bottom = max(ln.bottom for ln in row.lines)
    height = max(line.bottom - line.top, 1.0)
    if line.top - above_bottom > MAX_WRAP_GAP_LINES * height:
        return None
    for text in (piece, without_leading_group_debris(piece)):
        if text and label_completeness(row.label + text) is not None:
            return text
    return None


def _starts_row(label: str) -> bool:
    return bool(_ROW_START.search(label_key(label))) or starts_row_label(label)


def _overlapping_row(i: int, region: list[TextLine], owner: dict[int, _Row]) -> _Row | None:
    """The labelled row whose band a data-only line overlaps most (numbers centred in tall rows)."""
    line = region[i]
    best: tuple[float, _Row] | None = None
    for j in (i - 1, i + 1):
        if j not in owner:
            continue
        other = region[j]
        overlap = min(line.bottom, other.bottom) - max(line.top, other.top)
        height = min(line.bottom - line.top, other.bottom - other.top) or 1.0
        if overlap / height >= MIN_BAND_OVERLAP and (best is None or overlap > best[0]):
            best = (overlap, owner[j])
    return best[1] if best else None


def _add(row: _Row, line: TextLine, data: list[_Word], columns: list[tuple[float, float]]) -> None:
    row.lines.append(line)
    for word in data:
        row.place(word, line, columns)


def _cell_text(pieces: list[str]) -> str:
    """Pieces of one cell, top to bottom: a number wrapped in a narrow column joins up
    ("1,01" + "3"); two whole numbers stay apart, so the reader sees two numbers."""
    text = ""
    for piece in pieces:
        if text and not _is_incomplete(text):
            text += " "
        text += piece
    return text


def _is_incomplete(text: str) -> bool:
    """ "1,01" or "1," cannot end a number: a thousands group needs three digits."""
    return text.endswith((",", ".")) or re.search(r",\d{1,2}$", text) is not None


def _emit(region: list[TextLine], rows: list[_Row]) -> list[TextLine]:
    """The region's lines with each row's lines replaced by one line of cells at the first."""
    consumed = {id(line) for row in rows for line in row.lines}
    out: list[TextLine] = []
    starts = {id(min(row.lines, key=lambda ln: ln.top)): row for row in rows}
    for line in region:
        row = starts.get(id(line))
        if row is not None:
            chars = [c for ln in row.lines for c in ln.chars]
            cells = [_cell_text(slot) for slot in row.slots]
            top, bottom = min(ln.top for ln in row.lines), max(ln.bottom for ln in row.lines)
            merged = TextLine(
                chars,
                top,
                bottom,
                cells=[row.label, *cells] if row.label else cells,
                cell_boxes=row.cell_boxes(top, bottom) or None,
            )
            out.append(merged)
        elif id(line) not in consumed:
            out.append(line)
    return out
