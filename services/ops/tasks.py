"""Celery shell of ops' reprocessing (services.ops.reprocess does the work).

It runs on the parse queue (see actions.REPROCESS_QUEUE).
"""

from __future__ import annotations

from celery import Task

from services.ops.actions import REPROCESS_TASK
from services.ops.reprocess import reprocess_document
from shared.celery_app import celery_app
from shared.logs import bind_log_context
from shared.stages import TRANSIENT_ERRORS, retry_countdown


@celery_app.task(name=REPROCESS_TASK, bind=True, max_retries=5)
def reprocess(self: Task, document_id: int, actor: str | None = None) -> None:
    bind_log_context(document_id=document_id)
    try:
        reprocess_document(document_id, actor)
    except TRANSIENT_ERRORS as exc:
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries)) from exc
