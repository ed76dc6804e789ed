"""Prometheus metrics computed at scrape time from the database and the broker.

The database is the truth and is shared by every process, so a collector that queries
it when scraped gives the same numbers whichever API replica answers, and survives
restarts, which per-process counters would not. The history is append-only, so the
totals below only ever grow: they are true counters.

Labels are stage, status and outcome only: never a document, agency or worker name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector, CollectorRegistry
from sqlmodel import Session

from services.ops.summary import BrokerView, all_events, status_counts
from services.ops.timings import StageRun, stage_runs
from shared.models import Stage

# Seconds: stages take from well under a second (validate) to minutes (a big PDF),
# and a queue wait may last as long as a backlog.
QUEUE_WAIT_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
RUN_TIME_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)


def histogram_buckets(values: list[float], bounds: tuple[float, ...]) -> list[tuple[str, float]]:
    """Cumulative (le, count) pairs ending with +Inf, as the text format wants them."""
    buckets = [(str(float(bound)), float(sum(v <= bound for v in values))) for bound in bounds]
    return [*buckets, ("+Inf", float(len(values)))]


def _histogram(
    name: str, doc: str, runs_by_stage: dict[Stage, list[float]], bounds: tuple[float, ...]
) -> Metric:
    family = HistogramMetricFamily(name, doc, labels=["stage"], unit="seconds")
    for stage, values in runs_by_stage.items():
        family.add_metric([stage.value], histogram_buckets(values, bounds), sum_value=sum(values))
    return family


def pipeline_metrics(session: Session, broker: BrokerView) -> list[Metric]:
    runs: list[StageRun] = stage_runs(all_events(session))
    outcomes = CounterMetricFamily(
        "nianbao_stage_runs",
        "Finished stage runs by outcome (the status the stage left)",
        labels=["stage", "outcome"],
    )
    counted: dict[tuple[str, str], int] = {}
    for run in runs:
        key = (run.stage.value, run.outcome.value)
        counted[key] = counted.get(key, 0) + 1
    for (stage, outcome), count in sorted(counted.items()):
        outcomes.add_metric([stage, outcome], count)
    waits = {s: [r.queue_wait for r in runs if r.stage == s and r.queue_wait is not None] for s in Stage}
    run_times = {s: [r.run_time for r in runs if r.stage == s] for s in Stage}
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
            "nianbao_stage_queue_wait",
            "Time from asking for a stage to a worker claiming it",
            waits,
            QUEUE_WAIT_BUCKETS,
        ),
        _histogram(
            "nianbao_stage_run", "Time from claim to outcome of a stage run", run_times, RUN_TIME_BUCKETS
        ),
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

    def collect(self) -> Iterator[Metric]:
        with self.open_session() as session:
            yield from pipeline_metrics(session, self.broker())


def pipeline_registry(open_session: Callable[[], Any], broker: Callable[[], BrokerView]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PipelineCollector(open_session, broker))
    return registry
