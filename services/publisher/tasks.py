"""Publish stage: render an approved report into the portal and record the publication;
plus the portal refresh after a retraction and the signed pushes to external portals.

Re-running any of them is harmless: pages are rewritten with the same bytes, the
publication row is unique per document, and a push already delivered is not sent again.
A newer version of the same agency's report for the same year takes over the report's
address; the older published version becomes `superseded` and stays reachable as history.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from celery import Task
from sqlalchemy import case, func, or_, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.agencies import expected_by_government, government_of
from services.publisher import (
    PortalReport,
    Retraction,
    deadline_status_of,
    report_files,
    site_files,
    write_site,
)
from services.publisher.model import StoredFile, report_slug
from services.publisher.webhooks import RETRYABLE_STATUS, backoff_delay, deliver_webhook, publication_event
from shared.celery_app import TASK_NAMES, celery_app
from shared.db import session_scope
from shared.models import (
    Document,
    PortalState,
    Publication,
    RegisteredAgency,
    Stage,
    Status,
    WebhookDelivery,
    utcnow,
    without_bulky_columns,
)
from shared.report import Finding, ParsedReport
from shared.settings import get_settings
from shared.stages import TRANSIENT_ERRORS, PermanentStageError, StageOutcome, retry_countdown, run_stage
from shared.storage import open_store
from shared.tracking import set_status

log = logging.getLogger("nianbao.publisher")
REFRESH_TASK = "nianbao.refresh_portal"
SITE_TASK = "nianbao.refresh_site"
PUSH_TASK = "nianbao.push"
SITE_REFRESH_EVERY = 5.0  # seconds: at most one site-wide rebuild per this, however many publish
# At most this share of the publisher's time goes to site-wide rebuilds: a rebuild grows
# with the archive (seconds at a season's end), and the one publisher must keep publishing.
SITE_REFRESH_SHARE = 0.2


@celery_app.task(name=TASK_NAMES[Stage.publish], bind=True, max_retries=5)
def publish(self: Task, document_id: int) -> None:
    run_stage(self, Stage.publish, document_id, publish_approved_document)
    request_site_refresh()
    queue_pushes(document_id)


@celery_app.task(name=REFRESH_TASK, bind=True, max_retries=5)
def refresh_portal(self: Task, document_id: int) -> None:
    """Re-render a published report's pages (after a retraction), then the site pages."""
    try:
        with session_scope() as session:
            doc = session.get(Document, document_id)
            if doc is not None and doc.status in (Status.published, Status.superseded):
                write_report_pages(session, doc)
    except TRANSIENT_ERRORS as exc:
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries)) from exc
    request_site_refresh()
    queue_pushes(document_id)


@celery_app.task(name=SITE_TASK, bind=True, max_retries=5)
def refresh_site(self: Task) -> None:
    """Rebuild the site-wide pages once for every publication since the last rebuild."""
    try:
        with session_scope() as session:
            state = _take_site_turn(session)
            if state.built_seq >= state.dirty_seq:
                return
            target = state.dirty_seq
            settings = get_settings()
            started = time.monotonic()
            files = site_files(_current_reports(session), expected_by_government(session) or None)
            write_site(open_store(settings, settings.portal_bucket), files, only_reports=[])
            state.built_seq = target
            state.last_build_seconds = time.monotonic() - started
            session.add(state)
    except TRANSIENT_ERRORS as exc:
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries)) from exc


def _take_series_turn(session: Session, slug: str) -> None:
    """Until commit, be the only writer of this report's directory (its manifest is
    read-modify-write, and two versions of one series must not cross).

    PostgreSQL: a lock per series, so publishes of different reports overlap. SQLite takes
    one writer at a time anyway; there the portal-state row is the lock, taken first so
    the transaction starts as a writer."""
    if not _advisory_lock(session, f"series:{slug}"):
        _take_portal_turn(session, bump=False)


