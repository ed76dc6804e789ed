"""Rules that need context: cross-year (XY), members of a summary (AGG), peers (PEER); and the API."""

from __future__ import annotations

import copy
import datetime as dt

from services.validator import (
    PeerTextIndex,
    ValidationContext,
    catalogue_markdown,
    decide,
    normalise_agency_name,
    rule_catalogue,
    text_signature,
    validate,
)
from shared.report import T3_COLUMNS, CellDetail, Finding, ParsedReport, ParseFinding, t3_key

from .helpers import consistent_report

AS_OF = dt.date(2025, 6, 1)


def rules(report: ParsedReport, **context: object) -> dict[str, Finding]:
    return {f.rule: f for f in validate(report, ValidationContext(as_of=AS_OF, **context))}  # type: ignore[arg-type]


def year_pair() -> tuple[ParsedReport, ParsedReport]:
    previous = consistent_report(5)
    previous.year = 2022
    current = consistent_report(6)
    for c in T3_COLUMNS:  # this year's carried-in is last year's carried-out, column by column
        current.cells[t3_key("carried_over", c)] = previous.cells[t3_key("carried_forward", c)]
        new, carried = current.cells[t3_key("new_received", c)], current.cells[t3_key("carried_over", c)]
        current.cells[t3_key("carried_forward", c)] = 0
        current.cells[t3_key("total_processed", c)] = (new or 0) + (carried or 0)
        current.cells[t3_key("granted", c)] = (new or 0) + (carried or 0) - sum(
            current.cells[t3_key(r, c)] or 0 for r in
            ("partial", "denied_state_secret", "denied_law_forbidden", "denied_three_security", "denied_third_party",
             "denied_internal_affairs", "denied_process_info", "denied_enforcement_file", "denied_admin_query",
             "unable_not_held", "unable_need_creation", "unable_unclear", "ignored_petition", "ignored_duplicate",
             "ignored_publication", "ignored_mass_repeat", "ignored_confirm", "other_no_correction",
             "other_no_fee", "other_other"))
    for x in ("rules", "normative"):
        current.cells[f"t2_{x}_in_force"] = (
            (previous.cells[f"t2_{x}_in_force"] or 0) + (current.cells[f"t2_{x}_issued"] or 0)
            - (current.cells[f"t2_{x}_repealed"] or 0))
    current.sections["5"] = "今年的问题在于依申请公开答复文书不够规范，个别栏目更新不及时，将通过集中培训和定期检查逐项整改落实。"
    current.sections["1"] = "本年度，我局围绕年度重点任务推进公开工作，完善依申请公开办理流程，提高答复质量。" + current.sections["1"]
    return current, previous


def test_consecutive_years_roll_forward() -> None:
    current, previous = year_pair()
    found = rules(current, previous=previous)
    assert not [r for r in found if r.startswith("XY-")], found
    assert not [f for f in found.values() if f.severity == "error"]


def test_carry_mismatch_is_an_error_for_total_only_when_printed_and_balanced() -> None:
    current, previous = year_pair()
    current.cells[t3_key("carried_over", "natural")] = (current.cells[t3_key("carried_over", "natural")] or 0) + 2
    current.cells[t3_key("carried_over", "total")] = (current.cells[t3_key("carried_over", "total")] or 0) + 2
    current.cells[t3_key("total_processed", "natural")] = (current.cells[t3_key("total_processed", "natural")] or 0) + 2
    current.cells[t3_key("total_processed", "total")] = (current.cells[t3_key("total_processed", "total")] or 0) + 2
    current.cells[t3_key("granted", "natural")] = (current.cells[t3_key("granted", "natural")] or 0) + 2
    current.cells[t3_key("granted", "total")] = (current.cells[t3_key("granted", "total")] or 0) + 2
    found = rules(current, previous=previous)
    assert found["XY-CARRY-total"].severity == "error"
    assert found["XY-CARRY-natural"].severity == "warning"
    # A blank (marker) carried-out cell last year: no longer "printed digits" → warning.
    previous.cell_details[t3_key("carried_forward", "total")] = CellDetail(raw="", marker="blank")
    assert rules(current, previous=previous)["XY-CARRY-total"].severity == "warning"


