"""Plain text and Markdown dumps: one paragraph per line, the table mapper does the rest."""

from __future__ import annotations

from services.parser.decoding import decode_text, looks_binary
from services.parser.document import ExtractedDocument, Paragraph
from shared.report import UnreadableDocument


def extract_text(data: bytes) -> ExtractedDocument:
    if looks_binary(data):
        raise UnreadableDocument("unsupported_format", "binary data that is not a known document format")
    text = decode_text(data).replace("\r\n", "\n").replace("\r", "\n")
    blocks = [Paragraph(line, f"line {n}", line=n) for n, line in enumerate(text.split("\n"), start=1)]
    return ExtractedDocument(blocks=list(blocks))
