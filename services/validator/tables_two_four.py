"""Section 二 (§6.3) and section 四 (§6.5) rules, and the cell-level rules of §6.2."""

from __future__ import annotations

import re

from shared.report import T4_KEYS, T4_OUTCOMES, UNCERTAIN_BELOW, Finding, ParsedReport, Severity

from .agency import AgencyLevel, body_type
from .arithmetic import Identity, failing
from .catalogue import make_finding
from .cells import BLANK_MARKERS, CellReader, fmt, t3_layout, t3_rows
from .table_three import t3_identities

T4_GROUP_RULES = {"review": "T4-SUM-REVIEW", "suit_direct": "T4-SUM-DIRECT", "suit_after_review": "T4-SUM-AFTER"}
T4_GROUP_ZH = {"review": "行政复议", "suit_direct": "未经复议直接起诉", "suit_after_review": "复议后起诉"}
T4_OUTCOME_ZH = {"upheld": "维持", "corrected": "纠正", "other": "其他", "pending": "尚未审结"}
# Cells that are amounts or signed deltas rather than counts.
NON_COUNT_KEYS = frozenset({"t2_fee_amount_wan", "t2v19_procurement_amount"})
FEE_KEY = "t2_fee_amount_wan"


# --- section 二 ---------------------------------------------------------------


def check_table_two(report: ParsedReport, level: AgencyLevel | None) -> list[Finding]:
    if report.report_format != "v2021":
        return []
    reader = CellReader(report)
    out: list[Finding] = []
    for x, label in (("rules", "规章"), ("normative", "行政规范性文件")):
        issued, repealed, in_force = reader.values(f"t2_{x}_{c}" for c in ("issued", "repealed", "in_force"))
        keys = [f"t2_{x}_issued", f"t2_{x}_repealed", f"t2_{x}_in_force"]
        if issued is not None and in_force is not None:
            if in_force < issued:
                out.append(make_finding(
                    f"T2-INFORCE-GE-ISSUED-{x}",
                    f"{label}：现行有效{fmt(in_force)}件 < 本年制发{fmt(issued)}件",
                    f"{x}: {fmt(in_force)} in force < {fmt(issued)} issued", keys[::2]))
            if issued > 0 and in_force == 0:
                out.append(make_finding(
                    f"T2-INFORCE-ZERO-{x}", f"{label}：本年制发{fmt(issued)}件，现行有效0件",
                    f"{x}: {fmt(issued)} issued, 0 in force", keys[::2]))
        if None not in (issued, repealed, in_force) and repealed > in_force + issued:  # type: ignore[operator]
            out.append(make_finding(
                f"T2-REPEALED-LARGE-{x}",
                f"{label}：本年废止{fmt(repealed)}件 > 现行有效{fmt(in_force)}+本年制发{fmt(issued)}",  # type: ignore[arg-type]
                f"{x}: {fmt(repealed)} repealed > {fmt(in_force)} in force + {fmt(issued)} issued",  # type: ignore[arg-type]
                keys))
    out += _rules_authority(report, reader, level)
    return out


def _rules_authority(report: ParsedReport, reader: CellReader, level: AgencyLevel | None) -> list[Finding]:
    """Only 国务院部门 and 省级/设区的市 governments make 规章 (立法法)."""
    keys = ["t2_rules_issued", "t2_rules_repealed", "t2_rules_in_force"]
    nonzero = [k for k in keys if (reader.value(k) or 0) > 0]
    if not nonzero or level is None or not report.agency:
        return []
    kind = body_type(report.agency)
    shown = "、".join(f"{k}={fmt(reader.value(k) or 0)}" for k in nonzero)
    if level in ("county", "township") or (level in ("provincial", "prefectural") and kind == "department"):
        return [make_finding("T2-RULES-AUTHORITY", f"{report.agency}（{level}）填报了 {shown}",
                             f"{report.agency} ({level}) reports {shown}", nonzero)]
    if level in ("provincial", "prefectural") and kind == "office":
        # The office publishes its government's 规章: a formal hit a reviewer dismisses.
        return [make_finding(
            "T2-RULES-AUTHORITY",
            f"{shown}；本机关为政府办公厅（室），所列应为本级政府规章，通常无需处理",
            f"{shown}; the agency is its government's general office, which publishes that government's 规章 — usually nothing to fix",
            nonzero, severity="info")]
    return []


# --- section 四 ---------------------------------------------------------------


