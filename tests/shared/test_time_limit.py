"""A stage that runs past its time limit is tried once more, then failed with that reason."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from celery.exceptions import Retry, SoftTimeLimitExceeded

from shared.celery_app import make_celery
from shared.models import Stage, Status
from shared.settings import Settings
from shared.stages import run_stage
from tests.shared.test_tracking import FakeRequest, database, new_document, status_of

__all__ = ["database"]


class RetryingTask(SimpleNamespace):
    def retry(self, **kwargs: Any) -> Retry:
        return Retry("retry", when=kwargs.get("countdown"))


def too_slow(session: Any, doc: Any) -> Any:
    raise SoftTimeLimitExceeded()


def test_a_stage_past_its_time_limit_fails_with_that_reason_after_one_retry(database: None) -> None:
    doc_id = new_document()
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
