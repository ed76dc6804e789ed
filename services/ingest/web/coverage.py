"""The office's coverage: per government and year, which registered agencies have
submitted, which are approved or published, which are missing or late — over every
document in the database, unpublished states included (the portal's coverage page only
knows published reports). Pure: the page loads the facts and the registry, this decides.

Names match as on the portal (services.publisher.folding: 繁/简, width, spaces) and the
deadlines are the portal's (services.publisher.model.deadline_for).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from services.publisher import deadline_for, deadline_status_of, fold_name
from services.publisher.model import BEIJING, as_utc
from shared.models import Status
from shared.report import ReportKind

UNREGISTERED = "（未登记的机关）"

# Best state first: an agency's row shows its most advanced document of the year.
STATE_ORDER: tuple[str, ...] = ("published", "approved", "in_review", "in_progress", "rejected", "failed")
STATE_OF_STATUS: dict[Status, str] = {
    Status.published: "published",
    Status.approved: "approved",
    Status.publishing: "approved",
    Status.needs_review: "in_review",
    Status.received: "in_progress",
    Status.parsing: "in_progress",
    Status.parsed: "in_progress",
    Status.validating: "in_progress",
    Status.rejected: "rejected",
    Status.failed: "failed",
}
STATE_LABELS: dict[str, tuple[str, str]] = {
    "published": ("已发布", "published"),
    "approved": ("已通过", "approved"),
    "in_review": ("待审核", "in review"),
    "in_progress": ("处理中", "processing"),
    "rejected": ("已退回", "rejected"),
    "failed": ("无法读取", "unreadable"),
    "missing": ("未提交", "missing"),
    "not_due": ("未提交（未到期）", "not yet submitted (not due)"),
}


@dataclass(frozen=True)
class SubmissionFact:
    """What coverage needs of one document."""

    document_id: int
    agency: str  # as read from the report, else the upload's agency
    year: int
    report_kind: ReportKind
    status: Status
    received_at: datetime
    published_on: str | None  # the agency's own publication date, when the report prints one


@dataclass(frozen=True)
class CoverageRow:
    agency: str
    report_kind: ReportKind
    deadline: date
    state: str  # a key of STATE_LABELS
    late: bool  # submitted or self-published after the deadline, or missing past it
    document_id: int | None
    submitted_on: date | None  # first receipt, Beijing date
    versions: int  # documents received for this agency and year
    registered: bool


def _received_on(fact: SubmissionFact) -> date:
    return as_utc(fact.received_at).astimezone(BEIJING).date()


def _row(
    name: str, kind: ReportKind, year: int, facts: Sequence[SubmissionFact], as_of: date, registered: bool
) -> CoverageRow:
    deadline = deadline_for(year, kind)
    counted = [f for f in facts if f.status in STATE_OF_STATUS]
    if not counted:
        state = "missing" if as_of > deadline else "not_due"
        return CoverageRow(name, kind, deadline, state, state == "missing", None, None, 0, registered)
    best = min(counted, key=lambda f: (STATE_ORDER.index(STATE_OF_STATUS[f.status]), -f.document_id))
    first = min(_received_on(f) for f in counted)
    late = first > deadline or deadline_status_of(best.published_on, year, kind) == "late"
    return CoverageRow(
        name,
        kind,
        deadline,
        STATE_OF_STATUS[best.status],
        late,
        best.document_id,
        first,
        len(counted),
        registered,
    )


def coverage_for_year(
    expected: Mapping[str, Sequence[str]], facts: Iterable[SubmissionFact], year: int, as_of: date
) -> dict[str, list[CoverageRow]]:
    """government → one row for its own summary report and one per registered agency;
    submissions from agencies not on any list come last, under UNREGISTERED."""
    by_name: dict[str, list[SubmissionFact]] = {}
    for fact in facts:
        if fact.year == year:
            by_name.setdefault(fold_name(fact.agency), []).append(fact)
    seen: set[str] = set()
    result: dict[str, list[CoverageRow]] = {}
    for government in sorted(expected, key=fold_name):
        rows = []
        for name, kind in [(government, "summary"), *((a, "agency") for a in expected[government])]:
            folded = fold_name(name)
            seen.add(folded)
            rows.append(_row(name, kind, year, by_name.get(folded, []), as_of, True))  # type: ignore[arg-type]
        result[government] = rows
    unlisted = [
        _row(facts_[0].agency, facts_[0].report_kind, year, facts_, as_of, False)
        for folded, facts_ in sorted(by_name.items())
        if folded not in seen
    ]
    if unlisted:
        result[UNREGISTERED] = unlisted
    return result


def coverage_counts(rows: Iterable[CoverageRow]) -> dict[str, int]:
    counts = dict.fromkeys(STATE_LABELS, 0)
    late = 0
    for row in rows:
        counts[row.state] += 1
        late += row.late
    return {**counts, "late": late}
