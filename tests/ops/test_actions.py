"""Retry, acknowledge and reprocess selection on hand-made rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from services.ops.actions import (
    NotRetryable,
    acknowledge_failure,
    apply_each,
    documents_below_parser_version,
    load_documents,
    parse_version,
    request_reprocess,
    retry_failed_document,
)
from services.ops.summary import failure_groups
from shared.models import Document, DocumentEvent, OutboxMessage, Stage, Status
from tests.ops.factories import build_history, sqlite_session


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    for s in sqlite_session(tmp_path):
        build_history(s)
        yield s


def _events(session: Session, doc_id: int) -> list[DocumentEvent]:
    return list(
        session.exec(
            select(DocumentEvent).where(DocumentEvent.document_id == doc_id).order_by(col(DocumentEvent.id))
        )
    )


def test_retry_puts_a_failure_back_before_its_stage(session: Session) -> None:
    doc = session.get(Document, 2)
    assert doc is not None
    assert retry_failed_document(session, doc, "ops#1") == Stage.parse
    session.commit()
    assert (doc.status, doc.error, doc.failed_stage) == (Status.received, None, None)
    [outbox] = session.exec(select(OutboxMessage).where(OutboxMessage.document_id == 2)).all()
    assert outbox.stage == Stage.parse and outbox.sent_at is None
    last = _events(session, 2)[-1]
    assert (last.status, last.actor, last.detail) == (Status.received, "ops#1", "retry from parse requested")


def test_retry_clears_an_acknowledgement(session: Session) -> None:
    doc = session.get(Document, 5)
    assert doc is not None and doc.failure_acknowledged_at is not None
    retry_failed_document(session, doc, "ops#1")
    assert doc.failure_acknowledged_at is None


def test_bulk_retry_skips_what_cannot_be_retried(session: Session) -> None:
    docs, missing = load_documents(session, [8, 1, 6, 404])
    result = apply_each(session, docs, missing, retry_failed_document, "ops#1")
    assert result.done == [6]
    assert result.to_json()["skipped"] == [
        {"id": 404, "reason": "no such document"},
        {"id": 1, "reason": "only failed documents can be retried (this one is needs_review)"},
        {"id": 8, "reason": "nothing to retry: the file was refused at upload (refused: empty file)"},
    ]


def test_acknowledge_takes_the_failure_off_the_list(session: Session) -> None:
    docs, missing = load_documents(session, [6, 7, 1])
    result = apply_each(session, docs, missing, acknowledge_failure, "ops#2")
    session.commit()
    assert result.done == [6, 7] and [s["id"] for s in result.skipped] == [1]
    assert [g["reason"] for g in failure_groups(session)] == ["parse: pdf_no_text", "upload: refused"]
    doc = session.get(Document, 6)
    assert doc is not None and doc.status == Status.failed
    assert _events(session, 6)[-1].detail == "failure acknowledged by ops"


def test_reprocess_selection_by_parser_version(session: Session) -> None:
    # 1 (needs_review, 0.2.1) qualifies; 9 (published, 0.3.0) is not older; 3 (parsed) is in flight.
    assert documents_below_parser_version(session, "0.3.0") == [1]
    assert documents_below_parser_version(session, "0.3.1") == [1, 9]
    assert documents_below_parser_version(session, "0.2") == []


def test_reprocess_selection_pages_by_id(session: Session) -> None:
    # Pages of one: the second starts after the first's last id, the third is empty.
    assert documents_below_parser_version(session, "0.3.1", limit=1) == [1]
    assert documents_below_parser_version(session, "0.3.1", after_id=1, limit=1) == [9]
    assert documents_below_parser_version(session, "0.3.1", after_id=9, limit=1) == []


def test_reprocess_refuses_documents_in_flight(session: Session) -> None:
    doc = session.get(Document, 3)
    assert doc is not None
    with pytest.raises(NotRetryable, match="parsed"):
        request_reprocess(session, doc, "ops#1")


@pytest.mark.parametrize(
    ("text", "parsed"), [("0.3.0", (0, 3, 0)), ("0.10", (0, 10)), ("1.2.3rc1", (1, 2, 3)), ("x", ())]
)
def test_parse_version(text: str, parsed: tuple[int, ...]) -> None:
    assert parse_version(text) == parsed
    assert parse_version("0.10.0") > parse_version("0.9.9")