def test_in_force_roll_forward_and_format_switch() -> None:
    current, previous = year_pair()
    current.cells["t2_normative_in_force"] = (current.cells["t2_normative_in_force"] or 0) + 1
    found = rules(current, previous=previous)
    assert "XY-INFORCE-normative" in found and "XY-INFORCE-rules" not in found
    v2019 = consistent_report(5, "v2019")
    v2019.year = 2022
    found = rules(current, previous=v2019)
    assert found["XY-FORMAT-SWITCH"].severity == "info" and "XY-INFORCE-normative" not in found


def test_copied_text_and_numbers_from_last_year() -> None:
    current, previous = year_pair()
    previous.sections["1"] = current.sections["1"].replace("2023", "2022")
    previous.cells = dict(current.cells)
    found = rules(current, previous=previous)
    assert "XY-DUP-TEXT" in found and "XY-DUP-NUMBERS" in found


def test_previous_report_of_another_year_is_ignored() -> None:
    current, previous = year_pair()
    previous.year = 2020
    assert not [r for r in rules(current, previous=previous) if r.startswith("XY-")]


def test_appeals_without_applications_needs_the_previous_year() -> None:
    current, previous = year_pair()
    for report in (current, previous):
        for k in report.cells:
            if k.startswith("t3_") and report.cells[k] is not None:
                report.cells[k] = 0
    assert "T4-NO-APPLICATIONS" in rules(current, previous=previous)
    assert "T4-NO-APPLICATIONS" not in rules(current)


# --- aggregate ------------------------------------------------------------------------


def summary_of(members: list[ParsedReport]) -> ParsedReport:
    summary = copy.deepcopy(members[0])
    summary.agency, summary.report_kind = "某某市某某区人民政府", "summary"
    for k in summary.cells:
        values = [m.cells.get(k) for m in members]
        summary.cells[k] = None if None in values else sum(v for v in values if v is not None)
    return summary


def test_summary_equal_to_its_members_passes() -> None:
    for n in (2, 3):
        members = [consistent_report(20 + i) for i in range(n)]
        for i, m in enumerate(members):
            m.agency = f"某某区第{i}局"
        found = rules(summary_of(members), members=members)
        assert not [r for r in found if r.startswith("AGG-")], found


def test_summary_differing_from_members_is_warned_per_cell() -> None:
    members = [consistent_report(30), consistent_report(31)]
    summary = summary_of(members)
    summary.cells[t3_key("granted", "natural")] = (summary.cells[t3_key("granted", "natural")] or 0) + 1
    summary.cells["t4_review_upheld"] = 0
    found = rules(summary, members=members, expected_members=["某市某区某局", "某某区水务局"])
    assert found["AGG-SUM-T3-granted-natural"].severity == "warning"
    assert "AGG-SUM-T3-granted-total" not in found
    assert "AGG-SUM-T4-review_upheld" in found
    missing = found["AGG-MEMBERS-MISSING"]
    assert missing.severity == "info" and "某某区水务局" in missing.message_zh
    if (members[0].cells["t4_review_upheld"] or 0) > 0:
        assert found["AGG-GE-MEMBER"].severity == "warning"


def test_hybrid_summary_compares_single_other_row_with_member_sub_rows() -> None:
    members = [consistent_report(40), consistent_report(41)]
    summary = summary_of(members)
    for c in T3_COLUMNS:
        summary.cells[t3_key("other_all", c)] = sum(
            summary.cells[t3_key(r, c)] or 0 for r in ("other_no_correction", "other_no_fee", "other_other"))
        for r in ("other_no_correction", "other_no_fee", "other_other"):
            summary.cells[t3_key(r, c)] = None
    found = rules(summary, members=members)
    assert not [r for r in found if r.startswith("AGG-")]
    assert "TBL-HEADER-ALTERED" in found


