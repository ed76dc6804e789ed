"""The reviewers' pages: the queue, the review panel of the document page, decisions.

A reviewer works from the queue (`/desk/review`): opening a document from it claims the
document for 15 minutes (services/review/claims.py); each report decision (approve,
reject) is one POST answered with a redirect to the next document of the same queue
filter, so clearing a report costs one POST and one page load. Decisions on a finding
or a cell come back to the same document, re-checked. The queue filter travels with
the reviewer as the `queue` query parameter / form field (a query string of its own).

Everything here calls services.review, as the JSON API does (services/ingest/routes/review.py).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi import Path as FastApiPath
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from services.ingest.auth import Principal, Role
from services.ingest.routes.review import XLSX, Filter, desk_errors
from services.ingest.schemas import DocumentId
from services.ingest.web.agency_pages import DocumentPage, add_document_panel
from services.ingest.web.deps import CsrfChecked, SignedIn, require_desk
from services.ingest.web.rendering import ENVIRONMENT, chooser, page
from services.review import ReviewError
from services.review.claims import ClaimConflict
from services.review.desk import (
    REJECT_REASONS,
    approve_report,
    claim_document,
    correct_cell,
    decide_finding,
    is_under_review,
    load_for_review,
    reject_report,
    release_document,
    review_view,
)
from services.review.queue import (
    QueueFilter,
    bulk_approve,
    findings_export,
    next_in_queue,
    queue_entries,
    queue_page,
)
from services.review.source import cell_source
from shared.db import session_scope
from shared.settings import get_settings
from shared.storage import open_store
from shared.tracking import dispatch_pending

router = APIRouter(prefix="/desk/review", include_in_schema=False)

ReviewerUser = Annotated[SignedIn, Depends(require_desk(Role.reviewer))]
LookerUser = Annotated[SignedIn, Depends(require_desk(Role.reviewer, Role.ops))]
AnyUser = Annotated[SignedIn, Depends(require_desk(*Role))]
CellKey = Annotated[str, FastApiPath(pattern=r"^[a-z0-9_]{1,100}$")]
QueueText = Annotated[str, Form(max_length=2000)]
PER_PAGE = 100


# --- the queue filter as a query string -----------------------------------------------


def filter_query(flt: QueueFilter) -> str:
    pairs: list[tuple[str, Any]] = [
        (name, value)
        for name, value in (
            ("government", flt.government),
            ("agency", flt.agency),
            ("year", flt.year),
            ("min_age_hours", flt.min_age_hours),
            ("max_age_hours", flt.max_age_hours),
        )
        if value is not None
    ]
    pairs += [("rule", rule) for rule in flt.rule_ids]
    return urlencode(pairs)


def _number(values: list[str], kind: type) -> Any:
    try:
        return kind(values[0]) if values else None
    except ValueError:
        return None  # a hand-edited link: drop the part, keep the rest of the filter


def filter_from_query(text: str) -> QueueFilter:
    """The filter a form or link carried (lenient: what does not parse is left out)."""
    given = parse_qs(text or "", max_num_fields=50)
    return QueueFilter(
        government=next(iter(given.get("government", [])), None),
        agency=next(iter(given.get("agency", [])), None),
        year=_number(given.get("year", []), int),
        rule_ids=tuple(r for r in given.get("rule", []) if len(r) <= 80),
        min_age_hours=_number(given.get("min_age_hours", []), float),
        max_age_hours=_number(given.get("max_age_hours", []), float),
    )


def document_url(document_id: int, queue: str) -> str:
    return f"/desk/documents/{document_id}?" + urlencode({"queue": queue})


def queue_url(queue: str, **extra: Any) -> str:
    return "/desk/review" + ("?" + "&".join(p for p in (queue, urlencode(extra)) if p) if queue or extra else "")


def _clean_queue(text: str) -> str:
    """The queue filter as it parsed: only that goes back into a URL."""
    return filter_query(filter_from_query(text))


def _next_page(principal: Principal, queue: str, after: int) -> RedirectResponse:
    """The next document of the same queue nobody else holds, or the queue when done."""
    queue = _clean_queue(queue)
    with session_scope() as session:
        following = next_in_queue(session, filter_from_query(queue), principal, after)
    target = document_url(following, queue) if following else queue_url(queue, cleared=after)
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)


def _back_to(document_id: int, queue: str, anchor: str = "review") -> RedirectResponse:
    queue = _clean_queue(queue)
    return RedirectResponse(f"{document_url(document_id, queue)}#{anchor}", status.HTTP_303_SEE_OTHER)


# --- the queue page ----------------------------------------------------------------------


@router.get("")
def queue_view(
    request: Request,
    user: LookerUser,
    flt: Filter,
    page_no: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
    cleared: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    with session_scope() as session:
        shown = queue_page(session, flt, page=page_no, per_page=PER_PAGE)
    queue = filter_query(flt)
    return page(
        request,
        "review_queue.html",
        user=user,
        flt=flt,
        queue=queue,
        shown=shown,
        cleared=cleared,
        document_url=document_url,
        export_url="/desk/review/findings.xlsx" + (f"?{queue}" if queue else ""),
        pages=(shown["total"] + PER_PAGE - 1) // PER_PAGE,
    )


@router.get("/findings.xlsx")
def export_view(user: LookerUser, flt: Filter) -> Response:
    with session_scope() as session:
        body = findings_export(session, flt)
    return Response(body, media_type=XLSX, headers={"Content-Disposition": 'attachment; filename="findings.xlsx"'})


@router.get("/step")
def step(
    user: LookerUser,
    queue: Annotated[str, Query(max_length=2000)] = "",
    start: Annotated[int | None, Query(alias="from", ge=1)] = None,
    direction: Annotated[str, Query(alias="dir", pattern="^(next|prev)$")] = "next",
) -> RedirectResponse:
    """j/k on the document page: the neighbour in the queue's order (skipping documents
    another reviewer holds when going forward)."""
    queue = _clean_queue(queue)
    if direction == "next" or start is None:
        return _next_page(user.principal, queue, start or 0)
    with session_scope() as session:
        ids = [e.doc.id for e in queue_entries(session, filter_from_query(queue))]
    before = ids[: ids.index(start)] if start in ids else []
    target = document_url(before[-1], queue) if before and before[-1] else queue_url(queue)
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)


# --- bulk approval -----------------------------------------------------------------------


@router.post("/bulk")
def bulk(
    request: Request,
    user: ReviewerUser,
    checked: CsrfChecked,
    rule_ids: Annotated[list[str], Form(max_length=200)],
    queue: QueueText = "",
    confirm: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    """Without `confirm`: what would be approved (the count the confirmation shows);
    with it: approve, and answer per report."""
    with desk_errors(), session_scope() as session:
        result = bulk_approve(session, user.principal, filter_from_query(queue), rule_ids, dry_run=not confirm)
    for document_id in result["done"] if confirm else []:
        dispatch_pending(document_id)
    return page(request, "review_bulk.html", user=user, result=result, queue=queue, confirmed=confirm)


# --- one document: source, decisions ------------------------------------------------------


@router.get("/{document_id}/cells/{cell}/source")
def source_view(document_id: DocumentId, cell: CellKey, user: AnyUser) -> Response:
    """The cell's source for the page's source viewer (uploaders: their agencies only)."""
    settings = get_settings()
    with desk_errors(), session_scope() as session:
        doc = load_for_review(session, document_id, user.principal)
        found = cell_source(doc, cell, open_store(settings, settings.raw_bucket))
    return Response(found.body, media_type=found.media_type, headers={"Cache-Control": "private, max-age=3600"})


@router.post("/{document_id}/approve")
def approve_view(
    document_id: DocumentId,
    user: ReviewerUser,
    checked: CsrfChecked,
    queue: QueueText = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    with desk_errors(), session_scope() as session:
        approve_report(session, load_for_review(session, document_id, user.principal), user.principal, reason)
    dispatch_pending(document_id)
    return _next_page(user.principal, queue, document_id)


@router.post("/{document_id}/reject")
def reject_view(
    document_id: DocumentId,
    user: ReviewerUser,
    checked: CsrfChecked,
    code: Annotated[str, Form(min_length=1, max_length=80)],
    queue: QueueText = "",
    text: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    with desk_errors(), session_scope() as session:
        reject_report(session, load_for_review(session, document_id, user.principal), user.principal, code, text)
    return _next_page(user.principal, queue, document_id)


@router.post("/{document_id}/release")
def release_view(document_id: DocumentId, user: LookerUser, checked: CsrfChecked, queue: QueueText = "") -> RedirectResponse:
    with desk_errors(), session_scope() as session:
        release_document(session, load_for_review(session, document_id, user.principal), user.principal)
    return RedirectResponse(queue_url(_clean_queue(queue)), status.HTTP_303_SEE_OTHER)


@router.post("/{document_id}/finding")
def finding_view(
    document_id: DocumentId,
    user: ReviewerUser,
    checked: CsrfChecked,
    finding: Annotated[str, Form(min_length=1, max_length=2000)],
    decision: Annotated[str, Form(pattern="^(source_wrong|dismissed)$")],
    queue: QueueText = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    if decision == "dismissed" and not reason.strip():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "say why the finding is dismissed")
    with desk_errors(), session_scope() as session:
        doc = load_for_review(session, document_id, user.principal)
        decide_finding(session, doc, user.principal, finding, decision, reason)
    return _back_to(document_id, queue)


@router.post("/{document_id}/correct")
def correct_view(
    document_id: DocumentId,
    user: ReviewerUser,
    checked: CsrfChecked,
    cell: Annotated[str, Form(pattern=r"^[a-z0-9_]{1,100}$")],
    value: Annotated[str, Form(max_length=100)],
    queue: QueueText = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    finding: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    """"We misread it": the reviewer's reading of the cell; the checks run again at once."""
    with desk_errors(), session_scope() as session:
        doc = load_for_review(session, document_id, user.principal)
        correct_cell(session, doc, user.principal, cell, value.strip() or None, reason, finding or None)
    return _back_to(document_id, queue, anchor="findings")


