"""The format-neutral intermediate model every extractor produces.

Extractors (HTML, DOCX, XLSX, PDF, …) only turn bytes into paragraphs and tables in
reading order; mapping table cells to the spec's keys happens once, on this model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# A box on a PDF page in points: (x0, y0, x1, y1) with the origin at the page's bottom-left
# corner and y growing upwards — PDF user space as pypdfium2 uses it (for the usual pages
# whose MediaBox starts at 0,0; page rotation is not applied).
PdfBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Position:
    """Where a piece of text sits in the source file, so a reviewer can be shown it.

    PDFs: `page` (1-based) and `box` (a ruled cell's box, or the line's box for text read
    outside ruled tables). Grid tables (HTML, DOCX, XLSX, ruled PDF): `table` (0-based
    index among the document's tables in reading order) with the grid `row` and `col`.
    Text lines: `paragraph` (0-based index among the document's blocks), `col` the field
    of the line, and for plain text files `line`, the 1-based line of the file.
    """

    page: int | None = None
    box: PdfBox | None = None
    line: int | None = None
    table: int | None = None
    paragraph: int | None = None
    row: int | None = None
    col: int | None = None


@dataclass
class Cell:
    """One cell as printed: the top-left anchor of a merged region carries the span."""

    text: str
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1
    source: str = ""  # provenance, e.g. "page 3, table 1, r5c4" or "table 2, r5c4"
    page: int | None = None  # PDF only: the page and the cell's box on it
    box: PdfBox | None = None
    confidence: float = 1.0  # below 1 when the text was read by OCR and the readings differed


@dataclass
class Table:
    cells: list[Cell]
    source: str = ""  # e.g. "page 3, table 1"

    @property
    def n_rows(self) -> int:
        return max((c.row + c.rowspan for c in self.cells), default=0)

    @property
    def n_cols(self) -> int:
        return max((c.col + c.colspan for c in self.cells), default=0)

    def grid(self) -> list[list[Cell | None]]:
        """The expanded grid: every position a merged cell covers points at that cell."""
        width = self.n_cols
        grid: list[list[Cell | None]] = [[None] * width for _ in range(self.n_rows)]
        for cell in self.cells:
            for r in range(cell.row, cell.row + cell.rowspan):
                for c in range(cell.col, cell.col + cell.colspan):
                    grid[r][c] = cell
        return grid


@dataclass
class Paragraph:
    text: str
    source: str = ""  # e.g. "page 1" or "paragraph 12"
    page: int | None = None  # PDF: the page, and the box of the text when on one page
    box: PdfBox | None = None
    line: int | None = None  # plain text: the 1-based line of the file
    # PDF: a rebuilt row of an unruled table, the box of each tab-separated cell of `text`.
    cell_boxes: list[PdfBox | None] | None = None


Block = Paragraph | Table


@dataclass
class ExtractedDocument:
    blocks: list[Block] = field(default_factory=list)
    # Facts the container states about itself, e.g. {"published_on": "2023-01-18"} from a
    # CMS page's 发布日期 or {"title": …} from <title>. Never guessed from file names.
    metadata: dict[str, str] = field(default_factory=dict)
    page_count: int | None = None

    def text(self) -> str:
        """All text in reading order; table rows joined by tabs (the seed's dump layout)."""
        lines: list[str] = []
        for block in self.blocks:
            if isinstance(block, Paragraph):
                lines.append(block.text)
            else:
                for row in block.grid():
                    seen: list[str] = []
                    for cell in row:
                        seen.append(cell.text if cell is not None else "")
                    lines.append("\t".join(seen))
        return "\n".join(lines)
