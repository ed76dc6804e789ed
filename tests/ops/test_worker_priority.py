"""How the workers run. They yield the CPU to the API: their niceness must count where
Linux schedules by session (autogroup), as it does for services started each in a session
of their own. They send Celery's task events only when asked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = (
    "import os; from services.cli import lower_priority_to; lower_priority_to(7); "
    "print(os.nice(0)); print(open('/proc/self/autogroup').read().strip())"
)


def session_niceness(autogroup_line: str) -> int | None:
    """"/autogroup-85 nice 0" → 0. A session that never called setsid() since boot (a
    container's first one, say) is in the default group, whose file reads empty: None."""
    return int(autogroup_line.rsplit("nice", 1)[1]) if "nice" in autogroup_line else None


def niceness_after_lowering(*, own_session: bool) -> tuple[int, int | None]:
    """(process niceness, session niceness) of a process that lowered its priority to 7."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
        start_new_session=own_session,
    )
    process, _, session = result.stdout.partition("\n")
    return int(process), session_niceness(session.strip())


@pytest.mark.skipif(not Path("/proc/self/autogroup").exists(), reason="no autogroup scheduling here")
def test_a_worker_alone_in_its_session_lowers_the_session_and_one_sharing_it_does_not() -> None:
    assert niceness_after_lowering(own_session=True) == (7, 7)
    ours = session_niceness(Path("/proc/self/autogroup").read_text().strip())
    assert niceness_after_lowering(own_session=False) == (7, ours)  # the test's session untouched


def test_workers_send_task_events_only_when_asked() -> None:
    """Four Redis messages a task, read by nothing of ours: off unless NIANBAO_TASK_EVENTS
    (Flower turns the workers' on while it runs)."""
    from services.cli import worker_arguments
    from shared.celery_app import make_celery
    from shared.settings import Settings

    quiet, watched = make_celery(Settings()).conf, make_celery(Settings(task_events=True)).conf
    assert (quiet.worker_send_task_events, quiet.task_send_sent_event) == (False, False)
    assert (watched.worker_send_task_events, watched.task_send_sent_event) == (True, True)
    assert "-E" not in worker_arguments("parse", 2, "prefork", task_events=False)
    assert "-E" in worker_arguments("parse", 2, "prefork", task_events=True)
