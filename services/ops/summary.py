"""What ops sees of the pipeline, computed from the database (pure over a Session).

Broker depth and worker liveness come from services.ops.broker; `pipeline_summary`
puts the two together for the API, the dashboard and the CLI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from services.ops.timings import EventRow, StageRun, aware, percentile, stage_runs
from shared.models import STAGE_RUNNING, TERMINAL, Document, DocumentEvent, Stage, Status, iso, utcnow

WINDOWS = {"5m": timedelta(minutes=5), "60m": timedelta(minutes=60)}
# Percentiles describe the last hour: recent enough to show today's trouble.
TIMING_WINDOW = WINDOWS["60m"]
NON_TERMINAL = [s for s in Status if s not in TERMINAL]
# Numbers and hashes (sizes, attempt counts, storage keys) make every file's message unique.
# A "word" of hex digits with at least one digit is a number, a hash or a hash's prefix.
_PARTICULARS = re.compile(r"\b[0-9a-f]*\d[0-9a-f]*\b|\d+")


def status_counts(session: Session) -> dict[str, int]:
    """Documents per status; every status is present (0 when none)."""
    rows = session.exec(select(Document.status, func.count()).group_by(col(Document.status))).all()
    found = {Status(status).value: int(count) for status, count in rows}
    return {s.value: found.get(s.value, 0) for s in Status}


def oldest_waiting(session: Session, now: datetime) -> dict[str, dict[str, Any] | None]:
    """Per non-terminal status, the document longest in it and for how long."""
    oldest: dict[str, dict[str, Any] | None] = {}
    for status in NON_TERMINAL:
        row = session.exec(
            select(Document.id, Document.status_changed_at)
            .where(Document.status == status)
            .order_by(col(Document.status_changed_at), col(Document.id))
            .limit(1)
        ).first()
        if row is None:
            oldest[status.value] = None
            continue
        doc_id, since = row
        since = aware(since)
        oldest[status.value] = {
            "id": doc_id,
            "since": iso(since),
            "age_seconds": round((now - since).total_seconds(), 3),
        }
    return oldest


def recent_events(session: Session, since: datetime) -> list[EventRow]:
    """Every event of the documents that had a stage event since `since`, in order.

    Whole histories, not only the window's events: a run that ended in the window may
    have been queued before it began.
    """
    active = select(DocumentEvent.document_id).where(
        col(DocumentEvent.at) >= since, col(DocumentEvent.stage).is_not(None)
    )
    return _event_rows(session, col(DocumentEvent.document_id).in_(active))


def all_events(session: Session) -> list[EventRow]:
    return _event_rows(session, None)


def events_after(session: Session, event_id: int) -> list[EventRow]:
    """Events with an id above `event_id`, in id order (the metrics ledger's increment)."""
    return _event_rows(session, col(DocumentEvent.id) > event_id, by_document=False)


def _event_rows(session: Session, condition: Any, *, by_document: bool = True) -> list[EventRow]:
    # More columns than sqlmodel's typed select() takes: plain SQLAlchemy.
    query = select_columns(
        col(DocumentEvent.document_id),
        col(DocumentEvent.at),
        col(DocumentEvent.status),
        col(DocumentEvent.stage),
        col(DocumentEvent.attempt),
        col(DocumentEvent.id),
    )
    if condition is not None:
        query = query.where(condition)
    order = (
        [col(DocumentEvent.document_id), col(DocumentEvent.id)] if by_document else [col(DocumentEvent.id)]
    )
    rows = session.execute(query.order_by(*order)).all()
    return [
        EventRow(doc_id, at, Status(status), Stage(stage) if stage else None, attempt, event_id)
        for doc_id, at, status, stage, attempt, event_id in rows
    ]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def stage_activity(runs: list[StageRun], now: datetime) -> dict[str, dict[str, Any]]:
    """Per stage: runs finished in the last 5 and 60 minutes (by outcome) and the
    p50/p95 of queue wait and run time over the last hour."""
    activity: dict[str, dict[str, Any]] = {}
    for stage in Stage:
        mine = [r for r in runs if r.stage == stage]
        throughput = {}
        for name, span in WINDOWS.items():
            recent = [r for r in mine if r.finished_at >= now - span]
            outcomes: dict[str, int] = {}
            for run in recent:
                outcomes[run.outcome.value] = outcomes.get(run.outcome.value, 0) + 1
            throughput[name] = {"finished": len(recent), "outcomes": dict(sorted(outcomes.items()))}
        timed = [r for r in mine if r.finished_at >= now - TIMING_WINDOW]
        waits = [r.queue_wait for r in timed if r.queue_wait is not None]
        run_times = [r.run_time for r in timed]
        activity[stage.value] = {
            "throughput": throughput,
            "queue_wait_seconds": {
                "p50": _rounded(percentile(waits, 0.5)),
                "p95": _rounded(percentile(waits, 0.95)),
                "count": len(waits),
            },
            "run_seconds": {
                "p50": _rounded(percentile(run_times, 0.5)),
                "p95": _rounded(percentile(run_times, 0.95)),
                "count": len(run_times),
            },
        }
    return activity


def failure_reason_key(failed_stage: Stage | None, error: str | None) -> str:
    """Group key of a failure: the stage and the reason's head with numbers and hashes blanked,
    so "gave up after 5 deliveries…" and "…after 6 deliveries…" group together, and
    "pdf_no_text: <file-specific message>" groups by its code."""
    stage = failed_stage.value if failed_stage else "upload"
    head = (error or "unknown").strip().split("\n", 1)[0]
    # Codes and exception names end at a colon; the rest is the particular file's story.
    head = head.split(": ", 1)[0] if ": " in head else head
    head = _PARTICULARS.sub("N", head)[:120]
    return f"{stage}: {head}"


def failure_groups(session: Session) -> list[dict[str, Any]]:
    """Unacknowledged failures grouped by reason, biggest group first."""
    rows = session.execute(
        select_columns(
            col(Document.id),
            col(Document.failed_stage),
            col(Document.error),
            col(Document.status_changed_at),
            col(Document.storage_key),
        )
        .where(col(Document.status) == Status.failed, col(Document.failure_acknowledged_at).is_(None))
        .order_by(col(Document.id))
    ).all()
    groups: dict[str, dict[str, Any]] = {}
    for doc_id, stage, error, since, storage_key in rows:
        stage = Stage(stage) if stage else None
        key = failure_reason_key(stage, error)
        group = groups.setdefault(
            key, {"reason": key, "stage": stage.value if stage else None, "count": 0, "documents": []}
        )
        group["count"] += 1
        group["documents"].append(
            {
                "id": doc_id,
                "error": error,
                "failed_at": iso(aware(since)),
                "retryable": bool(storage_key),  # refused at upload: nothing stored to run again
            }
        )
    return sorted(groups.values(), key=lambda g: (-g["count"], g["reason"]))


def documents_with_failure_reason(session: Session, reason: str) -> list[int]:
    """Ids of unacknowledged failures whose group key is `reason`."""
    return [
        doc["id"]
        for group in failure_groups(session)
        if group["reason"] == reason
        for doc in group["documents"]
    ]


@dataclass(frozen=True)
class BrokerView:
    """What the broker and the workers said (services.ops.broker fills it)."""

    queue_depth: dict[str, int | None]  # None: the broker did not answer
    workers: dict[str, list[str]]  # stage queue → live worker names
    broker_error: str | None = None


def database_summary(session: Session, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    counts = status_counts(session)
    runs = stage_runs(recent_events(session, now - TIMING_WINDOW))
    return {
        "at": iso(now),
        "counts": counts,
        "oldest": oldest_waiting(session, now),
        "stages": stage_activity(runs, now),
        "failures": failure_groups(session),
    }


def pipeline_summary(session: Session, broker: BrokerView, now: datetime | None = None) -> dict[str, Any]:
    """Everything the dashboard shows, as one JSON-able dict."""
    summary = database_summary(session, now)
    for stage in Stage:
        entry = summary["stages"][stage.value]
        entry["queue_depth"] = broker.queue_depth.get(stage.value)
        entry["in_progress"] = summary["counts"][STAGE_RUNNING[stage].value]
        entry["workers"] = broker.workers.get(stage.value, [])
        entry["workers_up"] = len(entry["workers"])
    summary["broker_error"] = broker.broker_error
    return summary
