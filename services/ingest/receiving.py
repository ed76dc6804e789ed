"""Receiving files: store the bytes, commit the rows, then (and only then) send work.

Receipt time and submission number are fixed here, before any processing: for the
31 January deadline what counts is when the agency handed the file over.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.ingest.auth import Principal
from services.ingest.bundles import BundleLimits, is_zip, unpack_bundle
from shared.db import session_scope
from shared.models import Document, OutboxMessage, Stage, Status, Upload, iso, utcnow
from shared.settings import Settings
from shared.storage import ObjectStore, raw_key
from shared.tracking import enqueue, record_event, send_outbox_messages


@dataclass
class IncomingFile:
    """One file of an upload: its bytes (`data`), or a seekable file holding them (`stream`,
    e.g. the request's spooled temporary file: stored without being held in memory whole),
    or neither when it was refused before reading it all (`refusal` says why)."""

    filename: str
    data: bytes | None
    refusal: str | None = None
    stream: BinaryIO | None = None
    _sha256: str | None = field(default=None, init=False, repr=False)

    @property
    def readable(self) -> bool:
        return self.refusal is None and (self.data is not None or self.stream is not None)

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        if self.stream is not None:
            self.stream.seek(0, 2)
            end = self.stream.tell()
            self.stream.seek(0)
            return end
        return 0

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            digest = hashlib.sha256()
            if self.data is not None:
                digest.update(self.data)
            elif self.stream is not None:
                self.stream.seek(0)
                while chunk := self.stream.read(1024 * 1024):
                    digest.update(chunk)
                self.stream.seek(0)
            self._sha256 = digest.hexdigest()
        return self._sha256


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before for a request with other files or fields."""


# Bidirectional overrides and isolates can make "report.exe.txt" display as "report.txt.exe";
# zero-width characters hide differences between names.
_INVISIBLE = set(
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c\ufeff"
)
MAX_FILENAME_CHARS = 200


def clean_filename(name: str) -> str:
    """A file name safe to store and show: no NUL, control or bidi-override characters,
    at most MAX_FILENAME_CHARS characters (the extension kept)."""
    cleaned = "".join(
        ch for ch in name if ch not in _INVISIBLE and unicodedata.category(ch) not in ("Cc", "Cs", "Co")
    ).strip()
    if len(cleaned) > MAX_FILENAME_CHARS:
        stem, dot, ext = cleaned.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            cleaned = stem[: MAX_FILENAME_CHARS - len(ext) - 2] + "…." + ext
        else:
            cleaned = cleaned[: MAX_FILENAME_CHARS - 1] + "…"
    return cleaned or "unnamed"


def _bundle_limits(settings: Settings) -> BundleLimits:
    return BundleLimits(
        settings.max_zip_members,
        settings.max_member_bytes,
        settings.max_zip_total_bytes,
        settings.max_zip_ratio,
    )


def expand_bundles(files: list[IncomingFile], settings: Settings) -> Iterator[IncomingFile]:
    """The files of an upload with zip bundles unpacked, one member at a time (a member's
    bytes are dropped once it is stored)."""
    limits = _bundle_limits(settings)
    for item in files:
        source = item.data if item.data is not None else item.stream
        if item.refusal is None and source is not None and is_zip(source, item.filename):
            for member in unpack_bundle(source, limits):
                yield IncomingFile(f"{item.filename}/{member.name}", member.data, member.refusal)
        else:
            yield item


def request_fingerprint(files: list[IncomingFile], agency_hint: str | None, year_hint: int | None) -> str:
    """What identifies a request's content, to tell a retry from a different request
    that reuses its Idempotency-Key."""
    parts = {
        "agency": agency_hint,
        "year": year_hint,
        "files": [[f.filename, f.sha256 if f.readable else None, f.refusal] for f in files],
    }
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


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


def _store(store: ObjectStore, item: IncomingFile, key: str) -> None:
    if item.data is not None:
        store.put(key, item.data)
    else:
        assert item.stream is not None
        item.stream.seek(0)
        store.put_stream(key, item.stream, item.size)


def _record_document(
    session: Session, upload: Upload, item: IncomingFile, agency_key: str, store: ObjectStore
) -> tuple[Document, OutboxMessage | None]:
    """The document row of one received file, and the parse message to send once committed."""
    size = item.size if item.readable else 0
    sha256 = item.sha256 if item.readable else hashlib.sha256(b"").hexdigest()
    filename = clean_filename(item.filename)
    doc = Document(
        upload_id=upload.id,
        filename=filename,
        size=size,
        sha256=sha256,
        storage_key="",
        agency_key=agency_key,
        agency_hint=upload.agency_hint,
        year_hint=upload.year_hint,
    )
    refusal = item.refusal
    if refusal is None and not size:
        refusal = "refused: empty file"
    duplicate = None if refusal else _find_duplicate(session, sha256, agency_key)
    if refusal is None:
        # Stored before the row is committed, so a row never points at nothing.
        _store(store, item, raw_key(sha256))
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
    if filename != item.filename:
        # The name as sent, escaped, for the record: the cleaned one is what is shown.
        detail += f" (file name as sent: {item.filename.encode('utf-8', 'surrogatepass')!r})"
    record_event(session, doc.id, doc.status, detail=detail)
    message = enqueue(session, doc.id, Stage.parse) if doc.status == Status.received else None
    return doc, message


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
    """Record an upload and its documents; returns the receipt (the API's answer).

    Every file gets a document, refused ones `failed` with the reason. Raises
    `IdempotencyConflict` when the key was used for a different request, and
    `shared.storage.StorageError` when storage is unreachable (then nothing is recorded).
    """
    idempotency_key = idempotency_key or None  # an empty header names no key (and is not stored as one)
    fingerprint = request_fingerprint(files, agency_hint, year_hint)
    if idempotency_key:
        previous = replay(principal, idempotency_key, fingerprint)
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
                request_sha256=fingerprint,
            )
            session.add(upload)
            session.flush()  # the upload row first: its documents refer to it
            recorded = [
                _record_document(session, upload, item, agency_key, store)
                for item in expand_bundles(files, settings)
            ]
            docs = [doc for doc, _ in recorded]
            receipt = {
                "upload_id": upload.id,
                "received_at": iso(utcnow()),
                "documents": [document_summary(d) for d in docs],
            }
            upload.response = receipt
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key won the race: answer as it did.
        if idempotency_key and (previous := replay(principal, idempotency_key, fingerprint)) is not None:
            return previous
        raise
    # Broker or database trouble now costs only latency: the rows are committed and the
    # sweeper sends whatever is still in the outbox.
    with contextlib.suppress(Exception):
        send_outbox_messages([message for _, message in recorded if message is not None])
    return receipt


def replay(
    principal: Principal, idempotency_key: str, fingerprint: str | None = None
) -> dict[str, Any] | None:
    """The answer given to an earlier request with this key, if any."""
    with session_scope() as session:
        upload = session.exec(
            select(Upload).where(
                Upload.token_id == principal.token_id, Upload.idempotency_key == idempotency_key
            )
        ).first()
        if upload is None:
            return None
        if fingerprint and upload.request_sha256 and upload.request_sha256 != fingerprint:
            raise IdempotencyConflict(
                "this Idempotency-Key was already used for a request with other files or fields"
            )
        return upload.response