def t4_identities() -> list[Identity]:
    return [
        Identity(rule, (f"t4_{g}_total",), tuple(f"t4_{g}_{o}" for o in T4_OUTCOMES[:-1]))
        for g, rule in T4_GROUP_RULES.items()
    ]


def check_table_four(report: ParsedReport, previous: ParsedReport | None) -> list[Finding]:
    reader = CellReader(report)
    out = []
    for ident in failing(t4_identities(), report.cells):
        group = ident.lhs[0].removeprefix("t4_").removesuffix("_total")
        parts = "+".join(f"{T4_OUTCOME_ZH[o]}{fmt(reader.value(f't4_{group}_{o}') or 0)}" for o in T4_OUTCOMES[:-1])
        left, right = ident.sides(report.cells) or (0, 0)
        out.append(make_finding(
            ident.rule,
            f"{T4_GROUP_ZH[group]}：总计={reader.shown(ident.lhs[0])}，{parts}={fmt(right)}，相差{fmt(abs(left - right))}",
            f"{group}: total = {reader.shown(ident.lhs[0], 'en')}, upheld + corrected + other + pending = {fmt(right)}, "
            f"off by {fmt(abs(left - right))}",
            ident.cells))
    mapped = [k for k in T4_KEYS if reader.value(k) is not None]
    if 0 < len(mapped) < len(T4_KEYS):
        out.append(make_finding(
            "T4-CELLCOUNT", f"仅读到{len(mapped)}个单元格（应为15个）", f"only {len(mapped)} of 15 cells were read",
            [k for k in T4_KEYS if k not in mapped]))
    corrected = {k: reader.value(k) for k in (f"t4_{g}_corrected" for g in T4_GROUP_RULES)}
    if any((v or 0) > 0 for v in corrected.values()):
        listed = "、".join(f"{k}={fmt(v)}" for k, v in corrected.items() if v)
        out.append(make_finding("T4-CORRECTED-RATE", listed, listed.replace("、", ", "),
                                [k for k, v in corrected.items() if v]))
    out += _appeals_without_applications(reader, previous)
    return out


def _appeals_without_applications(reader: CellReader, previous: ParsedReport | None) -> list[Finding]:
    if previous is None:
        return []
    appeals = reader.total(f"t4_{g}_total" for g in T4_GROUP_RULES)
    apps = reader.total(("t3_new_received__total", "t3_carried_over__total"))
    prev_apps = CellReader(previous).total(("t3_new_received__total", "t3_carried_over__total"))
    if appeals is None or apps is None or prev_apps is None or not (appeals > 0 and apps == 0 and prev_apps == 0):
        return []
    return [make_finding(
        "T4-NO-APPLICATIONS",
        f"复议诉讼合计{fmt(appeals)}件，但本年及上年均无政府信息公开申请",
        f"{fmt(appeals)} review/litigation cases, but no applications this year or last year",
        [f"t4_{g}_total" for g in T4_GROUP_RULES] + ["t3_new_received__total", "t3_carried_over__total"])]


# --- cell-level rules ---------------------------------------------------------


def check_cells(report: ParsedReport) -> list[Finding]:
    reader = CellReader(report)
    out = []
    negative, fractional = [], []
    for key, v in report.cells.items():
        if v is None:
            continue
        if v < 0 and not (key.startswith("t2v19_") and key.endswith("_delta")):
            negative.append(key)
        if key not in NON_COUNT_KEYS and isinstance(v, float) and not v.is_integer():
            fractional.append(key)
    if negative:
        listed = "、".join(f"{k}={fmt(reader.value(k) or 0)}" for k in negative)
        out.append(make_finding("NUM-NONNEG", listed, listed.replace("、", ", "), negative))
    if fractional:
        listed = "、".join(f"{k}={fmt(reader.value(k) or 0)}" for k in fractional)
        out.append(make_finding("NUM-INT", listed, listed.replace("、", ", "), fractional))
    out += _fee_precision_and_unit(report, reader)
    out += _unparseable(report)
    out += _markers(report, reader)
    return out


