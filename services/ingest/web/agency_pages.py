"""The agency's pages: submit (drag and drop, live status), receipt, my submissions,
the document page (shared with reviewers) and a corrected version from it.

Uploading goes through services.ingest.receiving.receive(), as the API does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Header, HTTPException, Query, Request, UploadFile, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from services.ingest.auth import Principal, Role
from services.ingest.receiving import IncomingFile, document_summary, receive
from services.ingest.web.deps import CsrfChecked, DeskUser, SignedIn, UploaderUser
from services.ingest.web.progress import SETTLED_FOR_AGENCY, STATUS_LABELS, progress_of
from services.ingest.web.rendering import ENVIRONMENT, chooser, language_of, page
from services.ingest.web.tables import figures_of, labels_of, render_desk_tables, report_of
from shared.db import session_scope
from shared.models import Document, DocumentEvent, Status, without_bulky_columns
from shared.report import SECTION_TITLES, Finding, ParsedReport
from shared.settings import get_settings
from shared.storage import open_store

router = APIRouter(prefix="/desk", include_in_schema=False)
MAX_LISTED = 500


def load_visible(session: Session, document_id: int, principal: Principal) -> Document:
    doc = session.get(Document, document_id)
    if doc is None or not principal.can_see(doc):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such document")  # never confirm others' ids
    return doc


# --- uploading ----------------------------------------------------------------------


def _upload_agency(principal: Principal, agency: str | None) -> str | None:
    """The agency hint of an upload from the pages, under the API's rules."""
    agency = (agency or "").strip() or None
    if principal.role == Role.uploader:
        if agency and agency not in principal.agencies:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this sign-in may not upload for {agency!r}")
        if agency is None and len(principal.agencies) > 1:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "say which agency: several are yours")
    return agency


async def _incoming(files: list[UploadFile]) -> list[IncomingFile]:
    limit = get_settings().max_upload_bytes
    incoming = []
    for upload in files:
        data = await upload.read(limit + 1)
        name = upload.filename or "unnamed"
        incoming.append(
            IncomingFile(name, None, f"refused: file larger than {limit} bytes")
            if len(data) > limit
            else IncomingFile(name, data)
        )
    return incoming


def _receive(
    user: SignedIn, files: list[IncomingFile], agency: str | None, year: int | None, key: str | None
) -> dict[str, Any]:
    settings = get_settings()
    return receive(
        files,
        user.principal,
        agency_hint=_upload_agency(user.principal, agency),
        year_hint=year,
        idempotency_key=key,
        settings=settings,
        store=open_store(settings, settings.raw_bucket),
    )


def status_view(doc: Document) -> dict[str, Any]:
    """What the pages' scripts show of a document while it moves."""
    progress = progress_of(doc.status, doc.failed_stage, doc.duplicate_of)
    zh, en = STATUS_LABELS[doc.status]
    return {
        **document_summary(doc),
        "label_zh": zh,
        "label_en": en,
        "settled": doc.status in SETTLED_FOR_AGENCY,
        "steps": [step.state for step in progress.steps],
        "next_zh": progress.next_zh,
        "next_en": progress.next_en,
        "url": f"/desk/documents/{doc.id}",
    }


@router.get("", response_model=None)
def home(user: DeskUser) -> RedirectResponse:
    if user.principal.role in (Role.uploader, Role.ops):
        return RedirectResponse("/desk/submit", status.HTTP_303_SEE_OTHER)
    if user.principal.role == Role.reviewer:
        return RedirectResponse("/desk/review", status.HTTP_303_SEE_OTHER)
    return RedirectResponse("/desk/coverage", status.HTTP_303_SEE_OTHER)


@router.get("/submit")
def submit_page(request: Request, user: UploaderUser) -> HTMLResponse:
    return page(request, "submit.html", user=user, max_bytes=get_settings().max_upload_bytes)


