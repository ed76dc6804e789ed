from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, HTTPException, Path, UploadFile, status
from sqlmodel import col, select

from services.ingest.auth import Principal, Role, require
from services.ingest.receiving import IdempotencyConflict, IncomingFile, document_summary, receive
from services.ingest.schemas import NO_NUL, UploadReceipt, UploadView, errors
from shared.db import session_scope
from shared.models import Document, Upload, iso, without_bulky_columns
from shared.settings import get_settings
from shared.storage import open_store

router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"])
Uploader = Annotated[Principal, Depends(require(Role.uploader, Role.ops))]


def _incoming(upload: UploadFile, limit: int) -> IncomingFile:
    """The request's spooled file as it is: stored from there, never read whole into memory."""
    name = upload.filename or "unnamed"
    incoming = IncomingFile(name, None, stream=upload.file)
    if incoming.size > limit:
        return IncomingFile(name, None, f"refused: file larger than {limit} bytes")
    return incoming


# Synchronous on purpose: FastAPI runs it in its threadpool, so storage, database and zip
# work never holds up the event loop (and every other request with it).
@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=UploadReceipt,
    response_model_exclude_unset=True,
    responses=errors(401, 403, 413, 422, 503),
)
def create_upload(
    principal: Uploader,
    files: Annotated[list[UploadFile], File(description="One or more reports or zip bundles")],
    agency: Annotated[
        str | None, Form(description="Agency the files are for (hint)", max_length=300, pattern=NO_NUL)
    ] = None,
    year: Annotated[int | None, Form(description="Report year (hint)", ge=1900, le=2200)] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> dict[str, Any]:
    if principal.role == Role.uploader and agency and agency.strip() not in principal.agencies:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"this token may not upload for {agency!r}")
    if principal.role == Role.uploader and not agency and len(principal.agencies) > 1:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "say which agency: the token covers several"
        )
    settings = get_settings()
    incoming = [_incoming(f, settings.max_upload_bytes) for f in files]
    try:
        return receive(
            incoming,
            principal,
            agency_hint=agency,
            year_hint=year,
            idempotency_key=idempotency_key,
            settings=settings,
            store=open_store(settings, settings.raw_bucket),
        )
    except IdempotencyConflict as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


@router.get(
    "/{upload_id}",
    response_model=UploadView,
    response_model_exclude_unset=True,
    responses=errors(401, 403, 404),
)
def get_upload(
    upload_id: Annotated[str, Path(max_length=64, pattern=NO_NUL)],
    principal: Annotated[Principal, Depends(require(*Role))],
) -> dict[str, Any]:
    with session_scope() as session:
        upload = session.get(Upload, upload_id)
        if upload is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such upload")
        docs = session.exec(
            select(Document)
            .options(*without_bulky_columns())
            .where(Document.upload_id == upload_id)
            .order_by(col(Document.id))
        ).all()
        visible = [d for d in docs if principal.can_see(d)]
        if principal.role == Role.uploader and upload.token_id != principal.token_id and not visible:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such upload")
        return {
            "upload_id": upload.id,
            "created_at": iso(upload.created_at),
            "agency": upload.agency_hint,
            "year": upload.year_hint,
            "documents": [document_summary(d) for d in visible],
        }