# --- peers -----------------------------------------------------------------------------

OWN_TEXT = (
    "本年度，区水务局坚持以人民为中心的发展思想，围绕防汛抗旱、河湖长制、城乡供水等重点工作，"
    "及时公开水利工程建设项目审批、实施和验收信息，主动回应群众关切，全面提升水务领域政务公开的质量和实效。"
)
OTHER_TEXT = (
    "本年度，区教育局聚焦义务教育招生入学、学校安全管理和教师队伍建设，发布招生政策解读和入学指南，"
    "开展校园开放日活动，畅通家长咨询渠道，确保教育信息公开及时准确，回应社会对教育公平的关切。"
)


def test_peer_copy_detected_and_different_text_not() -> None:
    index = PeerTextIndex()
    index.add("doc-1", "某某区水务局", OWN_TEXT + OWN_TEXT.replace("本年度", "今年"))
    index.add("doc-2", "某某区教育局", OTHER_TEXT + OTHER_TEXT)
    copier = consistent_report(50)
    copier.agency = "某某区农业农村局"
    copier.sections["1"] = (OWN_TEXT + OWN_TEXT.replace("本年度", "今年")).replace("2023", "2024")
    copier.sections["5"] = ""
    found = rules(copier, peers=index)
    assert "doc-1" in found["PEER-DUP-TEXT"].message_zh and "doc-2" not in found["PEER-DUP-TEXT"].message_zh
    honest = consistent_report(51)
    assert "PEER-DUP-TEXT" not in rules(honest, peers=index)
    # The agency's own earlier upload is not "another agency".
    copier.agency = "某某区 水务局"
    assert "PEER-DUP-TEXT" not in rules(copier, peers=index)


def test_index_rebuilt_from_signatures_answers_the_same() -> None:
    rows = [("a", "甲局", text_signature(OWN_TEXT * 2)), ("b", "乙局", text_signature(OTHER_TEXT * 2)),
            ("c", "丙局", None)]
    index = PeerTextIndex.from_signatures(rows)
    assert len(index) == 2
    assert [d for d, _, _ in index.similar(OWN_TEXT * 2, exclude_agency="丁局")] == ["a"]
    assert index.similar(OWN_TEXT * 2, exclude_agency="甲局") == []
    assert text_signature("无") == []


# --- API -------------------------------------------------------------------------------


def test_decide() -> None:
    f = Finding("X", "info", "", "")
    assert decide([]) == "approved" and decide([f]) == "approved"
    assert decide([f, Finding("X", "warning", "", "")]) == "needs_review"
    assert decide([Finding("X", "warning", "", ""), Finding("X", "error", "", "")]) == "rejected"


def test_severity_overrides_by_rule_and_family() -> None:
    report = consistent_report(7)
    report.cells[t3_key("granted", "natural")] = (report.cells[t3_key("granted", "natural")] or 0) + 1
    found = rules(report, severity_overrides={"T3": "warning", "T3-ROWSUM-granted": "info"})
    assert found["T3-TOTALPROC-natural"].severity == "warning"
    assert found["T3-ROWSUM-granted"].severity == "info"
    assert "T3-ROWSUM-granted" not in rules(report, severity_overrides={"T3-ROWSUM-<row>": "off"})


def test_uncertain_cell_qualifies_the_finding() -> None:
    report = consistent_report(8)
    key = t3_key("granted", "natural")
    report.cells[key] = (report.cells[key] or 0) + 1
    report.cell_details[key] = CellDetail(raw="2 0", source="page 3, table 2, row 5", confidence=0.6,
                                          note="digits spaced apart")
    found = rules(report)
    assert found["T3-ROWSUM-granted"].severity == "warning"
    assert "置信度较低" in found["T3-ROWSUM-granted"].message_zh and "flagged" in found["T3-ROWSUM-granted"].message_en
    assert found["PARSE-LOW-CONFIDENCE"].severity == "warning" and "page 3" in found["PARSE-LOW-CONFIDENCE"].message_zh


