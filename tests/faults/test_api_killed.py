"""The API SIGKILLed with uploads in flight; clients retry with the same Idempotency-Key:
each upload is recorded once, whether its first attempt died before or after the commit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.conftest import CONCURRENCY, UPLOADS, assert_clean
from tests.faults.harness import Deployment, deployment, run_scenario
from tests.faults.scenarios import kill_api


@pytest.fixture(scope="module")
def dep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deployment(tmp_path_factory.mktemp("api-killed")) as running:
        yield running


def test_api_killed_with_uploads_in_flight(dep: Deployment) -> None:
    result = run_scenario(
        dep, "API SIGKILL with uploads in flight", kill_api, uploads=UPLOADS, concurrency=CONCURRENCY
    )
    assert result.facts["dropped_requests"] > 0, "the kill should have cut requests in flight"
    assert "api" in dep.stack.restarts
    assert_clean(result)
