"""A cell's source as the desk shows it: the PDF page cropped around it, or its text line or table row with the cell marked; cached in object storage."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from services.parser import parse_document
from services.review.source import (
    RENDERER_VERSION,
    CellSource,
    SourceUnavailable,
    cache_key,
    cell_source,
    field_span,
    pdf_crop,
    text_excerpt,
)
from shared.models import Document
from shared.report import CellDetail
from shared.storage import LocalStore
from tests.corpus import render_docx, render_xlsx
from tests.corpus.generate import render_fast
from tests.review.helpers import truth

SAMPLE_PDF = Path(__file__).resolve().parents[2] / "samples" / "07-report.pdf"
KEYS = ("t2_rules_issued", "t3_granted__natural", "t3_new_received__total", "t4_review_upheld")


def _reports() -> list[tuple[str, str, bytes, dict]]:
    made = truth(11)
    out = []
    for style in ("html_trs_utf8", "txt_tab_seed", "md_pdf_dump"):
        name, data = render_fast(made, style)
        out.append((style, name, data, made))
    name, data = render_docx.render(made)
    out.append(("docx", name, data, made))
    name, data = render_xlsx.render(made)
    out.append(("xlsx", name, data, made))
    return out


@pytest.mark.parametrize(("style", "name", "data", "made"), _reports(), ids=lambda v: v if isinstance(v, str) else "")
def test_text_formats_show_the_cell_in_its_row_or_line(style: str, name: str, data: bytes, made: dict) -> None:
    report = parse_document(data, name)
    for key in KEYS:
        detail = report.cell_details[key]
        excerpt = text_excerpt(data, name, detail)
        # The marked span is the cell's own text, as read.
        assert excerpt.text[excerpt.start : excerpt.end].strip() == detail.raw.strip(), (style, key)
        if detail.line is not None:
            assert excerpt.kind == "line" and detail.paragraph is not None
            lines = data.decode("utf-8", errors="replace").splitlines()
            assert lines[detail.line - 1] == excerpt.text
        else:
            assert excerpt.kind == "table_row"
            assert (detail.table, detail.row, detail.col) == (
                excerpt.location["table"],
                excerpt.location["row"],
                excerpt.location["col"],
            )


def test_field_span_finds_the_nth_field() -> None:
    assert field_span("予以公开 1 1 0", 2, "1") == (7, 8)
    assert field_span("a\t 5 \t\t7", 1, "5") == (3, 4)
    assert field_span("a\t 5 \t\t7", 2, "") == (6, 6)  # a blank cell: an empty span where it is
    assert field_span("予以公开 1 1 0", 2, "9") is None


@pytest.fixture(scope="module")
def pdf_report() -> tuple[bytes, dict[str, CellDetail]]:
    if not SAMPLE_PDF.exists():
        pytest.skip("samples/07-report.pdf is absent (made with LibreOffice by tests/corpus/make_samples.py)")
    data = SAMPLE_PDF.read_bytes()
    return data, parse_document(data, SAMPLE_PDF.name).cell_details


def test_pdf_crop_is_a_png_with_the_cell_framed(pdf_report: tuple[bytes, dict[str, CellDetail]]) -> None:
    data, details = pdf_report
    detail = details["t3_granted__natural"]
    assert detail.page is not None and detail.box is not None
    png = pdf_crop(data, detail.page, detail.box)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    x0, y0, x1, y1 = detail.box
    assert image.width > 1000  # the page's full width at 2 px/pt
    assert image.height < 2 * ((y1 - y0) + 2 * 60) + 4  # only the band around the cell
    # The frame's left edge is red, at the cell's x0 (2 px per point).
    red = [image.getpixel((round((x0 - 2) * 2) + dx, image.height // 2)) for dx in (-1, 0, 1)]
    assert any(r > 180 and g < 60 and b < 60 for r, g, b in red), red
    with pytest.raises(SourceUnavailable):
        pdf_crop(data, 99, detail.box)


def test_cell_source_renders_once_then_serves_the_cache(
    tmp_path: Path, pdf_report: tuple[bytes, dict[str, CellDetail]]
) -> None:
    data, _ = pdf_report
    store = LocalStore(tmp_path)
    store.put("raw/abc", data)
    report = parse_document(data, "r.pdf")
    doc = Document(upload_id="u", filename="r.pdf", size=len(data), sha256="abc", storage_key="raw/abc", parsed=report.to_json())
    first = cell_source(doc, "t3_granted__natural", store)
    second = cell_source(doc, "t3_granted__natural", store)
    assert first == CellSource("image/png", first.body, False)
    assert second == CellSource("image/png", first.body, True)
    assert first.body.startswith(b"\x89PNG")
    detail = report.cell_details["t3_granted__natural"]
    key = cache_key("abc", "t3_granted__natural", detail)
    assert store.exists(key) and f"/r{RENDERER_VERSION}-" in key and key.startswith("cache/source/abc/")
    moved = CellDetail(**{**detail.__dict__, "box": [0.0, 0.0, 1.0, 1.0]})
    assert cache_key("abc", "t3_granted__natural", moved) != key


def test_cell_source_of_text_formats_is_json_and_old_parses_say_why(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    name, data = render_fast(truth(4), "html_trs_utf8")
    store.put("raw/h", data)
    report = parse_document(data, name)
    doc = Document(upload_id="u", filename=name, size=len(data), sha256="h", storage_key="raw/h", parsed=report.to_json())
    found = cell_source(doc, "t3_granted__natural", store)
    assert found.media_type == "application/json" and not found.cached
    assert b'"kind": "table_row"' in found.body
    old = report.to_json()
    for detail in old["cell_details"].values():
        detail.update(table=None, row=None, col=None, paragraph=None, line=None)
    doc.parsed = old
    with pytest.raises(SourceUnavailable, match="older parser"):
        cell_source(doc, "t3_granted__natural", store)
