"""Fault scenarios: each family of scenarios runs on a deployment of its own (own Redis,
database and S3 server); see harness.py for what every run asserts."""

from __future__ import annotations

import shutil

import pytest

from tests.faults.harness import RunResult, table

if shutil.which("redis-server") is None:  # pragma: no cover - the machine's setup has it
    pytest.skip("redis-server is not installed: the fault suite starts its own", allow_module_level=True)

# Small runs: the suite must finish in a few minutes on two cores (bench/faults.py runs
# the same scenarios with 150 uploads).
UPLOADS = 12
CONCURRENCY = 6


RESULTS: list[RunResult] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if RESULTS:
        terminalreporter.write_sep("-", "fault scenarios")
        terminalreporter.write_line(table(RESULTS))


def assert_clean(result: RunResult) -> None:
    """Every accepted upload terminal, none failed or stuck, nothing published twice, the
    newest version on the portal, no unexpected 5xx."""
    RESULTS.append(result)
    report = f"\n{table([result])}\n" + "\n".join(result.problems)
    assert result.accepted > 0, report
    assert not result.problems, report
    assert (result.stuck, result.failed, result.duplicated) == (0, 0, 0), report
    assert result.terminal == result.accepted, report
