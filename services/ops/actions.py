"""What ops may do to documents: retry a failure, acknowledge it, reprocess a report.

Each function changes rows in the caller's session (one transaction); sending the
resulting outbox rows or tasks is the caller's step after commit.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from shared.celery_app import celery_app
from shared.models import STAGE_WAITING, Document, Stage, Status, utcnow, without_bulky_columns
from shared.tracking import enqueue, record_event, set_status

# Reprocessing only touches reports at rest: not one a stage holds or is about to take
# (its own run will write the result), nor a failure (that is what retry is for).
REPROCESSABLE = (Status.needs_review, Status.rejected, Status.published, Status.superseded)
# Addressed by name so the API need not import the parser (services/ops/tasks.py).
REPROCESS_TASK = "nianbao.reprocess"
# Parse is the heavy half of the work; every worker loads every task module.
REPROCESS_QUEUE = Stage.parse.value


class NotRetryable(Exception):
    """The document cannot be retried as it stands (the message says why)."""


def retry_failed_document(session: Session, doc: Document, actor: str) -> Stage:
    """Put a failed document back before the stage that failed; returns that stage.

    The caller commits and then sends the outbox row (``dispatch_pending``).
    """
    if doc.status != Status.failed:
        raise NotRetryable(f"only failed documents can be retried (this one is {doc.status})")
    if not doc.storage_key:
        raise NotRetryable(f"nothing to retry: the file was refused at upload ({doc.error})")
    assert doc.id is not None
    stage = doc.failed_stage or Stage.parse
    doc.error, doc.failed_stage = None, None
    doc.stage_attempts = 0
    # A new failure after this retry is news again.
    doc.failure_acknowledged_at = None
    set_status(
        session, doc, STAGE_WAITING[stage], detail=f"retry from {stage} requested", actor=actor, stage=stage
    )
    enqueue(session, doc.id, stage)
    return stage


def acknowledge_failure(session: Session, doc: Document, actor: str) -> None:
    if doc.status != Status.failed:
        raise NotRetryable(f"only failed documents can be acknowledged (this one is {doc.status})")
    assert doc.id is not None
    if doc.failure_acknowledged_at is not None:
        return
    doc.failure_acknowledged_at = utcnow()
    session.add(doc)
    record_event(session, doc.id, doc.status, detail="failure acknowledged by ops", actor=actor)


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"done": self.done, "skipped": self.skipped}


def load_documents(session: Session, ids: Iterable[int]) -> tuple[list[Document], list[int]]:
    """The documents with these ids, and the ids that do not exist. Their JSON columns stay
    in the database: no action reads them, and 5,000 parse results are a quarter gigabyte."""
    wanted = sorted(set(ids))
    found = list(
        session.exec(
            select(Document)
            .options(*without_bulky_columns())
            .where(col(Document.id).in_(wanted))
            .order_by(col(Document.id))
        )
    )
    known = {d.id for d in found}
    return found, [i for i in wanted if i not in known]


def apply_each(
    session: Session, docs: list[Document], missing: list[int], action: Any, actor: str
) -> BulkResult:
    result = BulkResult(skipped=[{"id": i, "reason": "no such document"} for i in missing])
    for doc in docs:
        assert doc.id is not None
        try:
            action(session, doc, actor)
        except NotRetryable as exc:
            result.skipped.append({"id": doc.id, "reason": str(exc)})
        else:
            result.done.append(doc.id)
    return result


def parse_version(text: str) -> tuple[int, ...]:
    """ "0.3.0" → (0, 3, 0); a piece's trailing letters ("0.3.0rc1") are ignored."""
    parts: list[int] = []
    for piece in text.split("."):
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def documents_below_parser_version(
    session: Session, version: str, *, after_id: int = 0, limit: int | None = None
) -> list[int]:
    """Reprocessable documents whose stored parse came from a parser older than `version`,
    by id from `after_id` on, at most `limit` of them (a page: the next starts after the last)."""
    below = parse_version(version)
    rows = session.exec(
        select(Document.id, Document.parser_version)
        .where(
            col(Document.status).in_(REPROCESSABLE),
            col(Document.parser_version).is_not(None),
            col(Document.id) > after_id,
        )
        .order_by(col(Document.id))
    )
    # Versions compare as numbers ("0.10" > "0.9"), which SQL's string order cannot do.
    older = (doc_id for doc_id, used in rows if doc_id is not None and used and parse_version(used) < below)
    return list(itertools.islice(older, limit))


def request_reprocess(session: Session, doc: Document, actor: str) -> None:
    """Record the request; the caller sends the task after commit."""
    if doc.status not in REPROCESSABLE:
        allowed = ", ".join(s.value for s in REPROCESSABLE)
        raise NotRetryable(f"only {allowed} documents can be reprocessed (this one is {doc.status})")
    if not doc.storage_key:
        raise NotRetryable("the file was never stored")
    if doc.duplicate_of is not None:
        raise NotRetryable(f"a duplicate upload; reprocess the original, document {doc.duplicate_of}")
    assert doc.id is not None
    record_event(session, doc.id, doc.status, detail="reprocess requested", actor=actor)


def send_reprocess(document_id: int, actor: str) -> None:
    """Send the reprocess task (after the request's commit)."""
    celery_app.send_task(
        REPROCESS_TASK,
        args=[document_id, actor],
        queue=REPROCESS_QUEUE,
        retry=True,
        retry_policy={"max_retries": 1, "interval_start": 0.2},
    )
