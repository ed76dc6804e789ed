"""The fourth reader: scanned reports (image-only PDFs, JPEG/PNG/TIFF photos of pages).

Each page is straightened and its ruled tables found (scan_grid); the cells are read with
Tesseract (scan_ocr) into the neutral grid model, every cell with its page, its box and a
confidence from the readings' agreement, so the table mapper, the arithmetic and the review
desk treat them as they treat any other table. The text around the tables is OCR'd with
`chi_sim` into paragraphs marked as OCR text (title, agency, year, narrative).

Work is bounded: at most `ocr_max_pages` pages at `ocr_dpi`, within `ocr_time_limit`
seconds; beyond that the document fails with `too_many_pages` or `ocr_time_limit`.
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageSequence

from services.parser.document import Block, Cell, ExtractedDocument, Paragraph, Table
from services.parser.pdf_reader import PDFIUM_LOCK
from services.parser.scan_grid import PageGrid, deskew, find_grids, flatten_page
from services.parser.scan_ocr import (
    AGREED,
    GUESSED,
    has_ink,
    is_dash,
    label_of,
    read_numbers,
    run_batch,
    settle_by_row_sums,
    tesseract_available,
    without_edge_marks,
)
from shared.report import UnreadableDocument
from shared.settings import get_settings

OCR_SOURCE = "OCR"
A4_WIDTH_INCHES = 8.27
CELL_INSET_PX = 2
NO_INK_SEEN = 0.98
_CJK_GAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef]) +(?=[\u3000-\u9fff\uff00-\uffef0-9])|(?<=[0-9]) +(?=[\u3000-\u9fff])")


@dataclass
class ScanPage:
    number: int  # 1-based
    gray: np.ndarray
    dpi: int


@dataclass
class _PendingCell:
    page: ScanPage
    table: int
    grid_row: int
    grid_col: int
    rowspan: int
    colspan: int
    box: tuple[int, int, int, int]
    crop: np.ndarray
    text: str = ""
    confidence: float = 1.0


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise UnreadableDocument("ocr_time_limit", f"OCR took longer than {self.seconds:.0f} s")
        return left


def ocr_ready() -> bool:
    return tesseract_available()


def pdf_pages(data: bytes, only: set[int] | None = None) -> list[ScanPage]:
    """The PDF's pages (or the 1-based pages `only`) rendered at the OCR resolution."""
    settings = get_settings()
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(data)
        try:
            numbers = [n for n in range(1, len(document) + 1) if only is None or n in only]
            _check_pages(len(numbers))
            pages = [
                ScanPage(n, without_red(document[n - 1].render(scale=settings.ocr_dpi / 72).to_pil()), settings.ocr_dpi)
                for n in numbers
            ]
        finally:
            document.close()
    return pages


def image_pages(data: bytes) -> list[ScanPage]:
    """The frames of a JPEG/PNG/TIFF (a multi-page TIFF is one document)."""
    try:
        image = Image.open(io.BytesIO(data))
        frames = [frame.convert("RGB") for frame in ImageSequence.Iterator(image)]
    except (OSError, ValueError) as error:
        raise UnreadableDocument("corrupt_file", f"image could not be opened: {error}") from None
    _check_pages(len(frames))
    pages = []
    for index, frame in enumerate(frames):
        dpi = image_dpi(frame)
        pages.append(ScanPage(index + 1, without_red(frame), dpi))
    return pages


def without_red(image: Image.Image) -> np.ndarray:
    """The page in grey as its red channel: black print stays dark, a red seal over the
    signature or title turns as light as the paper (in luminance it is as dark as text)."""
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, 0])


def image_dpi(frame: Image.Image) -> int:
    """The resolution a photo or scan says it has, else the one an A4 page of its width has."""
    stated = frame.info.get("dpi")
    if stated and 100 <= float(stated[0]) <= 600:
        return round(float(stated[0]))
    return max(100, min(400, int(frame.width / A4_WIDTH_INCHES)))


def _check_pages(count: int) -> None:
    limit = get_settings().ocr_max_pages
    if count > limit:
        raise UnreadableDocument("too_many_pages", f"{count} scanned pages; OCR reads at most {limit}")


def extract_scan(pages: list[ScanPage]) -> ExtractedDocument:
    """Scanned pages → paragraphs and tables in reading order."""
    if not tesseract_available():
        raise UnreadableDocument("no_text_layer", "the pages are images and OCR (tesseract) is not installed")
    deadline = Deadline(get_settings().ocr_time_limit)
    straight = [ScanPage(p.number, deskew(flatten_page(p.gray))[0], p.dpi) for p in pages]
    grids = [find_grids(p.gray, p.dpi) for p in straight]
    pending: list[_PendingCell] = []
    for page, page_grids in zip(straight, grids, strict=True):
        pending += _cells_of(page, page_grids, first_table=len({(c.page.number, c.table) for c in pending}))
    _read_cells(pending, deadline)
    texts = _page_texts(straight, grids, deadline)
    blocks: list[Block] = []
    table_index = 0
    for page, page_grids, bands in zip(straight, grids, texts, strict=True):
        for band_index, band in enumerate(bands):
            lines = [cleaned for line in band.split("\n") if (cleaned := clean_ocr_line(line))]
            if page.number == 1 and band_index == 0:
                lines = join_title(lines)
            blocks += [Paragraph(line, f"page {page.number} ({OCR_SOURCE})", page=page.number) for line in lines]
            if band_index < len(page_grids):
                blocks.append(_table(page, table_index, [c for c in pending if c.page is page and c.table == table_index]))
                table_index += 1
    return ExtractedDocument(blocks=blocks, page_count=len(pages))