def _take_site_turn(session: Session) -> PortalState:
    """Until commit, be the only rebuilder of the site pages, without holding up publishes
    (a rebuild takes seconds on a large archive); returns the portal state as of now."""
    if not _advisory_lock(session, "site"):
        return _take_portal_turn(session, bump=False)
    if session.get(PortalState, 1) is None:
        _create_portal_state(session)
    state = session.get(PortalState, 1, populate_existing=True)
    assert state is not None
    return state


def _advisory_lock(session: Session, name: str) -> bool:
    """Hold PostgreSQL's transaction-scoped advisory lock for `name` until commit; False on
    a database without them (SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    digest = hashlib.blake2b(f"nianbao-portal:{name}".encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)  # a stable 64-bit key for the name
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    return True


def _series_slug(doc: Document) -> str:
    """The report directory of the document's series (PortalReport.slug, before rendering)."""
    return report_slug(doc.agency_norm or doc.agency or "", doc.year or 0)


def _mark_site_out_of_date(session: Session) -> None:
    """Bump the portal's dirty counter. Done last before commit: it locks the one
    portal-state row, which every publish shares, for as short a time as possible."""
    _lock_portal_state(session, bump=True)


def _take_portal_turn(session: Session, *, bump: bool) -> PortalState:
    """Lock the portal-state row until commit and, for a report write, mark the site pages
    out of date; returns the state as of now."""
    _lock_portal_state(session, bump=bump)
    state = session.get(PortalState, 1, populate_existing=True)
    assert state is not None
    return state


def _lock_portal_state(session: Session, *, bump: bool) -> None:
    bump_it = update(PortalState).where(col(PortalState.id) == 1)
    bump_it = bump_it.values(dirty_seq=PortalState.dirty_seq + (1 if bump else 0))
    if session.execute(bump_it).rowcount == 0:  # type: ignore[attr-defined]
        _create_portal_state(session)
        session.execute(bump_it)


def _create_portal_state(session: Session) -> None:
    """Create the one portal-state row; two first writers may race, and the loser uses the
    winner's row (its insert waits for the winner's commit, then fails)."""
    try:
        with session.begin_nested():
            session.add(PortalState(id=1))
    except IntegrityError:
        pass


def site_refresh_interval(state: PortalState) -> float:
    """Seconds between rebuild requests: SITE_REFRESH_EVERY, or longer when a rebuild takes
    more than SITE_REFRESH_SHARE of that."""
    return max(SITE_REFRESH_EVERY, (state.last_build_seconds or 0.0) / SITE_REFRESH_SHARE)


# Per database: the time before which no rebuild request can be due, as this process last
# read or wrote the portal state. Every publish asks; in a busy season most would read the
# state only to find a request sent a moment ago (a transaction per publish). It counts
# SITE_REFRESH_EVERY from the last request, the shortest interval there is, so it never
# holds back a request that the state would let through.
_requests_quiet_until: dict[str, datetime] = {}


def request_site_refresh() -> bool:
    """Ask for a site rebuild if the pages are out of date and none was asked for lately.

    Called after each publication and by the sweeper (which catches a request lost with
    the broker). Returns whether a rebuild was requested.
    """
    now = utcnow()
    database = get_settings().database_url
    if now < _requests_quiet_until.get(database, now):
        return False
    with session_scope() as session:
        state = session.get(PortalState, 1)
        if state is None or state.built_seq >= state.dirty_seq:
            return False
        if state.refresh_sent_at is not None:
            _requests_quiet_until[database] = state.refresh_sent_at + timedelta(seconds=SITE_REFRESH_EVERY)
            if (now - state.refresh_sent_at).total_seconds() < site_refresh_interval(state):
                return False
        state.refresh_sent_at = now
        session.add(state)
    try:
        celery_app.send_task(SITE_TASK, queue=Stage.publish.value, countdown=1)
    except Exception as exc:  # broker down: the sweeper asks again after SITE_REFRESH_EVERY
        log.warning("site refresh not queued: %s", exc)
        return False
    _requests_quiet_until[database] = now + timedelta(seconds=SITE_REFRESH_EVERY)
    return True


def _publication(session: Session, document_id: int) -> Publication | None:
    return session.exec(select(Publication).where(Publication.document_id == document_id)).first()


