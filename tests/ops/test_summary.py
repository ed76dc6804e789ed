"""The ops aggregation on hand-made rows: every number is known in advance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from services.ops.summary import (
    BrokerView,
    all_events,
    database_summary,
    documents_with_failure_reason,
    failure_reason_key,
    pipeline_summary,
    stage_runs,
)
from services.ops.timings import percentile
from shared.models import Stage, Status
from tests.ops.factories import NOW, build_history, sqlite_session

GAVE_UP = "parse: gave up after N deliveries of the parse stage (the worker kept failing on this file)"


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    for s in sqlite_session(tmp_path):
        build_history(s)
        yield s


def test_counts_every_status(session: Session) -> None:
    counts = database_summary(session, NOW)["counts"]
    assert counts == {
        "received": 1,
        "parsing": 0,
        "parsed": 1,
        "validating": 0,
        "needs_review": 1,
        "rejected": 0,
        "approved": 0,
        "publishing": 0,
        "published": 1,
        "failed": 5,
        "superseded": 0,
    }


def test_oldest_document_per_non_terminal_status(session: Session) -> None:
    oldest = database_summary(session, NOW)["oldest"]
    assert set(oldest) == {
        "received",
        "parsing",
        "parsed",
        "validating",
        "needs_review",
        "approved",
        "publishing",
    }
    assert oldest["received"] == {"id": 4, "since": "2026-01-01T11:58:00Z", "age_seconds": 120.0}
    assert oldest["parsed"] == {"id": 3, "since": "2026-01-01T11:59:00Z", "age_seconds": 60.0}
    assert oldest["needs_review"] == {"id": 1, "since": "2026-01-01T11:12:00Z", "age_seconds": 2880.0}
    assert oldest["parsing"] is None and oldest["approved"] is None


def test_stage_runs_from_history(session: Session) -> None:
    runs = {(r.document_id, r.stage): r for r in stage_runs(all_events(session))}
    assert len(runs) == 7  # 1: parse+validate, 2: parse, 3: parse, 9: three stages
    assert (runs[1, Stage.parse].queue_wait, runs[1, Stage.parse].run_time) == (60.0, 30.0)
    assert (runs[1, Stage.validate].queue_wait, runs[1, Stage.validate].run_time) == (10.0, 20.0)
    assert runs[2, Stage.parse].outcome == Status.failed
    assert (runs[2, Stage.parse].queue_wait, runs[2, Stage.parse].run_time) == (120.0, 60.0)
    # The lost first delivery keeps its queue wait; the run counts from the takeover.
    assert (runs[3, Stage.parse].queue_wait, runs[3, Stage.parse].run_time) == (60.0, 60.0)
    assert runs[9, Stage.publish].outcome == Status.published


def test_throughput_and_percentiles_per_stage(session: Session) -> None:
    stages = database_summary(session, NOW)["stages"]
    parse = stages["parse"]
    assert parse["throughput"] == {
        "5m": {"finished": 1, "outcomes": {"parsed": 1}},
        "60m": {"finished": 3, "outcomes": {"failed": 1, "parsed": 2}},
    }
    # Last hour: waits 60, 120, 60; runs 30, 60, 60 (document 9 is older than the hour).
    assert parse["queue_wait_seconds"] == {"p50": 60.0, "p95": 120.0, "count": 3}
    assert parse["run_seconds"] == {"p50": 60.0, "p95": 60.0, "count": 3}
    validate = stages["validate"]
    assert validate["throughput"]["5m"]["finished"] == 0
    assert validate["throughput"]["60m"] == {"finished": 1, "outcomes": {"needs_review": 1}}
    assert validate["queue_wait_seconds"] == {"p50": 10.0, "p95": 10.0, "count": 1}
    assert stages["publish"]["run_seconds"] == {"p50": None, "p95": None, "count": 0}


def test_failures_grouped_by_reason_unacknowledged_only(session: Session) -> None:
    groups = database_summary(session, NOW)["failures"]
    assert [(g["reason"], g["count"], [d["id"] for d in g["documents"]]) for g in groups] == [
        (GAVE_UP, 2, [6, 7]),
        ("parse: pdf_no_text", 1, [2]),
        ("upload: refused", 1, [8]),
    ]
    assert groups[2]["documents"][0]["retryable"] is False
    assert documents_with_failure_reason(session, GAVE_UP) == [6, 7]


def test_pipeline_summary_adds_the_broker(session: Session) -> None:
    broker = BrokerView(
        queue_depth={"parse": 4, "validate": 0, "publish": None},
        workers={"parse": ["parse@a", "parse@b"], "validate": [], "publish": ["publish@a"]},
    )
    stages = pipeline_summary(session, broker, NOW)["stages"]
    assert (stages["parse"]["queue_depth"], stages["parse"]["workers_up"]) == (4, 2)
    assert stages["validate"]["workers"] == [] and stages["validate"]["workers_up"] == 0
    assert stages["publish"]["queue_depth"] is None
    assert stages["parse"]["in_progress"] == 0


@pytest.mark.parametrize(
    ("stage", "error", "key"),
    [
        (Stage.parse, "pdf_encrypted: 文件已加密", "parse: pdf_encrypted"),
        (Stage.validate, "internal error in validate: KeyError: 'x'", "validate: internal error in validate"),
        (None, "refused: too large (60 MiB)", "upload: refused"),
        (Stage.publish, None, "publish: unknown"),
        (
            Stage.parse,
            "stored file raw/9f/9f86d081884c7d65 is missing",
            "parse: stored file raw/N/N is missing",
        ),
    ],
)
def test_failure_reason_key(stage: Stage | None, error: str | None, key: str) -> None:
    assert failure_reason_key(stage, error) == key


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert percentile(values, 0.5) == 10.0
    assert percentile(values, 0.95) == 19.0
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([], 0.5) is None


def test_cli_tables_show_the_summary(session: Session) -> None:
    from rich.console import Console

    from services.ops.cli import summary_tables

    broker = BrokerView(
        queue_depth={"parse": 4, "validate": 0, "publish": None}, workers={"parse": ["parse@a"]}
    )
    console = Console(record=True, width=200)
    console.print(summary_tables(pipeline_summary(session, broker, NOW)))
    text = console.export_text()
    parse_row = next(line for line in text.splitlines() if line.startswith("│ parse "))
    assert [cell.strip() for cell in parse_row.strip("│").split("│")][:6] == [
        "parse",
        "4",
        "0",
        "1 up",
        "1",
        "3",
    ]
    validate_row = next(line for line in text.splitlines() if line.startswith("│ validate "))
    assert "DOWN" in validate_row
    assert "│ failed " in text and GAVE_UP[:60] in text
