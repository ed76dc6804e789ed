"""Which reviewer works on which document, so two never clear the same report at once.

A claim is two columns of the document (`review_holder`, `review_expires_at`), taken
with one conditional UPDATE, like the stages' claims (shared/tracking.py): it succeeds
when nobody holds the document, the caller already does (renewal), or the holder's claim
has expired. Concurrent claims are serialised by the database's row lock, so exactly one
reviewer wins; the others are told who holds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col

from services.review import Conflict
from shared.models import Document, iso, utcnow

CLAIM_TTL = timedelta(minutes=15)


class ClaimConflict(Conflict):
    def __init__(self, holder: str, expires_at: datetime) -> None:
        super().__init__(f"being reviewed by {holder} until {iso(expires_at)}")
        self.holder = holder
        self.expires_at = expires_at


@dataclass(frozen=True)
class ClaimHolder:
    holder: str
    expires_at: datetime

    def to_json(self) -> dict[str, str]:
        return {"holder": self.holder, "expires_at": iso(self.expires_at)}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


def holder_of(doc: Document, now: datetime | None = None) -> ClaimHolder | None:
    """The live claim on the document, None when free or expired."""
    if doc.review_holder is None or doc.review_expires_at is None:
        return None
    expires = _aware(doc.review_expires_at)
    if expires <= (now or utcnow()):
        return None
    return ClaimHolder(doc.review_holder, expires)


def claim(session: Session, document_id: int, actor: str, now: datetime | None = None) -> ClaimHolder:
    """Take (or renew) the document for `actor` for CLAIM_TTL; ClaimConflict if another
    reviewer holds it."""
    now = now or utcnow()
    expires = now + CLAIM_TTL
    result = session.execute(
        update(Document)
        .where(col(Document.id) == document_id)
        .where(
            or_(
                col(Document.review_holder).is_(None),
                col(Document.review_holder) == actor,
                col(Document.review_expires_at).is_(None),
                col(Document.review_expires_at) <= now,
            )
        )
        .values(review_holder=actor, review_expires_at=expires)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        _raise_held(session, document_id, now)
    _refresh(session, document_id)
    return ClaimHolder(actor, expires)


def release(session: Session, document_id: int, actor: str, *, anyone: bool = False) -> bool:
    """Give the document back; `anyone` (ops) releases whoever holds it. Returns whether
    a claim of the caller's (or any, with `anyone`) was released."""
    query = update(Document).where(col(Document.id) == document_id)
    if not anyone:
        query = query.where(col(Document.review_holder) == actor)
    result = session.execute(
        query.where(col(Document.review_holder).is_not(None))
        .values(review_holder=None, review_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    _refresh(session, document_id)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def ensure_free_for(session: Session, doc: Document, actor: str, now: datetime | None = None) -> None:
    """ClaimConflict unless the document is unclaimed or claimed by `actor`."""
    assert doc.id is not None
    _refresh(session, doc.id)
    held = holder_of(doc, now)
    if held is not None and held.holder != actor:
        raise ClaimConflict(held.holder, held.expires_at)


def _raise_held(session: Session, document_id: int, now: datetime) -> None:
    doc = _refresh(session, document_id)
    held = holder_of(doc, now) if doc is not None else None
    if held is None:  # the holder let go between our UPDATE and this read
        raise Conflict("the claim changed hands meanwhile; try again")
    raise ClaimConflict(held.holder, held.expires_at)


def _refresh(session: Session, document_id: int) -> Document | None:
    doc = session.get(Document, document_id)
    if doc is not None:
        session.refresh(doc, ["review_holder", "review_expires_at"])
    return doc