def portal_report(
    doc: Document,
    earlier: list[PortalReport],
    publication: Publication | None = None,
    government: str | None = None,
    site_part: ParsedReport | None = None,
    *,
    with_original: bool = False,
) -> PortalReport:
    """The portal's view of a document; the original file only `with_original` (the
    report's own pages offer it, site-wide pages do not need it). `site_part`: only what the site-wide pages read of the parse
    result (`_current_reports`), in place of the document's whole parse and findings."""
    if site_part is None and doc.parsed is None:
        raise PermanentStageError("an approved report needs its parse result to be published")
    if doc.agency is None or doc.year is None or doc.id is None:
        raise PermanentStageError("an approved report needs its agency and year to be published")
    parsed = site_part or ParsedReport.from_json(doc.parsed or {})
    retraction = None
    if publication is not None and publication.retracted_at is not None:
        retraction = Retraction(publication.retracted_at, publication.retract_reason or "")
    return PortalReport(
        document_id=doc.id,
        version=doc.version or 1,
        agency=doc.agency,
        government=government,
        year=doc.year,
        report_kind=parsed.report_kind,
        report_format=parsed.report_format,
        published_at=doc.published_at or utcnow(),
        deadline_status=deadline_status_of(parsed.published_on, doc.year, parsed.report_kind),
        original_filename=doc.filename,
        original=StoredFile(doc.storage_key, doc.sha256) if with_original and doc.storage_key else None,
        parsed=parsed,
        superseded_versions=earlier,
        retraction=retraction,
        findings=[] if site_part is not None else [Finding.from_json(f) for f in doc.findings or []],
        series_agency=doc.agency_norm,
    )


@dataclass
class _SeriesOnPortal:
    """What the portal holds of a document's series (bound agency, year)."""

    own: Publication | None  # the document's own publication (a re-publish)
    earlier: list[tuple[Document, Publication]]  # published older versions, oldest first
    newer: Publication | None  # the newest published version above the document's


def _series_on_portal(session: Session, doc: Document) -> _SeriesOnPortal:
    """The series' publications in one statement (a first publication needs no more); the
    documents of earlier versions, whose pages are rewritten, in a second one."""
    version = doc.version or 1
    publications = session.exec(
        select(Publication)
        .where(
            or_(
                (col(Publication.agency_norm) == (doc.agency_norm or doc.agency)) & (col(Publication.year) == doc.year),
                col(Publication.document_id) == doc.id,
            )
        )
        .order_by(col(Publication.version))
    ).all()
    own = next((p for p in publications if p.document_id == doc.id), None)
    others = [p for p in publications if p.document_id != doc.id]
    earlier = [p for p in others if p.version < version]
    documents: dict[int | None, Document] = {}
    if earlier:
        query = select(Document).where(col(Document.id).in_([p.document_id for p in earlier]))
        documents = {d.id: d for d in session.exec(query)}
    return _SeriesOnPortal(
        own=own,
        earlier=[(documents[p.document_id], p) for p in earlier],
        newer=next((p for p in reversed(others) if p.version > version), None),
    )


# What the site-wide pages read of a parse result: its cells and date, and whether it prints
# the hybrid （六）其他处理 row (PortalReport.is_hybrid). A few KB of its ≈ 56 KB; kept on the
# publication (migration 0011 fills it for older ones with the same selection).
_SITE_PART_FIELDS = ("cells", "published_on", "report_kind", "report_format")
_HYBRID_DETAILS = ("t3_other_all__natural", "t3_other_all__total")


def site_part_of(parsed: dict[str, Any]) -> dict[str, Any]:
    part = {name: parsed.get(name) for name in _SITE_PART_FIELDS}
    details = parsed.get("cell_details") or {}
    part["cell_details"] = {key: details[key] for key in _HYBRID_DETAILS if key in details}
    return part


