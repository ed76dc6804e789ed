"""Cross-year rules (§6.7): this year's report against the same agency's report of year − 1."""

from __future__ import annotations

from shared.report import T3_COLUMNS, Finding, ParsedReport, t3_key

from .agency import normalise_agency_name
from .catalogue import make_finding
from .cells import COLUMN_ZH, CellReader, fmt
from .copied_text import check_copied_from_last_year

V19_ROLLING = ("license", "other_service", "penalty", "coercion", "fee")


def check_cross_year(report: ParsedReport, previous: ParsedReport) -> list[Finding]:
    if report.year is None or previous.year != report.year - 1:
        return []  # not the consecutive report: nothing here is comparable
    out: list[Finding] = []
    out += _carry(report, previous)
    switched = previous.report_format == "v2019" and report.report_format == "v2021"
    if switched:
        out.append(make_finding("XY-FORMAT-SWITCH", f"{previous.year}年为v2019格式，{report.year}年为v2021格式",
                                f"{previous.year} used v2019, {report.year} uses v2021"))
    elif report.report_format == previous.report_format == "v2021":
        out += _in_force(report, previous)
    elif report.report_format == previous.report_format == "v2019":
        out += _v19_items(report, previous)
    out += check_copied_from_last_year(report, previous)
    out += _identical_tables(report, previous)
    return out


def _balances(report: ParsedReport) -> bool:
    r = CellReader(report)
    left = r.total((t3_key("new_received", "total"), t3_key("carried_over", "total")))
    right = r.total((t3_key("total_processed", "total"), t3_key("carried_forward", "total")))
    return left is not None and right is not None and abs(left - right) < 1e-9


def _carry(report: ParsedReport, previous: ParsedReport) -> list[Finding]:
    now, before = CellReader(report), CellReader(previous)
    same_body = (
        normalise_agency_name(report.agency or "") == normalise_agency_name(previous.agency or "")
        and report.report_kind == previous.report_kind
    )
    out = []
    for c in T3_COLUMNS:
        carried_in, carried_out = t3_key("carried_over", c), t3_key("carried_forward", c)
        v_now, v_before = now.value(carried_in), before.value(carried_out)
        if v_now is None or v_before is None or v_now == v_before:
            continue
        hard = (
            c == "total" and same_body and now.has_printed_digits(carried_in)
            and before.has_printed_digits(carried_out) and _balances(report) and _balances(previous)
        )
        out.append(make_finding(
            f"XY-CARRY-{c}",
            f"{COLUMN_ZH[c]}列：本年上年结转={now.shown(carried_in)}，{previous.year}年结转下年度={before.shown(carried_out)}",
            f"column {c}: carried-in this year {now.shown(carried_in, 'en')}, carried-out in {previous.year} "
            f"{before.shown(carried_out, 'en')}",
            [carried_in], severity="error" if hard else "warning"))
    return out


def _in_force(report: ParsedReport, previous: ParsedReport) -> list[Finding]:
    out = []
    for x in ("rules", "normative"):
        now = CellReader(report).values([f"t2_{x}_in_force", f"t2_{x}_issued", f"t2_{x}_repealed"])
        before = previous.cells.get(f"t2_{x}_in_force")
        if None in now or before is None:
            continue
        in_force, issued, repealed = now
        expected = before + issued - repealed  # type: ignore[operator]
        if abs(in_force - expected) > 1e-9:  # type: ignore[operator]
            out.append(make_finding(
                f"XY-INFORCE-{x}",
                f"上年现行有效{fmt(before)}+本年制发{fmt(issued)}-本年废止{fmt(repealed)}={fmt(expected)}，"  # type: ignore[arg-type]
                f"本年现行有效为{fmt(in_force)}",  # type: ignore[arg-type]
                f"last year's {fmt(before)} in force + {fmt(issued)} issued - {fmt(repealed)} repealed = "  # type: ignore[arg-type]
                f"{fmt(expected)}, this year shows {fmt(in_force)}",  # type: ignore[arg-type]
                [f"t2_{x}_in_force", f"t2_{x}_issued", f"t2_{x}_repealed"]))
    return out


def _v19_items(report: ParsedReport, previous: ParsedReport) -> list[Finding]:
    out = []
    for v in V19_ROLLING:
        now = report.cells.get(f"t2v19_{v}_prev_items")
        before = CellReader(previous).total([f"t2v19_{v}_prev_items", f"t2v19_{v}_delta"])
        if now is None or before is None or abs(now - before) < 1e-9:
            continue
        out.append(make_finding(
            f"XY-V19-DELTA-{v}",
            f"本年“上一年项目数量”{fmt(now)}，{previous.year}年项目数量+增减={fmt(before)}",
            f"this year's previous-year items {fmt(now)}, {previous.year}'s items + delta = {fmt(before)}",
            [f"t2v19_{v}_prev_items"]))
    return out


def _identical_tables(report: ParsedReport, previous: ParsedReport) -> list[Finding]:
    shared = [k for k, v in report.cells.items() if v is not None and previous.cells.get(k) is not None]
    if len(shared) < 10 or any(report.cells[k] != previous.cells[k] for k in shared):
        return []
    if not any(report.cells[k] for k in shared):
        return []
    return [make_finding("XY-DUP-NUMBERS", f"{len(shared)}个单元格与{previous.year}年完全相同且非全零",
                         f"all {len(shared)} shared cells equal {previous.year}'s and are not all zero")]
