"""A publisher's actions on published reports: retract, and the push delivery log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field
from sqlmodel import col, select

from services.ingest.auth import Principal, Role, require
from services.ingest.routes.documents import document_detail, load_visible
from services.ingest.schemas import NO_NUL, DeliveryLog, DocumentDetail, DocumentId, errors
from shared.celery_app import celery_app
from shared.db import session_scope
from shared.models import Publication, Stage, Status, WebhookDelivery, iso, utcnow
from shared.tracking import record_event

router = APIRouter(prefix="/api/v1/documents", tags=["publications"])
Publisher = Annotated[Principal, Depends(require(Role.publisher))]
PublisherOrOps = Annotated[Principal, Depends(require(Role.publisher, Role.ops))]
REFRESH_TASK = "nianbao.refresh_portal"  # services.publisher.tasks


class RetractRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, pattern=NO_NUL)


@router.post(
    "/{document_id}/retract",
    response_model=DocumentDetail,
    response_model_exclude_unset=True,
    responses=errors(401, 403, 404, 409, 422, 503),
)
def retract_publication(
    document_id: DocumentId, principal: Publisher, body: RetractRequest
) -> dict[str, Any]:
    """Take a published report off the portal's index; its page stays with a notice."""
    with session_scope() as session:
        doc = load_visible(session, document_id, principal)
        publication = session.exec(select(Publication).where(Publication.document_id == document_id)).first()
        if doc.status != Status.published or publication is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"only a published report can be retracted (this one is {doc.status})",
            )
        if publication.retracted_at is None:
            publication.retracted_at, publication.retract_reason = utcnow(), body.reason
            session.add(publication)
            record_event(
                session, document_id, doc.status, detail=f"retracted: {body.reason}", actor=principal.actor
            )
    # The portal is rewritten by the publish workers; if the broker is down now, the
    # publication row already says "retracted" and the next refresh shows it.
    try:
        celery_app.send_task(REFRESH_TASK, args=[document_id], queue=Stage.publish.value)
    except Exception as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"retracted, but the portal refresh could not be queued: {exc}",
        ) from exc
    with session_scope() as session:
        return document_detail(session, load_visible(session, document_id, principal))


@router.get(
    "/{document_id}/deliveries",
    response_model=DeliveryLog,
    response_model_exclude_unset=True,
    responses=errors(401, 403, 404, 422),
)
def list_deliveries(document_id: DocumentId, principal: PublisherOrOps) -> dict[str, Any]:
    """Every push attempt of this report to the configured external portals."""
    with session_scope() as session:
        load_visible(session, document_id, principal)
        rows = session.exec(
            select(WebhookDelivery)
            .where(WebhookDelivery.document_id == document_id)
            .order_by(col(WebhookDelivery.id))
        ).all()
        return {
            "document_id": document_id,
            "deliveries": [
                {
                    "target": d.target,
                    "event": d.event,
                    "idempotency_key": d.idempotency_key,
                    "attempt": d.attempt,
                    "at": iso(d.at),
                    "status_code": d.status_code,
                    "ok": d.ok,
                    "error": d.error,
                }
                for d in rows
            ],
        }
