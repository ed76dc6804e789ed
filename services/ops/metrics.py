"""Prometheus metrics computed at scrape time from the database and the broker.

The database is the truth and is shared by every process, so a collector that queries
it when scraped gives the same numbers whichever API replica answers, and survives
restarts, which per-process counters would not. The history is append-only, so the
totals below only ever grow: they are true counters.

Reading the whole history at every scrape costs ~10 µs per event (bench/ops_summary.py: 1.4 s for 137k),
so a `HistoryLedger` reads each event once: events older than `SETTLE_SECONDS` are
folded into running totals for good; the newer tail is added on a copy at each scrape
(a transaction still open could yet commit an event with a lower id among them).

Labels are stage, status and outcome only: never a document, agency or worker name.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector, CollectorRegistry
from sqlmodel import Session

from services.ops.summary import BrokerView, events_after, status_counts
from services.ops.timings import RunTracker, StageRun, aware
from shared.models import Stage, utcnow

# Seconds: stages take from well under a second (validate) to minutes (a big PDF),
# and a queue wait may last as long as a backlog.
QUEUE_WAIT_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
RUN_TIME_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
# Every transaction that writes an event is short (a claim, a finish, an API call), so an
# event this old has every lower-id event committed beside it.
SETTLE_SECONDS = 120


@dataclass
class Histogram:
    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)  # per bound, not cumulative
    total: float = 0.0
    observed: int = 0

    def __post_init__(self) -> None:
        self.counts = self.counts or [0] * len(self.bounds)

    def observe(self, value: float) -> None:
        for i, bound in enumerate(self.bounds):
            if value <= bound:
                self.counts[i] += 1
                break
        self.total += value
        self.observed += 1

    def buckets(self) -> list[tuple[str, float]]:
        """Cumulative (le, count) pairs ending with +Inf, as the text format wants them."""
        pairs, running = [], 0
        for bound, count in zip(self.bounds, self.counts, strict=True):
            running += count
            pairs.append((str(float(bound)), float(running)))
        return [*pairs, ("+Inf", float(self.observed))]

    def copy(self) -> Histogram:
        return Histogram(self.bounds, list(self.counts), self.total, self.observed)


@dataclass
class StageTotals:
    """Runs per (stage, outcome) and the queue-wait and run-time histograms per stage."""

    outcomes: dict[tuple[str, str], int] = field(default_factory=dict)
    waits: dict[Stage, Histogram] = field(
        default_factory=lambda: {s: Histogram(QUEUE_WAIT_BUCKETS) for s in Stage}
    )
    runs: dict[Stage, Histogram] = field(
        default_factory=lambda: {s: Histogram(RUN_TIME_BUCKETS) for s in Stage}
    )

    def add(self, run: StageRun) -> None:
        key = (run.stage.value, run.outcome.value)
        self.outcomes[key] = self.outcomes.get(key, 0) + 1
        if run.queue_wait is not None:
            self.waits[run.stage].observe(run.queue_wait)
        self.runs[run.stage].observe(run.run_time)

    def copy(self) -> StageTotals:
        return StageTotals(
            dict(self.outcomes),
            {s: h.copy() for s, h in self.waits.items()},
            {s: h.copy() for s, h in self.runs.items()},
        )


class HistoryLedger:
    """Stage-run totals over the whole history, reading each event once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cursor = 0  # id of the last event folded in for good
        self._tracker = RunTracker()
        self._totals = StageTotals()

    def totals(self, session: Session, now: datetime | None = None) -> StageTotals:
        settled_before = (now or utcnow()) - timedelta(seconds=SETTLE_SECONDS)
        with self._lock:
            events = events_after(session, self._cursor)
            settled = 0
            while settled < len(events) and aware(events[settled].at) < settled_before:
                settled += 1
            for event in events[:settled]:
                if (run := self._tracker.feed(event)) is not None:
                    self._totals.add(run)
            if settled:
                self._cursor = events[settled - 1].event_id
                self._tracker.forget_idle({e.document_id for e in events[:settled]})
            tail = events[settled:]
            totals = self._totals.copy()
            tracker = self._tracker.fork({e.document_id for e in tail})
        for event in tail:
            if (run := tracker.feed(event)) is not None:
                totals.add(run)
        return totals


def _histogram(name: str, doc: str, per_stage: dict[Stage, Histogram]) -> Metric:
    family = HistogramMetricFamily(name, doc, labels=["stage"], unit="seconds")
    for stage, histogram in per_stage.items():
        family.add_metric([stage.value], histogram.buckets(), sum_value=histogram.total)
    return family


def pipeline_metrics(
    session: Session, broker: BrokerView, ledger: HistoryLedger | None = None
) -> list[Metric]:
    totals = (ledger or HistoryLedger()).totals(session)
    outcomes = CounterMetricFamily(
        "nianbao_stage_runs",
        "Finished stage runs by outcome (the status the stage left)",
        labels=["stage", "outcome"],
    )
    for (stage, outcome), count in sorted(totals.outcomes.items()):
        outcomes.add_metric([stage, outcome], count)
    backlog = GaugeMetricFamily("nianbao_documents", "Documents per status now", labels=["status"])
    for status, count in status_counts(session).items():
        backlog.add_metric([status], count)
    depth = GaugeMetricFamily(
        "nianbao_queue_depth", "Messages waiting in the broker per stage queue", labels=["stage"]
    )
    workers = GaugeMetricFamily(
        "nianbao_workers_up", "Workers answering on each stage queue", labels=["stage"]
    )
    for stage in Stage:
        queued = broker.queue_depth.get(stage.value)
        if queued is not None:  # unknown is absent, not zero
            depth.add_metric([stage.value], queued)
        workers.add_metric([stage.value], len(broker.workers.get(stage.value, [])))
    broker_up = GaugeMetricFamily("nianbao_broker_up", "1 when the broker answered this scrape")
    broker_up.add_metric([], 0 if broker.broker_error else 1)
    return [
        outcomes,
        _histogram(
            "nianbao_stage_queue_wait", "Time from asking for a stage to a worker claiming it", totals.waits
        ),
        _histogram("nianbao_stage_run", "Time from claim to outcome of a stage run", totals.runs),
        backlog,
        depth,
        workers,
        broker_up,
    ]


class PipelineCollector(Collector):
    """Queries at scrape time: `open_session` and `broker` are called once per scrape."""

    def __init__(self, open_session: Callable[[], Any], broker: Callable[[], BrokerView]) -> None:
        self.open_session = open_session
        self.broker = broker
        self.ledger = HistoryLedger()

    def collect(self) -> Iterator[Metric]:
        with self.open_session() as session:
            yield from pipeline_metrics(session, self.broker(), self.ledger)


def pipeline_registry(open_session: Callable[[], Any], broker: Callable[[], BrokerView]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PipelineCollector(open_session, broker))
    return registry
