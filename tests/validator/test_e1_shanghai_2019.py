"""E1 of examples.md: 上海市人民政府办公厅 2019 (v2019), built from the figures listed there."""

from __future__ import annotations

import datetime as dt

from services.validator import ValidationContext, validate
from shared.report import T3_COLUMNS, T3_ROWS_V2019, T4_KEYS, CellDetail, ParsedReport, t3_key

B = None  # a blank cell in the listing below
ROWS = {
    "new_received": (821, 35, B, B, 2, 1, 859),
    "carried_over": (18, B, B, B, B, B, 18),
    "granted": (258, 12, B, B, 1, 1, B),
    "partial": (3, B, B, B, B, B, B),
    "denied_state_secret": (14, B, B, B, B, B, B),
    "denied_internal_affairs": (5, B, B, B, B, B, B),
    "denied_process_info": (3, 1, B, B, B, B, B),
    "denied_admin_query": (10, 2, B, B, B, B, B),
    "unable_not_held": (252, 12, B, B, 1, B, B),
    "unable_need_creation": (44, 3, B, B, B, B, B),
    "unable_unclear": (25, B, B, B, B, B, B),
    "ignored_petition": (148, 1, B, B, B, B, B),
    "ignored_duplicate": (5, 4, B, B, B, B, B),
    "total_processed": (767, 35, B, B, 2, 1, 805),
    "carried_forward": (72, B, B, B, B, B, 72),
}
BLANK_TOTAL_ROWS = {
    "granted", "partial", "denied_state_secret", "denied_internal_affairs", "denied_process_info",
    "denied_admin_query", "unable_not_held", "unable_need_creation", "unable_unclear", "ignored_petition",
    "ignored_duplicate",
}
T4 = {"t4_review_upheld": 5, "t4_review_corrected": B, "t4_review_other": B, "t4_review_pending": 2,
      "t4_review_total": 7, "t4_suit_direct_upheld": 8, "t4_suit_direct_corrected": B, "t4_suit_direct_other": B,
      "t4_suit_direct_pending": 1, "t4_suit_direct_total": 9}
OVERVIEW = (
    "2019年，本机关受理申请859件，答复805件（含上年度结转申请18件，另有72件因在法定答复期限内顺延到下年度答复）。"
    "其中，予以公开及部分公开258件，占33.9%；不予公开35件，占4.34%；因本机关不掌握等原因无法提供265件，占32.9%；"
    "不予处理158件，占19.6%；其他处理0件。信息公开类行政复议7件，诉讼9件，均获维持。"
)


def e1_report() -> ParsedReport:
    cells: dict[str, int | float | None] = {}
    details: dict[str, CellDetail] = {}
    for row in T3_ROWS_V2019:
        values = ROWS.get(row, (B,) * 7)
        for c, v in zip(T3_COLUMNS, values, strict=True):
            cells[t3_key(row, c)] = 0 if v is None else v
            if v is None:
                details[t3_key(row, c)] = CellDetail(raw="", marker="blank")
    for k in T4_KEYS:
        v = T4.get(k)
        cells[k] = 0 if v is None else v
        if v is None:
            details[k] = CellDetail(raw="", marker="blank")
    cells |= {"t2v19_rules_new_made": 13, "t2v19_rules_new_published": 13, "t2v19_rules_total_published": 524,
              "t2v19_normative_new_made": 60, "t2v19_normative_new_published": 60,
              "t2v19_normative_total_published": 368, "t2v19_procurement_items": 6,
              "t2v19_procurement_amount": 251000}
    for x in ("license", "other_service", "penalty", "coercion"):
        for c in ("prev_items", "delta", "decisions"):
            cells[f"t2v19_{x}_{c}"] = 0
    cells["t2v19_fee_prev_items"] = cells["t2v19_fee_delta"] = 0
    details["t2v19_procurement_amount"] = CellDetail(raw="251000元")
    return ParsedReport(
        agency="上海市人民政府办公厅", year=2019, report_format="v2019", report_kind="agency",
        published_on="2020-01-31", statistics_period="2019-01-01..2019-12-31",
        title="2019年上海市人民政府办公厅政府信息公开工作年度报告",
        sections={"1": OVERVIEW, "2": "", "3": "", "4": "", "5": "主要问题和改进措施……" * 10, "6": "无"},
        cells=cells, cell_details=details,
    )


def _by_rule() -> dict[str, list]:
    out: dict[str, list] = {}
    for f in validate(e1_report(), ValidationContext(as_of=dt.date(2026, 1, 1))):
        out.setdefault(f.rule, []).append(f)
    return out


def test_blank_totals_and_row_sums_fire_for_the_listed_rows() -> None:
    found = _by_rule()
    assert {r.removeprefix("T3-BLANK-TOTAL-") for r in found if r.startswith("T3-BLANK-TOTAL-")} == BLANK_TOTAL_ROWS
    assert {r.removeprefix("T3-ROWSUM-") for r in found if r.startswith("T3-ROWSUM-")} == BLANK_TOTAL_ROWS
    assert all(f.severity == "warning" for r, fs in found.items() if r.startswith("T3-BLANK-TOTAL-") for f in fs)
    granted = found["T3-ROWSUM-granted"][0]
    assert granted.severity == "error" and "272" in granted.message_zh and "空白" in granted.message_zh


def test_every_column_balances() -> None:
    found = _by_rule()
    assert not [r for r in found if r.startswith("T3-BALANCE-")]
    # Only the 总计 column's result sum breaks, because the result-row totals are blank.
    assert [r for r in found if r.startswith("T3-TOTALPROC-")] == ["T3-TOTALPROC-total"]
    assert "空白" in found["T3-TOTALPROC-total"][0].message_zh


def test_narrative_results_and_all_upheld() -> None:
    found = _by_rule()
    results = found["NARR-RESULTS"][0]
    assert "258" in results.message_zh and "275" in results.message_zh  # 予以公开及部分公开
    assert "265" in results.message_zh and "337" in results.message_zh  # 无法提供
    assert "不予公开35件" not in results.message_zh and "158" not in results.message_zh  # these agree
    appeals = found["NARR-APPEALS"][0]
    assert appeals.severity == "warning" and "均获维持" in appeals.message_zh
    assert "NARR-APPS" not in found  # "受理申请859件" has no 政府信息公开 object; 859 matches anyway


def test_published_on_deadline_day_is_not_late() -> None:
    found = _by_rule()
    assert "META-PUBDATE-LATE" not in found and "META-PUBDATE-EARLY" not in found
    assert "META-FORMAT-YEAR" not in found and "META-PERIOD" not in found


def test_blank_cells_are_reported_as_markers() -> None:
    marker = _by_rule()["NUM-MARKER"][0]
    assert marker.severity == "warning" and "t3_granted__total" in marker.cells
