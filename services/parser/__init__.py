"""The parser: any report file → `ParsedReport` (cells keyed as in the domain spec).

    from services.parser import parse_document, PARSER_VERSION
    report = parse_document(data, "report.pdf")   # raises UnreadableDocument when hopeless

Readers turn bytes into the neutral `ExtractedDocument`; `tables.read_tables` and
`metadata.read_metadata` then read the report the same way whatever the source format.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from services.parser.document import Block, Cell, ExtractedDocument, Paragraph, Table
from services.parser.metadata import read_metadata
from services.parser.normalize import strip_pinyin
from services.parser.numbers import is_value_like
from services.parser.rows import document_rows
from services.parser.sniff import check_size, sniff
from services.parser.tables import read_tables
from shared.report import ParsedReport, UnreadableDocument

# Bump whenever parsing output can change: every ParsedReport records it, so reports read by
# an older parser can be found and re-parsed.
PARSER_VERSION = "0.8.0"

__all__ = ["PARSER_VERSION", "extract_document", "parse_document", "parse_extracted"]


def extract_document(data: bytes, filename: str = "") -> ExtractedDocument:
    """Bytes → paragraphs and tables, by the type sniffed from the bytes."""
    kind = sniff(data, filename)
    check_size(data, kind)
    if kind == "pdf":
        from services.parser.pdf import extract_pdf  # the PDF engineer's module; heavy imports

        try:
            return extract_pdf(data)
        except UnreadableDocument as error:
            if error.code != "no_text_layer":
                raise
            from services.parser.scan import extract_scan, ocr_ready, pdf_pages

            if not ocr_ready():
                raise
            return extract_scan(pdf_pages(data))
    if kind == "image":
        from services.parser.scan import extract_scan, image_pages

        return extract_scan(image_pages(data))
    if kind == "html":
        from services.parser.html_reader import extract_html

        return extract_html(data)
    if kind == "docx":
        from services.parser.office import extract_docx

        return extract_docx(data)
    if kind == "xlsx":
        from services.parser.office import extract_xlsx

        return extract_xlsx(data)
    if kind == "xls":
        from services.parser.office import extract_xls

        return extract_xls(data)
    if kind in ("doc", "wps", "rtf", "odt"):
        from services.parser.office import extract_via_libreoffice

        return extract_via_libreoffice(data, kind)
    from services.parser.text_reader import extract_text

    return extract_text(data)


def parse_extracted(document: ExtractedDocument) -> ParsedReport:
    """Read a report from an already extracted document (used by every format)."""
    document = _without_pinyin(document)
    rows = document_rows(document)
    tables = read_tables(rows)
    lines, grid_lines = _lines(document)
    meta = read_metadata(lines, document.metadata, grid_lines)
    if not tables.tables_found and len(meta.sections) < 2:
        raise UnreadableDocument(
            "no_report_found", "no table of an annual report and no section headings were found"
        )
    return ParsedReport(
        agency=meta.agency,
        year=meta.year,
        report_format=tables.report_format,
        report_kind="summary" if meta.report_kind == "summary" else "agency",
        published_on=meta.published_on,
        statistics_period=meta.statistics_period,
        title=meta.title,
        sections=meta.sections,
        cells=tables.cells,
        cell_details=tables.details,
        parse_findings=tables.findings,
        parser_version=PARSER_VERSION,
    )


def parse_document(data: bytes, filename: str = "") -> ParsedReport:
    """Parse one report file. Partly readable reports come back with nulls and findings."""
    return parse_extracted(extract_document(data, filename))


_WithText = TypeVar("_WithText", Cell, Paragraph)


def _without_pinyin(document: ExtractedDocument) -> ExtractedDocument:
    """The document with mirror-site pinyin annotations removed from every text."""
    blocks: list[Block] = []
    for block in document.blocks:
        if isinstance(block, Paragraph):
            blocks.append(_with_text(block, strip_pinyin(block.text)))
        else:
            cells = [_with_text(cell, strip_pinyin(cell.text)) for cell in block.cells]
            blocks.append(replace(block, cells=cells))
    return replace(document, blocks=blocks)


def _with_text(item: _WithText, text: str) -> _WithText:
    # Copied only when the text changed: almost no report has pinyin, and copying every
    # cell of every table was a tenth of a text report's parse.
    return item if text == item.text else replace(item, text=text)


def _lines(document: ExtractedDocument) -> tuple[list[str], frozenset[int]]:
    """Reading-order lines: paragraphs as they are, table rows joined by tabs.

    Also returns the indices of table rows holding only numbers (a table-四 row whose equal
    cells merged into one "0"): section texts leave them out. Other rows are judged by their
    text, so a layout table holding the article's prose stays text.
    """
    lines: list[str] = []
    grid_lines: set[int] = set()
    for block in document.blocks:
        if isinstance(block, Paragraph):
            lines.extend(block.text.split("\n"))
        elif isinstance(block, Table):
            for row in block.grid():
                texts: list[str] = []
                for cell in row:
                    text = cell.text.replace("\n", "") if cell is not None else ""
                    if not texts or text != texts[-1]:
                        texts.append(text)
                filled = [t for t in texts if t.strip()]
                if filled and all(is_value_like(t) for t in filled):
                    grid_lines.add(len(lines))
                lines.append("\t".join(texts))
    return lines, frozenset(grid_lines)