@router.post("/api/uploads")
async def upload_from_page(
    user: UploaderUser,
    checked: CsrfChecked,
    files: Annotated[list[UploadFile], File()],
    agency: Annotated[str | None, Form()] = None,
    year: Annotated[int | None, Form(ge=1990, le=2100)] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> dict[str, Any]:
    receipt = _receive(user, await _incoming(files), agency, year, idempotency_key)
    ids = [d["id"] for d in receipt["documents"]]
    with session_scope() as session:
        docs = [load_visible(session, i, user.principal) for i in ids]
        return {**receipt, "documents": [status_view(d) for d in docs]}


@router.get("/api/documents/status")
def statuses(
    user: DeskUser, ids: Annotated[str, Query(max_length=4000, pattern=r"^\d+(,\d+)*$")]
) -> dict[str, Any]:
    wanted = [int(i) for i in ids.split(",")][:200]
    with session_scope() as session:
        query = select(Document).options(*without_bulky_columns()).where(col(Document.id).in_(wanted))
        docs = session.exec(query).all()
        visible = {d.id: status_view(d) for d in docs if user.principal.can_see(d)}
    return {"documents": [visible[i] for i in wanted if i in visible]}


@router.get("/receipt")
def receipt_page(
    request: Request, user: DeskUser, ids: Annotated[str, Query(max_length=4000, pattern=r"^\d+(,\d+)*$")]
) -> HTMLResponse:
    wanted = [int(i) for i in ids.split(",")][:500]
    with session_scope() as session:
        docs = session.exec(
            select(Document).where(col(Document.id).in_(wanted)).order_by(col(Document.id))
        ).all()
        visible = [d for d in docs if user.principal.can_see(d)]
    if not visible:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such documents")
    return page(request, "receipt.html", user=user, docs=visible)


# --- my submissions -------------------------------------------------------------------


def submissions_query(principal: Principal, year: int | None, status_filter: Status | None, q: str) -> Any:
    query = select(Document)
    if principal.role == Role.uploader:
        query = query.where(col(Document.agency_key).in_(principal.agencies))
    if year is not None:
        query = query.where(
            or_(
                col(Document.year) == year,
                and_(col(Document.year).is_(None), col(Document.year_hint) == year),
            )
        )
    if status_filter is not None:
        query = query.where(Document.status == status_filter)
    if q.strip():
        pattern = "%" + q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                col(Document.filename).ilike(pattern, escape="\\"),
                col(Document.agency).ilike(pattern, escape="\\"),
                col(Document.agency_key).ilike(pattern, escape="\\"),
                col(Document.submission_no).ilike(pattern, escape="\\"),
            )
        )
    return query.order_by(col(Document.agency_key), col(Document.year).desc(), col(Document.id).desc())