def _fee_precision_and_unit(report: ParsedReport, reader: CellReader) -> list[Finding]:
    fee = reader.value(FEE_KEY)
    if fee is None:
        return []
    out = []
    detail = report.cell_details.get(FEE_KEY)
    raw = detail.raw if detail else repr(fee)
    decimals = re.search(r"\.(\d+)", raw)
    if decimals and len(decimals.group(1).rstrip("0")) > 4:
        out.append(make_finding("NUM-FEE-DP", f"{FEE_KEY}=“{raw}”", f"{FEE_KEY} = '{raw}'", [FEE_KEY]))
    if detail and "元" in detail.raw and "万元" not in detail.raw:
        out.append(make_finding("NUM-FEE-UNIT", f"单元格写作“{detail.raw}”", f"the cell reads '{detail.raw}'", [FEE_KEY]))
    elif fee > 0:
        text = "".join(report.sections.values())
        for m in re.finditer(r"行政事业性收费[^，。；,;]{0,20}?(\d+(?:\.\d+)?)\s*元", text):
            yuan = float(m.group(1))
            if m.group(0).endswith("万元"):
                continue
            if abs(yuan / 10000 - fee) < 1e-6 or abs(yuan - fee) < 1e-6:
                out.append(make_finding(
                    "NUM-FEE-UNIT", f"正文称“{m.group(0)}”，表中为{fmt(fee)}万元",
                    f"text says '{m.group(0)}', table says {fmt(fee)} 万元", [FEE_KEY]))
                break
    return out


def _unparseable(report: ParsedReport) -> list[Finding]:
    unreadable, annotated = [], []
    for key, detail in report.cell_details.items():
        raw = detail.raw.strip()
        if not raw or detail.marker:
            continue
        if report.cells.get(key) is None and not re.fullmatch(r"[\s\u3000\u00a0]*", raw):
            unreadable.append((key, raw))
        elif detail.note or re.search(r"[^\d\s.,，\-件元万条个项次]", raw):
            annotated.append((key, raw))
    for pf in report.parse_findings:
        if pf.rule == "NUM-UNPARSEABLE":
            for key in pf.cells:
                if key in dict(unreadable) or key in dict(annotated):
                    continue
                raw = report.cell_details[key].raw if key in report.cell_details else pf.message
                (unreadable if report.cells.get(key) is None else annotated).append((key, raw))
    if not unreadable and not annotated:
        return []
    zh = "；".join([f"{k}=“{r}”无可读数字" for k, r in unreadable] + [f"{k}=“{r}”按数字{_shown(report, k)}计，附注保留" for k, r in annotated])
    en = "; ".join([f"{k} = '{r}' has no readable number" for k, r in unreadable]
                   + [f"{k} = '{r}' read as {_shown(report, k)}, note kept" for k, r in annotated])
    # A number with a note, read with certainty, changes no number: a notice, not a question.
    unsure = any(_confidence(report, k) < UNCERTAIN_BELOW for k, _ in annotated)
    severity: Severity = "error" if unreadable else "warning" if unsure else "notice"
    return [make_finding("NUM-UNPARSEABLE", zh, en, [k for k, _ in unreadable + annotated], severity=severity)]


def _confidence(report: ParsedReport, key: str) -> float:
    detail = report.cell_details.get(key)
    return detail.confidence if detail is not None else 1.0


def _shown(report: ParsedReport, key: str) -> str:
    v = report.cells.get(key)
    return "null" if v is None else fmt(v)


def _markers(report: ParsedReport, reader: CellReader) -> list[Finding]:
    marked = [k for k, d in report.cell_details.items() if d.marker in BLANK_MARKERS and report.cells.get(k) is not None]
    if not marked:
        return []
    # Read as 0 in tables that add up, a marker changes no number; in a sum that fails it may
    # hide the missing figure, and a person looks.
    in_failing_sum = set(marked) & _cells_of_failing_sums(report)
    sample = "、".join(f"{k}（{reader.marker(k)}）" for k in marked[:12]) + ("等" if len(marked) > 12 else "")
    sample_en = ", ".join(f"{k} ({reader.marker(k)})" for k in marked[:12]) + (", …" if len(marked) > 12 else "")
    return [make_finding(
        "NUM-MARKER", f"{len(marked)}个单元格为空白或标记，按0计：{sample}",
        f"{len(marked)} cells are blank or a marker and read as 0: {sample_en}", marked,
        severity="warning" if in_failing_sum else "notice")]


def _cells_of_failing_sums(report: ParsedReport) -> set[str]:
    layout = t3_layout(report)
    identities = [*t3_identities(layout, t3_rows(layout)), *t4_identities()]
    return {k for ident in failing(identities, report.cells) for k in ident.cells}


def _table_of(key: str) -> str:
    return key.split("_", 1)[0]
