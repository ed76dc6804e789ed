"""Compare a parse with its truth, cell by cell (shared by the accuracy test and the benchmark)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.report import UNCERTAIN_BELOW, ParsedReport

META_FIELDS = ("agency", "year", "report_format")


@dataclass
class CellMiss:
    key: str  # a cell key, or a metadata field name (agency / year / report_format)
    expected: Any
    got: Any
    confidence: float | None  # None for metadata fields and for cells with no detail
    flagged: bool  # confidence < 1 or named in a parse finding: a reviewer would be warned

    def line(self, style: str, file: str) -> str:
        conf = "" if self.confidence is None else f" conf={self.confidence:.2f}"
        flag = " flagged" if self.flagged else ""
        return (
            f"{style:24} {file:28} {self.key:40} expected={self.expected!r:10} got={self.got!r}{conf}{flag}"
        )


def same_value(expected: Any, got: Any) -> bool:
    """Null must stay null; numbers compare by value (the fee as a decimal to 4 places)."""
    if expected is None or got is None:
        return expected is None and got is None
    if isinstance(expected, str) or isinstance(got, str):
        return bool(expected == got)
    return abs(float(expected) - float(got)) < 1e-6


def compare(truth: dict[str, Any], parsed: ParsedReport) -> list[CellMiss]:
    """Every metadata field and cell of the truth the parse got wrong (missing counts as wrong)."""
    finding_cells = {key for finding in parsed.parse_findings for key in finding.cells}
    misses = [
        CellMiss(name, truth[name], getattr(parsed, name), None, False)
        for name in META_FIELDS
        if truth[name] != getattr(parsed, name)
    ]
    for key, expected in truth["cells"].items():
        got = parsed.cells.get(key)
        if same_value(expected, got):
            continue
        detail = parsed.cell_details.get(key)
        confidence = detail.confidence if detail is not None else None
        flagged = key in finding_cells or (confidence is not None and confidence < UNCERTAIN_BELOW)
        misses.append(CellMiss(key, expected, got, confidence, flagged))
    extra = sorted(set(parsed.cells) - set(truth["cells"]))
    misses += [
        CellMiss(k, "(absent)", parsed.cells[k], None, k in finding_cells)
        for k in extra
        if parsed.cells[k] is not None
    ]
    return misses


def wrong_at_full_confidence(misses: list[CellMiss]) -> list[CellMiss]:
    """Wrong cells the parse presents as certain: the ones that must never exist.

    A wrong value with no detail at all is presented as certain too (the contract's default
    confidence is 1.0). A null is not presented as a value ("not read"), so it is excluded.
    """
    return [
        m
        for m in misses
        if m.key not in META_FIELDS and m.got is not None and (m.confidence is None or m.confidence >= UNCERTAIN_BELOW)
    ]
