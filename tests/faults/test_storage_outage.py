"""The S3 server frozen (SIGSTOP) and then stopped and started again on the same port.

The server is s3rver, which keeps buckets and objects in a directory as MinIO or S3 do: a
restart loses nothing, so every document must end well. (moto's server keeps everything
in memory: after a restart the buckets themselves are gone and every later upload and
stage would fail until someone recreated them, which is no real S3's behaviour.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.conftest import CONCURRENCY, UPLOADS, assert_clean
from tests.faults.harness import Deployment, deployment, run_scenario
from tests.faults.scenarios import S3_FREEZE, freeze_storage, restart_storage
from tests.faults.servers import S3rverServer, s3rver_path

if s3rver_path() is None:
    pytest.skip(
        "s3rver is not installed (scripts/setup.sh installs it into .tools/)", allow_module_level=True
    )


@pytest.fixture(scope="module")
def dep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deployment(tmp_path_factory.mktemp("storage-outage"), S3rverServer) as running:
        yield running


def test_storage_frozen(dep: Deployment) -> None:
    result = run_scenario(
        dep,
        f"S3 frozen {S3_FREEZE:.0f} s",
        freeze_storage,
        uploads=UPLOADS,
        concurrency=CONCURRENCY,
        allow_unavailable=True,
    )
    assert_clean(result)


def test_storage_stopped_and_started_again(dep: Deployment) -> None:
    result = run_scenario(
        dep,
        "S3 stopped and restarted",
        restart_storage,
        uploads=UPLOADS,
        concurrency=CONCURRENCY,
        allow_unavailable=True,
    )
    assert_clean(result)
