"""What a stage costs before it does any work of its own (a benchmark, not a test).

1. The tracking protocol per document, in this process, on the machine's PostgreSQL and
   Redis (as shared/stages.py runs it, without Celery): claim and load, record the outcome
   with the next stage's outbox row, commit, send the message and mark it sent.
2. One S3 request of a 10 KB object on moto's server (the benchmarks' stand-in for MinIO):
   the server's CPU and the client's.

Together with bench/pipeline.py's no-op Celery chains, these are the floor under a report's
cost on this machine (docs/capacity.md).

    .venv/bin/python bench/plumbing.py [--documents 300] [--requests 500]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pipeline import read_process  # noqa: E402
from tests.integration.stack import create_database, drop_database, start_moto  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/8"
PREFIX = "bench-plumbing:"
WARM_UP = 30


def tracking_per_document(documents: int) -> dict[str, float]:
    """ms of this process's CPU per document for each step of the protocol (validate stage,
    a typical parse result loaded with the claim)."""
    name, url = create_database()
    os.environ |= {
        "NIANBAO_DATABASE_URL": url,
        "NIANBAO_DATA_DIR": tempfile.mkdtemp(),
        "NIANBAO_BROKER_URL": REDIS_URL,
        "NIANBAO_BROKER_KEY_PREFIX": PREFIX,
    }
    from shared.db import get_engine, upgrade_schema

    try:
        upgrade_schema()
        spent = dict.fromkeys(("claim and load", "outcome and outbox row", "commit", "send and mark sent"), 0.0)
        for index, document_id in enumerate(_parsed_documents(documents + WARM_UP)):
            marks = _one_validate_stage(document_id)
            if index >= WARM_UP:
                for step, before, after in zip(spent, marks, marks[1:], strict=False):
                    spent[step] += after - before
        get_engine().dispose()
        return {step: seconds / documents * 1000 for step, seconds in spent.items()}
    finally:
        drop_database(name)
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{PREFIX}*"):
            client.delete(key)


def _parsed_documents(count: int) -> list[int]:
    """`count` documents waiting for the validate stage, each with the same parse result."""
    from services.parser import parse_document
    from shared.db import session_scope
    from shared.models import Document, Status, Upload
    from tests.corpus.generate import FAST_STYLES, render_fast
    from tests.corpus.truth import random_truth

    filename, data = render_fast(random_truth(random.Random(3)), FAST_STYLES[0])
    parsed = parse_document(data, filename).to_json()
    with session_scope() as session:
        session.add(Upload(id="bench"))
        session.flush()
        rows = [
            Document(
                upload_id="bench", filename=filename, size=len(data), sha256=str(i), storage_key="-",
                status=Status.parsed, parsed=parsed,
            )
            for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id or 0 for row in rows]


def _one_validate_stage(document_id: int) -> list[float]:
    """The protocol's steps on one document as shared/stages.py runs them (no work between
    claim and outcome); this process's CPU clock before, between and after them."""
    from sqlmodel import Session

    from shared.db import get_engine
    from shared.models import Stage, Status
    from shared.tracking import claim_and_load, finish_stage, send_outbox_message

    marks = [time.process_time()]
    with Session(get_engine(), expire_on_commit=False) as session:
        claimed = claim_and_load(session, document_id, Stage.validate, f"bench-{document_id}")
        assert claimed is not None
        claim, doc = claimed
        marks.append(time.process_time())
        doc.findings = []
        session.add(doc)
        finished = finish_stage(session, claim, Status.approved, next_stage=Stage.publish)
        marks.append(time.process_time())
        session.commit()
        marks.append(time.process_time())
    assert finished is not None and finished.next_message is not None
    send_outbox_message(finished.next_message)
    marks.append(time.process_time())
    return marks


def _cpu_seconds(pid: int) -> float:
    process = read_process(pid)
    assert process is not None, f"process {pid} has ended"
    return process.cpu_seconds


def s3_per_request(requests: int) -> dict[str, float]:
    """ms of CPU per 10 KB put and get: moto's server process and this client."""
    from shared.settings import Settings
    from shared.storage import ensure_buckets, open_store

    process, endpoint = start_moto(Path(tempfile.mkdtemp()))
    try:
        settings = Settings(storage_backend="s3", s3_endpoint=endpoint, s3_access_key="bench", s3_secret_key="bench")
        ensure_buckets(settings)
        store = open_store(settings, settings.raw_bucket)
        body = b"x" * 10_000
        for index in range(WARM_UP):
            store.put(f"warm/{index}", body, "text/html")
        figures: dict[str, float] = {}
        for verb, request in (
            ("put", lambda key: store.put(key, body, "text/html")),
            ("get", lambda key: store.get(key)),
        ):
            server, client = _cpu_seconds(process.pid), time.process_time()
            for index in range(requests):
                request(f"k/{index}")
            figures[f"{verb}: S3 server"] = (_cpu_seconds(process.pid) - server) / requests * 1000
            figures[f"{verb}: client"] = (time.process_time() - client) / requests * 1000
        return figures
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    steps = tracking_per_document(args.documents)
    print(f"tracking protocol, ms of CPU per document and stage ({args.documents} documents, PostgreSQL, Redis):")
    for step, ms in steps.items():
        print(f"  {step:<24} {ms:5.2f}")
    print(f"  {'all':<24} {sum(steps.values()):5.2f}")
    print(f"S3 request of 10 KB on moto, ms of CPU ({args.requests} each):")
    for what, ms in s3_per_request(args.requests).items():
        print(f"  {what:<24} {ms:5.2f}")


if __name__ == "__main__":
    main()
