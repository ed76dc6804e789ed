"""One PDF page as the extractor needs it, read with PDFium (pypdfium2).

PDFium parses in C; only the per-glyph and per-path loops below run in Python. Each page
becomes plain dicts in the coordinates the extractor works in — x from the left, ``top``
and ``bottom`` measured down from the top of the page, in points — so the table, line and
unruled-row logic never touches PDFium itself:

- characters: ``text``, ``x0``, ``x1``, ``top``, ``bottom``, ``size`` (font size in points);
- the drawn shapes that can be table rulings: straight ``lines``, axis-parallel ``rects``
  and other ``curves`` (their points), each with whether it is stroked;
- the area of every image, to recognise scanned pages.

A glyph box spans the advance width and, vertically, the font size above the font's
descent line: the box a reader sees around the letter, independent of the glyph's ink.
"""

from __future__ import annotations

import ctypes
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from services.parser.pdf_text import Char
from shared.report import UnreadableDocument

# PDFium is not thread-safe, not even across documents: every call into it, here and in
# the review desk's page renderer, runs under this one process-wide lock (processes, not
# threads, are what runs PDFs in parallel: the Celery workers are forked).
PDFIUM_LOCK = threading.RLock()

Matrix = tuple[float, float, float, float, float, float]
Point = tuple[float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
# Points this close (pt) are the same corner of a rectangle.
SAME_POINT = 1e-3
# A glyph box wider or taller than this many font sizes is not a glyph's box.
MAX_BOX_EMS = 2.0


@dataclass
class PageContent:
    """What the extractor reads from one page (1-based ``page_number``)."""

    page_number: int
    width: float
    height: float
    chars: list[Char] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    rects: list[dict[str, Any]] = field(default_factory=list)
    curves: list[dict[str, Any]] = field(default_factory=list)
    image_areas: list[float] = field(default_factory=list)


@contextmanager
def open_pdf(data: bytes) -> Iterator[pdfium.PdfDocument]:
    """The open document, closed on exit; ``corrupt_file`` for anything PDFium cannot open
    (encrypted files too)."""
    try:
        with PDFIUM_LOCK:
            document = pdfium.PdfDocument(data)
    except Exception as error:  # noqa: BLE001 - PdfiumError, or ValueError for empty input
        reason = "encrypted (password required)" if "password" in repr(error).lower() else "not a readable PDF"
        raise UnreadableDocument("corrupt_file", f"{reason}: {type(error).__name__}") from error
    try:
        yield document
    finally:
        with PDFIUM_LOCK:
            document.close()


def read_pages(document: pdfium.PdfDocument) -> Iterator[PageContent]:
    """Every page's content in order; a page PDFium cannot load is a corrupt file.

    The lock is held while one page is read, not while the caller works on it.
    """
    with PDFIUM_LOCK:
        page_count = len(document)
    for index in range(page_count):
        with PDFIUM_LOCK:
            try:
                page = document[index]
            except Exception as error:  # noqa: BLE001 - PdfiumError on a broken page tree
                message = f"page {index + 1} cannot be read: {type(error).__name__}"
                raise UnreadableDocument("corrupt_file", message) from error
            try:
                content = read_page(page, index + 1)
            finally:
                page.close()
        yield content


def read_page(page: pdfium.PdfPage, page_number: int) -> PageContent:
    width, height = page.get_size()
    content = PageContent(page_number, float(width), float(height))
    text_page = page.get_textpage()
    try:
        content.chars = _chars(text_page, content.height)
    finally:
        text_page.close()
    _read_objects(
        content,
        pdfium_c.FPDFPage_CountObjects(page.raw),
        lambda i: pdfium_c.FPDFPage_GetObject(page.raw, i),
        IDENTITY,
    )
    return content


def _chars(text_page: pdfium.PdfTextPage, height: float) -> list[Char]:
    """The page's glyphs in content order; PDFium's generated spaces and line breaks skipped.

    A glyph whose font maps it to no Unicode character becomes U+FFFD, which the
    extractor counts as a bad glyph (a CJK font without ToUnicode table).
    """
    raw = text_page.raw
    count = pdfium_c.FPDFText_CountChars(raw)
    if count <= 0:
        return []
    buffer = ctypes.create_string_buffer(2 * (count + 1))
    pdfium_c.FPDFText_GetText(raw, 0, count, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)))
    units = memoryview(buffer.raw).cast("H")
    box = pdfium_c.FS_RECTF()
    matrix = pdfium_c.FS_MATRIX()
    origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
    chars: list[Char] = []
    index = 0
    while index < count:
        step = 1
        code = units[index]
        if 0xD800 <= code < 0xDC00 and index + 1 < count and 0xDC00 <= units[index + 1] < 0xE000:
            code = 0x10000 + ((code - 0xD800) << 10) + (units[index + 1] - 0xDC00)
            step = 2
        if pdfium_c.FPDFText_IsGenerated(raw, index) != 1:
            unmapped = code == 0 or pdfium_c.FPDFText_HasUnicodeMapError(raw, index) == 1
            pdfium_c.FPDFText_GetLooseCharBox(raw, index, box)
            pdfium_c.FPDFText_GetMatrix(raw, index, matrix)
            size = pdfium_c.FPDFText_GetFontSize(raw, index) * math.hypot(matrix.c, matrix.d)
            x0, x1, bottom = box.left, box.right, height - box.bottom
            if max(x1 - x0, box.top - box.bottom) > MAX_BOX_EMS * max(size, 1.0):
                # Vertical writing (Identity-V fonts): PDFium's loose box is not the glyph's
                # cell there; the glyph occupies one em square right and above its origin.
                pdfium_c.FPDFText_GetCharOrigin(raw, index, origin_x, origin_y)
                x0, x1, bottom = origin_x.value, origin_x.value + size, height - origin_y.value
            chars.append(
                {
                    "text": "\ufffd" if unmapped or 0xD800 <= code < 0xE000 else chr(code),
                    "x0": x0,
                    "x1": x1,
                    "top": bottom - size,
                    "bottom": bottom,
                    "size": size,
                }
            )
        index += step
    return chars


