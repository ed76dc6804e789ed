"""The PDFium page reader and the lattice cell finder, on hand-built PDFs and edges."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from services.parser.pdf import extract_pdf
from services.parser.pdf_cells import find_cells
from services.parser.pdf_reader import PageContent, open_pdf, read_pages
from services.parser.pdf_tables import _edge
from shared.report import UnreadableDocument

SAMPLE_PDF = Path(__file__).resolve().parents[2] / "samples" / "07-report.pdf"


def _pdf(content: bytes, *, encrypt: bool = False) -> bytes:
    """A one-page A4 PDF drawing ``content`` with Helvetica as F1 (built by hand)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if encrypt:  # a standard security handler whose user password is not empty
        objects.append(b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>" % (b"11" * 32, b"22" * 32))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    extra = b" /Encrypt 6 0 R /ID [<%s> <%s>]" % (b"ab" * 16, b"ab" * 16) if encrypt else b""
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, extra, xref)
    )
    return out.getvalue()


def _read(data: bytes) -> list[PageContent]:
    with open_pdf(data) as pdf:
        return list(read_pages(pdf))


def test_characters_have_boxes_in_points_from_the_top() -> None:
    (page,) = _read(_pdf(b"BT /F1 20 Tf 100 700 Td (Hi 42) Tj ET"))
    assert page.page_number == 1 and (page.width, page.height) == (595.0, 842.0)
    assert "".join(c["text"] for c in page.chars) == "Hi 42"
    first = page.chars[0]
    assert first["size"] == pytest.approx(20.0)
    assert first["x0"] == pytest.approx(100.0, abs=0.01)
    # The baseline sits at 842 - 700 = 142 from the top; the box spans the font size
    # above the font's descent line.
    assert first["top"] < 142 < first["bottom"] < 142 + 0.3 * 20
    assert first["bottom"] - first["top"] == pytest.approx(20.0)
    assert all(a["x1"] <= b["x0"] + 0.01 for a, b in zip(page.chars, page.chars[1:], strict=False))


def test_scaled_text_reports_the_size_as_printed() -> None:
    # Word exports set a 0.05 text matrix and a font size of 20x the printed size.
    (page,) = _read(_pdf(b"BT /F1 240 Tf 0.05 0 0 0.05 100 700 Tm (7) Tj ET"))
    assert page.chars[0]["size"] == pytest.approx(12.0)


def test_paths_are_sorted_into_lines_rects_and_curves() -> None:
    drawing = (
        b"100 500 m 300 500 l S\n"  # a line
        b"100 400 200 50 re S\n"  # a stroked rectangle
        b"100 300 200 0.5 re f\n"  # a thin filled bar (a ruling drawn as a rectangle)
        b"100 200 m 150 250 l 200 200 l S\n"  # a polyline: a curve
        b"q 2 0 0 2 0 0 cm 50 50 m 100 50 l S Q\n"  # a line under a scaling matrix
    )
    (page,) = _read(_pdf(drawing))
    lines = sorted((round(e["x0"]), round(e["top"]), round(e["x1"]), round(e["bottom"])) for e in page.lines)
    assert lines == [(100, 342, 300, 342), (100, 742, 200, 742)]
    rects = sorted(
        (round(r["x0"]), round(r["top"]), round(r["x1"]), round(r["bottom"]), r["stroke"]) for r in page.rects
    )
    assert rects == [(100, 392, 300, 442, True), (100, 542, 300, 542, False)]
    assert [[(round(x), round(y)) for x, y in c["pts"]] for c in page.curves] == [
        [(100, 642), (150, 592), (200, 642)]
    ]


def test_encrypted_pdf_is_a_corrupt_file() -> None:
    with pytest.raises(UnreadableDocument) as error:
        extract_pdf(_pdf(b"BT /F1 20 Tf 100 700 Td (secret) Tj ET", encrypt=True))
    assert error.value.code == "corrupt_file"
    assert "password" in error.value.message


def test_cells_from_rules_drawn_in_pieces() -> None:
    """A 2x2 grid whose rules are drawn cell by cell, slightly off, plus a merged top row."""
    edges = [
        _edge(0, 0, 100, 0),  # top rule, whole
        _edge(0, 20.5, 50, 20.5),  # middle rule in two pieces, 0.5 pt apart in height
        _edge(50, 21, 100, 21),
        _edge(0, 40, 100, 40),
        _edge(0, 0, 0, 40),
        _edge(100, 0, 100, 40),
        _edge(50, 21, 50, 40),  # the column rule only below the merged row
    ]
    (table,) = find_cells(edges, 3.0, 3.0)
    rounded = sorted(tuple(round(v, 2) for v in cell) for cell in table)
    assert rounded == [(0, 0, 100, 20.75), (0, 20.75, 50, 40), (50, 20.75, 100, 40)]


def test_a_single_frame_is_not_a_table() -> None:
    frame = [_edge(0, 0, 100, 0), _edge(0, 30, 100, 30), _edge(0, 0, 0, 30), _edge(100, 0, 100, 30)]
    assert find_cells(frame, 3.0, 3.0) == []


def test_pdfs_read_in_threads_read_as_in_one() -> None:
    """PDFium is not thread-safe: concurrent extractions must be serialised, not crash."""
    if not SAMPLE_PDF.exists():
        pytest.skip("samples/07-report.pdf is absent (made with LibreOffice by tests/corpus/make_samples.py)")
    data = SAMPLE_PDF.read_bytes()
    expected = extract_pdf(data)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(extract_pdf, [data] * 8))
    assert all(result == expected for result in results)
