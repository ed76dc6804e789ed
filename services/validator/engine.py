"""Runs every applicable rule on one report and turns the result into a decision.

Pure domain code: the caller passes the processing date, last year's report, member
reports and peer texts in a `ValidationContext`; nothing here reads a clock, a database or
the network.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from shared.report import UNCERTAIN_BELOW, Finding, ParsedReport, Severity

from .agency import AgencyLevel, check_submitted_agency, derive_level
from .aggregate import check_aggregate
from .catalogue import is_known_rule, make_finding, reviewer_question, spec_for
from .copied_text import PeerTextIndex, check_peer_copies
from .cross_year import check_cross_year
from .narrative import check_narrative
from .structure import check_metadata, check_sections, check_tables, hybrid_layout_alteration
from .table_three import check_table_three
from .tables_two_four import check_cells, check_table_four, check_table_two

Decision = Literal["approved", "needs_review", "rejected"]
SEVERITY_RANK = {"info": 0, "notice": 1, "warning": 2, "error": 3}
HOLDING: frozenset[str] = frozenset({"warning", "error"})  # severities a person must look at
LEVEL_NAMES: dict[str, AgencyLevel] = {
    "provincial": "provincial",
    "province": "provincial",
    "省级": "provincial",
    "prefectural": "prefectural",
    "prefecture": "prefectural",
    "市级": "prefectural",
    "地市级": "prefectural",
    "county": "county",
    "县级": "county",
    "区县": "county",
    "township": "township",
    "乡镇": "township",
    "街道": "township",
    "乡级": "township",
}
# Parse findings the validator re-derives itself (so they are not reported twice).
HANDLED_PARSE_RULES = {"NUM-UNPARSEABLE", "table_not_extracted", "TABLE-NOT-EXTRACTED"}


@dataclass
class ValidationContext:
    as_of: dt.date
    previous: ParsedReport | None = None  # same agency, year − 1
    members: list[ParsedReport] | None = None  # member reports of a summary, same year
    expected_members: list[str] | None = None  # who should have reported (to list who has not)
    peers: PeerTextIndex | None = None  # other agencies' texts of the same year
    agency_level: str | None = None  # from a registry, if known
    submitted_for: str | None = None  # the agency the upload was made for (bound), if any
    aliases: Mapping[str, str] = field(default_factory=dict)  # old agency name → current
    severity_overrides: Mapping[str, str] = field(
        default_factory=dict
    )  # rule ID / prefix → severity or "off"


def validate(report: ParsedReport, context: ValidationContext) -> list[Finding]:
    level = _agency_level(report, context)
    findings: list[Finding] = []
    findings += check_metadata(report, context.as_of, level)
    findings += check_submitted_agency(report.agency, context.submitted_for, context.aliases)
    findings += check_sections(report)
    findings += check_tables(report)
    findings += check_cells(report)
    findings += check_table_two(report, level)
    findings += check_table_three(report)
    findings += check_table_four(report, context.previous)
    findings += check_narrative(report)
    if context.previous is not None:
        findings += check_cross_year(report, context.previous)
    findings += check_peer_copies(report, context.peers, level)
    if context.members is not None or context.expected_members:
        findings += check_aggregate(report, context.members or [], context.expected_members)
    findings += _from_parser(report)
    findings = _merge_unparameterised(findings)
    findings = [_qualify_uncertain_cells(f, report) for f in findings]
    findings = _apply_overrides(findings, context.severity_overrides)
    return [_with_question(f, report) for f in findings]


def decide(findings: list[Finding]) -> Decision:
    """Errors reject, warnings wait for a person; notices and info never hold a report."""
    severities = {f.severity for f in findings}
    if "error" in severities:
        return "rejected"
    if "warning" in severities:
        return "needs_review"
    return "approved"


def _agency_level(report: ParsedReport, context: ValidationContext) -> AgencyLevel | None:
    if context.agency_level:
        return LEVEL_NAMES.get(context.agency_level.strip().lower())
    return derive_level(report.agency) if report.agency else None


def _from_parser(report: ParsedReport) -> list[Finding]:
    """Parse findings and uncertain cells, phrased as findings."""
    out = []
    hybrid = hybrid_layout_alteration(report)
    altered = [pf for pf in report.parse_findings if pf.rule == "TBL-HEADER-ALTERED"]
    if hybrid or altered:
        zh = [hybrid[0]] if hybrid else []
        en = [hybrid[1]] if hybrid else []
        zh += [pf.message for pf in altered]
        en += [pf.message for pf in altered]
        cells = [c for pf in altered for c in pf.cells]
        # A label mapped with certainty changes no number; one that may name another row holds the report.
        unsure = any(_uncertain(report, c) for c in cells)
        out.append(
            make_finding(
                "TBL-HEADER-ALTERED", "；".join(zh), "; ".join(en), cells, severity="warning" if unsure else None
            )
        )
    for pf in report.parse_findings:
        if pf.rule in HANDLED_PARSE_RULES or pf.rule == "TBL-HEADER-ALTERED":
            if pf.rule.lower().replace("-", "_") == "table_not_extracted":
                out.append(
                    make_finding(
                        "PARSE-NOTE",
                        f"table_not_extracted：{pf.message}",
                        f"table_not_extracted: {pf.message}",
                        pf.cells,
                    )
                )
            continue
        if is_known_rule(pf.rule):
            out.append(make_finding(pf.rule, pf.message, pf.message, pf.cells))
        else:
            out.append(
                make_finding("PARSE-NOTE", f"{pf.rule}：{pf.message}", f"{pf.rule}: {pf.message}", pf.cells)
            )
    uncertain = sorted(k for k, d in report.cell_details.items() if d.confidence < UNCERTAIN_BELOW)
    if uncertain:
        details = [report.cell_details[k] for k in uncertain]
        listed = "；".join(
            f"{k}=“{d.raw}”（置信度{d.confidence:.2f}{'，' + d.source if d.source else ''}"
            f"{'，' + d.note if d.note else ''}）"
            for k, d in zip(uncertain, details, strict=True)
        )
        listed_en = "; ".join(
            f"{k} = '{d.raw}' (confidence {d.confidence:.2f}{', ' + d.source if d.source else ''}"
            f"{', ' + d.note if d.note else ''})"
            for k, d in zip(uncertain, details, strict=True)
        )
        out.append(make_finding("PARSE-LOW-CONFIDENCE", listed, listed_en, uncertain))
    return out


def _merge_unparameterised(findings: list[Finding]) -> list[Finding]:
    """A family without placeholder yields one finding per report (§6): merge repeats, keep the worst severity."""
    merged: dict[str, Finding] = {}
    out: list[Finding] = []
    for f in findings:
        if spec_for(f.rule).is_expanded:
            out.append(f)
            continue
        first = merged.get(f.rule)
        if first is None:
            merged[f.rule] = f
            out.append(f)
            continue
        first.message_zh += "；" + f.message_zh.split("：", 1)[-1]
        first.message_en += "; " + f.message_en.split(": ", 1)[-1]
        first.cells = list(dict.fromkeys(first.cells + f.cells))
        if SEVERITY_RANK[f.severity] > SEVERITY_RANK[first.severity]:
            first.severity = f.severity
    return out


def _qualify_uncertain_cells(finding: Finding, report: ParsedReport) -> Finding:
    """A finding that rests on a cell the parser is unsure of says so, and is at most a warning."""
    if finding.rule.startswith("PARSE-"):
        return finding
    flagged = [k for k in finding.cells if _uncertain(report, k)]
    if not flagged:
        return finding
    listed = "、".join(flagged)
    severity: Severity = "warning" if finding.severity == "error" else finding.severity
    return replace(
        finding,
        severity=severity,
        message_zh=f"{finding.message_zh}（注意：所依据的单元格 {listed} 解析置信度较低，请先核对原文）",
        message_en=f"{finding.message_en} (note: rests on cell(s) {listed.replace('、', ', ')} the parser flagged as "
        f"uncertain; check the source first)",
    )


def _uncertain(report: ParsedReport, key: str) -> bool:
    detail = report.cell_details.get(key)
    return detail is not None and detail.confidence < UNCERTAIN_BELOW


def _with_question(finding: Finding, report: ParsedReport) -> Finding:
    """A finding that holds the report says what the reviewer should check, and where."""
    if finding.severity not in HOLDING or not is_known_rule(finding.rule):
        return finding
    sources = {k: d.source for k, d in report.cell_details.items() if d.source}
    question_zh, question_en = reviewer_question(finding, sources)
    return replace(finding, question_zh=question_zh, question_en=question_en)


def _apply_overrides(findings: list[Finding], overrides: Mapping[str, str]) -> list[Finding]:
    """Configuration has the last word: the longest matching rule ID or family prefix decides."""
    if not overrides:
        return findings
    prefixes = {k.split("<", 1)[0].rstrip("-"): v for k, v in overrides.items()}
    out = []
    for f in findings:
        matches = [p for p in prefixes if f.rule == p or f.rule.startswith(p + "-")]
        if not matches:
            out.append(f)
            continue
        severity = prefixes[max(matches, key=len)]
        if severity == "off":
            continue
        if severity not in SEVERITY_RANK:
            raise ValueError(f"severity override for {f.rule}: {severity!r} is not error/warning/notice/info/off")
        out.append(replace(f, severity=severity))  # type: ignore[arg-type]
    return out
