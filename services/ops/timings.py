"""Queue wait and run time per stage, derived from the append-only history.

The claim protocol writes one event per claim (the stage's running status, attempt ≥ 1)
and one per finish (the outcome, same stage and attempt), and every way of asking for a
stage leaves an event in the stage's waiting status. So, per document, in event order:

* queue wait = first waiting event since the last claim → the next claim;
* run time = the latest claim → the outcome event that ends it.

A redelivery that takes a claim over restarts the run clock (the earlier delivery's
time was lost with its worker); sweeper re-queue events (attempt 0) start nothing new.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shared.models import STAGE_RUNNING, STAGE_WAITING, Stage, Status

WAITING_STAGE = {status: stage for stage, status in STAGE_WAITING.items()}
RUNNING_STAGE = {status: stage for stage, status in STAGE_RUNNING.items()}


@dataclass(frozen=True)
class EventRow:
    """The columns of a DocumentEvent this module reads (rows from any query fit)."""

    document_id: int
    at: datetime
    status: Status
    stage: Stage | None
    attempt: int
    event_id: int = 0


@dataclass(frozen=True)
class StageRun:
    """One finished delivery of a stage: how long it queued, ran, and how it ended."""

    document_id: int
    stage: Stage
    outcome: Status
    finished_at: datetime
    queue_wait: float | None  # None when the run was a takeover (no waiting since the last claim)
    run_time: float


@dataclass
class _Clock:
    waiting_since: dict[Stage, datetime] = field(default_factory=dict)
    claimed_at: dict[Stage, datetime] = field(default_factory=dict)
    wait_of_claim: dict[Stage, float | None] = field(default_factory=dict)


def aware(moment: datetime) -> datetime:
    # SQLite hands datetimes back naive; every stored time is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class RunTracker:
    """Follows each document's clocks across calls, so a long history can be fed in
    pieces (each event exactly once, in id order per document)."""

    def __init__(self) -> None:
        self._clocks: dict[int, _Clock] = {}

    def feed(self, event: EventRow) -> StageRun | None:
        clock = self._clocks.setdefault(event.document_id, _Clock())
        at = aware(event.at)
        waiting_for = WAITING_STAGE.get(event.status)
        if waiting_for is not None:
            clock.waiting_since.setdefault(waiting_for, at)
        running_for = RUNNING_STAGE.get(event.status)
        if running_for is not None and event.stage == running_for and event.attempt >= 1:
            since = clock.waiting_since.pop(running_for, None)
            clock.claimed_at[running_for] = at
            # A takeover of a lost delivery keeps the first claim's queue wait.
            if since is not None or running_for not in clock.wait_of_claim:
                clock.wait_of_claim[running_for] = (at - since).total_seconds() if since else None
            return None
        is_outcome = event.stage is not None and event.attempt >= 1 and running_for is None
        if not (is_outcome and event.stage in clock.claimed_at):
            return None
        stage = Stage(event.stage)
        started = clock.claimed_at.pop(stage)
        return StageRun(
            document_id=event.document_id,
            stage=stage,
            outcome=event.status,
            finished_at=at,
            queue_wait=clock.wait_of_claim.pop(stage, None),
            run_time=(at - started).total_seconds(),
        )

    def forget_idle(self, document_ids: Iterable[int]) -> None:
        """Drop the clocks of documents with nothing pending (keeps memory to the active ones)."""
        for doc_id in document_ids:
            clock = self._clocks.get(doc_id)
            if clock is not None and not (clock.waiting_since or clock.claimed_at or clock.wait_of_claim):
                del self._clocks[doc_id]

    def fork(self, document_ids: Iterable[int]) -> RunTracker:
        """A throwaway tracker holding copies of these documents' clocks."""
        copy = RunTracker()
        for doc_id in document_ids:
            clock = self._clocks.get(doc_id)
            if clock is not None:
                copy._clocks[doc_id] = _Clock(
                    dict(clock.waiting_since), dict(clock.claimed_at), dict(clock.wait_of_claim)
                )
        return copy


def stage_runs(events: Iterable[EventRow]) -> list[StageRun]:
    """Finished stage runs from events ordered by (document_id, event id) or by event id."""
    tracker = RunTracker()
    return [run for event in events if (run := tracker.feed(event)) is not None]


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (an observed value, never an interpolation); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]
