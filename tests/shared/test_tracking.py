"""The claim protocol and the stage shell on SQLite, without a broker."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import select

from shared.celery_app import celery_app
from shared.db import session_scope
from shared.models import Document, DocumentEvent, OutboxMessage, Stage, Status, Upload, utcnow
from shared.settings import get_settings
from shared.stages import StageOutcome, run_stage
from shared.tracking import (
    claim_kept_alive,
    claim_stage,
    dispatch_pending,
    enqueue,
    finish_stage,
    requeue_stuck,
    send_outbox_message,
)


def new_document(status: Status = Status.received) -> int:
    with session_scope() as session:
        upload = Upload(id=f"u{utcnow().timestamp()}")
        session.add(upload)
        session.flush()
        doc = Document(
            upload_id=upload.id, filename="a.txt", size=1, sha256="x", storage_key="raw/x", status=status
        )
        session.add(doc)
        session.flush()
        assert doc.id is not None
        return doc.id


def status_of(doc_id: int) -> Document:
    with session_scope() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None
        return doc


def test_only_one_delivery_holds_a_stage(database: None) -> None:
    doc_id = new_document()
    first = claim_stage(doc_id, Stage.parse, "task-a")
    assert first is not None and first.attempt == 1
    assert status_of(doc_id).status == Status.parsing
    assert claim_stage(doc_id, Stage.parse, "task-b") is None  # a duplicate message, lease still fresh
    again = claim_stage(doc_id, Stage.parse, "task-a")  # the same message delivered again
    assert again is not None and again.attempt == 2
    assert claim_stage(doc_id, Stage.validate, "task-c") is None  # not yet at that stage


def test_an_expired_lease_can_be_taken_over_and_the_loser_cannot_finish(database: None) -> None:
    doc_id = new_document()
    stale = claim_stage(doc_id, Stage.parse, "task-a")
    assert stale is not None
    with session_scope() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None
        doc.stage_started_at = utcnow() - timedelta(seconds=get_settings().stage_time_limit + 1)
        session.add(doc)
    fresh = claim_stage(doc_id, Stage.parse, "task-b")
    assert fresh is not None
    with session_scope() as session:
        assert not finish_stage(session, stale, Status.parsed)
        assert finish_stage(session, fresh, Status.parsed, next_stage=Stage.validate)
    with session_scope() as session:
        outbox = session.exec(select(OutboxMessage).where(OutboxMessage.document_id == doc_id)).all()
        events = session.exec(select(DocumentEvent.status).where(DocumentEvent.document_id == doc_id)).all()
    assert [m.stage for m in outbox] == [Stage.validate]
    assert events == [Status.parsing, Status.parsing, Status.parsed]


class FakeRequest(SimpleNamespace):
    pass


def stage_task(task_id: str) -> SimpleNamespace:
    """What run_stage reads from a bound Celery task: its request and retry limit."""
    return SimpleNamespace(request=FakeRequest(id=task_id, retries=0), max_retries=5)


def test_a_poison_file_ends_failed_after_too_many_deliveries(database: None) -> None:
    doc_id = new_document()
    calls: list[int] = []

    def work(session, doc):  # type: ignore[no-untyped-def]
        calls.append(doc.id)
        return StageOutcome(Status.parsed)

    for _ in range(3):  # three deliveries that each died before finishing
        assert claim_stage(doc_id, Stage.parse, "task-a") is not None
    run_stage(stage_task("task-a"), Stage.parse, doc_id, work)  # type: ignore[arg-type]
    doc = status_of(doc_id)
    assert doc.status == Status.failed and doc.failed_stage == Stage.parse
    assert "gave up after 3 deliveries" in (doc.error or "")
    assert calls == []


def test_a_crash_in_stage_code_fails_the_document_with_the_reason(database: None) -> None:
    doc_id = new_document()

    def work(session, doc):  # type: ignore[no-untyped-def]
        raise KeyError("t3_total")

    run_stage(stage_task("task-a"), Stage.parse, doc_id, work)  # type: ignore[arg-type]
    doc = status_of(doc_id)
    assert doc.status == Status.failed and "KeyError" in (doc.error or "")


def test_the_sweeper_requeues_stuck_and_forgotten_documents(database: None) -> None:
    running = new_document()
    assert claim_stage(running, Stage.parse, "task-a") is not None
    waiting = new_document(Status.parsed)
    fresh = new_document(Status.approved)
    later = utcnow() + timedelta(
        seconds=max(get_settings().stage_time_limit, get_settings().requeue_waiting_after) + 1
    )
    with session_scope() as session:  # the fresh one was just handed to the broker
        doc = session.get(Document, fresh)
        assert doc is not None
        doc.last_enqueued_at = later
        session.add(doc)
    assert sorted(requeue_stuck(now=later)) == sorted([running, waiting])
    assert requeue_stuck(now=later) == []  # not twice within the same window


def test_a_late_send_is_remembered_so_the_sweeper_does_not_send_it_again_at_once(
    database: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row sent right after its commit is only marked sent; one the sweeper sends after
    a broker outage also stamps its document, which may have waited past the re-queue
    cutoff already."""
    sent: list[tuple[str, list[int]]] = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, args, **options: sent.append((name, args)))
    prompt, late = new_document(), new_document(Status.parsed)
    long_ago = utcnow() - timedelta(seconds=get_settings().requeue_waiting_after + 60)
    with session_scope() as session:
        message = enqueue(session, prompt, Stage.parse)
        enqueue(session, late, Stage.validate).created_at = long_ago
        waiting = session.get(Document, late)
        assert waiting is not None
        waiting.status_changed_at = long_ago  # the broker was away all that time
    assert send_outbox_message(message) and status_of(prompt).last_enqueued_at is None
    assert dispatch_pending(older_than=2.0) == 1
    assert sent == [("nianbao.parse", [prompt]), ("nianbao.validate", [late])]
    assert status_of(late).last_enqueued_at is not None
    with session_scope() as session:
        assert all(row.sent_at is not None for row in session.exec(select(OutboxMessage)))
    assert requeue_stuck() == []  # just sent: not again before the cutoff


def test_a_claim_without_heartbeat_is_taken_over_long_before_the_time_limit(database: None) -> None:
    doc_id = new_document()
    dead = claim_stage(doc_id, Stage.parse, "task-of-a-killed-worker")
    assert dead is not None
    assert claim_stage(doc_id, Stage.parse, "task-b") is None  # alive: its heartbeat is fresh
    silent_since = utcnow() - timedelta(seconds=get_settings().claim_heartbeat_timeout + 1)
    with session_scope() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None
        doc.claim_heartbeat_at = silent_since
        session.add(doc)
    assert get_settings().claim_heartbeat_timeout < get_settings().stage_time_limit
    assert requeue_stuck() == [doc_id]  # the sweeper sees the dead worker's claim
    taken = claim_stage(doc_id, Stage.parse, "task-b")
    assert taken is not None and taken.attempt == 2


def test_a_running_stage_keeps_its_claim_alive(database: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIANBAO_CLAIM_HEARTBEAT_INTERVAL", "0.05")
    get_settings.cache_clear()
    doc_id = new_document()
    claim = claim_stage(doc_id, Stage.parse, "task-a")
    assert claim is not None
    started = status_of(doc_id).claim_heartbeat_at
    with claim_kept_alive(claim):
        time.sleep(0.3)
    beat = status_of(doc_id).claim_heartbeat_at
    assert started is not None and beat is not None and beat > started