@router.get("/documents")
def submissions_page(
    request: Request,
    user: UploaderUser,
    year: Annotated[str, Query(max_length=4)] = "",
    status_filter: Annotated[str, Query(alias="status", max_length=20)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    year_value = int(year) if year.isdigit() else None
    chosen = Status(status_filter) if status_filter in Status.__members__ else None
    with session_scope() as session:
        docs = session.exec(
            submissions_query(user.principal, year_value, chosen, q).limit(MAX_LISTED + 1)
        ).all()
    return page(
        request,
        "documents.html",
        user=user,
        docs=docs[:MAX_LISTED],
        more=len(docs) > MAX_LISTED,
        year=year_value,
        status_filter=chosen,
        q=q,
        statuses=list(Status),
    )


# --- the document page -------------------------------------------------------------------


@dataclass
class DocumentPage:
    """What the document page shows; reviewer panels read it (see DOCUMENT_PANELS)."""

    doc: Document
    principal: Principal
    csrf_token: str
    lang: str
    report: Any  # PortalReport | None (None before parsing)
    findings: list[Finding] = field(default_factory=list)
    events: list[DocumentEvent] = field(default_factory=list)
    query: str = ""  # the page's query string (the reviewer's queue filter travels in it)
    labels: dict[str, str] = field(default_factory=dict)  # cell key → its label in the report's layout


# Extra panels of the document page, in order: each gets the page and returns HTML (or
# None to show nothing for this document/role). The reviewer pages register theirs here.
DocumentPanel = Callable[[DocumentPage], Markup | None]
DOCUMENT_PANELS: list[DocumentPanel] = []


def add_document_panel(panel: DocumentPanel) -> DocumentPanel:
    DOCUMENT_PANELS.append(panel)
    return panel


def other_versions(session: Session, doc: Document) -> list[Document]:
    """Other submissions of the same report: the same agency (as read, else as uploaded
    for) and year, newest first."""
    year = doc.year or doc.year_hint
    if year is None:
        return []
    query = select(Document).where(col(Document.id) != doc.id)
    if doc.agency_norm:
        query = query.where(Document.agency_norm == doc.agency_norm, Document.year == year)
    else:
        query = query.where(
            Document.agency_key == doc.agency_key,
            or_(
                col(Document.year) == year,
                and_(col(Document.year).is_(None), col(Document.year_hint) == year),
            ),
        )
    return list(session.exec(query.order_by(col(Document.id).desc()).limit(20)))


@router.get("/documents/{document_id}")
def document_page(request: Request, document_id: int, user: DeskUser) -> HTMLResponse:
    with session_scope() as session:
        doc = load_visible(session, document_id, user.principal)
        events = list(
            session.exec(
                select(DocumentEvent)
                .where(DocumentEvent.document_id == doc.id)
                .order_by(col(DocumentEvent.id))
            )
        )
        versions = other_versions(session, doc)
    report = report_of(doc)
    findings = (
        list(report.findings) if report is not None else [Finding.from_json(f) for f in doc.findings or []]
    )
    labels = labels_of(report) if report is not None else {}
    state = DocumentPage(
        doc,
        user.principal,
        user.csrf_token,
        language_of(request),
        report,
        findings,
        events,
        request.url.query,
        labels,
    )
    panels = [html for panel in DOCUMENT_PANELS if (html := panel(state)) is not None]
    parsed: ParsedReport | None = report.parsed if report is not None else None
    return page(
        request,
        "document.html",
        user=user,
        doc=doc,
        report=report,
        parsed=parsed,
        tables=render_desk_tables(report, ENVIRONMENT, L=chooser(state.lang)) if report is not None else {},
        section_titles=SECTION_TITLES,
        labels=labels,
        findings=[(f, figures_of(report, f) if report is not None else []) for f in findings],
        events=events,
        versions=[v for v in versions if user.principal.can_see(v)],
        panels=panels,
        can_correct=user.principal.role in (Role.uploader, Role.ops),
    )


@router.get("/documents/{document_id}/original")
def original_file(document_id: int, user: DeskUser) -> Response:
    with session_scope() as session:
        doc = load_visible(session, document_id, user.principal)
    if not doc.storage_key:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this file was refused and not stored")
    settings = get_settings()
    data = open_store(settings, settings.raw_bucket).get(doc.storage_key)
    # Always a download, never rendered here: an uploaded .html must not run on the desk's origin.
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc.filename.rsplit('/', 1)[-1])}"
        },
    )


@router.post("/documents/{document_id}/correction")
async def submit_correction(
    document_id: int,
    user: UploaderUser,
    checked: CsrfChecked,
    file: Annotated[UploadFile, File()],
) -> RedirectResponse:
    """A new version of the same report: the same agency and year hints as the old one."""
    with session_scope() as session:
        doc = load_visible(session, document_id, user.principal)
    receipt = _receive(
        user,
        await _incoming([file]),
        doc.agency_key or None,
        doc.year or doc.year_hint,
        f"correction-{document_id}-{uuid.uuid4().hex}",
    )
    new_id = receipt["documents"][0]["id"]
    return RedirectResponse(f"/desk/documents/{new_id}?corrects={document_id}", status.HTTP_303_SEE_OTHER)
