"""The API's answers as pydantic models, so the OpenAPI document says what each route
returns and which errors it may answer. Extra keys are allowed through: a field added to
an answer must not vanish because a model was not updated with it. Routes use
`response_model_exclude_unset`: a key an answer leaves out (`duplicate_of`, `error`)
stays out instead of appearing as null."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict

# Text the database can store: PostgreSQL refuses a NUL character in a text value.
NO_NUL = r"^[^\x00]*$"
# Ids and numbers are PostgreSQL integers: anything outside is refused here (422), not by
# the database (500).
MAX_DB_INT = 2**31 - 1
DocumentId = Annotated[int, Path(ge=1, le=MAX_DB_INT, description="Document id")]
Year = Annotated[int, Query(ge=1900, le=2200)]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorAnswer(BaseModel):
    detail: Any  # a message, or FastAPI's list of validation errors


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the error codes it may answer, with their shape."""
    meaning = {
        401: "missing, unknown, expired or revoked token",
        403: "the token's role or agencies do not allow this",
        404: "no such object (or not visible to this token)",
        409: "not possible in the document's current status",
        413: "the request is larger than NIANBAO_MAX_REQUEST_BYTES",
        422: "invalid parameters or body",
        503: "a dependency (storage, broker) is unavailable; nothing half-done, retry later",
    }
    return {code: {"model": ErrorAnswer, "description": meaning[code]} for code in codes}


class DocumentSummary(_Answer):
    id: int
    submission_no: str | None
    filename: str
    sha256: str
    size: int
    received_at: str
    status: str
    duplicate_of: int | None = None
    error: str | None = None


class UploadReceipt(_Answer):
    upload_id: str
    received_at: str
    documents: list[DocumentSummary]


class UploadView(_Answer):
    upload_id: str
    created_at: str
    agency: str | None
    year: int | None
    documents: list[DocumentSummary]


class DocumentListItem(DocumentSummary):
    agency: str | None
    year: int | None
    version: int | None


class DocumentList(_Answer):
    total: int
    page: int
    per_page: int
    items: list[DocumentListItem]


class HistoryEvent(_Answer):
    at: str
    status: str
    stage: str | None
    attempt: int
    detail: str
    actor: str | None


class Decision(_Answer):
    by: str
    at: datetime | None
    reason: str | None


class PublicationSummary(_Answer):
    version: int
    published_at: str
    location: str
    retracted_at: str | None
    retract_reason: str | None


class DocumentDetail(DocumentSummary):
    upload_id: str
    agency: str | None
    agency_hint: str | None
    year: int | None
    year_hint: int | None
    report_kind: str | None
    report_format: str | None
    version: int | None
    parser_version: str | None
    failed_stage: str | None
    decision: Decision | None
    published_at: datetime | None
    history: list[HistoryEvent]
    publication: PublicationSummary | None
    report: dict[str, Any] | None
    findings: list[dict[str, Any]] | None


class Delivery(_Answer):
    target: str
    event: str
    idempotency_key: str
    attempt: int
    at: str
    status_code: int | None
    ok: bool
    error: str | None


class DeliveryLog(_Answer):
    document_id: int
    deliveries: list[Delivery]
