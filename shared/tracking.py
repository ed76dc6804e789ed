"""Status tracking: claiming a stage, recording history, and the task outbox.

Every stage follows one protocol so that any message may be delivered twice, late, or
after its worker died, without doing the work twice or losing it:

1. *claim*: one conditional UPDATE moves the document from the stage's waiting status
   to its running status. A redelivery of the same task (same task id) or a claim whose
   lease has expired (no heartbeat for ``claim_heartbeat_timeout``: the worker died; or
   running past ``stage_time_limit``: it hung) may take it over; anything else finds the
   document already past the stage, or held by a live worker, and does nothing.
2. *finish*: another conditional UPDATE (still holding the claim) sets the outcome and
   writes an outbox row for the next stage in the same transaction.
3. *dispatch*: after commit the outbox row is sent to the broker; if the broker is down
   the sweeper sends it later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, update
from sqlmodel import Session, col, select

from shared.celery_app import TASK_NAMES, celery_app
from shared.db import get_engine, session_scope
from shared.models import (
    STAGE_RUNNING,
    STAGE_WAITING,
    Document,
    DocumentEvent,
    OutboxMessage,
    Stage,
    Status,
    utcnow,
)
from shared.settings import get_settings

log = logging.getLogger("nianbao.tracking")


def system_actor(step: str) -> str:
    """How the history names the system's own steps ("system:parse"), beside people's
    tokens ("reviewer#3")."""
    return f"system:{step}"


def record_event(
    session: Session,
    document_id: int,
    status: Status,
    *,
    stage: Stage | None = None,
    attempt: int = 0,
    detail: str = "",
    actor: str | None = None,
) -> None:
    session.add(
        DocumentEvent(
            document_id=document_id, status=status, stage=stage, attempt=attempt, detail=detail, actor=actor
        )
    )


def set_status(
    session: Session,
    doc: Document,
    status: Status,
    *,
    detail: str = "",
    actor: str | None = None,
    stage: Stage | None = None,
) -> None:
    """Change status outside a stage claim (API decisions, retries, supersession)."""
    doc.status = status
    doc.status_changed_at = utcnow()
    session.add(doc)
    assert doc.id is not None
    record_event(session, doc.id, status, stage=stage, detail=detail, actor=actor)


def enqueue(session: Session, document_id: int, stage: Stage) -> OutboxMessage:
    """Ask for `stage` to run on the document once this transaction commits."""
    message = OutboxMessage(document_id=document_id, stage=stage)
    session.add(message)
    return message


@dataclass
class FinishedStage:
    """A stage's outcome as recorded; `next_message` is the outbox row for the next stage,
    which the worker sends itself once the transaction has committed."""

    next_message: OutboxMessage | None = None


@dataclass
class Claim:
    document_id: int
    stage: Stage
    task_id: str
    attempt: int


def _claim_abandoned(now: datetime) -> ColumnElement[bool]:
    """A running stage whose worker is gone: no heartbeat for a while (killed worker), or
    running past the time limit (a hung one)."""
    settings = get_settings()
    return or_(
        col(Document.stage_started_at) < now - timedelta(seconds=settings.stage_time_limit),
        col(Document.claim_heartbeat_at) < now - timedelta(seconds=settings.claim_heartbeat_timeout),
    )


def claim_stage(document_id: int, stage: Stage, task_id: str) -> Claim | None:
    """Take the stage for this task, or return None when there is nothing to do."""
    with session_scope() as session:
        claimed = claim_and_load(session, document_id, stage, task_id)
    return claimed[0] if claimed else None


def claim_and_load(
    session: Session, document_id: int, stage: Stage, task_id: str
) -> tuple[Claim, Document] | None:
    """Claim the stage and load the document in one statement (UPDATE … RETURNING), and
    commit the claim, so other deliveries see it while the stage works. The session keeps
    the loaded document (its sessions do not expire on commit) for the work that follows."""
    waiting, running = STAGE_WAITING[stage], STAGE_RUNNING[stage]
    now = utcnow()
    claimed = session.execute(
        update(Document)
        .where(col(Document.id) == document_id)
        .where(
            or_(
                col(Document.status) == waiting,
                (col(Document.status) == running)
                & or_(col(Document.claim_task_id) == task_id, _claim_abandoned(now)),
            )
        )
        .values(
            status=running,
            status_changed_at=now,
            claim_task_id=task_id,
            stage_started_at=now,
            claim_heartbeat_at=now,
            stage_attempts=Document.stage_attempts + 1,
        )
        .returning(Document),
        execution_options={"synchronize_session": False, "populate_existing": True},
    )
    doc = claimed.scalars().first()
    if doc is None:
        session.rollback()
        return None
    record_event(
        session, document_id, running, stage=stage, attempt=doc.stage_attempts, actor=system_actor(stage)
    )
    session.commit()
    return Claim(document_id, stage, task_id, doc.stage_attempts), doc


def finish_stage(
    session: Session,
    claim: Claim,
    outcome: Status,
    *,
    detail: str = "",
    next_stage: Stage | None = None,
    error: str | None = None,
) -> FinishedStage | None:
    """Record the stage's outcome if this task still holds the claim.

    Returns None when the claim was lost (another delivery took over after the lease
    expired); the caller's results are then discarded.
    """
    result = session.execute(
        update(Document)
        .where(col(Document.id) == claim.document_id)
        .where(col(Document.status) == STAGE_RUNNING[claim.stage])
        .where(col(Document.claim_task_id) == claim.task_id)
        .values(
            status=outcome,
            status_changed_at=utcnow(),
            claim_task_id=None,
            stage_started_at=None,
            claim_heartbeat_at=None,
            stage_attempts=0,
            error=error,
            failed_stage=claim.stage if outcome == Status.failed else None,
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    record_event(
        session,
        claim.document_id,
        outcome,
        stage=claim.stage,
        attempt=claim.attempt,
        detail=detail,
        actor=system_actor(claim.stage),
    )
    if next_stage is None:
        return FinishedStage()
    return FinishedStage(enqueue(session, claim.document_id, next_stage))


@contextmanager
def claim_kept_alive(claim: Claim) -> Iterator[None]:
    """Renew the claim's heartbeat while the stage runs, from a thread of the worker, so
    that a killed worker's document is taken over within `claim_heartbeat_timeout`
    seconds rather than after the whole stage time limit."""
    interval = get_settings().claim_heartbeat_interval
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval):
            try:
                with session_scope() as session:
                    session.execute(
                        update(Document)
                        .where(
                            col(Document.id) == claim.document_id,
                            col(Document.claim_task_id) == claim.task_id,
                        )
                        .values(claim_heartbeat_at=utcnow())
                    )
            except Exception as exc:  # the database is away: the stage itself will find out
                log.warning("document %s: claim heartbeat failed: %s", claim.document_id, exc)

    thread = threading.Thread(target=beat, name=f"claim-heartbeat-{claim.document_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval)


def fail_stage(claim: Claim, reason: str) -> None:
    with session_scope() as session:
        finish_stage(session, claim, Status.failed, detail=reason, error=reason)


def dispatch_pending(document_id: int | None = None, *, older_than: float = 0.0) -> int:
    """Send unsent outbox messages to the broker; returns how many were sent.

    A send that fails (broker down) leaves the row for the next sweep.
    """
    cutoff = utcnow() - timedelta(seconds=older_than)
    with session_scope() as session:
        query = select(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None))
        query = query.where(col(OutboxMessage.created_at) <= cutoff).order_by(col(OutboxMessage.id))
        if document_id is not None:
            query = query.where(OutboxMessage.document_id == document_id)
        pending = list(session.exec(query.limit(500)))
    return send_outbox_messages(pending, late=older_than > 0)  # only the sweeper waits


def send_outbox_message(message: OutboxMessage) -> bool:
    """Send one committed outbox row to its stage's queue and mark it sent; False (the row
    kept for the sweeper) when the broker is away."""
    return send_outbox_messages([message]) == 1


def send_outbox_messages(messages: list[OutboxMessage], *, late: bool = False) -> int:
    """Send committed outbox rows in order and mark the sent ones in one transaction;
    returns how many were sent. At the first broker failure the rest stay for the sweeper.

    `late`: the rows waited for the sweeper (the broker was away, or a process died before
    sending), so their documents may have waited past `requeue_waiting_after` already;
    they remember the send, so that `requeue_stuck` does not send them again at once. A
    row sent right after its commit needs no such note (the document's status changed in
    that commit), which saves every upload and stage a statement."""
    sent: list[OutboxMessage] = []
    for message in messages:
        try:
            celery_app.send_task(
                TASK_NAMES[message.stage],
                args=[message.document_id],
                queue=message.stage.value,
                retry=True,
                retry_policy={"max_retries": 1, "interval_start": 0.2},
            )
        except Exception as exc:  # broker down: the sweeper tries again
            log.warning("broker unavailable, outbox message %s kept: %s", message.id, exc)
            break
        sent.append(message)
    if sent:
        now = utcnow()
        # A plain connection, not a session: two short statements need no unit of work.
        with get_engine().begin() as connection:
            connection.execute(
                update(OutboxMessage).where(col(OutboxMessage.id).in_([m.id for m in sent])).values(sent_at=now)
            )
            if late:
                connection.execute(
                    update(Document)
                    .where(col(Document.id).in_({m.document_id for m in sent}))
                    .values(last_enqueued_at=now)
                )
    return len(sent)


def requeue_stuck(now: datetime | None = None) -> list[int]:
    """Write outbox rows for documents whose stage message was lost or whose worker died.

    Two cases: a running stage past its time limit, and a document waiting for a stage
    longer than ``requeue_waiting_after`` with no message sent recently (e.g. Redis lost
    its queues in a restart). A duplicate message is harmless: the claim protocol
    makes all but one of them do nothing.
    """
    settings = get_settings()
    now = now or utcnow()
    waiting_cutoff = now - timedelta(seconds=settings.requeue_waiting_after)
    requeued: list[int] = []
    with session_scope() as session:
        for stage in Stage:
            stuck_running = select(Document).where(
                Document.status == STAGE_RUNNING[stage], _claim_abandoned(now)
            )
            stuck_waiting = select(Document).where(
                Document.status == STAGE_WAITING[stage],
                col(Document.status_changed_at) < waiting_cutoff,
                or_(
                    col(Document.last_enqueued_at).is_(None), col(Document.last_enqueued_at) < waiting_cutoff
                ),
            )
            for query in (stuck_running, stuck_waiting):
                for doc in session.exec(query.limit(1000)):
                    assert doc.id is not None
                    has_unsent = session.exec(
                        select(OutboxMessage.id).where(
                            OutboxMessage.document_id == doc.id, col(OutboxMessage.sent_at).is_(None)
                        )
                    ).first()
                    if has_unsent is None:
                        enqueue(session, doc.id, stage)
                        doc.last_enqueued_at = now  # not again before the next cutoff
                        session.add(doc)
                        record_event(
                            session, doc.id, doc.status, stage=stage, detail="re-queued by the sweeper"
                        )
                        requeued.append(doc.id)
    return requeued


def sweep_once() -> dict[str, int]:
    requeued = requeue_stuck()
    sent = dispatch_pending(older_than=2.0)
    return {"requeued": len(requeued), "sent": sent}
