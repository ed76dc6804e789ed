"""The readers' input bounds: per-format size limits, bounded text reading, office
packages capped like zips, UTF-16 without a BOM."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

from services.parser import extract_document, parse_document
from services.parser.office import extract_docx, extract_xlsx
from services.parser.sniff import MAX_BYTES
from services.parser.text_reader import MAX_TEXT_CHARS, extract_text
from shared.report import UnreadableDocument

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "03-湛江市地方志办公室2022年度报告.txt"


def test_a_text_file_over_its_format_limit_is_refused_with_the_reason() -> None:
    data = "一、总体情况\n".encode() * (MAX_BYTES["text"] // 19 + 1)
    with pytest.raises(UnreadableDocument) as refused:
        extract_document(data, "huge.txt")
    assert refused.value.code == "too_large" and "MiB" in refused.value.message


def test_a_large_text_file_is_read_only_as_far_as_a_report_goes() -> None:
    report = SAMPLE.read_bytes()
    padding = "附件：名单。\n".encode() * 400_000  # ~7 MB after the report
    started = time.monotonic()
    document = extract_text(report + padding)
    assert sum(len(b.text) + 1 for b in document.blocks) <= MAX_TEXT_CHARS + 1  # type: ignore[union-attr]
    parsed = parse_document(report + padding, "big.txt")
    assert parsed.cells == parse_document(report, "report.txt").cells
    assert time.monotonic() - started < 60  # unbounded, this took minutes


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_read(encoding: str) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    assert parse_document(text.encode(encoding), "report.txt").cells == parse_document(
        text.encode("utf-8"), "report.txt"
    ).cells


def office_package(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts.items():
            package.writestr(name, data)
    return buffer.getvalue()


CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


@pytest.mark.parametrize(
    ("extract", "part"), [(extract_docx, "word/document.xml"), (extract_xlsx, "xl/workbook.xml")]
)
def test_an_office_part_that_expands_like_a_bomb_is_refused(extract: object, part: str) -> None:
    bomb = office_package({"[Content_Types].xml": CONTENT_TYPES, part: b"<a>" + b" " * (20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    with pytest.raises(UnreadableDocument) as refused:
        extract(bomb)  # type: ignore[operator]
    assert refused.value.code == "too_large" and "zip bomb" in refused.value.message


def test_an_office_part_over_the_size_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.parser import office

    monkeypatch.setattr(office, "MAX_PART_BYTES", 1024 * 1024)
    big = office_package({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": bytes(range(256)) * 8192})
    with pytest.raises(UnreadableDocument) as refused:
        extract_docx(big)
    assert refused.value.code == "too_large" and "word/document.xml" in refused.value.message