def test_parse_findings_become_findings() -> None:
    report = consistent_report(9)
    report.parse_findings = [
        ParseFinding("TBL-HEADER-ALTERED", "“现行有效件数 (历史累计)”", ["t2_normative_in_force"]),
        ParseFinding("T3-NO-GROUP-SUBTOTAL", "number 3 in （三）不予公开", []),
        ParseFinding("PARSER-COLUMN-CHOICE", "8 numbers per row; 7-column reading balances", []),
        ParseFinding("NUM-UNPARSEABLE", "cell '约3'", ["t2_penalty_decisions"]),
    ]
    report.cells["t2_penalty_decisions"] = None
    report.cell_details["t2_penalty_decisions"] = CellDetail(raw="约三")
    found = rules(report)
    assert "历史累计" in found["TBL-HEADER-ALTERED"].message_zh
    assert found["T3-NO-GROUP-SUBTOTAL"].severity == "warning"
    assert found["PARSE-NOTE"].severity == "info" and "PARSER-COLUMN-CHOICE" in found["PARSE-NOTE"].message_zh
    assert found["NUM-UNPARSEABLE"].severity == "error"


def test_metadata_rules() -> None:
    report = consistent_report(10)
    report.published_on, report.agency = "2023-12-20", "某某县民政局"
    assert rules(report)["META-PUBDATE-EARLY"].severity == "error"
    report.published_on = "2024-02-15"
    # Late changes no number and no reviewer can undo it: recorded and counted, not held.
    assert rules(report)["META-PUBDATE-LATE"].severity == "notice"
    report.agency = "某某县某某镇人民政府"  # no Art. 49 deadline for townships
    assert "META-PUBDATE-LATE" not in rules(report)
    report.year = 2020
    found = rules(report)
    assert found["META-FORMAT-YEAR"].severity == "error" and "META-YEAR" in found  # title says 2023
    report.year, report.statistics_period = 2023, "2023-01-01..12-31"
    assert "META-PERIOD" not in rules(report)
    report.statistics_period = "2022-01-01..2022-12-31"
    assert "META-PERIOD" in rules(report)
    report.sections["0"] = "依据国办公开办函〔2019〕60号编制，由总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、存在问题及改进情况、其他需要报告的事项等六部分组成。"
    found = rules(report)
    assert "META-CITED-DOC" in found and "SEC-COUNT-CLAIM" in found
    del report.sections["5"]
    assert "SEC-MISSING-5" in rules(report)


def test_township_rules_authority() -> None:
    report = consistent_report(11)
    report.agency = "尼勒克县某某镇人民政府"
    report.cells |= {"t2_rules_issued": 0, "t2_rules_repealed": 0, "t2_rules_in_force": 6}
    assert rules(report)["T2-RULES-AUTHORITY"].severity == "warning"


def test_catalogue_and_names() -> None:
    catalogue = rule_catalogue()
    ids = {spec.id for spec in catalogue}
    assert {"T3-BALANCE-<c>", "AGG-SUM-T3-<row>-<c>", "NARR-APPS", "XY-V19-DELTA-<v>", "SEC-MISSING-<n>"} <= ids
    assert len(ids) == len(catalogue)
    markdown = catalogue_markdown()
    assert "| `T3-ROWSUM-<row>` | error |" in markdown
    assert normalise_agency_name("上海市 人民政府辦公廳") == "上海市人民政府办公厅"
    assert normalise_agency_name("ＸＸ区民政局", {"XX区民政局": "XX区民政和退役军人局"}) == "XX区民政和退役军人局"
