from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from services.ingest.auth import Principal, Role, require
from services.ingest.decisions import DecisionRefused, approve, reject
from services.ingest.receiving import document_summary
from services.ingest.schemas import MAX_DB_INT, NO_NUL, DocumentDetail, DocumentId, DocumentList, Year, errors
from services.ops.actions import NotRetryable, retry_failed_document
from shared.db import session_scope
from shared.models import (
    ApiToken,
    Document,
    DocumentEvent,
    Publication,
    Status,
    Upload,
    iso,
    without_bulky_columns,
)
from shared.tracking import dispatch_pending

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])
Anyone = Annotated[Principal, Depends(require(*Role))]
Reviewer = Annotated[Principal, Depends(require(Role.reviewer))]
Ops = Annotated[Principal, Depends(require(Role.ops))]


def load_visible(session: Session, document_id: int, principal: Principal) -> Document:
    doc = session.get(Document, document_id)
    if doc is None or not principal.can_see(doc):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such document")  # never confirm others' ids
    return doc


def document_detail(session: Session, doc: Document) -> dict[str, Any]:
    events = session.exec(
        select(DocumentEvent).where(DocumentEvent.document_id == doc.id).order_by(col(DocumentEvent.id))
    ).all()
    detail = document_summary(doc)
    detail.update(
        upload_id=doc.upload_id,
        submitted_for=doc.agency_key or None,
        submitted_by=_submitter(session, doc),
        agency=doc.agency,
        agency_hint=doc.agency_hint,
        year=doc.year,
        year_hint=doc.year_hint,
        report_kind=doc.report_kind,
        report_format=doc.report_format,
        version=doc.version,
        parser_version=doc.parser_version,
        failed_stage=doc.failed_stage,
        decision={"by": doc.decided_by, "at": doc.decided_at, "reason": doc.decision_reason}
        if doc.decided_by
        else None,
        published_at=doc.published_at,
        history=[
            {
                "at": iso(e.at),
                "status": e.status.value,
                "stage": e.stage.value if e.stage else None,
                "attempt": e.attempt,
                "detail": e.detail,
                "actor": e.actor,
            }
            for e in events
        ],
        publication=_publication_summary(session, doc),
        report=doc.parsed,
        findings=doc.findings,
    )
    return detail


def _submitter(session: Session, doc: Document) -> dict[str, Any] | None:
    """The token the file was uploaded with (its id, role and label), never the token."""
    upload = session.get(Upload, doc.upload_id)
    token = session.get(ApiToken, upload.token_id) if upload is not None and upload.token_id else None
    if token is None:
        return None
    return {"token_id": token.id, "role": token.role, "label": token.label}


def _publication_summary(session: Session, doc: Document) -> dict[str, Any] | None:
    publication = session.exec(select(Publication).where(Publication.document_id == doc.id)).first()
    if publication is None:
        return None
    return {
        "version": publication.version,
        "published_at": iso(publication.published_at),
        "location": publication.location,
        "retracted_at": iso(publication.retracted_at) if publication.retracted_at else None,
        "retract_reason": publication.retract_reason,
    }


@router.get(
    "", response_model=DocumentList, response_model_exclude_unset=True, responses=errors(401, 403, 422)
)
def list_documents(
    principal: Anyone,
    status_filter: Annotated[Status | None, Query(alias="status")] = None,
    agency: Annotated[str | None, Query(max_length=300, pattern=NO_NUL)] = None,
    year: Year | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_DB_INT // 500)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    query = select(Document).options(*without_bulky_columns())
    if status_filter is not None:
        query = query.where(Document.status == status_filter)
    if agency:
        query = query.where(
            or_(
                col(Document.agency) == agency,
                col(Document.agency_key) == agency,
                col(Document.agency_norm) == agency,
            )
        )
    if year is not None:
        query = query.where(
            or_(
                col(Document.year) == year,
                and_(col(Document.year).is_(None), col(Document.year_hint) == year),
            )
        )
    if principal.role == Role.uploader:
        query = query.where(col(Document.agency_key).in_(principal.agencies))
    with session_scope() as session:
        counted = query.with_only_columns(col(Document.id)).subquery()
        total = session.exec(select(func.count()).select_from(counted)).one()
        rows = session.exec(
            query.order_by(col(Document.id).desc()).offset((page - 1) * per_page).limit(per_page)
        ).all()
        items = [
            {
                **document_summary(d),
                "agency": d.agency or d.agency_key or None,
                "year": d.year or d.year_hint,
                "version": d.version,
            }
            for d in rows
        ]
    return {"total": total, "page": page, "per_page": per_page, "items": items}


@router.get(
    "/{document_id}",
    response_model=DocumentDetail,
    response_model_exclude_unset=True,
    responses=errors(401, 403, 404, 422),
)
def get_document(document_id: DocumentId, principal: Anyone) -> dict[str, Any]:
    with session_scope() as session:
        return document_detail(session, load_visible(session, document_id, principal))


@router.post(
    "/{document_id}/retry",
    response_model=DocumentDetail,
    response_model_exclude_unset=True,
    responses=errors(401, 403, 404, 409, 422),
)
def retry_document(document_id: DocumentId, principal: Ops) -> dict[str, Any]:
    """Run a failed document again from the stage that failed."""
    with session_scope() as session:
        doc = load_visible(session, document_id, principal)
        try:
            retry_failed_document(session, doc, principal.actor)
        except NotRetryable as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc))
    dispatch_pending(document_id)
    with session_scope() as session:
        return document_detail(session, load_visible(session, document_id, principal))


class RejectRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, pattern=NO_NUL)


class ApproveRequest(BaseModel):
    reason: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)


@router.post(
    "/{document_id}/approve",
    response_model=DocumentDetail,
    response_model_exclude_unset=True,
    responses=errors(401, 403, 404, 409, 422),
)
def approve_document(
    document_id: DocumentId, principal: Reviewer, body: ApproveRequest | None = None
) -> dict[str, Any]:
    with session_scope() as session:
        doc = load_visible(session, document_id, principal)
        try:
            approve(session, doc, principal, body.reason if body else None)
        except DecisionRefused as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc))
    dispatch_pending(document_id)
    with session_scope() as session:
        return document_detail(session, load_visible(session, document_id, principal))


@router.post(
    "/{document_id}/reject",
    response_model=DocumentDetail,
    response_model_exclude_unset=True,
    responses=errors(401, 403, 404, 409, 422),
)
def reject_document(document_id: DocumentId, principal: Reviewer, body: RejectRequest) -> dict[str, Any]:
    with session_scope() as session:
        doc = load_visible(session, document_id, principal)
        try:
            reject(session, doc, principal, body.reason)
        except DecisionRefused as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc))
        return document_detail(session, doc)
