"""PDF (with a text layer) → ExtractedDocument: paragraphs and ruled tables in reading order.

Most reports are exported from Word or WPS. Tables are rebuilt from their ruling lines
(``pdf_tables``); the text outside them becomes paragraphs, with page headers, footers
and page numbers removed and PDF line wraps re-joined. Scanned PDFs, PDFs whose CJK
fonts carry no Unicode mapping and broken or encrypted files raise ``UnreadableDocument``
instead of returning text nobody could trust.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from services.parser.document import Block, ExtractedDocument, Paragraph
from services.parser.pdf_reader import PageContent, open_pdf, read_pages
from services.parser.pdf_tables import PageTable, find_page_tables, pdf_box
from services.parser.pdf_text import Char, TextLine, group_lines, is_bad_glyph, is_cjk, is_space
from services.parser.pdf_unruled import ColumnMemory, rebuild_unruled_rows
from shared.report import UnreadableDocument

# Share of glyphs without a real character above which the text layer is garbage.
MAX_BAD_GLYPH_SHARE = 0.02
# Header/footer zone: this share of the page height at the top and at the bottom.
MARGIN_ZONE = 0.1
# A page with fewer visible characters than this counts as having no text.
MIN_PAGE_CHARS = 5

PAGE_NUMBER = re.compile(
    r"^[-—–－_\s]*(\d+|[IVXLC]+)[-—–－_\s]*$"  # "3", "- 3 -", "— 3 —"
    r"|^第\s*\d+\s*页(\s*[,，/]?\s*共\s*\d+\s*页)?$"  # "第 3 页", "第3页 共5页"
    r"|^\d+\s*/\s*\d+$"  # "3 / 5"
    r"|^(page|Page|PAGE)\s*\d+(\s*of\s*\d+)?$"
)


@dataclass
class PageLine:
    """A text line outside every table, with the page it sits on."""

    line: TextLine
    page_number: int


@dataclass
class PageTableAt:
    table: PageTable
    page_number: int


PageItem = PageLine | PageTableAt


def extract_pdf(data: bytes) -> ExtractedDocument:
    """Read a text-layer PDF into paragraphs and tables in reading order."""
    pages_items: list[list[PageItem]] = []
    page_heights: list[float] = []
    all_chars = 0
    bad_chars = 0
    scanned_pages: list[int] = []
    columns = ColumnMemory()  # an unruled table continued on the next page keeps its columns
    with open_pdf(data) as pdf:
        for page in read_pages(pdf):
            chars = _visible_chars(page)
            all_chars += sum(1 for c in chars if not is_space(c["text"]))
            bad_chars += sum(1 for c in chars if is_bad_glyph(c["text"]))
            if len(chars) < MIN_PAGE_CHARS and _has_large_image(page):
                scanned_pages.append(page.page_number)
            pages_items.append(_page_items(page, chars, columns))
            page_heights.append(float(page.height))

    page_count = len(page_heights)
    _check_text_layer(page_count, all_chars, bad_chars, scanned_pages)
    _strip_running_lines(pages_items, page_heights)
    blocks = _blocks(pages_items, page_heights)
    if scanned_pages:
        blocks = _with_scanned_pages(data, blocks, scanned_pages)
    return ExtractedDocument(blocks=blocks, page_count=page_count)


def _with_scanned_pages(data: bytes, blocks: list[Block], scanned_pages: list[int]) -> list[Block]:
    """A text PDF with some pages scanned (a signed table page, say): those pages are read
    by OCR and take their place in reading order; without OCR they stay unread (their
    cells then come back missing, with a finding)."""
    from services.parser.scan import extract_scan, ocr_ready, pdf_pages

    if not ocr_ready():
        return blocks
    scanned = extract_scan(pdf_pages(data, only=set(scanned_pages))).blocks
    return _merged(_by_page(blocks), _by_page(scanned))


def _by_page(blocks: list[Block]) -> list[tuple[int, Block]]:
    """(page, block); a paragraph wrapped across pages (no single page) keeps the page of
    the block before it."""
    out, page = [], 0
    for block in blocks:
        if isinstance(block, Paragraph):
            page = block.page or page
        else:
            page = next((c.page for c in block.cells if c.page is not None), page)
        out.append((page, block))
    return out


def _merged(text: list[tuple[int, Block]], scanned: list[tuple[int, Block]]) -> list[Block]:
    """Both in page order, each page's scanned blocks where that page stands."""
    tagged = [(page, 0, i, block) for i, (page, block) in enumerate(text)]
    tagged += [(page, 1, i, block) for i, (page, block) in enumerate(scanned)]
    return [block for *_, block in sorted(tagged, key=lambda t: t[:3])]


def _visible_chars(page: PageContent) -> list[Char]:
    return [c for c in page.chars if not is_space(c["text"]) or c["text"] == " "]


def _has_large_image(page: PageContent) -> bool:
    page_area = page.width * page.height
    return any(area > 0.3 * page_area for area in page.image_areas)


def _check_text_layer(page_count: int, all_chars: int, bad_chars: int, scanned_pages: list[int]) -> None:
    visible = all_chars
    if visible == 0 or len(scanned_pages) * 2 > page_count:
        raise UnreadableDocument(
            "no_text_layer",
            f"{len(scanned_pages)} of {page_count} pages are images without text (scanned); OCR needed",
        )
    share = bad_chars / visible
    if share > MAX_BAD_GLYPH_SHARE:
        raise UnreadableDocument(
            "unreadable_font",
            f"{share:.0%} of {visible} characters have no Unicode mapping (e.g. (cid:NNN)); "
            "the embedded fonts lack ToUnicode tables",
        )


