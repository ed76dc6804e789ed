"""The reviewers' queue: what waits for a decision, filtered, counted, and bulk-approved.

The queue holds the documents under review (services/review/desk.py `is_under_review`):
`needs_review` first, then those the checks rejected, each oldest first (by how long
they have waited in that status). Filters: government (the registry's member agencies
and the government's own report), agency, year, rule IDs (an open finding of one of
them), age. The counts per rule are over the filter without its rule IDs, so the
reviewer sees which rules the rest of the filter holds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from services.agencies import load_aliases, members_of
from services.ingest.auth import Principal
from services.review import Conflict, Invalid
from services.review.claims import holder_of
from services.review.desk import approve_report
from services.review.export import finding_rows, findings_workbook
from services.review.findings import finding_key, holding_rules
from services.validator import normalise_agency_name
from shared.models import Document, FindingDecision, Status, iso, utcnow

QUEUE_ORDER = {Status.needs_review: 0, Status.rejected: 1}


@dataclass(frozen=True)
class QueueFilter:
    government: str | None = None
    agency: str | None = None
    year: int | None = None
    rule_ids: tuple[str, ...] = ()
    min_age_hours: float | None = None  # waiting at least this long
    max_age_hours: float | None = None  # waiting at most this long
    # None: the documents under review; else exactly these statuses (e.g. every rejected
    # report of a year, for the findings export).
    statuses: tuple[Status, ...] | None = None

    def without_rules(self) -> QueueFilter:
        return replace(self, rule_ids=())


@dataclass
class QueueEntry:
    doc: Document
    open_rules: set[str]
    dismissed: set[str] = field(default_factory=set)


def queue_entries(session: Session, flt: QueueFilter, now: datetime | None = None) -> list[QueueEntry]:
    """The documents under review matching the filter, in queue order."""
    now = now or utcnow()
    under_review = or_(
        col(Document.status) == Status.needs_review,
        and_(col(Document.status) == Status.rejected, col(Document.decided_by).is_(None)),
    )
    in_status = col(Document.status).in_(flt.statuses) if flt.statuses else under_review
    query = select(Document).where(in_status, col(Document.duplicate_of).is_(None))
    query = _where_agency(session, query, flt)
    if flt.year is not None:
        query = query.where(
            or_(
                col(Document.year) == flt.year,
                and_(col(Document.year).is_(None), col(Document.year_hint) == flt.year),
            )
        )
    if flt.min_age_hours is not None:
        query = query.where(col(Document.status_changed_at) <= now - timedelta(hours=flt.min_age_hours))
    if flt.max_age_hours is not None:
        query = query.where(col(Document.status_changed_at) >= now - timedelta(hours=flt.max_age_hours))
    docs = list(session.exec(query))
    dismissed = _dismissed_by_document(session, [d.id for d in docs if d.id is not None])
    entries = [
        QueueEntry(d, holding_rules(d.findings or [], dismissed.get(d.id or 0, set())), dismissed.get(d.id or 0, set()))
        for d in docs
    ]
    if flt.rule_ids:
        wanted = set(flt.rule_ids)
        entries = [e for e in entries if e.open_rules & wanted]
    entries.sort(key=lambda e: (QUEUE_ORDER.get(e.doc.status, 9), _aware(e.doc.status_changed_at), e.doc.id or 0))
    return entries


def _where_agency(session: Session, query: Any, flt: QueueFilter) -> Any:
    if not flt.government and not flt.agency:
        return query
    aliases = load_aliases(session)
    if flt.government:
        government = normalise_agency_name(flt.government, aliases)
        names = [government, *(m.name_norm for m in members_of(session, government))]
        query = query.where(or_(col(Document.agency_norm).in_(names), col(Document.agency_key).in_(names)))
    if flt.agency:
        agency = normalise_agency_name(flt.agency, aliases)
        query = query.where(
            or_(
                col(Document.agency_norm) == agency,
                col(Document.agency_key) == flt.agency.strip(),
                col(Document.agency) == flt.agency.strip(),
            )
        )
    return query


def _dismissed_by_document(session: Session, ids: list[int]) -> dict[int, set[str]]:
    result: dict[int, set[str]] = {}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        rows = session.exec(
            select(FindingDecision.document_id, FindingDecision.finding).where(
                col(FindingDecision.document_id).in_(chunk), FindingDecision.decision == "dismissed"
            )
        )
        for document_id, key in rows:
            result.setdefault(document_id, set()).add(key)
    return result


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


def rule_counts(entries: list[QueueEntry]) -> dict[str, int]:
    """Rule ID → how many documents an open finding of it holds, most first."""
    counts: Counter[str] = Counter()
    for entry in entries:
        counts.update(entry.open_rules)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def queue_page(
    session: Session, flt: QueueFilter, *, page: int = 1, per_page: int = 50, now: datetime | None = None
) -> dict[str, Any]:
    """One page of the queue with the claim holder per row and the counts per rule."""
    now = now or utcnow()
    entries = queue_entries(session, flt.without_rules(), now)
    counts = rule_counts(entries)
    if flt.rule_ids:
        wanted = set(flt.rule_ids)
        entries = [e for e in entries if e.open_rules & wanted]
    shown = entries[(page - 1) * per_page : page * per_page]
    return {
        "total": len(entries),
        "page": page,
        "per_page": per_page,
        "rule_counts": counts,
        "items": [queue_row(e, now) for e in shown],
    }


def queue_row(entry: QueueEntry, now: datetime) -> dict[str, Any]:
    doc = entry.doc
    held = holder_of(doc, now)
    waited = now - _aware(doc.status_changed_at)
    severities = Counter(
        f.get("severity") for f in doc.findings or [] if finding_key(f) not in entry.dismissed
    )
    return {
        "id": doc.id,
        "submission_no": doc.submission_no,
        "filename": doc.filename,
        "agency": doc.agency or doc.agency_key or None,
        "year": doc.year or doc.year_hint,
        "status": doc.status.value,
        "received_at": iso(doc.received_at),
        "waiting_since": iso(doc.status_changed_at),
        "age_hours": round(waited.total_seconds() / 3600, 1),
        "open_rules": sorted(entry.open_rules),
        "counts": {s: severities.get(s, 0) for s in ("error", "warning", "info")},
        "claim": held.to_json() if held else None,
    }


def next_in_queue(
    session: Session, flt: QueueFilter, principal: Principal, after: int | None = None, now: datetime | None = None
) -> int | None:
    """The document to open after a decision: the first of the queue (in its order) that
    nobody else holds, other than `after` (the one just decided)."""
    now = now or utcnow()
    for entry in queue_entries(session, flt, now):
        held = holder_of(entry.doc, now)
        if entry.doc.id != after and (held is None or held.holder == principal.actor):
            return entry.doc.id
    return None


# --- bulk approval -------------------------------------------------------------------


def bulk_approve(
    session: Session,
    principal: Principal,
    flt: QueueFilter,
    rule_ids: list[str],
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Approve every document of the filter held only by findings of `rule_ids`.

    Answers per document: `done` (or, with `dry_run`, would be done: `count` is what the
    confirmation shows) and `skipped` with the reason. Documents the checks rejected,
    held by other rules, or claimed by another reviewer are skipped. The caller sends the
    publish tasks after the commit (shared.tracking.dispatch_pending per done id).
    """
    chosen = sorted({r.strip() for r in rule_ids if r.strip()})
    if not chosen:
        raise Invalid("choose at least one rule ID")
    now = now or utcnow()
    done: list[int] = []
    skipped: list[dict[str, Any]] = []
    for entry in queue_entries(session, flt, now):
        doc = entry.doc
        assert doc.id is not None
        reason = _skip_reason(entry, set(chosen), principal, now)
        if reason is None and not dry_run:
            try:
                approve_report(session, doc, principal, f"bulk approval: held only by {', '.join(chosen)}")
            except Conflict as exc:
                reason = exc.message
        if reason is not None:
            skipped.append({"id": doc.id, "reason": reason})
        else:
            done.append(doc.id)
    return {"dry_run": dry_run, "rule_ids": chosen, "count": len(done), "done": done, "skipped": skipped}


def _skip_reason(entry: QueueEntry, chosen: set[str], principal: Principal, now: datetime) -> str | None:
    doc = entry.doc
    if doc.status != Status.needs_review:
        return "rejected by the checks: open errors must be corrected or dismissed first"
    others = sorted(entry.open_rules - chosen)
    if others:
        return "also held by " + ", ".join(others)
    held = holder_of(doc, now)
    if held is not None and held.holder != principal.actor:
        return f"being reviewed by {held.holder}"
    return None


# --- findings export ----------------------------------------------------------------------


def findings_export(session: Session, flt: QueueFilter) -> bytes:
    """The findings of the filter's documents as an XLSX workbook (API and pages)."""
    docs = [
        (
            {
                "id": e.doc.id,
                "submission_no": e.doc.submission_no,
                "agency": e.doc.agency or e.doc.agency_key,
                "year": e.doc.year or e.doc.year_hint,
                "status": e.doc.status.value,
                "findings": e.doc.findings,
            },
            e.dismissed,
        )
        for e in queue_entries(session, flt)
    ]
    return findings_workbook(finding_rows(docs))
