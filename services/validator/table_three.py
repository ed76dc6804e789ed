"""Section 三 rules (§6.4): balances, totals, row sums, blank totals, carry-forward bound."""

from __future__ import annotations

from shared.report import T3_COLUMNS, Finding, ParsedReport, t3_key

from .arithmetic import Identity, Repair, failing, pin_culprit
from .catalogue import make_finding
from .cells import COLUMN_ZH, ROW_ZH, CellReader, T3Layout, fmt, result_rows, t3_layout, t3_rows

COMPONENT_COLUMNS = T3_COLUMNS[:-1]


def t3_identities(layout: T3Layout, rows: tuple[str, ...]) -> list[Identity]:
    """Every linear identity of table 三 for this layout, with the rule ID it is checked under."""
    out = []
    for c in T3_COLUMNS:
        out.append(
            Identity(
                f"T3-BALANCE-{c}",
                (t3_key("new_received", c), t3_key("carried_over", c)),
                (t3_key("total_processed", c), t3_key("carried_forward", c)),
            )
        )
        out.append(
            Identity(
                f"T3-TOTALPROC-{c}",
                (t3_key("total_processed", c),),
                tuple(t3_key(r, c) for r in result_rows(layout)),
            )
        )
    for r in rows:
        out.append(Identity(f"T3-ROWSUM-{r}", (t3_key(r, "total"),), tuple(t3_key(r, c) for c in COMPONENT_COLUMNS)))
    return out


def check_table_three(report: ParsedReport) -> list[Finding]:
    layout = t3_layout(report)
    rows = t3_rows(layout)
    if not rows:
        return []
    reader = CellReader(report)
    identities = t3_identities(layout, rows)
    broken = failing(identities, report.cells)
    grid = [[t3_key(r, c) for c in T3_COLUMNS] for r in rows]
    repair = pin_culprit(identities, report.cells, grid) if broken else None
    findings = [_identity_finding(ident, reader, repair) for ident in broken]
    findings += _blank_totals(reader, rows)
    findings += _carry_forward_bound(reader, repair)
    return findings


def _identity_finding(ident: Identity, reader: CellReader, repair: Repair | None) -> Finding:
    left, right = ident.sides(reader.report.cells) or (0, 0)
    diff = fmt(abs(left - right))
    if ident.rule.startswith("T3-ROWSUM-"):
        row = ident.rule.removeprefix("T3-ROWSUM-")
        total_key = t3_key(row, "total")
        zh = f"「{ROW_ZH[row]}」行：总计={reader.shown(total_key)}，各申请人类型之和={fmt(right)}，相差{diff}"
        en = f"row {row}: total = {reader.shown(total_key, 'en')}, sum of applicant types = {fmt(right)}, off by {diff}"
    elif ident.rule.startswith("T3-BALANCE-"):
        c = ident.rule.removeprefix("T3-BALANCE-")
        zh = f"{COLUMN_ZH[c]}列：第一项+第二项={fmt(left)}，第三项+第四项={fmt(right)}，相差{diff}"
        en = f"column {c}: new + carried-in = {fmt(left)}, processed + carried-out = {fmt(right)}, off by {diff}"
    else:
        c = ident.rule.removeprefix("T3-TOTALPROC-")
        zh = f"{COLUMN_ZH[c]}列：（七）总计={fmt(left)}，各办理结果之和={fmt(right)}，相差{diff}"
        en = f"column {c}: (七)总计 = {fmt(left)}, sum of result rows = {fmt(right)}, off by {diff}"
        blanks = [k for k in ident.rhs if c == "total" and _blank_with_parts(reader, k)]
        if blanks:
            zh += f"（其中{len(blanks)}个结果行的总计空白而分项有数，按0计）"
            en += f" ({len(blanks)} result-row totals are blank while their parts are not; read as 0)"
    culprit = None
    if repair and any(k in ident.cells for k in repair.changes):
        culprit = repair.culprit
        zh += f"；{repair.explanation_zh}"
        en += f"; {repair.explanation_en}"
    return make_finding(ident.rule, zh, en, ident.cells, culprit=culprit)


def _blank_with_parts(reader: CellReader, total_key: str) -> bool:
    row = total_key.removeprefix("t3_").removesuffix("__total")
    return reader.is_blank(total_key) and any((reader.value(t3_key(row, c)) or 0) > 0 for c in COMPONENT_COLUMNS)


def _blank_totals(reader: CellReader, rows: tuple[str, ...]) -> list[Finding]:
    out = []
    for r in rows:
        total_key = t3_key(r, "total")
        if not reader.is_blank(total_key):
            continue
        parts = {k: reader.value(k) for k in (t3_key(r, c) for c in COMPONENT_COLUMNS)}
        filled = {k: v for k, v in parts.items() if v is not None and v > 0}
        if filled:
            listed = "、".join(f"{k}={fmt(v)}" for k, v in filled.items())
            out.append(
                make_finding(
                    f"T3-BLANK-TOTAL-{r}",
                    f"「{ROW_ZH[r]}」行总计空白，但 {listed}",
                    f"row {r}: total is blank although {listed.replace('、', ', ')}",
                    [total_key, *filled],
                )
            )
    return out


def _carry_forward_bound(reader: CellReader, repair: Repair | None) -> list[Finding]:
    out = []
    for c in T3_COLUMNS:
        keys = [t3_key(r, c) for r in ("carried_forward", "new_received", "carried_over")]
        forward, new, carried_in = reader.values(keys)
        if forward is None or new is None or carried_in is None or forward <= new + carried_in:
            continue
        zh = f"{COLUMN_ZH[c]}列：结转下年度={fmt(forward)}，大于本年新收+上年结转={fmt(new + carried_in)}"
        en = f"column {c}: carried-out {fmt(forward)} exceeds new + carried-in {fmt(new + carried_in)}"
        culprit = None
        if repair and any(k in repair.changes for k in keys):  # the same slip explains this too
            culprit = repair.culprit
            zh += f"；{repair.explanation_zh}"
            en += f"; {repair.explanation_en}"
        out.append(make_finding(f"T3-CARRY-FORWARD-GT-INPUT-{c}", zh, en, keys, culprit=culprit))
    return out