def _current_reports(session: Session) -> list[PortalReport]:
    """Every agency-year's current published report, for the index, search, coverage,
    statistics and open-data pages (retracted ones too: the pages leave them out).

    Reads each publication's `site_part`, not the document's whole parse result and
    findings: a refresh reads the whole archive, so its cost per report must stay small."""
    rows = session.exec(
        select(Document, Publication)
        .options(*without_bulky_columns())
        .join(Publication, col(Publication.document_id) == col(Document.id))
        .where(Document.status == Status.published)
    ).all()
    governments = dict(session.exec(select(RegisteredAgency.name_norm, RegisteredAgency.government)).all())
    reports = []
    for doc, publication in rows:
        # A publication written before its site part existed: from the whole parse, once.
        site_part = publication.site_part or site_part_of(doc.parsed or {})
        government = governments.get(doc.agency_norm or "")
        parsed = ParsedReport.from_json({k: v for k, v in site_part.items() if v is not None})
        reports.append(portal_report(doc, [], publication, government, parsed))
    return reports


def write_report_pages(session: Session, doc: Document) -> PortalReport:
    """Write the report's own pages (all its versions); the site pages follow in a
    `refresh_site` run, so a season of publications rebuilds them a few times, not each time."""
    _take_series_turn(session, _series_slug(doc))
    series = _series_on_portal(session, doc)
    return _write_series_pages(session, doc, series.earlier, series.own)


def _write_series_pages(
    session: Session,
    doc: Document,
    earlier: list[tuple[Document, Publication]],
    publication: Publication | None,
) -> PortalReport:
    """`write_report_pages` for a caller that holds the series' turn and has read the
    series already (the publish stage)."""
    settings = get_settings()
    raw = open_store(settings, settings.raw_bucket)
    portal = open_store(settings, settings.portal_bucket)
    government = government_of(session, doc.agency_norm)
    versions = [portal_report(d, [], p, government, with_original=True) for d, p in earlier]
    report = portal_report(doc, versions, publication, government, with_original=True)
    first = not earlier and publication is None  # no publication of the series yet: a new directory
    write_site(
        portal,
        report_files(report),
        only_reports=[report.slug],
        site_pages=False,
        stored_in=raw,
        new_reports=[report.slug] if first else (),
    )
    if publication is not None:  # a re-parse (ops reprocess) may have changed the report
        publication.site_part = site_part_of(doc.parsed or {})
        session.add(publication)
    _mark_site_out_of_date(session)
    return report


def publish_approved_document(session: Session, doc: Document) -> StageOutcome:
    # Hold the series' turn before looking: two publishes of one series must not cross.
    _take_series_turn(session, _series_slug(doc))
    series = _series_on_portal(session, doc)
    if series.newer is not None:
        # A publish that arrives late (a killed publisher's re-queued task) must not put an
        # older version back over a newer one.
        return StageOutcome(
            Status.superseded,
            detail=f"not published: version {series.newer.version} (document {series.newer.document_id}) "
            f"is already on the portal; this older version {doc.version} is kept as superseded",
        )
    doc.published_at = doc.published_at or utcnow()
    earlier, publication = series.earlier, series.own
    report = _write_series_pages(session, doc, earlier, publication)
    location = f"reports/{report.slug}/index.html"
    if publication is None:
        session.add(
            Publication(
                document_id=report.document_id,
                agency_norm=doc.agency_norm or report.agency,
                year=report.year,
                version=report.version,
                location=location,
                site_part=site_part_of(doc.parsed or {}),
            )
        )
    for older, _ in earlier:
        if older.status == Status.published:
            set_status(
                session,
                older,
                Status.superseded,
                detail=f"superseded by document {doc.id} (version {report.version})",
            )
    return StageOutcome(Status.published, detail=f"portal: {location}")


# --- pushes to external portals -------------------------------------------------------


def _current_event_key(session: Session, doc: Document) -> tuple[dict[str, Any], str] | None:
    publication = _publication(session, doc.id or 0)
    if publication is None or doc.status != Status.published:
        return None  # a superseded version is announced by its successor
    return publication_event(portal_report(doc, [], publication), get_settings().portal_url)


def _delivered(session: Session, document_id: int, target: str, key: str) -> bool:
    return (
        session.exec(
            select(WebhookDelivery.id).where(
                WebhookDelivery.document_id == document_id,
                WebhookDelivery.target == target,
                WebhookDelivery.idempotency_key == key,
                WebhookDelivery.ok == True,  # noqa: E712 (SQL comparison)
            )
        ).first()
        is not None
    )


