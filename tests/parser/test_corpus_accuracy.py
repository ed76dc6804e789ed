"""Parse every style of the synthetic corpus and compare every cell with its truth.

The corpus (tests/corpus) is generated once into var/corpus/ and reused. Styles converted by
LibreOffice (PDF, DOC) are skipped only when `soffice` is not installed.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.report import ParsedReport, UnreadableDocument
from tests.corpus.compare import CellMiss, compare, wrong_at_full_confidence
from tests.corpus.generate import STYLES, CorpusItem, build_corpus, default_corpus_dir
from tests.corpus.render_office import soffice_available

PER_STYLE = 4
SEED = 2024
MAX_DIFF_LINES = 40

_parsed: dict[str, ParsedReport | Exception] = {}


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[CorpusItem]]:
    items = build_corpus(default_corpus_dir(per_style=PER_STYLE, seed=SEED), per_style=PER_STYLE, seed=SEED)
    by_style: dict[str, list[CorpusItem]] = {}
    for item in items:
        by_style.setdefault(item.style, []).append(item)
    return by_style


def _parse(item: CorpusItem) -> ParsedReport | Exception:
    """Parse once per session; both tests below look at the same result."""
    key = str(item.path)
    if key not in _parsed:
        from services.parser import parse_document

        try:
            _parsed[key] = parse_document(item.path.read_bytes(), item.path.name)
        except UnreadableDocument as error:
            _parsed[key] = error
    return _parsed[key]


def _items(corpus: dict[str, list[CorpusItem]], style: Any) -> list[CorpusItem]:
    if style.needs_soffice and not soffice_available():
        pytest.skip("LibreOffice (soffice) is not installed")
    return corpus[style.name]


def _report(lines: list[str], total: int) -> str:
    shown = lines[:MAX_DIFF_LINES]
    more = f"\n… and {len(lines) - len(shown)} more" if len(lines) > len(shown) else ""
    return f"{len(lines)} wrong of {total} checked:\n" + "\n".join(shown) + more


@pytest.mark.parametrize("style", STYLES, ids=[s.name for s in STYLES])
def test_every_cell_matches_the_truth(corpus: dict[str, list[CorpusItem]], style: Any) -> None:
    lines: list[str] = []
    total = 0
    for item in _items(corpus, style):
        total += len(item.truth["cells"]) + 3
        parsed = _parse(item)
        if isinstance(parsed, Exception):
            lines.append(f"{style.name:24} {item.path.name:28} UNREADABLE {parsed}")
            continue
        misses: list[CellMiss] = compare(item.truth, parsed)
        lines += [m.line(style.name, item.path.name) for m in misses]
    assert not lines, _report(lines, total)


@pytest.mark.parametrize("style", STYLES, ids=[s.name for s in STYLES])
def test_no_wrong_cell_is_presented_with_full_confidence(
    corpus: dict[str, list[CorpusItem]], style: Any
) -> None:
    lines: list[str] = []
    total = 0
    for item in _items(corpus, style):
        parsed = _parse(item)
        if isinstance(parsed, Exception):
            continue  # an unreadable file presents no cell at all
        total += len(item.truth["cells"])
        lines += [
            m.line(style.name, item.path.name) for m in wrong_at_full_confidence(compare(item.truth, parsed))
        ]
    assert not lines, _report(lines, total)
