"""The shell every stage task runs in: claim, do the work, record, hand on.

A stage's own code is a function ``work(session, document) -> StageOutcome`` that
reads and fills the document's fields; this module decides what a fault means:

* transient (storage, database or broker unreachable) → retried with capped
  exponential backoff, then left to the sweeper;
* permanent (the file cannot be read, see ``UnreadableDocument``) → ``failed`` with
  the reason;
* a bug in our code → ``failed`` with the exception, so ops can retry after a fix
  instead of the message looping forever;
* a worker that dies mid-task → the broker delivers again (late ack); after
  ``max_stage_attempts`` deliveries the document is ``failed`` as a poison file;
* not yet (``DeferStage``: the document waits for another one) → back to the stage's
  waiting status, the task comes again after a short countdown.
* a stage that runs past its (soft) time limit → tried once more, then ``failed`` with
  that reason (a file too large or complex must not loop for an hour while users see
  "parsing").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import kombu.exceptions
import redis.exceptions
import sqlalchemy.exc
from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from sqlmodel import Session

from shared.db import get_engine, session_scope
from shared.logs import bind_log_context
from shared.models import STAGE_WAITING, Document, Stage, Status
from shared.report import UnreadableDocument
from shared.settings import get_settings
from shared.storage import StorageError
from shared.tracking import (
    Claim,
    FinishedStage,
    claim_and_load,
    claim_kept_alive,
    fail_stage,
    finish_stage,
    send_outbox_message,
)

log = logging.getLogger("nianbao.stages")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    StorageError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    ConnectionError,
    TimeoutError,
)


class PermanentStageError(Exception):
    """The stage can never succeed on this document as it is (reason shown to users)."""


@dataclass
class StageOutcome:
    status: Status
    detail: str = ""
    next_stage: Stage | None = None


class DeferStage(Exception):
    """The stage may not run yet: it waits for another document (reason shown in the
    history). The document returns to its waiting status and the task comes back later."""


DEFER_COUNTDOWN_MAX = 15  # seconds: a deferred stage looks again at least this often


class _ClaimLost(Exception):
    pass


StageWork = Callable[[Session, Document], StageOutcome]


TIME_LIMIT_ATTEMPTS = 2  # runs that hit the time limit before the document is failed


def retry_countdown(retries: int) -> int:
    return int(min(get_settings().retry_backoff_max, 2 ** (retries + 1)))


def run_stage(task: Task, stage: Stage, document_id: int, work: StageWork) -> None:
    """One session, two transactions: claim and load the document; then do the work and
    record its outcome with the next stage's outbox row. The worker sends that row itself
    right after the commit (the sweeper sends it if this process dies first)."""
    task_id = task.request.id or f"local-{stage}-{document_id}"
    bind_log_context(document_id=document_id)  # cleared by task_postrun (shared/logs.py)
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            claimed = claim_and_load(session, document_id, stage, task_id)
        except TRANSIENT_ERRORS as exc:
            raise task.retry(exc=exc, countdown=retry_countdown(task.request.retries)) from exc
        if claimed is None:
            log.info("document %s: %s already done or held elsewhere", document_id, stage)
            return
        claim, doc = claimed
        if claim.attempt > get_settings().max_stage_attempts:
            fail_stage(
                claim,
                f"gave up after {claim.attempt - 1} deliveries of the {stage} stage (the worker kept failing on this file)",
            )
            return
        with claim_kept_alive(claim):
            finished = _run_claimed(task, session, claim, doc, work)
    if finished is None or finished.next_message is None:
        return
    try:
        send_outbox_message(finished.next_message)
    except TRANSIENT_ERRORS:  # the outbox row stays; the sweeper sends it
        log.warning("document %s: next stage not sent yet", document_id)


def _work_and_finish(session: Session, claim: Claim, doc: Document, work: StageWork) -> FinishedStage:
    """The stage's work and its recorded outcome, committed together or not at all."""
    try:
        outcome = work(session, doc)
        session.add(doc)
        finished = finish_stage(
            session, claim, outcome.status, detail=outcome.detail, next_stage=outcome.next_stage
        )
        if finished is None:
            raise _ClaimLost
        session.commit()
        return finished
    except BaseException:
        session.rollback()
        raise


def _run_claimed(
    task: Task, session: Session, claim: Claim, doc: Document, work: StageWork
) -> FinishedStage | None:
    bind_log_context(upload_id=doc.upload_id)
    try:
        return _work_and_finish(session, claim, doc, work)
    except _ClaimLost:
        log.warning("document %s: claim on %s lost to another delivery", claim.document_id, claim.stage)
        return None
    except DeferStage as exc:
        with session_scope() as waiting:  # the stage's own session was rolled back
            finish_stage(waiting, claim, STAGE_WAITING[claim.stage], detail=f"deferred: {exc}")
        retries = task.request.retries
        countdown = min(retry_countdown(retries), DEFER_COUNTDOWN_MAX)
        # Not a failure: the retry budget of transient faults does not apply.
        raise task.retry(countdown=countdown, max_retries=retries + 1) from exc
    except UnreadableDocument as exc:
        fail_stage(claim, f"{exc.code}: {exc.message}")
    except PermanentStageError as exc:
        fail_stage(claim, str(exc))
    except SoftTimeLimitExceeded:
        limit = get_settings().stage_soft_time_limit
        if claim.attempt >= TIME_LIMIT_ATTEMPTS:
            fail_stage(
                claim,
                f"the {claim.stage} stage ran past its time limit of {limit} s "
                f"{claim.attempt} times: the file is too large or too complex to process",
            )
            return None
        log.warning("document %s: %s ran past %s s; trying once more", claim.document_id, claim.stage, limit)
        # The same task id takes its claim over on the retry (attempt + 1).
        raise task.retry(countdown=retry_countdown(task.request.retries))
    except TRANSIENT_ERRORS as exc:
        if task.request.retries >= (task.max_retries or 0):
            raise  # the claim's lease expires and the sweeper re-queues the stage
        raise task.retry(exc=exc, countdown=retry_countdown(task.request.retries)) from exc
    except Exception as exc:
        log.exception("document %s: %s crashed", claim.document_id, claim.stage)
        fail_stage(claim, f"internal error in {claim.stage}: {type(exc).__name__}: {exc}")
    return None