def _read_objects(content: PageContent, count: int, get: Any, parent: Matrix) -> None:
    """Paths and images, descending into form XObjects with their placement matrix."""
    for index in range(count):
        obj = get(index)
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
            _read_path(content, obj, _compose(_matrix(obj), parent))
        elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            content.image_areas.append(_image_area(obj, parent))
        elif kind == pdfium_c.FPDF_PAGEOBJ_FORM:
            _read_objects(
                content,
                pdfium_c.FPDFFormObj_CountObjects(obj),
                lambda i, form=obj: pdfium_c.FPDFFormObj_GetObject(form, i),
                _compose(_matrix(obj), parent),
            )


def _matrix(obj: Any) -> Matrix:
    m = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, m):
        return IDENTITY
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _compose(inner: Matrix, outer: Matrix) -> Matrix:
    """The matrix applying ``inner`` first, then ``outer``."""
    a, b, c, d, e, f = inner
    a2, b2, c2, d2, e2, f2 = outer
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def _apply(m: Matrix, x: float, y: float) -> Point:
    return (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])


def _image_area(obj: Any, parent: Matrix) -> float:
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    if not pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
        return 0.0
    corners = [_apply(parent, x, y) for x in (left.value, right.value) for y in (bottom.value, top.value)]
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    return (max(xs) - min(xs)) * (max(ys) - min(ys))


def _read_path(content: PageContent, obj: Any, matrix: Matrix) -> None:
    """Split a path into subpaths and sort each into a line, a rectangle or a curve.

    Subpaths are classified like pdfminer does: a single segment is a line; four corners
    of an axis-parallel, closed outline are a rectangle; anything else is a curve.
    """
    fill_mode, stroke = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDFPath_GetDrawMode(obj, fill_mode, stroke)
    stroked = bool(stroke.value)
    subpaths: list[tuple[list[Point], bool, bool]] = []  # points, closed, has a curve
    x, y = ctypes.c_float(), ctypes.c_float()
    for index in range(pdfium_c.FPDFPath_CountSegments(obj)):
        segment = pdfium_c.FPDFPath_GetPathSegment(obj, index)
        pdfium_c.FPDFPathSegment_GetPoint(segment, x, y)
        px, py = _apply(matrix, x.value, y.value)
        point = (px, content.height - py)
        kind = pdfium_c.FPDFPathSegment_GetType(segment)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO or not subpaths:
            subpaths.append(([point], False, False))
            continue
        points, closed, curved = subpaths[-1]
        points.append(point)
        subpaths[-1] = (
            points,
            closed or bool(pdfium_c.FPDFPathSegment_GetClose(segment)),
            curved or kind == pdfium_c.FPDF_SEGMENT_BEZIERTO,
        )
    for points, closed, curved in subpaths:
        _add_shape(content, points, closed, curved, stroked)


def _add_shape(content: PageContent, points: list[Point], closed: bool, curved: bool, stroked: bool) -> None:
    if closed and len(points) >= 3 and _same(points[-1], points[0]):
        points = points[:-1]  # PDFium draws the closing segment as a point; pdfminer does not
    elif not closed and len(points) == 5 and _same(points[-1], points[0]):
        points, closed = points[:-1], True
    if not curved and len(points) == 2:
        (x0, top0), (x1, top1) = points
        content.lines.append(
            {
                "x0": min(x0, x1),
                "x1": max(x0, x1),
                "top": min(top0, top1),
                "bottom": max(top0, top1),
                "stroke": stroked,
            }
        )
    elif not curved and closed and len(points) == 4 and _is_axis_rectangle(points):
        xs, tops = [p[0] for p in points], [p[1] for p in points]
        x0, x1, top, bottom = min(xs), max(xs), min(tops), max(tops)
        content.rects.append(
            {
                "x0": x0,
                "x1": x1,
                "top": top,
                "bottom": bottom,
                "width": x1 - x0,
                "height": bottom - top,
                "stroke": stroked,
            }
        )
    elif len(points) >= 2:
        content.curves.append({"pts": points, "stroke": stroked})


def _same(a: Point, b: Point) -> bool:
    return abs(a[0] - b[0]) <= SAME_POINT and abs(a[1] - b[1]) <= SAME_POINT


def _is_axis_rectangle(points: list[Point]) -> bool:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
    close = lambda a, b: abs(a - b) <= SAME_POINT  # noqa: E731 - local shorthand
    return (close(x0, x1) and close(y1, y2) and close(x2, x3) and close(y3, y0)) or (
        close(y0, y1) and close(x1, x2) and close(y2, y3) and close(x3, x0)
    )
