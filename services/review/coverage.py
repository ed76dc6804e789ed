"""Live coverage for an office: per registered agency of a government, where its report
for a year stands — submitted, approved, published, missing, late — straight from the
database, unpublished states included. The registry (services/agencies.py) says who must
report; the deadlines and the on-time test are the portal's (services/publisher)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from services.agencies import load_aliases, members_of
from services.publisher import deadline_for, deadline_status_of
from services.validator import normalise_agency_name
from shared.models import Document, Status, iso
from shared.report import ReportKind

# What a document's status says about the agency's report, best first.
STATE_OF: dict[Status, str] = {
    Status.published: "published",
    Status.publishing: "approved",
    Status.approved: "approved",
    Status.needs_review: "in_review",
    Status.validating: "processing",
    Status.parsed: "processing",
    Status.parsing: "processing",
    Status.received: "processing",
    Status.rejected: "rejected",
    Status.failed: "failed",
}
STATE_RANK = ("published", "approved", "in_review", "processing", "rejected", "failed")


def live_coverage(session: Session, government: str, year: int, as_of: date) -> dict[str, Any]:
    aliases = load_aliases(session)
    government_norm = normalise_agency_name(government, aliases)
    expected: list[tuple[str, str, ReportKind]] = [(government_norm, government.strip(), "summary")]
    expected += [(m.name_norm, m.name, "agency") for m in members_of(session, government_norm)]
    names = [norm for norm, _, _ in expected]
    docs = session.exec(
        select(Document).where(
            or_(col(Document.agency_norm).in_(names), col(Document.agency_key).in_(names)),
            or_(col(Document.year) == year, and_(col(Document.year).is_(None), col(Document.year_hint) == year)),
            col(Document.duplicate_of).is_(None),
            col(Document.status) != Status.superseded,
        )
    ).all()
    by_agency: dict[str, list[Document]] = {}
    for doc in docs:
        key = doc.agency_norm or normalise_agency_name(doc.agency_key, aliases)
        by_agency.setdefault(key, []).append(doc)
    rows = [_row(norm, name, kind, year, by_agency.get(norm, []), as_of) for norm, name, kind in expected]
    totals = {k: sum(1 for r in rows if r[k]) for k in ("submitted", "approved", "published", "missing", "late")}
    return {"government": government_norm, "year": year, "as_of": as_of.isoformat(), "totals": totals, "agencies": rows}


def _row(
    norm: str, name: str, kind: ReportKind, year: int, docs: list[Document], as_of: date
) -> dict[str, Any]:
    deadline = deadline_for(year, kind)
    best = min(docs, key=lambda d: (STATE_RANK.index(STATE_OF.get(d.status, "failed")), -(d.id or 0)), default=None)
    state = STATE_OF.get(best.status, "failed") if best is not None else ("missing" if as_of > deadline else "not_due")
    published_on = (best.parsed or {}).get("published_on") if best is not None else None
    first_received = min((d.received_at for d in docs), default=None)
    on_time = deadline_status_of(published_on, year, kind) if best is not None else None
    late = (
        on_time == "late"
        or (state != "published" and as_of > deadline)
        or (first_received is not None and first_received.date() > deadline)
    )
    return {
        "agency": name,
        "agency_norm": norm,
        "report_kind": kind,
        "deadline": deadline.isoformat(),
        "state": state,
        "submitted": bool(docs),
        "approved": state in ("approved", "published"),
        "published": state == "published",
        "missing": not docs,
        "late": late,
        "deadline_status": on_time,  # the report's own publication date against the deadline
        "document_id": best.id if best is not None else None,
        "status": best.status.value if best is not None else None,
        "versions": len(docs),
        "first_received_at": iso(first_received) if first_received is not None else None,
    }
