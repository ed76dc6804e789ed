"""Ops summary and /metrics cost over a large history (prints figures; not a test).

Fills a fresh PostgreSQL database (the machine's, see tests/integration/stack.py) with
N published documents of 7 history events each, plus 1% failures and a backlog of
received documents, then times what one dashboard refresh (the summary, last-hour
window) and a Prometheus scrape cost: the first one of a process reads the whole
history, later ones only the events since (services/ops/metrics.py HistoryLedger).

    .venv/bin/python bench/ops_summary.py [--documents 20000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import Session  # noqa: E402

from services.ops.metrics import HistoryLedger, pipeline_metrics  # noqa: E402
from services.ops.summary import BrokerView, database_summary  # noqa: E402
from shared.db import make_engine, upgrade_schema  # noqa: E402
from shared.models import Document, DocumentEvent, Stage, Status, Upload  # noqa: E402
from tests.integration.stack import create_database, drop_database  # noqa: E402

PIPELINE = [
    (Status.received, None, 0),
    (Status.parsing, Stage.parse, 1),
    (Status.parsed, Stage.parse, 1),
    (Status.validating, Stage.validate, 1),
    (Status.approved, Stage.validate, 1),
    (Status.publishing, Stage.publish, 1),
    (Status.published, Stage.publish, 1),
]
BROKER = BrokerView(queue_depth={s.value: 0 for s in Stage}, workers={s.value: ["w"] for s in Stage})


def fill(session: Session, documents: int, now: datetime) -> None:
    session.add(Upload(id="bench"))
    session.flush()
    docs, events = [], []
    for i in range(1, documents + 1):
        start = now - timedelta(seconds=10 * (documents - i) + 70)  # spread over the past, newest last
        failed = i % 100 == 0
        backlog = i > documents - documents // 50
        status = Status.failed if failed else Status.received if backlog else Status.published
        docs.append(
            {
                "id": i,
                "upload_id": "bench",
                "filename": f"{i}.pdf",
                "size": 1,
                "sha256": f"{i:064d}",
                "storage_key": f"raw/{i}",
                "status": status,
                "status_changed_at": start,
                "failed_stage": Stage.parse if failed else None,
                "error": f"pdf_no_text: page {i % 7}" if failed else None,
                "received_at": start,
                "stage_attempts": 0,
                "agency_key": "",
            }
        )
        steps = (
            PIPELINE[:1]
            if backlog
            else [*PIPELINE[:2], (Status.failed, Stage.parse, 1)]
            if failed
            else PIPELINE
        )
        for n, (event_status, stage, attempt) in enumerate(steps):
            events.append(
                {
                    "document_id": i,
                    "at": start + timedelta(seconds=n * 10),
                    "status": event_status,
                    "stage": stage,
                    "attempt": attempt,
                    "detail": "",
                }
            )
    for chunk in range(0, len(docs), 5000):
        session.execute(insert(Document), docs[chunk : chunk + 5000])
    for chunk in range(0, len(events), 5000):
        session.execute(insert(DocumentEvent), events[chunk : chunk + 5000])
    session.commit()
    print(f"{documents} documents, {len(events)} events")


def timed(label: str, action: Callable[[], object], repeat: int = 3) -> None:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    print(f"{label:<40} median {statistics.median(times) * 1000:8.1f} ms  (of {repeat})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=20000)
    args = parser.parse_args()
    name, url = create_database()
    try:
        upgrade_schema(url)
        engine = make_engine(url)
        now = datetime.now(UTC)
        with Session(engine) as session:
            fill(session, args.documents, now)
        with Session(engine) as session:
            timed("summary (dashboard refresh, 1 h window)", lambda: database_summary(session, now))
            timed("metrics, first scrape (whole history)", lambda: pipeline_metrics(session, BROKER))
            ledger = HistoryLedger()
            pipeline_metrics(session, BROKER, ledger)
            timed("metrics, later scrapes (ledger)", lambda: pipeline_metrics(session, BROKER, ledger))
        engine.dispose()
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
