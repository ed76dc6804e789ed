"""Every connection to the run's database terminated (pg_terminate_backend) again and again
for a few seconds mid-run: the API, the workers and the sweeper reconnect and carry on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.conftest import CONCURRENCY, UPLOADS, assert_clean
from tests.faults.harness import Deployment, deployment, run_scenario
from tests.faults.scenarios import cut_database


@pytest.fixture(scope="module")
def dep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deployment(tmp_path_factory.mktemp("database-cut")) as running:
        yield running


def test_database_connections_terminated_mid_run(dep: Deployment) -> None:
    result = run_scenario(
        dep,
        "database connections terminated",
        cut_database,
        uploads=UPLOADS,
        concurrency=CONCURRENCY,
        allow_unavailable=True,
    )
    assert result.facts["terminated"] > 0
    assert_clean(result)
