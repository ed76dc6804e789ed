"""Reading a rendered report table back out of HTML, as a visitor's browser would show it."""

from __future__ import annotations

from html.parser import HTMLParser


class TableCells(HTMLParser):
    """Collects every <td data-key> (text, value, class) and every <th> with its spans."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[str, dict[str, str]] = {}
        self.headers: list[dict[str, str]] = []
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "td" and "data-key" in attributes:
            self._current = {**attributes, "text": ""}
            self.cells[attributes["data-key"]] = self._current
        elif tag == "th":
            self._current = {**attributes, "text": ""}
            self.headers.append(self._current)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current["text"] += data


def read_cells(html: str) -> TableCells:
    parser = TableCells()
    parser.feed(html)
    return parser


def header(cells: TableCells, text: str) -> dict[str, str]:
    matches = [h for h in cells.headers if h["text"].strip() == text]
    assert matches, f"no header {text!r}"
    return matches[0]
