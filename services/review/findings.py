"""Findings as the desk handles them, and reviewer corrections applied to a report (pure).

A finding is named by its *key*, rule plus cells ("T3-SUM-ROW:t3_granted__natural,…"),
so a reviewer's decision on it still applies after the checks run again. Findings of
severity error or warning *hold* a report (they are why it is not approved); a
dismissed finding no longer does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.review import Invalid
from services.validator import Decision, decide
from shared.report import CellValue, Finding, ParsedReport

HOLDING_SEVERITIES = ("error", "warning")


def finding_key(finding: Mapping[str, Any]) -> str:
    return f"{finding.get('rule', '')}:{','.join(sorted(finding.get('cells') or []))}"


def holds(finding: Mapping[str, Any]) -> bool:
    return finding.get("severity") in HOLDING_SEVERITIES


def open_findings(findings: Iterable[Mapping[str, Any]], dismissed: set[str]) -> list[Mapping[str, Any]]:
    """The findings that still hold the report: error or warning, not dismissed."""
    return [f for f in findings if holds(f) and finding_key(f) not in dismissed]


def holding_rules(findings: Iterable[Mapping[str, Any]], dismissed: set[str]) -> set[str]:
    return {str(f.get("rule")) for f in open_findings(findings, dismissed)}


def verdict_without(findings: Iterable[Mapping[str, Any]], dismissed: set[str]) -> Decision:
    """The validator's verdict once the dismissed findings are set aside."""
    return decide([Finding.from_json(dict(f)) for f in findings if finding_key(f) not in dismissed])


def cell_value(value: Any) -> CellValue:
    """A corrected value as a reviewer may give it: a non-negative number, or null for
    a cell the report does not fill. Whole numbers stay ints (they are counts)."""
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if text == "":
            return None
        try:
            value = int(text) if text.isdigit() else float(text)
        except ValueError:
            raise Invalid(f"not a number: {value!r}") from None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"not a number: {value!r}")
    if not math.isfinite(value) or value < 0:
        raise Invalid(f"a cell holds a number ≥ 0, not {value!r}")
    return value


@dataclass(frozen=True)
class Correction:
    cell: str
    value: CellValue
    actor: str


def apply_corrections(report: ParsedReport, corrections: Iterable[Correction]) -> list[str]:
    """Put reviewers' corrections into the report (in place); the last word per cell wins.

    The cell's detail keeps the source's raw text and position, gains `corrected_by`,
    and counts as certain; parse findings about a corrected cell go. Returns the cells
    corrected; corrections of cells the report does not hold are left out.
    """
    latest = {c.cell: c for c in corrections}
    applied = [cell for cell in latest if cell in report.cells]
    for cell in applied:
        correction = latest[cell]
        report.cells[cell] = correction.value
        detail = report.cell_details.get(cell)
        if detail is not None:
            detail.confidence = 1.0
            detail.corrected_by = correction.actor
    if applied:
        corrected = set(applied)
        kept = []
        for parse_finding in report.parse_findings:
            if parse_finding.cells and set(parse_finding.cells) <= corrected:
                continue
            parse_finding.cells = [c for c in parse_finding.cells if c not in corrected]
            kept.append(parse_finding)
        report.parse_findings = kept
    return applied
