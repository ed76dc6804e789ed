"""Hand-made documents and histories with known timings for the ops aggregation tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, SQLModel

from shared.db import make_engine
from shared.models import Document, DocumentEvent, Stage, Status, Upload

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def ago(minutes: float = 0, seconds: float = 0) -> datetime:
    return NOW - timedelta(minutes=minutes, seconds=seconds)


def sqlite_session(folder: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{folder / 'ops.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


class History:
    def __init__(self, session: Session) -> None:
        self.session = session
        session.add(Upload(id="u1"))
        session.flush()

    def document(self, doc_id: int, status: Status, since: datetime, **fields: object) -> Document:
        values: dict[str, object] = {
            "filename": f"{doc_id}.txt",
            "size": 1,
            "sha256": f"{doc_id:064d}",
            "storage_key": f"raw/{doc_id}",
        }
        values.update(fields)
        doc = Document(id=doc_id, upload_id="u1", status=status, status_changed_at=since, **values)  # type: ignore[arg-type]
        self.session.add(doc)
        self.session.flush()
        return doc

    def event(
        self, doc_id: int, at: datetime, status: Status, stage: Stage | None = None, attempt: int = 0
    ) -> None:
        self.session.add(
            DocumentEvent(document_id=doc_id, at=at, status=status, stage=stage, attempt=attempt)
        )
        self.session.flush()


def build_history(session: Session) -> None:
    """The scenario the tests' numbers come from (times relative to NOW):

    1: needs_review. parse waited 60 s, ran 30 s (done 48.5 min ago); validate waited 10 s, ran 20 s.
    2: failed in parse (pdf_no_text). parse waited 120 s, ran 60 s (done 7 min ago).
    3: parsed 1 min ago. parse waited 60 s; the first delivery was lost, a sweeper re-queue
       event (attempt 0) came, the second delivery ran 60 s.
    4: received 2 min ago, waiting.
    5: failed (pdf_no_text), acknowledged.  6, 7: failed after 5 / 6 deliveries.  8: refused at upload.
    9: published long ago: each stage waited 60 s and ran 60 s, more than an hour ago.
    """
    h = History(session)
    h.document(1, Status.needs_review, ago(48), parser_version="0.2.1", findings=[])
    h.event(1, ago(50), Status.received)
    h.event(1, ago(49), Status.parsing, Stage.parse, 1)
    h.event(1, ago(48, 30), Status.parsed, Stage.parse, 1)
    h.event(1, ago(48, 20), Status.validating, Stage.validate, 1)
    h.event(1, ago(48), Status.needs_review, Stage.validate, 1)

    h.document(2, Status.failed, ago(7), failed_stage=Stage.parse, error="pdf_no_text: 第3页没有文字")
    h.event(2, ago(10), Status.received)
    h.event(2, ago(8), Status.parsing, Stage.parse, 1)
    h.event(2, ago(7), Status.failed, Stage.parse, 1)

    h.document(3, Status.parsed, ago(1))
    h.event(3, ago(4), Status.received)
    h.event(3, ago(3), Status.parsing, Stage.parse, 1)
    h.event(3, ago(2, 30), Status.parsing, Stage.parse, 0)  # sweeper: "re-queued"
    h.event(3, ago(2), Status.parsing, Stage.parse, 2)
    h.event(3, ago(1), Status.parsed, Stage.parse, 2)

    h.document(4, Status.received, ago(2))
    h.event(4, ago(2), Status.received)

    h.document(
        5,
        Status.failed,
        ago(30),
        failed_stage=Stage.parse,
        error="pdf_no_text: other",
        failure_acknowledged_at=ago(20),
    )
    gave_up = "gave up after {} deliveries of the parse stage (the worker kept failing on this file)"
    h.document(6, Status.failed, ago(25), failed_stage=Stage.parse, error=gave_up.format(5))
    h.document(7, Status.failed, ago(24), failed_stage=Stage.parse, error=gave_up.format(6))
    h.document(8, Status.failed, ago(23), storage_key="", error="refused: empty file")

    h.document(9, Status.published, ago(124), parser_version="0.3.0", findings=[])
    h.event(9, ago(130), Status.received)
    h.event(9, ago(129), Status.parsing, Stage.parse, 1)
    h.event(9, ago(128), Status.parsed, Stage.parse, 1)
    h.event(9, ago(127), Status.validating, Stage.validate, 1)
    h.event(9, ago(126), Status.approved, Stage.validate, 1)
    h.event(9, ago(125), Status.publishing, Stage.publish, 1)
    h.event(9, ago(124), Status.published, Stage.publish, 1)
    session.commit()
