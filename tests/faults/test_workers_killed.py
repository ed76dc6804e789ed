"""Workers killed mid-stage: the whole process group (Celery's master and its pool), and
the pool alone. The deployment keeps its default stage time limit (300 s), so a document
moving again within seconds is the claim heartbeat's doing (issue 14 item 6)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.conftest import CONCURRENCY, UPLOADS, assert_clean
from tests.faults.harness import Deployment, deployment, run_scenario
from tests.faults.scenarios import kill_pool_child_mid_parse, kill_workers_mid_stage, takeover_seconds

# claim_heartbeat_timeout (20 s) + sweep interval + a worker's restart, with room to spare;
# far below the 300 s stage time limit that recovery needed before the heartbeat.
TAKEOVER_WITHIN = 60.0


def sweeper_requeues(dep: Deployment, doc_id: int) -> int:
    [(count,)] = dep.rows(
        "SELECT count(*) FROM documentevent WHERE document_id = %s AND detail = 're-queued by the sweeper'",
        doc_id,
    )
    return int(count)


@pytest.fixture(scope="module")
def dep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deployment(tmp_path_factory.mktemp("workers-killed")) as running:
        assert "NIANBAO_STAGE_TIME_LIMIT" not in running.stack.env  # the default, 300 s
        yield running


def test_worker_groups_killed_mid_parse_validate_and_publish(dep: Deployment) -> None:
    result = run_scenario(
        dep,
        "worker SIGKILL mid-parse/validate/publish",
        kill_workers_mid_stage,
        uploads=UPLOADS,
        concurrency=CONCURRENCY,
    )
    assert_clean(result)
    kills = result.facts["kills"]
    assert {k.service for k in kills} == {"parser", "validator", "publisher"}
    for kill in kills:
        taken = takeover_seconds(dep, kill)
        assert all(t is not None and t < TAKEOVER_WITHIN for t in taken.values()), (kill, taken)
        # The broker keeps the killed task unacknowledged for its visibility timeout (600 s):
        # the sweeper re-queued the document once the claim's heartbeat went silent.
        for doc_id in kill.document_ids:
            assert sweeper_requeues(dep, doc_id) >= 1, f"document {doc_id} was not re-queued by the sweeper"
    assert {"parser", "validator", "publisher"} <= set(dep.stack.restarts)


def test_pool_child_killed_mid_parse(dep: Deployment) -> None:
    result = run_scenario(
        dep, "worker pool child SIGKILL mid-parse", kill_pool_child_mid_parse, uploads=6, concurrency=3
    )
    assert_clean(result)
    [kill] = result.facts["kills"]
    taken = takeover_seconds(dep, kill)
    assert all(t is not None and t < TAKEOVER_WITHIN for t in taken.values()), (kill, taken)
    # Taken over by the broker's redelivery of the same task (its task id holds the claim),
    # not by the sweeper after the heartbeat went silent.
    for doc_id in kill.document_ids:
        assert sweeper_requeues(dep, doc_id) == 0, f"document {doc_id} waited for the sweeper"
