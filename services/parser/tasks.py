"""Parse stage: read the stored file into the spec's cells (services.parser)."""

from __future__ import annotations

from celery import Task
from sqlmodel import Session

from services.parser import PARSER_VERSION, parse_document
from shared.celery_app import TASK_NAMES, celery_app
from shared.models import Document, Stage, Status
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
    doc.parsed = report.to_json()
    doc.parser_version = PARSER_VERSION
    doc.agency = report.agency
    doc.year = report.year
    doc.report_kind = report.report_kind
    doc.report_format = report.report_format
    read = sum(v is not None for v in report.cells.values())
    detail = f"{report.report_format}, {read}/{len(report.cells)} cells read, {len(report.parse_findings)} parse findings"
    return StageOutcome(Status.parsed, detail=detail, next_stage=Stage.validate)
