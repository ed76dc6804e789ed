"""The review desk's JSON/XLSX API (the web pages call services.review directly).

Routes only authenticate, open the transaction, map `ReviewError`s to their HTTP status
and send the tasks a commit asked for. Uploaders reach only the cell sources of their
agencies' documents (404 otherwise, as for documents); the desk itself is for reviewers
(decisions) and ops (looking).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi import Path as FastApiPath
from pydantic import BaseModel, Field

from services.ingest.auth import Principal, Role, require
from services.ingest.schemas import MAX_DB_INT, NO_NUL, DocumentId, Year, errors
from services.review import ReviewError
from services.review.coverage import live_coverage
from services.review.desk import (
    approve_report,
    claim_document,
    correct_cell,
    decide_finding,
    load_for_review,
    reject_reason_list,
    reject_report,
    release_document,
    review_view,
)
from services.review.queue import QueueFilter, bulk_approve, findings_export, next_in_queue, queue_page
from services.review.source import cell_source
from shared.db import session_scope
from shared.models import Status
from shared.settings import get_settings
from shared.storage import open_store
from shared.tracking import dispatch_pending

router = APIRouter(prefix="/api/v1/review", tags=["review"], responses=errors(401, 403, 422))
sources = APIRouter(prefix="/api/v1/documents", tags=["review"], responses=errors(401, 403, 404, 422))
ONE_DOCUMENT = errors(404, 409)  # added to the routes of one document
Text = Annotated[str, Query(max_length=500, pattern=NO_NUL)]
MAX_AGE_HOURS = 24 * 366 * 30  # older than anything stored; beyond it a date overflows
RuleId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_<>-]{1,80}$")]
CellKey = Annotated[str, FastApiPath(pattern=r"^[a-z0-9_]{1,100}$")]

Anyone = Annotated[Principal, Depends(require(*Role))]
Reviewer = Annotated[Principal, Depends(require(Role.reviewer))]
Looker = Annotated[Principal, Depends(require(Role.reviewer, Role.ops))]
Office = Annotated[Principal, Depends(require(Role.reviewer, Role.ops, Role.publisher))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@contextmanager
def desk_errors() -> Iterator[None]:
    try:
        yield
    except ReviewError as exc:
        raise HTTPException(exc.status_code, exc.message) from None


def queue_filter(
    government: Text | None = None,
    agency: Text | None = None,
    year: Year | None = None,
    rule: Annotated[list[RuleId] | None, Query(description="rule IDs (repeat the parameter)")] = None,
    min_age_hours: Annotated[float | None, Query(ge=0, le=MAX_AGE_HOURS)] = None,
    max_age_hours: Annotated[float | None, Query(ge=0, le=MAX_AGE_HOURS)] = None,
    status: Annotated[list[Status] | None, Query(description="default: the documents under review")] = None,
) -> QueueFilter:
    return QueueFilter(
        government=government or None,
        agency=agency or None,
        year=year,
        rule_ids=tuple(rule or ()),
        min_age_hours=min_age_hours,
        max_age_hours=max_age_hours,
        statuses=tuple(status) if status else None,
    )


Filter = Annotated[QueueFilter, Depends(queue_filter)]


# --- cell sources -----------------------------------------------------------------------


@sources.get(
    "/{document_id}/cells/{cell}/source",
    responses={200: {"content": {"image/png": {}, "application/json": {}}}},
)
def get_cell_source(document_id: DocumentId, cell: CellKey, principal: Anyone) -> Response:
    """PNG crop of the page around the cell (PDFs) or the source line/row as JSON."""
    settings = get_settings()
    with desk_errors(), session_scope() as session:
        doc = load_for_review(session, document_id, principal)
        found = cell_source(doc, cell, open_store(settings, settings.raw_bucket))
    headers = {"Cache-Control": "private, max-age=3600", "X-Source-Cached": "1" if found.cached else "0"}
    return Response(found.body, media_type=found.media_type, headers=headers)


# --- the queue, export, coverage ---------------------------------------------------------


@router.get("/queue")
def get_queue(
    principal: Looker,
    flt: Filter,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    with session_scope() as session:
        return queue_page(session, flt, page=page, per_page=per_page)


@router.get("/next")
def get_next(
    principal: Reviewer, flt: Filter, after: Annotated[int | None, Query(ge=1, le=MAX_DB_INT)] = None
) -> dict[str, Any]:
    """The document to open next (the first of the queue nobody else holds), after `after`."""
    with session_scope() as session:
        return {"id": next_in_queue(session, flt, principal, after)}


@router.get("/findings.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def export_findings(principal: Looker, flt: Filter) -> Response:
    with session_scope() as session:
        body = findings_export(session, flt)
    headers = {"Content-Disposition": 'attachment; filename="findings.xlsx"'}
    return Response(body, media_type=XLSX, headers=headers)


@router.get("/coverage")
def get_coverage(
    principal: Office, government: Text, year: Year, as_of: date | None = None
) -> dict[str, Any]:
    with session_scope() as session:
        return live_coverage(session, government, year, as_of or date.today())


@router.get("/reasons")
def get_reject_reasons(principal: Looker) -> list[dict[str, str]]:
    return list(reject_reason_list())


Name = Annotated[str, Field(max_length=500, pattern=NO_NUL)]


class BulkApproveRequest(BaseModel):
    rule_ids: list[RuleId] = Field(min_length=1, max_length=200)
    dry_run: bool = False
    government: Name | None = None
    agency: Name | None = None
    year: int | None = Field(default=None, ge=1900, le=2200)
    rule: list[RuleId] = Field(default_factory=list, max_length=200, description="the queue's rule filter")
    min_age_hours: float | None = Field(default=None, ge=0, le=MAX_AGE_HOURS)
    max_age_hours: float | None = Field(default=None, ge=0, le=MAX_AGE_HOURS)


@router.post("/bulk-approve")
def post_bulk_approve(principal: Reviewer, body: BulkApproveRequest) -> dict[str, Any]:
    flt = QueueFilter(
        body.government or None,
        body.agency or None,
        body.year,
        tuple(body.rule),
        body.min_age_hours,
        body.max_age_hours,
    )
    with desk_errors(), session_scope() as session:
        result = bulk_approve(session, principal, flt, body.rule_ids, dry_run=body.dry_run)
    for document_id in result["done"] if not body.dry_run else []:
        dispatch_pending(document_id)
    return result


# --- one document -------------------------------------------------------------------------


@router.get("/{document_id}", responses=ONE_DOCUMENT)
def get_review(document_id: DocumentId, principal: Anyone) -> dict[str, Any]:
    """Findings with their keys and decisions, corrections, claim and history (uploaders:
    their agencies' documents only)."""
    with desk_errors(), session_scope() as session:
        return review_view(session, load_for_review(session, document_id, principal))


@router.post("/{document_id}/claim", responses=ONE_DOCUMENT)
def post_claim(document_id: DocumentId, principal: Reviewer) -> dict[str, Any]:
    """Take the document for 15 minutes (again to renew); 409 "being reviewed by …"."""
    with desk_errors(), session_scope() as session:
        doc = load_for_review(session, document_id, principal)
        return claim_document(session, doc, principal).to_json()


@router.post("/{document_id}/release", responses=ONE_DOCUMENT)
def post_release(document_id: DocumentId, principal: Looker) -> dict[str, Any]:
    """Give the document back (ops may release anyone's claim)."""
    with desk_errors(), session_scope() as session:
        released = release_document(session, load_for_review(session, document_id, principal), principal)
    return {"released": released}


class FindingDecisionRequest(BaseModel):
    finding: str = Field(
        min_length=1,
        max_length=2000,
        pattern=NO_NUL,
        description="the finding's key, as the review view lists it",
    )
    decision: str = Field(max_length=40, description="source_wrong | dismissed")
    reason: str = Field(default="", max_length=2000, pattern=NO_NUL)


@router.post("/{document_id}/findings/decide", responses=ONE_DOCUMENT)
def post_finding_decision(
    document_id: DocumentId, principal: Reviewer, body: FindingDecisionRequest
) -> dict[str, Any]:
    with desk_errors(), session_scope() as session:
        doc = load_for_review(session, document_id, principal)
        decide_finding(session, doc, principal, body.finding, body.decision, body.reason)
        return review_view(session, doc)


class CorrectionRequest(BaseModel):
    value: int | float | Annotated[str, Field(max_length=100, pattern=NO_NUL)] | None = Field(
        description="the number the source shows (null: not filled)"
    )
    reason: str = Field(default="", max_length=2000, pattern=NO_NUL)
    finding: str | None = Field(
        default=None,
        max_length=2000,
        pattern=NO_NUL,
        description="the finding that led here (recorded as misread)",
    )


@router.post("/{document_id}/cells/{cell}/correct", responses=ONE_DOCUMENT)
def post_correction(
    document_id: DocumentId, cell: CellKey, principal: Reviewer, body: CorrectionRequest
) -> dict[str, Any]:
    """Correct a misread cell; the checks run again at once (answer: the review view)."""
    with desk_errors(), session_scope() as session:
        doc = load_for_review(session, document_id, principal)
        correct_cell(session, doc, principal, cell, body.value, body.reason, body.finding)
        return review_view(session, doc)


class ApproveRequest(BaseModel):
    reason: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)


@router.post("/{document_id}/approve", responses=ONE_DOCUMENT)
def post_approve(
    document_id: DocumentId, principal: Reviewer, body: ApproveRequest | None = None
) -> dict[str, Any]:
    with desk_errors(), session_scope() as session:
        doc = load_for_review(session, document_id, principal)
        approve_report(session, doc, principal, body.reason if body else None)
    dispatch_pending(document_id)
    with session_scope() as session:
        return review_view(session, load_for_review(session, document_id, principal))


class RejectRequest(BaseModel):
    code: str = Field(min_length=1, max_length=80, description="one of GET /api/v1/review/reasons")
    text: str = Field(default="", max_length=2000, pattern=NO_NUL)


@router.post("/{document_id}/reject", responses=ONE_DOCUMENT)
def post_reject(document_id: DocumentId, principal: Reviewer, body: RejectRequest) -> dict[str, Any]:
    with desk_errors(), session_scope() as session:
        doc = load_for_review(session, document_id, principal)
        reject_report(session, doc, principal, body.code, body.text)
        return review_view(session, doc)
