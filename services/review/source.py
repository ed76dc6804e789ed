"""The source of one cell, for a reviewer to compare with what was read (pure).

PDFs: a PNG of the page around the cell's box, rendered with pypdfium2, the cell framed
in red. Other formats: the source line (text files) or table row (HTML, DOCX, XLSX) as
text, with the cell's start/end offsets in it. Positions come from the parser
(`CellDetail.page/box/table/row/col/paragraph/line`, see services/parser/document.py).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

import pypdfium2 as pdfium
from PIL import Image, ImageDraw

from services.parser import extract_document
from services.parser.document import Paragraph, Table
from services.parser.pdf_reader import PDFIUM_LOCK
from services.parser.rows import split_line
from services.parser.scan import image_dpi
from services.parser.sniff import sniff
from services.review import NotFound
from shared.models import Document
from shared.report import CellDetail
from shared.storage import ObjectNotFound, ObjectStore

# Bump when crops or excerpts change: it is part of their cache keys.
RENDERER_VERSION = "1"
CROP_SCALE = 2.0  # pixels per PDF point (144 dpi): digits stay legible
CROP_CONTEXT_PT = 60.0  # page shown above and below the cell
FRAME_PAD_PT = 2.0  # the frame sits just outside the cell's box: the digits stay legible
CELL_SEPARATOR = " | "  # between the cells of a table row in an excerpt


class SourceUnavailable(NotFound):
    """The cell's source cannot be shown (no recorded position, or it no longer matches)."""


@dataclass(frozen=True)
class Excerpt:
    """The text around a cell: `text[start:end]` is the cell (empty for a blank cell)."""

    kind: str  # "line" | "table_row" | "paragraph"
    text: str
    start: int
    end: int
    location: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "cell_text": self.text[self.start : self.end],
            **self.location,
        }


def is_pdf_position(detail: CellDetail) -> bool:
    return detail.page is not None and detail.box is not None and len(detail.box) == 4


def cache_key(sha256: str, cell: str, detail: CellDetail) -> str:
    """Where a rendered source is kept in object storage: the file's hash, the cell, the
    renderer's version and the position itself (a re-parse may move a cell)."""
    where = json.dumps([detail.page, detail.box, detail.table, detail.paragraph, detail.row, detail.col])
    digest = hashlib.sha256(where.encode()).hexdigest()[:16]
    suffix = "png" if is_pdf_position(detail) else "json"
    return f"cache/source/{sha256}/{cell}/r{RENDERER_VERSION}-{digest}.{suffix}"


