"""A stage that runs past its time limit is tried once more, then failed with that reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from celery.exceptions import Retry, SoftTimeLimitExceeded

from shared.celery_app import make_celery
from shared.db import get_engine, session_scope, upgrade_schema
from shared.models import Document, Stage, Status, Upload
from shared.settings import Settings, get_settings
from shared.stages import run_stage


@pytest.fixture
def document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A received document in a SQLite database of its own."""
    monkeypatch.setenv("NIANBAO_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    get_engine.cache_clear()
    upgrade_schema()
    with session_scope() as session:
        session.add(Upload(id="u1"))
        session.flush()
        doc = Document(upload_id="u1", filename="a.txt", size=1, sha256="x", storage_key="raw/x")
        session.add(doc)
        session.flush()
        assert doc.id is not None
        doc_id = doc.id
    yield doc_id
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def status_of(doc_id: int) -> Document:
    with session_scope() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None
        return doc


class FakeRequest(SimpleNamespace):
    pass


class RetryingTask(SimpleNamespace):
    def retry(self, **kwargs: Any) -> Retry:
        return Retry("retry", when=kwargs.get("countdown"))


def too_slow(session: Any, doc: Any) -> Any:
    raise SoftTimeLimitExceeded()


def test_a_stage_past_its_time_limit_fails_with_that_reason_after_one_retry(document: int) -> None:
    doc_id = document
    task = RetryingTask(request=FakeRequest(id="task-a", retries=0), max_retries=5)
    with pytest.raises(Retry):
        run_stage(task, Stage.parse, doc_id, too_slow)  # type: ignore[arg-type]
    assert status_of(doc_id).status == Status.parsing  # held for the retry, same task id
    task.request.retries = 1
    run_stage(task, Stage.parse, doc_id, too_slow)  # type: ignore[arg-type]
    doc = status_of(doc_id)
    assert doc.status == Status.failed and doc.failed_stage == Stage.parse
    assert "ran past its time limit" in (doc.error or "") and "2 times" in (doc.error or "")


def test_stage_tasks_get_a_soft_time_limit_before_the_hard_one() -> None:
    settings = Settings(stage_time_limit=300)
    conf = make_celery(settings).conf
    assert conf.task_time_limit == 300
    assert 0 < conf.task_soft_time_limit < 300