def queue_pushes(document_id: int) -> int:
    """Send a push task per configured target that has not received the current event.

    Best effort: if the broker is down now, the sweeper (resend_pending_pushes) sends later.
    """
    targets = get_settings().webhook_targets
    if not targets:
        return 0
    sent = 0
    with session_scope() as session:
        doc = session.get(Document, document_id)
        current = _current_event_key(session, doc) if doc is not None else None
        if current is None:
            log.info("document %s: nothing to push (not published)", document_id)
            return 0
        pending = [t.name for t in targets if not _delivered(session, document_id, t.name, current[1])]
    for target in pending:
        try:
            celery_app.send_task(PUSH_TASK, args=[document_id, target], queue=Stage.publish.value)
            sent += 1
        except Exception as exc:  # broker down: the sweeper re-sends
            log.warning("push of document %s to %s not queued: %s", document_id, target, exc)
            break
    return sent


@celery_app.task(name=PUSH_TASK, bind=True, max_retries=None)
def push(self: Task, document_id: int, target_name: str) -> None:
    """One signed POST per execution; a retryable failure comes back later as a Celery retry
    (a countdown, not a sleep), so a dead receiver never occupies a publish worker."""
    settings = get_settings()
    target = next((t for t in settings.webhook_targets if t.name == target_name), None)
    if target is None:
        return  # the target was removed from the configuration
    with session_scope() as session:
        doc = session.get(Document, document_id)
        current = _current_event_key(session, doc) if doc is not None else None
        if current is None or _delivered(session, document_id, target_name, current[1]):
            return
    event, key = current
    with httpx.Client(timeout=10) as client:
        [attempt] = deliver_webhook(
            target.url, target.secret.encode(), event, key, client=client, max_attempts=1
        )
    number = self.request.retries + 1
    with session_scope() as session:
        session.add(
            WebhookDelivery(
                document_id=document_id,
                target=target_name,
                event=str(event["type"]),
                idempotency_key=key,
                attempt=number,
                status_code=attempt.status_code,
                ok=attempt.delivered,
                error=attempt.error,
            )
        )
    retryable = attempt.status_code is None or attempt.status_code in RETRYABLE_STATUS
    if not attempt.delivered and retryable and number < settings.webhook_max_attempts:
        raise self.retry(countdown=backoff_delay(number, base_s=1.0, cap_s=settings.webhook_backoff_cap))


def resend_pending_pushes() -> int:
    """For the sweeper: published reports whose current event has not reached every target
    and whose last attempt is older than `webhook_resend_after` — one query, so a season of
    delivered publications costs nothing per sweep."""
    settings = get_settings()
    names = [target.name for target in settings.webhook_targets]
    if not names:
        return 0
    cutoff = utcnow() - timedelta(seconds=settings.webhook_resend_after)
    current_event = case(
        (col(Publication.retracted_at).is_(None), "report.published"), else_="report.retracted"
    )
    targets_reached = (
        select(func.count(func.distinct(WebhookDelivery.target)))
        .where(
            col(WebhookDelivery.document_id) == col(Document.id),
            col(WebhookDelivery.ok).is_(True),
            col(WebhookDelivery.event) == current_event,
            col(WebhookDelivery.target).in_(names),
        )
        .scalar_subquery()
    )
    last_attempt = (
        select(func.max(WebhookDelivery.at))
        .where(col(WebhookDelivery.document_id) == col(Document.id))
        .scalar_subquery()
    )
    with session_scope() as session:
        due = session.exec(
            select(Document.id)
            .join(Publication, col(Publication.document_id) == col(Document.id))
            .where(
                Document.status == Status.published,
                col(Publication.published_at) < cutoff,
                targets_reached < len(names),
                or_(last_attempt.is_(None), last_attempt < cutoff),
            )
            .limit(200)
        ).all()
    return sum(queue_pushes(document_id) for document_id in due if document_id is not None)
