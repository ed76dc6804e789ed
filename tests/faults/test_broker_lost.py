"""The broker (Redis, no persistence) killed mid-run and started again empty: every queued
message is gone; uploads accepted meanwhile wait in the outbox; the sweeper re-sends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.conftest import CONCURRENCY, UPLOADS, assert_clean
from tests.faults.harness import Deployment, deployment, run_scenario
from tests.faults.scenarios import lose_broker


@pytest.fixture(scope="module")
def dep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deployment(tmp_path_factory.mktemp("broker-lost")) as running:
        yield running


def test_broker_killed_and_restarted_with_queues_lost(dep: Deployment) -> None:
    result = run_scenario(
        dep,
        "broker killed, queues lost",
        lose_broker,
        uploads=UPLOADS,
        concurrency=CONCURRENCY,
    )  # no 503 either: uploads and approvals wait in the outbox while the broker is away
    assert result.facts["accepted_while_down"] > 0, "uploads must be accepted while the broker is away"
    assert_clean(result)
