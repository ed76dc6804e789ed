"""Property tests on every parser entry point: whatever the bytes, the parser answers with
a result or its own error (`UnreadableDocument`), never another exception.

Inputs are random bytes, random bytes behind each format's magic, and real samples
truncated or with bytes flipped (which reach far deeper into each reader). Bounded:
few examples per entry point, no deadline (PDF and DOCX readers take tens of ms)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.parser import extract_document, parse_document, parse_extracted
from services.parser.document import Cell, ExtractedDocument, Paragraph, Table
from services.parser.html_reader import extract_html
from services.parser.office import extract_docx, extract_xls, extract_xlsx
from services.parser.pdf import extract_pdf
from services.parser.sniff import sniff
from services.parser.text_reader import extract_text
from shared.report import ParsedReport, UnreadableDocument

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
BOUNDED = settings(
    max_examples=int(os.environ.get("NIANBAO_PROPERTY_EXAMPLES", "40")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def sample(prefix: str) -> bytes:
    return next(SAMPLES.glob(f"{prefix}*")).read_bytes()


def xlsx_sample() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["收到和处理政府信息公开申请情况", None, None])
    sheet.append(["一、本年新收政府信息公开申请数量", 3, 0])
    sheet.merge_cells("A1:C1")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@st.composite
def damaged(draw: st.DrawFn, original: bytes) -> bytes:
    """The sample truncated, or with a few bytes overwritten."""
    data = bytearray(original)
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    for _ in range(draw(st.integers(0, 8))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


MAGICS = [b"%PDF-1.4\n", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"{\\rtf1", b"<html><body>", b"\xef\xbb\xbf", b"\xff\xfe"]


def any_bytes(*originals: bytes) -> st.SearchStrategy[bytes]:
    choices: list[st.SearchStrategy[bytes]] = [
        st.binary(max_size=2048),
        st.tuples(st.sampled_from(MAGICS), st.binary(max_size=2048)).map(lambda t: t[0] + t[1]),
        st.text(max_size=500).map(lambda s: s.encode("utf-8")),
    ]
    choices += [damaged(o) for o in originals]
    return st.one_of(choices)


def only_own_errors(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except UnreadableDocument as refused:
        assert refused.code and refused.message
        return None


ALL_SAMPLES = [sample(p) for p in ("03", "04", "01", "06", "07")]
NAMES = st.sampled_from(["report.txt", "report.html", "report.docx", "report.xlsx", "report.pdf", "report.wps", ""])


@BOUNDED
@given(data=any_bytes(*ALL_SAMPLES, xlsx_sample()), filename=NAMES)
def test_parse_document(data: bytes, filename: str) -> None:
    result = only_own_errors(lambda: parse_document(data, filename))
    assert result is None or isinstance(result, ParsedReport)


@BOUNDED
@given(data=any_bytes(*ALL_SAMPLES), filename=NAMES)
def test_sniff_and_extract_document(data: bytes, filename: str) -> None:
    only_own_errors(lambda: sniff(data, filename))
    result = only_own_errors(lambda: extract_document(data, filename))
    assert result is None or isinstance(result, ExtractedDocument)


@pytest.mark.parametrize(
    ("reader", "originals"),
    [
        (extract_text, ("03", "04")),
        (extract_html, ("01", "05")),
        (extract_docx, ("06",)),
        (extract_pdf, ("07",)),
        (extract_xlsx, ()),
        (extract_xls, ()),
    ],
    ids=["text", "html", "docx", "pdf", "xlsx", "xls"],
)
def test_each_reader(reader: Callable[[bytes], ExtractedDocument], originals: tuple[str, ...]) -> None:
    inputs = [sample(p) for p in originals] + ([xlsx_sample()] if reader is extract_xlsx else [])

    @BOUNDED
    @given(data=any_bytes(*inputs))
    def run(data: bytes) -> None:
        result = only_own_errors(lambda: reader(data))
        assert result is None or isinstance(result, ExtractedDocument)

    run()


TEXTS = st.text(alphabet=st.sampled_from(list("一二三四五六收到申请情况总体0123456789.%-— \t\n（）、")), max_size=40)


@st.composite
def extracted_documents(draw: st.DrawFn) -> ExtractedDocument:
    blocks: list[Paragraph | Table] = []
    for index in range(draw(st.integers(0, 12))):
        if draw(st.booleans()):
            blocks.append(Paragraph(draw(TEXTS), f"line {index}"))
        else:
            cells = [
                Cell(draw(TEXTS), r, c, draw(st.integers(1, 3)), draw(st.integers(1, 3)))
                for r in range(draw(st.integers(0, 6)))
                for c in range(draw(st.integers(0, 5)))
            ]
            blocks.append(Table(cells, f"table {index}"))
    return ExtractedDocument(blocks=blocks)


@BOUNDED
@given(document=extracted_documents())
def test_parse_extracted(document: ExtractedDocument) -> None:
    result = only_own_errors(lambda: parse_extracted(document))
    assert result is None or isinstance(result, ParsedReport)
