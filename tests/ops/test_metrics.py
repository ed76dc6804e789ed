"""/metrics content from hand-made rows, read back with Prometheus' own parser."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session

from services.ops.metrics import Histogram, HistoryLedger, StageTotals, pipeline_registry
from services.ops.summary import BrokerView, all_events
from services.ops.timings import stage_runs
from tests.ops.factories import NOW, ago, build_history, sqlite_session

BROKER = BrokerView(
    queue_depth={"parse": 7, "validate": 0, "publish": None},
    workers={"parse": ["parse@a"], "validate": [], "publish": ["publish@a"]},
)


@pytest.fixture
def samples(tmp_path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    sessions: Iterator[Session] = sqlite_session(tmp_path)
    session = next(sessions)
    build_history(session)

    @contextmanager
    def open_session() -> Iterator[Session]:
        yield session

    text = generate_latest(pipeline_registry(open_session, lambda: BROKER)).decode()
    families = list(text_string_to_metric_families(text))
    assert {f.name for f in families} == {
        "nianbao_stage_runs",
        "nianbao_stage_queue_wait_seconds",
        "nianbao_stage_run_seconds",
        "nianbao_documents",
        "nianbao_queue_depth",
        "nianbao_workers_up",
        "nianbao_broker_up",
    }
    for family in families:  # low cardinality: no ids, agencies or worker names
        for sample in family.samples:
            assert set(sample.labels) <= {"stage", "status", "outcome", "le"}
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def test_outcome_counters_over_all_history(samples: dict) -> None:
    assert samples["nianbao_stage_runs_total", (("outcome", "parsed"), ("stage", "parse"))] == 3
    assert samples["nianbao_stage_runs_total", (("outcome", "failed"), ("stage", "parse"))] == 1
    assert samples["nianbao_stage_runs_total", (("outcome", "approved"), ("stage", "validate"))] == 1
    assert samples["nianbao_stage_runs_total", (("outcome", "published"), ("stage", "publish"))] == 1


def test_histograms_of_queue_wait_and_run_time(samples: dict) -> None:
    # parse runs: 30, 60, 60, 60 s; parse waits: 60, 120, 60, 60 s.
    run = "nianbao_stage_run_seconds"
    assert samples[f"{run}_count", (("stage", "parse"),)] == 4
    assert samples[f"{run}_sum", (("stage", "parse"),)] == 210
    assert samples[f"{run}_bucket", (("le", "30.0"), ("stage", "parse"))] == 1
    assert samples[f"{run}_bucket", (("le", "60.0"), ("stage", "parse"))] == 4
    wait = "nianbao_stage_queue_wait_seconds"
    assert samples[f"{wait}_sum", (("stage", "parse"),)] == 300
    assert samples[f"{wait}_bucket", (("le", "60.0"), ("stage", "parse"))] == 3
    assert samples[f"{wait}_bucket", (("le", "+Inf"), ("stage", "parse"))] == 4
    assert samples[f"{wait}_sum", (("stage", "validate"),)] == 70  # 10 + 60


def test_gauges(samples: dict) -> None:
    assert samples["nianbao_documents", (("status", "failed"),)] == 5
    assert samples["nianbao_documents", (("status", "parsing"),)] == 0
    assert samples["nianbao_queue_depth", (("stage", "parse"),)] == 7
    assert ("nianbao_queue_depth", (("stage", "publish"),)) not in samples  # unknown, not 0
    assert samples["nianbao_workers_up", (("stage", "validate"),)] == 0
    assert samples["nianbao_workers_up", (("stage", "publish"),)] == 1
    assert samples["nianbao_broker_up", ()] == 1


def test_histogram_buckets_are_cumulative() -> None:
    histogram = Histogram((1, 2, 5))
    for value in (0.5, 2.0, 2.0, 9.0):
        histogram.observe(value)
    assert histogram.buckets() == [("1.0", 1.0), ("2.0", 3.0), ("5.0", 3.0), ("+Inf", 4.0)]
    assert histogram.total == 13.5


def test_ledger_reads_each_event_once_and_agrees_with_the_whole_history(tmp_path: Path) -> None:
    session = next(sqlite_session(tmp_path))
    build_history(session)
    whole = StageTotals()
    for run in stage_runs(all_events(session)):
        whole.add(run)
    ledger = HistoryLedger()
    # At NOW, document 3's last events are too recent to settle: they and every later
    # event are added on a copy, and must not be counted twice by the next scrape.
    for now in (ago(minutes=50), NOW, NOW, ago(minutes=-60)):
        totals = ledger.totals(session, now)
        assert totals.outcomes == whole.outcomes
        for stage in whole.runs:
            assert totals.runs[stage].buckets() == whole.runs[stage].buckets()
            assert totals.waits[stage].total == whole.waits[stage].total
    assert ledger._cursor == max(e.event_id for e in all_events(session))
    assert ledger._tracker._clocks.keys() == {3, 4}  # only documents still waiting keep a clock
