"""The office's coverage (pure): registered agencies against every document of a year."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.ingest.web.coverage import UNREGISTERED, SubmissionFact, coverage_counts, coverage_for_year
from shared.models import Status

GOV = "某县人民政府"
EXPECTED = {GOV: ["某县民政局", "某县財政局", "某县教育局", "某县水利局"]}


def fact(doc_id: int, agency: str, status: Status, received: datetime, **extra: object) -> SubmissionFact:
    base = {
        "document_id": doc_id,
        "agency": agency,
        "year": 2025,
        "report_kind": "agency",
        "status": status,
        "received_at": received,
        "published_on": None,
    }
    return SubmissionFact(**(base | extra))  # type: ignore[arg-type]


def test_each_registered_agency_gets_its_best_state() -> None:
    facts = [
        fact(1, "某县民政局", Status.rejected, datetime(2026, 1, 10, tzinfo=UTC)),
        fact(
            2, "某县民政局", Status.needs_review, datetime(2026, 1, 20, tzinfo=UTC)
        ),  # the corrected version
        fact(3, "某县财政局", Status.published, datetime(2026, 1, 5, tzinfo=UTC), published_on="2026-01-04"),
        # 31 January 17:00 UTC is 1 February in Beijing: late.
        fact(4, "某县教育局", Status.parsing, datetime(2026, 1, 31, 17, 0, tzinfo=UTC)),
        fact(5, "邻县交通局", Status.failed, datetime(2026, 1, 3, tzinfo=UTC)),
        fact(6, "某县水利局", Status.published, datetime(2025, 3, 1, tzinfo=UTC), year=2024),  # another year
    ]
    table = coverage_for_year(EXPECTED, facts, 2025, as_of=date(2026, 2, 10))
    rows = {row.agency: row for row in table[GOV]}
    assert rows[GOV].report_kind == "summary" and rows[GOV].state == "not_due"  # due 31 March
    civil = rows["某县民政局"]
    assert (civil.state, civil.document_id, civil.versions, civil.late) == ("in_review", 2, 2, False)
    assert civil.submitted_on == date(2026, 1, 10)
    finance = rows["某县財政局"]  # 繁/简 variants are the same agency
    assert (finance.state, finance.document_id, finance.late) == ("published", 3, False)
    education = rows["某县教育局"]
    assert (education.state, education.late, education.submitted_on) == (
        "in_progress",
        True,
        date(2026, 2, 1),
    )
    water = rows["某县水利局"]
    assert (water.state, water.late, water.document_id) == ("missing", True, None)
    [stranger] = table[UNREGISTERED]
    assert (stranger.agency, stranger.state, stranger.registered) == ("邻县交通局", "failed", False)
    counts = coverage_counts(table[GOV])
    assert (
        counts["missing"] == 1 and counts["not_due"] == 1 and counts["late"] == 2 and counts["published"] == 1
    )


def test_before_the_deadline_nobody_is_missing_and_late_self_publication_counts() -> None:
    facts = [
        fact(1, "某县民政局", Status.approved, datetime(2026, 1, 2, tzinfo=UTC), published_on="2026-02-03")
    ]
    rows = {r.agency: r for r in coverage_for_year(EXPECTED, facts, 2025, as_of=date(2026, 1, 15))[GOV]}
    assert rows["某县水利局"].state == "not_due" and not rows["某县水利局"].late
    assert (
        rows["某县民政局"].state == "approved" and rows["某县民政局"].late
    )  # its own date is past 31 January


def test_superseded_documents_do_not_count_as_submissions() -> None:
    facts = [fact(1, "某县民政局", Status.superseded, datetime(2026, 1, 2, tzinfo=UTC))]
    rows = {r.agency: r for r in coverage_for_year(EXPECTED, facts, 2025, as_of=date(2026, 3, 1))[GOV]}
    assert rows["某县民政局"].state == "missing"
