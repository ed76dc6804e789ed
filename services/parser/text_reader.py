"""Plain text and Markdown dumps: one paragraph per line, the table mapper does the rest."""

from __future__ import annotations

from services.parser.decoding import decode_text, looks_binary
from services.parser.document import ExtractedDocument, Paragraph
from shared.report import UnreadableDocument

# A report's text, tables included, is well under this many characters; what follows is
# another document (a dump of several) or padding. Reading only this far keeps the
# parse's time and memory bounded whatever the file's size.
MAX_TEXT_CHARS = 600_000


def extract_text(data: bytes) -> ExtractedDocument:
    if looks_binary(data):
        raise UnreadableDocument("unsupported_format", "binary data that is not a known document format")
    text = decode_text(data)
    if len(text) > MAX_TEXT_CHARS:
        cut = text.rfind("\n", 0, MAX_TEXT_CHARS)
        text = text[: cut if cut > 0 else MAX_TEXT_CHARS]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = [Paragraph(line, f"line {n}", line=n) for n, line in enumerate(text.split("\n"), start=1)]
    return ExtractedDocument(blocks=list(blocks))
