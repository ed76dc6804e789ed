"""Ops: the pipeline's summary, bulk retry/acknowledge/reprocess, the dashboard, /metrics.

The numbers are computed in services.ops; these routes only authenticate, select the
documents, and send what the commit asked for.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Response, status
from fastapi.responses import HTMLResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field, model_validator
from sqlmodel import Session

from services.ingest.auth import Principal, Role, require
from services.ingest.schemas import MAX_DB_INT, NO_NUL, errors
from services.ops.actions import (
    BulkResult,
    acknowledge_failure,
    apply_each,
    documents_below_parser_version,
    load_documents,
    request_reprocess,
    retry_failed_document,
    send_reprocess,
)
from services.ops.broker import WorkerWatch, broker_view
from services.ops.dashboard import CONTENT_SECURITY_POLICY, render_dashboard
from services.ops.metrics import pipeline_registry
from services.ops.summary import BrokerView, documents_with_failure_reason, pipeline_summary
from shared.celery_app import celery_app
from shared.db import session_scope
from shared.settings import get_settings
from shared.tracking import dispatch_pending

router = APIRouter(tags=["ops"])
Ops = Annotated[Principal, Depends(require(Role.ops))]
MAX_BULK = 5000
DocumentIds = list[Annotated[int, Field(ge=1, le=MAX_DB_INT)]]

_workers = WorkerWatch(celery_app)


def current_broker_view() -> BrokerView:
    return broker_view(get_settings(), _workers)


_registry = pipeline_registry(session_scope, current_broker_view)


class FailureSelection(BaseModel):
    """Either explicit ids or one failure group's key (as the summary lists it)."""

    ids: DocumentIds | None = Field(default=None, max_length=MAX_BULK)
    reason: str | None = Field(default=None, max_length=300, pattern=NO_NUL)

    @model_validator(mode="after")
    def _one_of(self) -> FailureSelection:
        if (self.ids is None) == (self.reason is None):
            raise ValueError('give either "ids" or "reason"')
        return self

    def ids_in(self, session: Session) -> list[int]:
        return self.ids if self.ids is not None else documents_with_failure_reason(session, self.reason or "")


class ReprocessSelection(BaseModel):
    ids: DocumentIds | None = Field(default=None, max_length=MAX_BULK)
    parser_version_below: str | None = Field(default=None, pattern=r"^\d+(\.\d+)*$")
    # With parser_version_below: a page of at most MAX_BULK documents after this id; the
    # answer's next_after_id asks for the next page (null when this one was the last).
    after_id: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _one_of(self) -> ReprocessSelection:
        if (self.ids is None) == (self.parser_version_below is None):
            raise ValueError('give either "ids" or "parser_version_below"')
        return self


@router.get("/api/v1/ops/summary", responses=errors(401, 403))
def ops_summary(principal: Ops) -> dict[str, Any]:
    """Queues, stages, statuses, oldest waiting documents, failures and workers."""
    broker = current_broker_view()
    with session_scope() as session:
        return pipeline_summary(session, broker)


def _bulk(selection: FailureSelection, action: Callable[..., object], actor: str) -> BulkResult:
    with session_scope() as session:
        docs, missing = load_documents(session, selection.ids_in(session))
        return apply_each(session, docs, missing, action, actor)


@router.post("/api/v1/ops/failures/retry", responses=errors(401, 403, 422))
def retry_failures(selection: FailureSelection, principal: Ops) -> dict[str, Any]:
    """Run failed documents again from the stage that failed (as documents/{id}/retry)."""
    result = _bulk(selection, retry_failed_document, principal.actor)
    for doc_id in result.done:
        dispatch_pending(doc_id)
    return result.to_json()


@router.post("/api/v1/ops/failures/acknowledge", responses=errors(401, 403, 422))
def acknowledge_failures(selection: FailureSelection, principal: Ops) -> dict[str, Any]:
    """Take failures off the list (their status stays `failed`)."""
    return _bulk(selection, acknowledge_failure, principal.actor).to_json()


@router.post(
    "/api/v1/ops/reprocess", status_code=status.HTTP_202_ACCEPTED, responses=errors(401, 403, 422, 503)
)
def reprocess(selection: ReprocessSelection, principal: Ops) -> dict[str, Any]:
    """Parse and validate again; the old result stays until the new one is complete."""
    next_after_id: int | None = None
    with session_scope() as session:
        if selection.ids is not None:
            ids = selection.ids
        else:
            ids = documents_below_parser_version(
                session, selection.parser_version_below or "", after_id=selection.after_id, limit=MAX_BULK
            )
            next_after_id = ids[-1] if len(ids) == MAX_BULK else None
        docs, missing = load_documents(session, ids)
        result = apply_each(session, docs, missing, request_reprocess, principal.actor)
    sent: list[int] = []
    for doc_id in result.done:
        try:
            send_reprocess(doc_id, principal.actor)
        except Exception as exc:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                f"broker unavailable after sending {len(sent)} of {len(result.done)}: {type(exc).__name__}",
            ) from exc
        sent.append(doc_id)
    return result.to_json() | {"next_after_id": next_after_id}


@router.get("/ops", response_class=HTMLResponse, include_in_schema=False)
def dashboard() -> HTMLResponse:
    """The page holds no data: it asks the API with the token the user types in."""
    nonce = secrets.token_urlsafe(16)
    return HTMLResponse(
        render_dashboard(nonce),
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY.format(nonce=nonce),
            "Cache-Control": "no-store",
        },
    )


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    """Prometheus text format; low-cardinality labels only, so it needs no token."""
    return Response(generate_latest(_registry), media_type=CONTENT_TYPE_LATEST)