# --- the review panel of the document page ---------------------------------------------------


def _claim_on_open(state: DocumentPage) -> tuple[dict[str, Any], str | None]:
    """Opening a document under review claims it for the reviewer (renewing their own
    claim); returns the review view and, when another reviewer holds it, their name."""
    with session_scope() as session:
        doc = load_for_review(session, state.doc.id or 0, state.principal)
        held_by: str | None = None
        if state.principal.role == Role.reviewer and is_under_review(doc):
            try:
                claim_document(session, doc, state.principal)
            except ClaimConflict as exc:
                held_by = exc.holder
        return review_view(session, doc), held_by


@add_document_panel
def review_panel(state: DocumentPage) -> Markup | None:
    if state.principal.role not in (Role.reviewer, Role.ops) or state.report is None:
        return None
    try:
        view, held_by = _claim_on_open(state)
    except ReviewError:
        return None
    queue = (parse_qs(state.query).get("queue") or [""])[0]
    may_decide = state.principal.role == Role.reviewer and view["under_review"] and held_by is None
    template = ENVIRONMENT.get_template("review_panel.html")
    return Markup(
        template.render(
            doc=state.doc,
            view=view,
            held_by=held_by,
            may_decide=may_decide,
            queue=queue,
            csrf_token=state.csrf_token,
            reasons=REJECT_REASONS,
            labels=state.labels,
            lang=state.lang,
            L=chooser(state.lang),
        )
    )
