"""Publish stage: render an approved report into the portal and record the publication.

Re-running it is harmless: pages are rewritten with the same bytes and the publication
row is unique per document. A newer version of the same agency's report for the same
year takes over the report's address; the older published version becomes `superseded`
and stays reachable as history.
"""

from __future__ import annotations

from celery import Task
from sqlmodel import Session, col, select

from services.publisher import PortalReport, deadline_status_of, report_files, report_slug, site_files
from services.publisher.write import content_type_for
from shared.celery_app import TASK_NAMES, celery_app
from shared.models import Document, Publication, Stage, Status, utcnow
from shared.report import ParsedReport
from shared.settings import get_settings
from shared.stages import PermanentStageError, StageOutcome, run_stage
from shared.storage import ObjectStore, open_store
from shared.tracking import set_status


@celery_app.task(name=TASK_NAMES[Stage.publish], bind=True, max_retries=5)
def publish(self: Task, document_id: int) -> None:
    run_stage(self, Stage.publish, document_id, publish_approved_document)


def portal_report(doc: Document, raw: ObjectStore | None, earlier: list[PortalReport]) -> PortalReport:
    """The portal's view of a document; `raw=None` leaves the original file out (index pages
    do not need it)."""
    if doc.parsed is None or doc.agency is None or doc.year is None or doc.id is None:
        raise PermanentStageError("an approved report needs its agency and year to be published")
    parsed = ParsedReport.from_json(doc.parsed)
    return PortalReport(
        document_id=doc.id,
        version=doc.version or 1,
        agency=doc.agency,
        government=None,
        year=doc.year,
        report_kind=parsed.report_kind,
        report_format=parsed.report_format,
        published_at=doc.published_at or utcnow(),
        deadline_status=deadline_status_of(parsed.published_on, doc.year, parsed.report_kind),
        original_filename=doc.filename,
        original=raw.get(doc.storage_key) if raw is not None and doc.storage_key else None,
        parsed=parsed,
        superseded_versions=earlier,
    )


def _earlier_publications(session: Session, doc: Document) -> list[Document]:
    return list(
        session.exec(
            select(Document)
            .join(Publication, col(Publication.document_id) == col(Document.id))
            .where(Publication.agency_norm == (doc.agency_norm or doc.agency), Publication.year == doc.year)
            .where(col(Document.id) != doc.id)
            .order_by(col(Document.id))
        )
    )


def publish_approved_document(session: Session, doc: Document) -> StageOutcome:
    settings = get_settings()
    raw = open_store(settings, settings.raw_bucket)
    portal = open_store(settings, settings.portal_bucket)
    earlier_docs = _earlier_publications(session, doc)
    earlier = [portal_report(d, raw, []) for d in earlier_docs]
    report = portal_report(doc, raw, earlier)
    # The report's own pages first, then the pages that link to it.
    for key, data in report_files(report).items():
        portal.put(key, data, content_type=content_type_for(key))
    for key, data in site_files([report, *_other_current_reports(session, doc)]).items():
        portal.put(key, data, content_type=content_type_for(key))
    location = f"reports/{report_slug(report.agency, report.year)}/"
    doc.published_at = report.published_at
    if session.exec(select(Publication).where(Publication.document_id == doc.id)).first() is None:
        session.add(
            Publication(
                document_id=report.document_id,
                agency_norm=doc.agency_norm or report.agency,
                year=report.year,
                version=report.version,
                location=location,
            )
        )
    for older in earlier_docs:
        if older.status == Status.published:
            set_status(
                session,
                older,
                Status.superseded,
                detail=f"superseded by document {doc.id} (version {report.version})",
            )
    return StageOutcome(Status.published, detail=f"portal: {location}")


def _other_current_reports(session: Session, doc: Document) -> list[PortalReport]:
    """Every other agency-year's current published report, for the index, search,
    coverage, statistics and open-data pages.

    Why not rebuild the whole site through write_site: that re-renders every report page
    on each publication; the site-wide pages are enough to keep the index consistent.
    """
    rows = session.exec(select(Document).where(Document.status == Status.published, col(Document.id) != doc.id)).all()
    mine = (doc.agency_norm or doc.agency, doc.year)
    return [portal_report(row, None, []) for row in rows if (row.agency_norm or row.agency, row.year) != mine]
