"""The pipeline survives a worker killed mid-task and a Redis restart mid-run.

These tests start their own stack (own database, own Redis server on a spare port) so
they can break things without disturbing the machine's shared services.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.corpus.render_docx import render as render_docx
from tests.corpus.truth import random_truth
from tests.integration.conftest import FAST_RECOVERY
from tests.integration.stack import (
    Servers,
    Stack,
    create_database,
    drop_database,
    free_port,
    running_stack,
    wait_until,
)
from tests.integration.test_pipeline import SETTLED, auth, db_rows, upload, wait_for_status


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        # No persistence, like the machine's Redis: a restart loses every queued message.
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
        )
        import redis

        wait_until(lambda: redis.Redis(port=self.port).ping(), 10, what="redis-server")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fault_stack(
    own_redis: RedisServer, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    name, url = create_database()
    data_dir = tmp_path_factory.mktemp("fault-stack")
    servers = Servers(database_url=url, broker_url=own_redis.url, s3_endpoint=s3_endpoint, run_name=name)
    with running_stack(servers, data_dir, FAST_RECOVERY) as stack:
        yield stack
    drop_database(name)


@pytest.fixture(scope="module")
def fault_tokens(fault_stack: Stack) -> dict[str, str]:
    return {
        "ops": fault_stack.cli("token", "create", "--role", "ops").strip(),
        "reviewer": fault_stack.cli("token", "create", "--role", "reviewer").strip(),
    }


def consistent_report(seed: int) -> tuple[str, bytes]:
    return render_docx(random_truth(random.Random(seed)))


def as_doc(docx_name: str, docx_bytes: bytes) -> tuple[str, bytes]:
    """A .doc: parsing it needs a LibreOffice conversion, which keeps a worker busy for seconds."""
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed; scripts/setup.sh installs it")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "report.docx"
        source.write_bytes(docx_bytes)
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation=file://{tmp}/profile",
                "--headless",
                "--convert-to",
                "doc",
                "--outdir",
                tmp,
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return docx_name.replace(".docx", ".doc"), (Path(tmp) / "report.doc").read_bytes()


def pool_children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def finish_review(api: httpx.Client, tokens: dict[str, str], doc_id: int) -> dict:
    # `approved` is not an end: the publish stage follows on its own.
    doc = wait_for_status(api, tokens["ops"], doc_id, SETTLED - {"approved"}, timeout=180)
    if doc["status"] == "needs_review":
        api.post(f"/api/v1/documents/{doc_id}/approve", headers=auth(tokens["reviewer"]), json={})
        doc = wait_for_status(api, tokens["ops"], doc_id, {"published", "failed", "rejected"}, timeout=120)
    return doc


def test_worker_killed_mid_parse_still_publishes_once(
    fault_stack: Stack, fault_tokens: dict[str, str]
) -> None:
    name, data = as_doc(*consistent_report(7))
    with httpx.Client(base_url=fault_stack.api_url, timeout=30) as api:
        doc_id = upload(api, fault_tokens["ops"], [(name, data)], agency="故障测试局")["documents"][0]["id"]
        wait_for_status(api, fault_tokens["ops"], doc_id, {"parsing"}, timeout=60)
        worker = fault_stack.processes["parser"]
        victims = pool_children(worker.pid)
        assert victims, "the parse worker has no pool process to kill"
        for pid in victims:
            subprocess.run(["kill", "-9", str(pid)], check=False)
        doc = finish_review(api, fault_tokens, doc_id)
    assert doc["status"] == "published", doc["history"]
    parsing_events = [e for e in doc["history"] if e["status"] == "parsing"]
    assert len(parsing_events) >= 2, "the killed delivery should have been taken over by a second one"
    assert [e["status"] for e in doc["history"]].count("published") == 1
    assert db_rows(fault_stack, "SELECT count(*) FROM publication WHERE document_id = %s", doc_id) == [(1,)]


def test_redis_restart_mid_run_loses_nothing(
    fault_stack: Stack, fault_tokens: dict[str, str], own_redis: RedisServer
) -> None:
    reports = [consistent_report(100 + i) for i in range(8)]
    with httpx.Client(base_url=fault_stack.api_url, timeout=30) as api:
        receipt = upload(api, fault_tokens["ops"], reports, agency="重启测试局")
        ids = [d["id"] for d in receipt["documents"]]
        own_redis.stop()  # queued messages vanish with it
        more = upload(
            api, fault_tokens["ops"], [consistent_report(200)], agency="重启测试局"
        )  # accepted while Redis is down
        ids += [d["id"] for d in more["documents"]]
        own_redis.start()
        finals = [finish_review(api, fault_tokens, doc_id) for doc_id in ids]
    assert [d["status"] for d in finals] == ["published"] * len(ids), [
        (d["id"], d["status"], d.get("error")) for d in finals
    ]
    for doc in finals:
        assert [e["status"] for e in doc["history"]].count("published") == 1
