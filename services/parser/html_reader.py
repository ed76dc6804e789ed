"""HTML article pages → ExtractedDocument (spec §8 "HTML article pages").

Government CMS pages wrap the report in site chrome, often inside layout tables, and
paste the report's tables from Word (nested <p>, &nbsp;, <br> in headers, row/colspans).
Only innermost tables are data tables; a table that contains tables is layout and is read
as text. Some pages keep the article HTML inside a JavaScript string; it is unescaped first.
"""

from __future__ import annotations

import html
import re

import lxml.html
from lxml import etree

from services.parser.decoding import declared_html_charset, decode_text
from services.parser.document import Block, Cell, ExtractedDocument, Paragraph, Table
from shared.report import UnreadableDocument

_SKIP = {
    "script",
    "style",
    "noscript",
    "head",
    "title",
    "select",
    "option",
    "button",
    "iframe",
    "svg",
    "template",
}
_BLOCK = {
    "p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "tr", "section", "article",
    "header", "footer", "blockquote", "pre", "dd", "dt", "dl", "form", "center", "hr", "caption",
}  # fmt: skip
_ESCAPED_TABLE = re.compile(r"<table[^>]*\\[\"']")
_PUBLISH_META = (
    "pubdate",
    "publishdate",
    "firstpublishedtime",
    "publishtime",
    "releasedate",
    "article:published_time",
)
_DATE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


def _unwrap_script_content(text: str) -> str:
    """Article HTML stored in a JS string: "<table border=\\"1\\">…" → real markup."""
    if _ESCAPED_TABLE.search(text):
        text = text.replace('\\"', '"').replace("\\'", "'").replace("\\/", "/").replace("\\n", "\n")
        text = text.replace("\\r", "").replace("\\t", " ")
        # The markup sat inside <script>; keep the content, drop the script boundary.
        text = re.sub(r"</?script[^>]*>", "\n", text, flags=re.IGNORECASE)
    elif "<table" not in text.lower() and "&lt;table" in text.lower():
        text = html.unescape(text)
    return text


def _cell_text(element: etree._Element) -> str:
    """Cell text with <br>/<p> as line breaks (headers wrap: "本年新<br>制作数量")."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _SKIP:
            return
        if tag in ("br", "p", "div") and parts and not parts[-1].endswith("\n"):
            parts.append("\n")
        if node.text and tag not in _SKIP:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    text = "".join(parts).replace("\xa0", " ")
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())


def _span(element: etree._Element, name: str) -> int:
    try:
        return max(1, min(int(re.sub(r"\D", "", element.get(name, "1")) or 1), 200))
    except ValueError:
        return 1


def _table(element: etree._Element, index: int) -> Table:
    """Place every <td>/<th> on the grid, skipping positions taken by earlier rowspans."""
    cells: list[Cell] = []
    taken: set[tuple[int, int]] = set()
    rows = [tr for tr in element.iter("tr") if tr.xpath("ancestor::table[1]")[0] is element]
    source = f"table {index}"
    for r, tr in enumerate(rows):
        c = 0
        for td in tr:
            if not isinstance(td.tag, str) or td.tag not in ("td", "th"):
                continue
            while (r, c) in taken:
                c += 1
            rowspan, colspan = _span(td, "rowspan"), _span(td, "colspan")
            rowspan = min(rowspan, len(rows) - r)
            cells.append(Cell(_cell_text(td), r, c, rowspan, colspan, f"{source}, r{r}c{c}"))
            for dr in range(rowspan):
                for dc in range(colspan):
                    taken.add((r + dr, c + dc))
            c += colspan
    return Table(cells, source)


class _Walker:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.line: list[str] = []
        self.tables = 0

    def flush(self) -> None:
        text = re.sub(r"[ \t\r\f\v\xa0]+", " ", "".join(self.line)).strip()
        if text:
            for piece in text.split("\n"):
                if piece.strip():
                    self.blocks.append(Paragraph(piece.strip(), f"paragraph {len(self.blocks) + 1}"))
        self.line = []

    def walk(self, node: etree._Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _SKIP or not tag:
            return
        if tag == "table" and not node.xpath(".//table"):
            self.flush()
            self.tables += 1
            self.blocks.append(_table(node, self.tables))
            return
        is_block = tag in _BLOCK or tag in ("table", "td", "th", "tbody")
        if is_block:
            self.flush()
        if node.text:
            self.line.append(node.text)
        for child in node:
            self.walk(child)
            if child.tail:
                self.line.append(child.tail)
        if is_block:
            self.flush()


def _published_on(root: etree._Element) -> str | None:
    for meta in root.iter("meta"):
        name = (meta.get("name") or meta.get("property") or "").lower()
        if name in _PUBLISH_META:
            match = _DATE.search(meta.get("content") or "")
            if match:
                year, month, day = match.groups()
                return f"{year}-{int(month):02d}-{int(day):02d}"
    return None


def extract_html(data: bytes) -> ExtractedDocument:
    text = decode_text(data, declared_html_charset(data))
    text = _unwrap_script_content(text)
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise UnreadableDocument("corrupt_file", f"HTML could not be parsed: {exc}")
    walker = _Walker()
    body = root.find("body")
    walker.walk(body if body is not None else root)
    walker.flush()
    metadata: dict[str, str] = {}
    title = root.findtext(".//title")
    if title and title.strip():
        metadata["title"] = title.strip()
    published = _published_on(root)
    if published:
        metadata["published_on"] = published
    return ExtractedDocument(blocks=walker.blocks, metadata=metadata)