def pdf_crop(data: bytes, page_number: int, box: list[float] | tuple[float, ...]) -> bytes:
    """PNG of the page's full width around `box` (PDF points, origin bottom-left), the box
    framed in red, so the row's label and the column's neighbours stay in view."""
    with PDFIUM_LOCK:  # PDFium is not thread-safe; review routes run in a thread pool
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as error:
            raise SourceUnavailable(f"the PDF cannot be opened: {error}") from error
        try:
            if not 1 <= page_number <= len(pdf):
                raise SourceUnavailable(f"page {page_number} is not in the PDF ({len(pdf)} pages)")
            page = pdf[page_number - 1]
            width, height = page.get_size()
            x0, y0, x1, y1 = (float(v) for v in box)
            bottom = max(0.0, min(y0, y1) - CROP_CONTEXT_PT)
            top = min(height, max(y0, y1) + CROP_CONTEXT_PT)
            bitmap = page.render(scale=CROP_SCALE, crop=(0, bottom, 0, height - top))
            image = bitmap.to_pil().convert("RGB")
            bitmap.close()
            page.close()
        finally:
            pdf.close()

    def pixel(x: float, y: float) -> tuple[float, float]:
        return x * CROP_SCALE, (top - y) * CROP_SCALE

    pad = FRAME_PAD_PT
    left_top = pixel(min(x0, x1) - pad, max(y0, y1) + pad)
    right_bottom = pixel(max(x0, x1) + pad, min(y0, y1) - pad)
    ImageDraw.Draw(image).rectangle((*left_top, *right_bottom), outline=(220, 0, 0), width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")  # optimize=True would cost ~5x the time for ~3% fewer bytes
    return out.getvalue()


def image_crop(data: bytes, page_number: int, box: list[float] | tuple[float, ...]) -> bytes:
    """The same view for a scan uploaded as an image (JPEG/PNG/TIFF): the page's frame at
    the resolution the parser read it at (boxes are in points of that page)."""
    try:
        image = Image.open(io.BytesIO(data))
        image.seek(page_number - 1)
        frame = image.convert("RGB")
    except (OSError, EOFError, ValueError) as error:
        raise SourceUnavailable(f"page {page_number} of the image cannot be read: {error}") from error
    per_point = image_dpi(frame) / 72
    height_pt = frame.height / per_point
    x0, y0, x1, y1 = (float(v) for v in box)
    top = min(height_pt, max(y0, y1) + CROP_CONTEXT_PT)
    bottom = max(0.0, min(y0, y1) - CROP_CONTEXT_PT)
    band = frame.crop((0, round((height_pt - top) * per_point), frame.width, round((height_pt - bottom) * per_point)))
    scale = CROP_SCALE / per_point
    band = band.resize((round(band.width * scale), round(band.height * scale)))

    def pixel(x: float, y: float) -> tuple[float, float]:
        return x * CROP_SCALE, (top - y) * CROP_SCALE

    pad = FRAME_PAD_PT
    corners = (*pixel(min(x0, x1) - pad, max(y0, y1) + pad), *pixel(max(x0, x1) + pad, min(y0, y1) - pad))
    ImageDraw.Draw(band).rectangle(corners, outline=(220, 0, 0), width=3)
    out = io.BytesIO()
    band.save(out, format="PNG")
    return out.getvalue()


def text_excerpt(data: bytes, filename: str, detail: CellDetail) -> Excerpt:
    """The table row or text line the cell was read from, the cell marked by offsets."""
    if detail.table is not None and detail.row is not None and detail.col is not None:
        return _table_row(data, filename, detail.table, detail.row, detail.col)
    if detail.paragraph is not None:
        return _paragraph_line(data, filename, detail)
    raise SourceUnavailable(
        "the parse recorded no position for this cell (read by an older parser): reprocess the document"
    )


def _table_row(data: bytes, filename: str, table_index: int, row: int, col: int) -> Excerpt:
    tables = [b for b in extract_document(data, filename).blocks if isinstance(b, Table)]
    if table_index >= len(tables):
        raise SourceUnavailable(f"table {table_index} is not in the document")
    grid = tables[table_index].grid()
    if row >= len(grid) or col >= len(grid[row]):
        raise SourceUnavailable(f"table {table_index} has no cell at row {row}, column {col}")
    target = grid[row][col]
    text, start, end, seen = "", 0, 0, set()
    for cell in grid[row]:
        if cell is None or id(cell) in seen:
            continue
        seen.add(id(cell))
        if text:
            text += CELL_SEPARATOR
        piece = " ".join(cell.text.split())
        if cell is target:
            start, end = len(text), len(text) + len(piece)
        text += piece
    return Excerpt("table_row", text, start, end, {"table": table_index, "row": row, "col": col})


def _paragraph_line(data: bytes, filename: str, detail: CellDetail) -> Excerpt:
    blocks = extract_document(data, filename).blocks
    index = detail.paragraph
    assert index is not None
    if index >= len(blocks) or not isinstance(blocks[index], Paragraph):
        raise SourceUnavailable(f"paragraph {index} is not in the document")
    lines = blocks[index].text.split("\n")  # type: ignore[union-attr]
    location = {"paragraph": index} | ({"line": detail.line} if detail.line is not None else {})
    for line in lines:
        span = field_span(line, detail.col or 0, detail.raw)
        if span is not None:
            return Excerpt("line", line, span[0], span[1], location)
    raise SourceUnavailable("the cell's text is no longer where the parse found it")


def field_span(line: str, index: int, raw: str) -> tuple[int, int] | None:
    """Offsets of the `index`-th field of a text line as `rows.split_line` splits it, or
    None when that field is not `raw` (the line is another one)."""
    if "\t" in line:
        offset = 0
        for i, piece in enumerate(line.split("\t")):
            if i == index:
                stripped = piece.strip()
                start = offset + (piece.find(stripped) if stripped else 0)
                return (start, start + len(stripped)) if stripped == raw.strip() else None
            offset += len(piece) + 1
        return None
    fields = split_line(line.strip())
    if index >= len(fields) or fields[index] != raw:
        return None
    cursor = 0
    for i, piece in enumerate(fields):
        at = line.find(piece, cursor) if piece else -1
        if i == index:
            return (at, at + len(piece)) if at >= 0 else None
        if at >= 0:  # a label joined from several words is not found verbatim: skip it
            cursor = at + len(piece)
    return None


@dataclass(frozen=True)
class CellSource:
    media_type: str  # image/png for PDFs, application/json otherwise
    body: bytes
    cached: bool


def cell_source(doc: Document, cell: str, raw: ObjectStore) -> CellSource:
    """The source of one of the document's cells, from the cache in object storage when
    rendered before (the uploaded file's bytes are only read on a cache miss)."""
    details = (doc.parsed or {}).get("cell_details") or {}
    if cell not in details:
        raise NotFound(f"the report has no cell {cell}")
    known = CellDetail.__dataclass_fields__
    detail = CellDetail(**{k: v for k, v in details[cell].items() if k in known})
    key = cache_key(doc.sha256, cell, detail)
    media_type = "image/png" if is_pdf_position(detail) else "application/json"
    try:
        return CellSource(media_type, raw.get(key), True)
    except ObjectNotFound:
        pass
    try:
        data = raw.get(doc.storage_key)
    except ObjectNotFound:
        raise SourceUnavailable("the uploaded file is not in storage") from None
    if is_pdf_position(detail):
        assert detail.page is not None and detail.box is not None
        crop = image_crop if sniff(data, doc.filename) == "image" else pdf_crop
        body = crop(data, detail.page, detail.box)
    else:
        excerpt = text_excerpt(data, doc.filename, detail)
        body = json.dumps({"cell": cell, "raw": detail.raw, **excerpt.to_json()}, ensure_ascii=False).encode()
    raw.put(key, body, media_type)
    return CellSource(media_type, body, False)
