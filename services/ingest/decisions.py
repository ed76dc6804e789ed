"""A reviewer's verdict on a document: approve (it goes on to publishing) or reject.

Shared by the documents API and the review desk (services/review), so both decide
the same way and write the same history.
"""

from __future__ import annotations

from sqlmodel import Session

from services.ingest.auth import Principal
from shared.models import STAGE_RUNNING, Document, Stage, Status, utcnow
from shared.tracking import enqueue, set_status


class DecisionRefused(Exception):
    """The document's status does not allow the decision (answered 409)."""


def _decide(
    session: Session, doc: Document, principal: Principal, status_to: Status, reason: str | None
) -> None:
    doc.decided_by, doc.decided_at, doc.decision_reason = principal.actor, utcnow(), reason
    set_status(
        session,
        doc,
        status_to,
        detail=f"decision: {status_to}" + (f" — {reason}" if reason else ""),
        actor=principal.actor,
    )


def approve(session: Session, doc: Document, principal: Principal, reason: str | None = None) -> None:
    """A reviewer approves a document needing review: it goes on to publishing once the
    transaction commits (call `dispatch_pending(doc.id)` after the commit)."""
    if doc.status != Status.needs_review:
        raise DecisionRefused(f"only documents needing review can be approved (this one is {doc.status})")
    _decide(session, doc, principal, Status.approved, reason)
    assert doc.id is not None
    enqueue(session, doc.id, Stage.publish)


UNREJECTABLE = {Status.rejected, Status.published, Status.superseded, *STAGE_RUNNING.values()} - {
    Status.parsing,
    Status.validating,
}


def reject(session: Session, doc: Document, principal: Principal, reason: str) -> None:
    """A reviewer rejects a document, with the reason the agency will read. A rejection by
    the checks alone (no person decided) may be confirmed this way, with a reason."""
    confirms_checks = doc.status == Status.rejected and doc.decided_by is None
    if doc.status in UNREJECTABLE and not confirms_checks:
        raise DecisionRefused(f"a {doc.status} document cannot be rejected")
    _decide(session, doc, principal, Status.rejected, reason)
