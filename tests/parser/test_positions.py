"""Every cell records where in the source it was read (CellDetail page/box, table/row/col,
paragraph/line/col), exactly enough to find its text there again."""

from __future__ import annotations

import random
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from services.parser import parse_document
from shared.report import CellDetail
from tests.corpus import render_docx
from tests.corpus.generate import render_fast
from tests.corpus.render_office import convert_batch, soffice_available
from tests.corpus.truth import random_truth

SAMPLE_PDF = Path(__file__).resolve().parents[2] / "samples" / "07-report.pdf"
KEYS = ("t2_rules_issued", "t3_granted__natural", "t3_new_received__total", "t4_review_upheld")


def truth(seed: int) -> dict:
    return random_truth(random.Random(seed))


def test_grid_tables_name_table_row_and_column() -> None:
    made = truth(3)
    for name, data in (render_fast(made, "html_trs_utf8"), render_docx.render(made)):
        detail = parse_document(data, name).cell_details["t3_granted__natural"]
        assert detail.table is not None and detail.row is not None and detail.col is not None, name
        assert detail.source.endswith(f"r{detail.row}c{detail.col}"), (name, detail.source)
        assert detail.page is None and detail.line is None


@pytest.fixture(scope="module")
def pdf_report() -> tuple[bytes, dict[str, CellDetail]]:
    if not SAMPLE_PDF.exists():
        pytest.skip("samples/07-report.pdf is absent (made with LibreOffice by tests/corpus/make_samples.py)")
    data = SAMPLE_PDF.read_bytes()
    return data, parse_document(data, SAMPLE_PDF.name).cell_details


def test_text_line_positions_name_line_and_field() -> None:
    name, data = render_fast(truth(3), "txt_tab_seed")
    detail = parse_document(data, name).cell_details["t3_granted__natural"]
    assert detail.source == f"line {detail.line}" and detail.col is not None and detail.col >= 1
    assert detail.page is None and detail.box is None and detail.table is None


def test_pdf_cells_record_page_and_box_in_pdf_points(pdf_report: tuple[bytes, dict[str, CellDetail]]) -> None:
    data, details = pdf_report
    pdf = pdfium.PdfDocument(data)
    for key in KEYS:
        detail = details[key]
        assert detail.page is not None and detail.box is not None, key
        page = pdf[detail.page - 1]
        x0, y0, x1, y1 = detail.box
        assert 0 <= x0 < x1 <= page.get_width() and 0 <= y0 < y1 <= page.get_height()
        # Origin bottom-left, as PDFium's own text-by-rectangle lookup: the box holds the
        # cell's text (PDFium's glyph boxes here are the ink, not what the parser uses).
        inside = page.get_textpage().get_text_bounded(x0, y0, x1, y1)
        assert squash(inside) == squash(detail.raw), key


def test_unruled_pdf_tables_give_each_cell_its_own_box() -> None:
    """Text rebuilt into table rows (no rulings): each cell's box holds just its text."""
    if not soffice_available():
        pytest.skip("LibreOffice (soffice) is not installed: it makes the unruled PDF")
    made = truth(9)
    data = convert_batch({"u": render_docx.render(made, "docx_unruled")[1]}, "pdf")["u"]
    details = parse_document(data, "u.pdf").cell_details
    pdf = pdfium.PdfDocument(data)
    for key in KEYS:
        detail = details[key]
        assert detail.page is not None and detail.box is not None and detail.paragraph is not None, key
        page = pdf[detail.page - 1]
        x0, y0, x1, y1 = detail.box
        assert x1 - x0 < 60, key  # one cell, not the whole row
        inside = page.get_textpage().get_text_bounded(x0 - 0.5, y0 - 0.5, x1 + 0.5, y1 + 0.5)
        assert squash(inside) == squash(detail.raw), key


def squash(text: str) -> str:
    return "".join(text.split())
