"""Receiving files: store the bytes, commit the rows, then (and only then) send work.

Receipt time and submission number are fixed here, before any processing: for the
31 January deadline what counts is when the agency handed the file over.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.ingest.auth import Principal
from services.ingest.bundles import BundleLimits, is_zip, unpack_bundle
from shared.db import session_scope
from shared.models import Document, Stage, Status, Upload, iso, utcnow
from shared.settings import Settings
from shared.storage import ObjectStore, raw_key
from shared.tracking import dispatch_pending, enqueue, record_event


@dataclass
class IncomingFile:
    filename: str
    data: bytes | None  # None when refused before reading it all
    refusal: str | None = None


def expand_bundles(files: list[IncomingFile], settings: Settings) -> list[IncomingFile]:
    limits = BundleLimits(
        settings.max_zip_members,
        settings.max_member_bytes,
        settings.max_zip_total_bytes,
        settings.max_zip_ratio,
    )
    expanded: list[IncomingFile] = []
    for item in files:
        if item.data is not None and is_zip(item.data, item.filename):
            for member in unpack_bundle(item.data, limits):
                expanded.append(IncomingFile(f"{item.filename}/{member.name}", member.data, member.refusal))
        else:
            expanded.append(item)
    return expanded


def _agency_key(principal: Principal, agency_hint: str | None) -> str:
    if agency_hint:
        return agency_hint.strip()
    return principal.agencies[0] if len(principal.agencies) == 1 else ""


def _find_duplicate(session: Session, sha256: str, agency_key: str) -> Document | None:
    return session.exec(
        select(Document)
        .where(
            Document.sha256 == sha256, Document.agency_key == agency_key, col(Document.duplicate_of).is_(None)
        )
        .where(col(Document.storage_key) != "")  # refused files were never received
        .order_by(col(Document.id))
    ).first()


def _record_document(
    session: Session, upload: Upload, item: IncomingFile, agency_key: str, store: ObjectStore
) -> Document:
    data = item.data or b""
    sha256 = hashlib.sha256(data).hexdigest()
    doc = Document(
        upload_id=upload.id,
        filename=item.filename,
        size=len(data),
        sha256=sha256,
        storage_key="",
        agency_key=agency_key,
        agency_hint=upload.agency_hint,
        year_hint=upload.year_hint,
    )
    refusal = item.refusal or (None if data else "refused: empty file")
    duplicate = None if refusal else _find_duplicate(session, sha256, agency_key)
    if refusal is None:
        store.put(
            raw_key(sha256), data
        )  # stored before the row is committed, so a row never points at nothing
        doc.storage_key = raw_key(sha256)
    if refusal:
        doc.status, doc.error = Status.failed, refusal
    elif duplicate is not None:
        # The same bytes are already in the pipeline for this agency: keep the receipt,
        # don't process twice. The original's status is the one that matters.
        doc.status, doc.duplicate_of = Status.superseded, duplicate.id
    session.add(doc)
    session.flush()
    assert doc.id is not None
    doc.submission_no = f"NB{doc.received_at:%Y}-{doc.id:07d}"
    detail = refusal or (
        f"duplicate of document {duplicate.id}; not processed again" if duplicate else "stored"
    )
    record_event(session, doc.id, doc.status, detail=detail)
    if doc.status == Status.received:
        enqueue(session, doc.id, Stage.parse)
    return doc


def document_summary(doc: Document) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "id": doc.id,
        "submission_no": doc.submission_no,
        "filename": doc.filename,
        "sha256": doc.sha256,
        "size": doc.size,
        "received_at": iso(doc.received_at),
        "status": doc.status.value,
    }
    if doc.duplicate_of is not None:
        summary["duplicate_of"] = doc.duplicate_of
    if doc.error:
        summary["error"] = doc.error
    return summary


def receive(
    files: list[IncomingFile],
    principal: Principal,
    *,
    agency_hint: str | None,
    year_hint: int | None,
    idempotency_key: str | None,
    settings: Settings,
    store: ObjectStore,
) -> dict[str, Any]:
    """Record an upload and its documents; returns the receipt (the API's answer)."""
    if idempotency_key:
        previous = replay(principal, idempotency_key)
        if previous is not None:
            return previous
    agency_key = _agency_key(principal, agency_hint)
    try:
        with session_scope() as session:
            upload = Upload(
                id=uuid.uuid4().hex,
                token_id=principal.token_id,
                agency_hint=agency_hint,
                year_hint=year_hint,
                idempotency_key=idempotency_key,
            )
            session.add(upload)
            docs = [
                _record_document(session, upload, item, agency_key, store)
                for item in expand_bundles(files, settings)
            ]
            receipt = {
                "upload_id": upload.id,
                "received_at": utcnow().isoformat() + "Z",
                "documents": [document_summary(d) for d in docs],
            }
            upload.response = receipt
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key won the race: answer as it did.
        if idempotency_key and (previous := replay(principal, idempotency_key)) is not None:
            return previous
        raise
    # Broker or database trouble now costs only latency: the rows are committed and the
    # sweeper sends whatever is still in the outbox.
    with contextlib.suppress(Exception):
        for doc in docs:
            if doc.status == Status.received:
                dispatch_pending(doc.id)
    return receipt


def replay(principal: Principal, idempotency_key: str) -> dict[str, Any] | None:
    with session_scope() as session:
        upload = session.exec(
            select(Upload).where(
                Upload.token_id == principal.token_id, Upload.idempotency_key == idempotency_key
            )
        ).first()
        return upload.response if upload is not None else None
