"""Random consistent reports pass; one injected arithmetic defect is caught and, where the sums
determine it, pinned to its cell."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from services.validator import ValidationContext, decide, validate
from shared.report import T3_COLUMNS, Finding, ParsedReport, t3_key

from .helpers import consistent_report

CONTEXT = ValidationContext(as_of=dt.date(2025, 6, 1))
LAYOUTS = ("v2021", "v2019", "hybrid")
COMPONENTS = T3_COLUMNS[:-1]


def _t3_cells(report: ParsedReport) -> list[str]:
    return [k for k, v in report.cells.items() if k.startswith("t3_") and v is not None]


def _errors(report: ParsedReport) -> list[Finding]:
    return [f for f in validate(report, CONTEXT) if f.severity == "error"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("seed", range(15))
def test_consistent_reports_have_no_error(layout: str, seed: int) -> None:
    report = consistent_report(seed, layout)
    findings = validate(report, CONTEXT)
    assert not [f for f in findings if f.severity == "error"], findings
    assert not [f for f in findings if f.rule.startswith(("T3-", "T4-SUM", "NARR-"))]
    if layout == "hybrid":
        assert "TBL-HEADER-ALTERED" in {f.rule for f in findings}
    assert decide(findings) in ("approved", "needs_review")


def _expected_rules(key: str) -> set[str]:
    row, column = key.removeprefix("t3_").split("__")
    rules = {f"T3-ROWSUM-{row}"}
    if row in ("new_received", "carried_over", "carried_forward"):
        rules.add(f"T3-BALANCE-{column}")
    elif row == "total_processed":
        rules |= {f"T3-BALANCE-{column}", f"T3-TOTALPROC-{column}"}
    else:
        rules.add(f"T3-TOTALPROC-{column}")
    return rules


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("seed", range(20))
def test_one_cell_plus_one_is_pinned(layout: str, seed: int) -> None:
    report = consistent_report(seed, layout)
    key = random.Random(seed).choice(_t3_cells(report))
    report.cells[key] = (report.cells[key] or 0) + 1
    # Carrying one more forward than was available is also (rightly) its own error.
    errors = [f for f in _errors(report) if not f.rule.startswith("T3-CARRY-FORWARD-GT-INPUT")]
    assert {f.rule for f in errors} == _expected_rules(key)
    assert all(f.culprit == key for f in errors)
    assert all("相差1" in f.message_zh and "off by 1" in f.message_en for f in errors)
    assert decide(errors) == "rejected"


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("seed", range(20))
def test_number_split_in_two_is_pinned(layout: str, seed: int) -> None:
    report = consistent_report(seed, layout)
    big = [k for k in _t3_cells(report) if (report.cells[k] or 0) >= 10]
    key = random.Random(seed).choice(big)
    true_value = int(report.cells[key] or 0)
    report.cells[key] = int(str(true_value)[0])  # "20" read as 2 (the 0 lost)
    errors = _errors(report)
    assert {f.rule for f in errors} == _expected_rules(key)
    assert all(f.culprit == key for f in errors)
    assert all("拆分" in f.message_zh and f"应为{true_value}" in f.message_zh for f in errors)


def _shift_candidates(report: ParsedReport) -> list[tuple[str, str]]:
    """(from, to) pairs where moving a value one column right leaves a unique pattern in the table."""
    rows = {k.removeprefix("t3_").split("__")[0] for k in _t3_cells(report)}
    out = []
    for row in rows:
        for a, b in zip(COMPONENTS, COMPONENTS[1:], strict=False):
            v, w = report.cells[t3_key(row, a)], report.cells[t3_key(row, b)]
            if v and w == 0:
                out.append((t3_key(row, a), t3_key(row, b)))
    return out


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("seed", range(20))
def test_value_shifted_one_column(layout: str, seed: int) -> None:
    report = consistent_report(seed, layout)
    candidates = _shift_candidates(report)
    source, target = random.Random(seed).choice(candidates)
    value = report.cells[source]
    a, b = source.split("__")[1], target.split("__")[1]
    # If another cell of these two columns holds the same value, moving it would explain the
    # sums just as well: then the arithmetic does not determine the culprit.
    unique = [
        k for k, v in report.cells.items()
        if k.startswith("t3_") and k.split("__")[1] in (a, b) and v == value and k != source
    ] == []
    report.cells[target], report.cells[source] = value, 0
    errors = _errors(report)
    rules = {f.rule for f in errors}
    # Lesson 3: the total column still balances, the two columns do not.
    assert not any(r.endswith("-total") for r in rules) and not any(r.startswith("T3-ROWSUM") for r in rules)
    assert rules & {f"T3-TOTALPROC-{a}", f"T3-BALANCE-{a}"} and rules & {f"T3-TOTALPROC-{b}", f"T3-BALANCE-{b}"}
    culprits = {f.culprit for f in errors}
    if unique:
        assert culprits == {target}
        assert all("错列" in f.message_zh for f in errors)
    else:
        assert culprits <= {target, None}


def test_whole_row_shifted_right_is_recognised() -> None:
    report = consistent_report(3, "v2021")
    row = "granted"
    keys = [t3_key(row, c) for c in T3_COLUMNS]
    values = [report.cells[k] for k in keys]
    assert values[0]
    for k, v in zip(keys, [0, *values[:-1]], strict=True):  # the total falls off the end
        report.cells[k] = v
    errors = _errors(report)
    assert {f.culprit for f in errors if f.culprit} == {keys[0]}
    assert any("整行错位" in f.message_zh for f in errors)


def test_table_four_parts_and_total() -> None:
    report = consistent_report(1)
    report.cells["t4_suit_direct_pending"] = (report.cells["t4_suit_direct_pending"] or 0) + 2
    errors = _errors(report)
    assert [f.rule for f in errors] == ["T4-SUM-DIRECT"]
    assert "相差2" in errors[0].message_zh


def test_null_cells_skip_their_checks() -> None:
    report = consistent_report(2)
    report.cells[t3_key("granted", "natural")] = None
    report.cells["t4_review_total"] = None
    findings = validate(report, CONTEXT)
    rules = {f.rule for f in findings}
    assert not [r for r in rules if r.startswith(("T3-", "T4-SUM"))]
    assert "T4-CELLCOUNT" in rules  # 14 of 15 section 四 cells read


def test_carry_forward_larger_than_input() -> None:
    report = consistent_report(4)
    report.cells[t3_key("carried_forward", "org_other")] = 999
    rules = {f.rule for f in _errors(report)}
    assert "T3-CARRY-FORWARD-GT-INPUT-org_other" in rules
