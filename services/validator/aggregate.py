"""Summary (汇总) report against its member reports (§6.9). All warnings: coverage is rarely complete."""

from __future__ import annotations

from collections.abc import Sequence

from shared.report import T3_COLUMNS, T4_KEYS, Finding, ParsedReport, t3_key

from .agency import normalise_agency_name
from .catalogue import make_finding
from .cells import CellReader, Number, fmt, other_rows, t3_layout, t3_rows

AGG_T2_KEYS = (
    "rules_issued", "rules_repealed", "normative_issued", "normative_repealed", "normative_in_force",
    "license_decisions", "penalty_decisions", "coercion_decisions", "fee_amount_wan",
)


def member_value(member: ParsedReport, key: str) -> Number | None:
    """A member's cell; the single （六） row of a summary compares with the sum of a member's sub-rows."""
    if key.startswith("t3_other_all__"):
        column = key.removeprefix("t3_other_all__")
        return CellReader(member).total(t3_key(r, column) for r in other_rows(t3_layout(member)))
    return member.cells.get(key)


def check_aggregate(
    report: ParsedReport, members: Sequence[ParsedReport], expected_members: Sequence[str] | None
) -> list[Finding]:
    out = _missing_members(members, expected_members)
    if report.report_kind != "summary" or not members:
        return out
    coverage_zh = f"（按{len(members)}份成员报告合计）"
    coverage_en = f" (sum of {len(members)} member reports)"
    checks = [(f"AGG-SUM-T3-{r}-{c}", t3_key(r, c)) for r in t3_rows(t3_layout(report)) for c in T3_COLUMNS]
    checks += [(f"AGG-SUM-T4-{k.removeprefix('t4_')}", k) for k in T4_KEYS]
    if report.report_format == "v2021":
        checks += [(f"AGG-SUM-T2-{k}", f"t2_{k}") for k in AGG_T2_KEYS]
    for rule, key in checks:
        own = report.cells.get(key)
        values = [member_value(m, key) for m in members]
        if own is None or any(v is None for v in values):
            continue
        total = sum(v for v in values if v is not None)
        if abs(own - total) > 1e-6:
            out.append(make_finding(
                rule, f"{key}：汇总报告为{fmt(own)}，成员之和为{fmt(total)}{coverage_zh}",
                f"{key}: summary {fmt(own)}, members sum to {fmt(total)}{coverage_en}", [key]))
    out += _smaller_than_member(report, members)
    return out


def _smaller_than_member(report: ParsedReport, members: Sequence[ParsedReport]) -> list[Finding]:
    smaller = []
    for key, own in report.cells.items():
        if own is None or not key.startswith(("t3_", "t4_")):
            continue
        for m in members:
            v = member_value(m, key)
            if v is not None and v > own:
                smaller.append(f"{key}={fmt(own)} < {m.agency or '?'} {fmt(v)}")
                break
    if not smaller:
        return []
    return [make_finding("AGG-GE-MEMBER", "；".join(smaller[:10]), "; ".join(smaller[:10]),
                         [s.split("=", 1)[0] for s in smaller])]


def _missing_members(members: Sequence[ParsedReport], expected: Sequence[str] | None) -> list[Finding]:
    if not expected:
        return []
    present = {normalise_agency_name(m.agency or "") for m in members}
    missing = [name for name in expected if normalise_agency_name(name) not in present]
    if not missing:
        return []
    listed = "、".join(missing)
    return [make_finding("AGG-MEMBERS-MISSING", f"{len(missing)}个机关未提交：{listed}",
                         f"{len(missing)} members have not reported: {listed}")]
