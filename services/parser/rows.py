"""One row model for every source: a table row of a real grid, or one line of a text dump.

The table mapper walks these rows in reading order. A grid row knows its cells exactly
(a blank cell is a blank cell); a text row only knows the fields its line was split into,
so empty fields there may be layout debris rather than blank cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from services.parser.document import ExtractedDocument, Paragraph, PdfBox, Position, Table
from services.parser.labels import is_column_header
from services.parser.normalize import has_cjk, label_key
from services.parser.numbers import NumberReading, read_number

_MD_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_WIDE_GAP = re.compile(r"[ \u3000\u00a0]{2,}")
# Decorated page numbers only ("— 5 —", "-1-", "第 5 页"): a bare "22" may be a table cell.
_PAGE_NUMBER = re.compile(r"^[-—–]\s*\d{1,3}\s*[-—–]$|^第\s*\d{1,3}\s*页(\s*[,，/]?\s*共\s*\d{1,3}\s*页)?$")


@dataclass
class Token:
    text: str
    source: str
    first_col: int | None = None  # grid columns covered (grid rows only)
    last_col: int | None = None
    from_row_above: bool = False  # a rowspan cell anchored in an earlier row
    position: Position | None = None  # where it sits in the source file
    confidence: float = 1.0  # of the text itself (OCR readings that disagreed: lower)
    _reading: NumberReading | None = field(default=None, repr=False)

    @property
    def reading(self) -> NumberReading:
        if self._reading is None:
            self._reading = read_number(self.text)
        return self._reading

    def covers(self, col: int) -> bool:
        return (
            self.first_col is not None
            and self.last_col is not None
            and self.first_col <= col <= self.last_col
        )

    @property
    def is_value(self) -> bool:
        return self.reading.readable

    @property
    def is_label(self) -> bool:
        return not self.is_value and has_cjk(self.text)

    @property
    def is_blank(self) -> bool:
        return self.reading.marker == "blank"


@dataclass
class Row:
    tokens: list[Token]
    source: str
    is_grid: bool
    table_index: int | None = None  # which Table block (grid rows only)

    @property
    def labels(self) -> list[Token]:
        return [t for t in self.tokens if t.is_label]

    @property
    def key(self) -> str:
        """The whole row in label_key form, for anchors and headings."""
        return label_key("".join(t.text for t in self.tokens if not t.is_value or t.text.strip()))

    def values_after_labels(self) -> list[Token]:
        """Value tokens right of the last label (the data cells of a labelled row)."""
        last = -1
        for i, token in enumerate(self.tokens):
            if token.is_label:
                last = i
        return [t for t in self.tokens[last + 1 :] if t.is_value]

    def filled_values(self) -> list[Token]:
        return [t for t in self.values_after_labels() if not t.is_blank]


def is_markdown_rule(line: str) -> bool:
    return _MD_RULE.match(line.strip()) is not None


def is_page_number(line: str) -> bool:
    return _PAGE_NUMBER.match(line.strip()) is not None


def split_line(line: str) -> list[str]:
    """Fields of one text line: tabs, Markdown pipes, wide gaps, or label + spaced numbers."""
    stripped = line.strip()
    if "\t" in line:
        return [f.strip() for f in line.rstrip("\n").split("\t")]
    if stripped.count("|") >= 2 and not stripped.startswith("||") or stripped.startswith("|"):
        inner = stripped[1:] if stripped.startswith("|") else stripped
        inner = inner[:-1] if inner.endswith("|") else inner
        return [f.strip() for f in inner.split("|")]
    if _WIDE_GAP.search(stripped):
        fields = [f for f in _WIDE_GAP.split(stripped) if f]
        return [piece for f in fields for piece in _split_label_numbers(f)]
    return _split_label_numbers(stripped)


def _split_label_numbers(text: str) -> list[str]:
    """ "行政许可 0" → ["行政许可", "0"]; "0 0 0" → three fields; prose stays one field.

    A header row printed with single spaces ("信息内容 本年制发件数 本年废止件数") is split
    into its column titles when every piece is one.
    """
    parts = text.split()
    if len(parts) < 2:
        return [text]
    first_value = next((i for i, p in enumerate(parts) if read_number(p).readable), None)
    if first_value is None and all(is_column_header(p) for p in parts):
        return parts
    if first_value is None or not all(read_number(p).readable for p in parts[first_value:]):
        return [text]
    label = "".join(parts[:first_value])
    return ([label] if label else []) + parts[first_value:]


@dataclass(frozen=True)
class TextLine:
    """One line of a paragraph, with where its paragraph stands in the source."""

    text: str
    source: str
    position: Position | None = None
    field_boxes: list[PdfBox | None] | None = None  # a rebuilt PDF table row's cell boxes


def paragraph_lines(block: Paragraph, block_index: int) -> list[TextLine]:
    position = Position(page=block.page, box=block.box, line=block.line, paragraph=block_index)
    return [TextLine(line, block.source, position, block.cell_boxes) for line in block.text.split("\n")]


def text_rows(lines: list[TextLine]) -> list[Row]:
    """Rows of a text dump. Markdown rules and page numbers go.

    Each token's position is its paragraph's with `col` its field's index, and the field's
    own box when the line has field boxes (a rebuilt PDF table row).
    """
    rows: list[Row] = []
    md_columns: int | None = None  # columns of the Markdown table being read (its rule line)
    for line in lines:
        stripped = line.text.strip()
        if _MD_RULE.match(stripped):
            md_columns = len(split_line(stripped))
            continue
        if not stripped.startswith("|"):
            md_columns = None
        if _PAGE_NUMBER.match(stripped) or not stripped and line.text.count("\t") < 4:
            continue  # (a line of tabs only is a table row whose cells were all left blank)
        stripped = _MD_HEADING.sub("", stripped)
        fields = split_line(stripped if "\t" not in line.text else line.text)
        # Markdown ignores a row's cells beyond its table's columns; empty ones there are debris.
        while md_columns is not None and len(fields) > md_columns and fields[-1] == "":
            fields.pop()
        tokens = [
            Token(f, line.source, position=_field_position(line.position, line.field_boxes, i))
            for i, f in enumerate(fields)
        ]
        rows.append(Row(tokens, line.source, is_grid=False))
    return rows


def _field_position(
    position: Position | None, field_boxes: list[PdfBox | None] | None, index: int
) -> Position | None:
    if position is None:
        return None
    box = field_boxes[index] if field_boxes is not None and index < len(field_boxes) else None
    return replace(position, col=index, box=box or position.box)


def grid_rows(table: Table, table_index: int) -> list[Row]:
    """Rows of a real table: each distinct cell once per grid row, in column order."""
    rows: list[Row] = []
    for r, grid_row in enumerate(table.grid()):
        tokens: list[Token] = []
        seen: set[int] = set()
        for cell in grid_row:
            if cell is None or id(cell) in seen:
                continue
            seen.add(id(cell))
            source = cell.source or f"{table.source} r{cell.row}c{cell.col}".strip()
            position = Position(page=cell.page, box=cell.box, table=table_index, row=cell.row, col=cell.col)
            tokens.append(
                Token(
                    cell.text,
                    source,
                    cell.col,
                    cell.col + cell.colspan - 1,
                    from_row_above=cell.row < r,
                    position=position,
                    confidence=cell.confidence,
                )
            )
        rows.append(Row(tokens, f"{table.source} row {r}".strip(), is_grid=True, table_index=table_index))
    return rows


def document_rows(document: ExtractedDocument) -> list[Row]:
    """All rows of a document in reading order (paragraph lines become text rows)."""
    rows: list[Row] = []
    table_index = 0
    lines: list[TextLine] = []  # consecutive paragraphs: a Markdown table spans several
    for block_index, block in enumerate(document.blocks):
        if isinstance(block, Paragraph):
            lines += paragraph_lines(block, block_index)
        else:
            rows.extend(text_rows(lines))
            lines = []
            rows.extend(grid_rows(block, table_index))
            table_index += 1
    rows.extend(text_rows(lines))
    return rows
