"""Parse every style of the synthetic corpus and compare every cell with its truth.

The corpus (tests/corpus) is generated once into var/corpus/ and reused. Styles converted by
LibreOffice (PDF, DOC) are skipped only when `soffice` is not installed.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from shared.report import ParsedReport, UnreadableDocument
from tests.corpus.compare import CellMiss, compare, wrong_at_full_confidence
from tests.corpus.generate import (
    FAST_STYLES,
    STYLES,
    STYLES_BY_NAME,
    CorpusItem,
    build_corpus,
    default_corpus_dir,
    render_fast,
    truth_for,
)
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


def _unexplained_nulls(parsed: ParsedReport) -> list[str]:
    """Cells that came back null without a parse finding naming them. A document with no
    table at all is explained as a whole (the validator's TBL-MISSING)."""
    if all(value is None for value in parsed.cells.values()):
        return []
    named = {cell for finding in parsed.parse_findings for cell in finding.cells}
    if parsed.cells.get("t3_other_all__total") is not None:
        # A hybrid table (§3.6) prints one （六） row: the v2021 sub-rows are null by design.
        named |= {key for key in parsed.cells if key.startswith(("t3_other_no_", "t3_other_other__"))}
    return sorted(key for key, value in parsed.cells.items() if value is None and key not in named)


@pytest.mark.parametrize("style", STYLES, ids=[s.name for s in STYLES])
def test_every_null_cell_is_named_by_a_parse_finding(corpus: dict[str, list[CorpusItem]], style: Any) -> None:
    lines = []
    for item in _items(corpus, style):
        parsed = _parse(item)
        if not isinstance(parsed, Exception) and (unexplained := _unexplained_nulls(parsed)):
            lines.append(f"{item.path.name}: {', '.join(unexplained[:8])}")
    assert not lines, "null cells no finding names:\n" + "\n".join(lines)


@pytest.mark.parametrize("style", FAST_STYLES)
def test_no_blank_reaches_a_reviewer_unexplained_in_damaged_text(style: str) -> None:
    """The fast styles with cells cut out of their tables (a cell's text deleted): whatever
    comes back null is named by a finding, never silently blank."""
    from services.parser import parse_document

    lines = []
    damaged = 0
    for index in range(6):
        truth = truth_for(STYLES_BY_NAME[style], index, seed=SEED + 7)
        name, data = render_fast(truth, style)
        cut = _cut_a_number(data, truth, index)
        damaged += cut != data
        if unexplained := _unexplained_nulls(parse_document(cut, name)):
            lines.append(f"{style} #{index}: {', '.join(unexplained[:8])}")
    assert damaged >= 3, f"only {damaged} of 6 reports could be damaged"
    assert not lines, "\n".join(lines)


def _cut_a_number(data: bytes, truth: dict[str, Any], index: int) -> bytes:
    """The report with the text of one printed table-三 value removed (its first occurrence)."""
    encoding = "gbk" if b"charset=gb" in data[:2000].lower() or not _is_utf8(data) else "utf-8"
    text = data.decode(encoding, errors="strict")
    values = [v for k, v in truth["cells"].items() if k.startswith("t3_") and isinstance(v, int) and v >= 1]
    for shift in range(len(values)):
        value = values[(index + shift) % len(values)]
        for form in (str(value), f"{value:,}", str(value).translate(_FULLWIDTH)):
            cut, count = re.subn(rf"(?<=[\t>| ]){re.escape(form)}(?=件?[\t<| \n])", "", text, count=1)
            if count:
                return cut.encode(encoding)
    return text.encode(encoding)


_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