_EDGE_DEBRIS = re.compile(r"^[\s”“\"'‘’，,、.。:：;；|]+|[\s”“\"'‘’，,、|]+$")


def clean_ocr_line(line: str) -> str:
    """A line of OCR text without the quote marks and commas specks become at its ends."""
    return _EDGE_DEBRIS.sub("", line)


def _without_trailing_specks(line: str) -> str:
    """ "工作年度报告四" → "工作年度报告": one or two characters after the title's end are a
    seal's or a speck's reading, not words."""
    end = line.rfind("年度报告") + len("年度报告")
    return line[:end] if end >= len("年度报告") and len(line) - end <= 2 else line


def join_title(lines: list[str]) -> list[str]:
    """The title printed over two lines, as one: OCR returns each printed line apart."""
    lines = [_without_trailing_specks(line) for line in lines[:3]] + lines[3:]
    for index in range(min(3, len(lines) - 1)):
        first, second = lines[index], lines[index + 1]
        if "报告" not in first and second.endswith("年度报告") and len(first) + len(second) < 60:
            return [*lines[:index], first + second, *lines[index + 2 :]]
    return lines


def _cells_of(page: ScanPage, page_grids: list[PageGrid], first_table: int) -> list[_PendingCell]:
    """The cells of a page's tables, numbered across the document from `first_table`."""
    cells = []
    for offset, grid in enumerate(page_grids):
        for cell in grid.cells:
            x0, y0, x1, y1 = cell.box
            crop = without_edge_marks(page.gray[y0 + CELL_INSET_PX : y1 - CELL_INSET_PX, x0 + CELL_INSET_PX : x1 - CELL_INSET_PX])
            cells.append(_PendingCell(page, first_table + offset, cell.row, cell.col, cell.rowspan, cell.colspan, cell.box, crop))
    return cells


def _read_cells(cells: list[_PendingCell], deadline: Deadline) -> None:
    """Labels with chi_sim (snapped to the template's wording), numbers with two to four readings."""
    for cell in cells:
        # No ink seen is not proof of a blank (a faint or rubbed-out digit): below the
        # arithmetic's "confirmed", so a sum the cell breaks makes it suspect.
        cell.confidence = NO_INK_SEEN
    inked = [c for c in cells if has_ink(c.crop)]
    words = run_batch([c.crop for c in inked], lang="chi_sim", psm=6, whitelist=None, timeout=deadline.left())
    numeric = []
    for cell, word in zip(inked, words, strict=True):
        word = _CJK_GAP.sub("", word.replace("\n", ""))
        if (label := label_of(word)) is not None:
            cell.text, cell.confidence = label, 1.0
        elif is_dash(word):
            cell.text, cell.confidence = "—", AGREED
        else:
            numeric.append(cell)
    readings = dict(zip(map(id, numeric), read_numbers([c.crop for c in numeric], deadline.left()), strict=True))
    for row in _rows_of(cells):
        numbers = [c for c in row if id(c) in readings]
        if numbers:
            settled = settle_by_row_sums([readings[id(c)] for c in numbers])
            readings.update(zip(map(id, numbers), settled, strict=True))
    for cell in numeric:
        reading = readings[id(cell)]
        cell.text, cell.confidence = reading.text, reading.confidence
        if not reading.text:  # ink but no digit: a mark the readers could not name
            cell.confidence = GUESSED


def _rows_of(cells: list[_PendingCell]) -> list[list[_PendingCell]]:
    """The cells of each table row, left to right, from the first data cell on."""
    rows: dict[tuple[int, int, int], list[_PendingCell]] = {}
    for cell in cells:
        rows.setdefault((cell.page.number, cell.table, cell.grid_row), []).append(cell)
    return [sorted(row, key=lambda c: c.grid_col) for row in rows.values()]


def _page_texts(pages: list[ScanPage], grids: list[list[PageGrid]], deadline: Deadline) -> list[list[str]]:
    """Per page, the text of the bands above, between and below its tables."""
    bands: list[np.ndarray] = []
    shape: list[int] = []
    for page, page_grids in zip(pages, grids, strict=True):
        top = 0
        count = 0
        for grid in page_grids:
            bands.append(_blank_outside(page.gray, top, grid.box[1]))
            top = grid.box[3]
            count += 1
        bands.append(_blank_outside(page.gray, top, page.gray.shape[0]))
        shape.append(count + 1)
    texts = run_batch(bands, lang="chi_sim", psm=6, whitelist=None, timeout=deadline.left())
    texts = [_CJK_GAP.sub("", t) for t in texts]
    out, start = [], 0
    for count in shape:
        out.append(texts[start : start + count])
        start += count
    return out


def _blank_outside(gray: np.ndarray, top: int, bottom: int) -> np.ndarray:
    band = gray[max(0, top) : max(top + 1, bottom)]
    return band if band.shape[0] > 4 else np.full((8, gray.shape[1]), 255, dtype=np.uint8)


def _table(page: ScanPage, index: int, cells: list[_PendingCell]) -> Table:
    height_pt = page.gray.shape[0] * 72 / page.dpi
    scale = 72 / page.dpi
    source = f"page {page.number}, table {index + 1} ({OCR_SOURCE})"
    return Table(
        [
            Cell(
                c.text,
                c.grid_row,
                c.grid_col,
                c.rowspan,
                c.colspan,
                f"{source}, r{c.grid_row}c{c.grid_col}",
                page=page.number,
                box=(c.box[0] * scale, height_pt - c.box[3] * scale, c.box[2] * scale, height_pt - c.box[1] * scale),
                confidence=c.confidence,
            )
            for c in cells
        ],
        source,
    )
