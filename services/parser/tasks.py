"""Parse stage: read the stored file into the spec's cells (services.parser)."""

from __future__ import annotations

from celery import Task
from sqlmodel import Session, col, select

from services.parser import PARSER_VERSION, parse_document
from services.review.findings import Correction, apply_corrections
from shared.celery_app import TASK_NAMES, celery_app
from shared.models import CellCorrection, Document, Stage, Status
from shared.report import ParsedReport
from shared.settings import get_settings
from shared.stages import PermanentStageError, StageOutcome, run_stage
from shared.storage import ObjectNotFound, open_store


@celery_app.task(name=TASK_NAMES[Stage.parse], bind=True, max_retries=5)
def parse(self: Task, document_id: int) -> None:
    run_stage(self, Stage.parse, document_id, parse_stored_document)


def parse_stored_document(session: Session, doc: Document) -> StageOutcome:
    settings = get_settings()
    try:
        data = open_store(settings, settings.raw_bucket).get(doc.storage_key)
    except ObjectNotFound:
        raise PermanentStageError(f"stored file {doc.storage_key} is missing") from None
    report = parse_document(data, doc.filename)
    report.parser_version = PARSER_VERSION
    corrected = _apply_review_corrections(session, doc, report)
    doc.parsed = report.to_json()
    doc.parser_version = PARSER_VERSION
    doc.agency = report.agency
    doc.year = report.year
    doc.report_kind = report.report_kind
    doc.report_format = report.report_format
    read = sum(v is not None for v in report.cells.values())
    detail = f"{report.report_format}, {read}/{len(report.cells)} cells read, {len(report.parse_findings)} parse findings"
    if corrected:
        detail += f", {len(corrected)} reviewer corrections applied again ({', '.join(corrected)})"
    return StageOutcome(Status.parsed, detail=detail, next_stage=Stage.validate)


def _apply_review_corrections(session: Session, doc: Document, report: ParsedReport) -> list[str]:
    """Reviewers' corrections outlive a re-parse: the reviewer's word on a cell stands over
    whatever the parser reads again (services/review/desk.py records them)."""
    if doc.id is None or doc.parsed is None:  # a first reading: no reviewer has seen a cell yet
        return []
    rows = session.exec(
        select(CellCorrection).where(CellCorrection.document_id == doc.id).order_by(col(CellCorrection.id))
    ).all()
    return apply_corrections(report, [Correction(r.cell, r.new_value, r.actor) for r in rows])
