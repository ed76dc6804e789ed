"""The three real reports of corpus/real: findings must match each truth file's rule_findings."""

from __future__ import annotations

import datetime as dt

import pytest

from services.validator import ValidationContext, decide, validate
from shared.report import CellDetail, Finding
from tests.reference import missing

from .helpers import REAL, load_truth, truth_report

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=missing(REAL))
AS_OF = dt.date(2026, 6, 1)


def _findings(name: str) -> dict[str, Finding]:
    report = truth_report(name)
    if name == "shanghai-govoffice-2025":
        # The truth file's notes: two section 二 cells carry bracketed annotations (which 22 holds
        # its note is open; the values are not).
        report.cell_details["t2_rules_issued"] = CellDetail(raw="22（其中修订16件）", note="其中修订16件")
        report.cell_details["t2_normative_repealed"] = CellDetail(raw="55（含自然失效29件）", note="含自然失效29件")
        report.statistics_period = "2025-01-01..2025-12-31"
    findings = validate(report, ValidationContext(as_of=AS_OF))
    return {f.rule: f for f in findings}


@pytest.mark.parametrize("name", ["huaian-hongze-2023", "shanghai-govoffice-2025", "luoyang-xigong-2022"])
def test_every_truth_finding_is_reproduced(name: str) -> None:
    found = _findings(name)
    expected = {f["rule"] for f in load_truth(name)["rule_findings"]}
    assert expected <= set(found), f"missing {expected - set(found)}"


@pytest.mark.parametrize("name", ["huaian-hongze-2023", "shanghai-govoffice-2025", "luoyang-xigong-2022"])
def test_nothing_beyond_the_truth_fires(name: str) -> None:
    found = _findings(name)
    expected = {f["rule"] for f in load_truth(name)["rule_findings"]}
    assert set(found) == expected


def test_huaian_hybrid_table_four_errors_and_severities() -> None:
    found = _findings("huaian-hongze-2023")
    assert found["T4-SUM-REVIEW"].severity == "error"
    assert "11" in found["T4-SUM-REVIEW"].message_zh and "0" in found["T4-SUM-REVIEW"].message_zh
    assert found["T4-SUM-AFTER"].severity == "error"
    assert found["T4-CORRECTED-RATE"].severity == "info"
    # The hybrid （六） row and the typo'd label map with certainty: a notice, not a question.
    assert found["TBL-HEADER-ALTERED"].severity == "notice"
    # Hybrid: the single （六） row is used, the null v2021 sub-rows are skipped, and nothing
    # in table 三 fails; the format is v2021, so no META-FORMAT-YEAR.
    assert not [r for r in found if r.startswith("T3-") or r == "META-FORMAT-YEAR"]
    assert decide(list(found.values())) == "rejected"


def test_shanghai_2025_is_clean_apart_from_annotations() -> None:
    found = _findings("shanghai-govoffice-2025")
    # Numbers with a note, read with certainty, change no number: notices.
    assert found["NUM-UNPARSEABLE"].severity == "notice"
    assert set(found["NUM-UNPARSEABLE"].cells) == {"t2_rules_issued", "t2_normative_repealed"}
    # The office publishes its government's 规章: a formal hit, stated as info only (§6.3).
    assert found["T2-RULES-AUTHORITY"].severity == "info"
    # Consistent narrative (1295 received, 208/20/564/80/319, percentages, "未发生…纠错或…败诉"),
    # section 五 only as sub-headings, no NARR/SEC finding.
    assert not [r for r in found if r.startswith(("NARR-", "SEC-", "T3-", "T4-"))]
    assert decide(list(found.values())) == "approved"


def test_luoyang_seed_warnings_only() -> None:
    found = _findings("luoyang-xigong-2022")
    assert found["META-PERIOD-CUMULATIVE"].severity == "warning"
    assert "截止2022年底累计主动公开政府信息1" in found["META-PERIOD-CUMULATIVE"].message_zh
    assert "河南省人民政府工作规则" in found["PEER-DUP-TEXT"].message_zh
    # "年内未收到…政府信息公开事项1件" is no statement about applications.
    assert "T3-ALL-ZERO-BUT-TEXT" not in found and "NARR-ZERO-APPS" not in found
    assert decide(list(found.values())) == "needs_review"
