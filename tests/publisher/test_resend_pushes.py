"""The sweeper re-sends a push only where a target has not received the current event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from services.parser import parse_document
from services.publisher import tasks
from shared.db import get_engine, session_scope, upgrade_schema
from shared.models import Document, Publication, Status, Upload, WebhookDelivery, utcnow
from shared.settings import get_settings
from tests.reference import corpus_bytes

SEED = "seed/000_73a337edb7ff8878.txt"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    monkeypatch.setenv("NIANBAO_DATA_DIR", str(tmp_path))
    targets = [{"name": n, "url": "http://127.0.0.1:9/hook", "secret": "s"} for n in ("province", "city")]
    monkeypatch.setenv("NIANBAO_WEBHOOK_TARGETS", json.dumps(targets))
    get_settings.cache_clear()
    get_engine.cache_clear()
    upgrade_schema()
    sent: list[int] = []
    # The broker call itself is Celery's; what is ours is which documents get one.
    monkeypatch.setattr(tasks.celery_app, "send_task", lambda name, args, **_: sent.append(args[0]))
    yield sent
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def published_document(published_ago: timedelta) -> int:
    report = parse_document(corpus_bytes(SEED), "000_73a337edb7ff8878.txt")
    with session_scope() as session:
        upload = Upload(id=f"u{utcnow().timestamp()}")
        session.add(upload)
        session.flush()
        doc = Document(
            upload_id=upload.id,
            filename="s.txt",
            size=1,
            sha256="x",
            storage_key="",
            status=Status.published,
            agency=report.agency,
            year=report.year,
            parsed=report.to_json(),
            version=1,
        )
        session.add(doc)
        session.flush()
        assert doc.id is not None
        session.add(
            Publication(
                document_id=doc.id,
                agency_norm=report.agency or "",
                year=report.year or 0,
                version=1,
                location="reports/x/index.html",
                published_at=utcnow() - published_ago,
            )
        )
        return doc.id


def delivered(document_id: int, target: str, event: str = "report.published") -> None:
    with session_scope() as session:
        session.add(
            WebhookDelivery(
                document_id=document_id,
                target=target,
                event=event,
                idempotency_key=f"{event}:{document_id}:v1",
                attempt=1,
                ok=True,
                status_code=204,
                at=utcnow() - timedelta(hours=2),
            )
        )


def test_only_undelivered_old_publications_are_sent_again(database: list[int]) -> None:
    fresh = published_document(timedelta(seconds=5))  # its own push may still be on the way
    nobody = published_document(timedelta(hours=1))
    one_of_two = published_document(timedelta(hours=1))
    everyone = published_document(timedelta(hours=1))
    delivered(one_of_two, "province")
    delivered(everyone, "province")
    delivered(everyone, "city")
    assert tasks.resend_pending_pushes() == 3
    assert sorted(database) == sorted([nobody, nobody, one_of_two])
    assert fresh not in database and everyone not in database