def _page_items(page: PageContent, chars: list[Char], columns: ColumnMemory) -> list[PageItem]:
    """Tables and the text lines around them, top to bottom."""
    tables = find_page_tables(page, chars, page.page_number)
    claimed = set().union(*(t.claimed_chars for t in tables)) if tables else set()
    free_chars = [c for c in chars if id(c) not in claimed]
    items: list[tuple[float, PageItem]] = [(t.bbox[1], PageTableAt(t, page.page_number)) for t in tables]
    for line in rebuild_unruled_rows(group_lines(free_chars), columns):
        if line.text.strip():
            items.append((line.top, PageLine(line, page.page_number)))
    items.sort(key=lambda pair: pair[0])
    return [item for _, item in items]


def _strip_running_lines(pages_items: list[list[PageItem]], page_heights: list[float]) -> None:
    """Remove page numbers and running headers/footers (in place).

    Only lines in the top or bottom margin zone are candidates. A bare page number is
    removed on sight; other text is removed when the same wording (digits ignored, so
    "第3页" and "第4页" match) recurs in the margin zone of at least two other pages.
    """

    def in_zone(item: PageLine) -> bool:
        height = page_heights[item.page_number - 1]
        return item.line.top < MARGIN_ZONE * height or item.line.bottom > (1 - MARGIN_ZONE) * height

    def signature(item: PageLine) -> str:
        return re.sub(r"\d+", "#", item.line.text.replace(" ", ""))

    pages_with: Counter[str] = Counter()
    for items in pages_items:
        zone_texts = {signature(i) for i in items if isinstance(i, PageLine) and in_zone(i)}
        pages_with.update(zone_texts)
    for items in pages_items:
        items[:] = [
            i
            for i in items
            if not (
                isinstance(i, PageLine)
                and in_zone(i)
                and (PAGE_NUMBER.match(i.line.text.strip()) or pages_with[signature(i)] >= 3)
            )
        ]


def _blocks(pages_items: list[list[PageItem]], page_heights: list[float]) -> list[Block]:
    """Tables as they are; text lines joined into paragraphs, across pages when wrapped."""
    lines = [i.line for items in pages_items for i in items if isinstance(i, PageLine)]
    left_margin, right_margin = _text_margins(lines)
    blocks: list[Block] = []
    open_paragraph: list[PageLine] = []

    def close_paragraph() -> None:
        if open_paragraph:
            blocks.append(_paragraph(open_paragraph, page_heights))
            open_paragraph.clear()

    for items in pages_items:
        for item in items:
            if isinstance(item, PageTableAt):
                close_paragraph()
                blocks.append(item.table.table)
                continue
            if open_paragraph and not _continues(open_paragraph[-1], item, left_margin, right_margin):
                close_paragraph()
            open_paragraph.append(item)
    close_paragraph()
    return blocks


def _text_margins(lines: list[TextLine]) -> tuple[float, float]:
    """The body text's left and right edges: where most full prose lines start and end.

    Rows of unruled tables are left out: they often reach further right than the prose.
    """
    prose = [line for line in lines if not line.is_columnar] or lines
    if not prose:
        return 0.0, 0.0
    starts = Counter(round(line.x0) for line in prose)
    ends = Counter(round(line.x1) for line in prose)
    return float(starts.most_common(1)[0][0]), float(max(ends.most_common(3))[0])


def _continues(previous: PageLine, current: PageLine, left_margin: float, right_margin: float) -> bool:
    """Whether ``current`` is the wrapped continuation of ``previous``'s paragraph.

    A paragraph wraps when its line runs to the right margin and the next line starts
    at the left margin, in the same font size, just below (or at the top of the next page).
    An indented line starts a new paragraph (Chinese paragraphs indent two characters).
    Rows of an unruled table are never joined: that would fuse the last number of one
    row with the label of the next.
    """
    before, after = previous.line, current.line
    if before.is_columnar or after.is_columnar:
        return False
    size = max(before.font_size, 1.0)
    if abs(before.font_size - after.font_size) > 1.0:
        return False
    if before.x1 < right_margin - 1.5 * size or after.x0 > left_margin + 0.5 * size:
        return False
    if current.page_number != previous.page_number:
        return current.page_number == previous.page_number + 1
    return 0 <= after.top - before.bottom <= 1.5 * (before.bottom - before.top)


def _paragraph(lines: list[PageLine], page_heights: list[float]) -> Paragraph:
    text = ""
    for page_line in lines:
        line = page_line.line
        # A rebuilt table row keeps its empty edge cells: they are blank cells, not margins.
        piece = line.text if line.cells is not None else line.text.strip()
        if text and not (is_cjk(text[-1]) or is_cjk(piece[0])):
            text += " "  # a wrapped Latin word boundary; CJK wraps join directly
        text += piece
    first, last = lines[0].page_number, lines[-1].page_number
    if first != last:
        return Paragraph(text, f"pages {first}-{last}")
    enclosing = (
        min(p.line.x0 for p in lines),
        min(p.line.top for p in lines),
        max(p.line.x1 for p in lines),
        max(p.line.bottom for p in lines),
    )
    height = page_heights[first - 1]
    single = lines[0].line if len(lines) == 1 else None
    cell_boxes = (
        [pdf_box(b, height) if b is not None else None for b in single.cell_boxes]
        if single is not None and single.cell_boxes
        else None
    )
    return Paragraph(text, f"page {first}", page=first, box=pdf_box(enclosing, height), cell_boxes=cell_boxes)
