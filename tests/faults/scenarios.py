"""The faults: each function strikes while the uploads of a run are being sent, returns
when the fault is over (the run's recovery is timed from then) and reports what it did."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg

from tests.faults.harness import ClientLog, Deployment, Fault, wait_for_receipts
from tests.faults.servers import keep_terminating
from tests.integration.stack import wait_until

# Worker service → the status its stage holds while running.
WORKER_STAGES = {"parser": "parsing", "validator": "validating", "publisher": "publishing"}


@dataclass
class Kill:
    service: str
    status: str
    document_ids: list[int]
    at: float  # time.time() of the SIGKILL


def _pool_children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def catch_mid_stage(
    dep: Deployment,
    service: str,
    *,
    whole_group: bool = True,
    exclude: tuple[int, ...] = (),
    timeout: float = 120,
) -> Kill:
    """SIGKILL a worker while it runs a stage on a document.

    No slow input needed: when a document shows the stage's running status, the worker's
    process group is stopped (SIGSTOP) and the database asked again; a document still
    running then is held by the frozen worker, which is killed — provably mid-stage. If
    the stage finished in between, the worker goes on (SIGCONT) and we wait for the next.
    `whole_group=False` kills only the pool processes (Celery's master lives on).
    """
    status = WORKER_STAGES[service]
    query = "SELECT id FROM document WHERE status::text = %s AND NOT (id = ANY(%s))"
    url = dep.database_url.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if conn.execute(query, (status, list(exclude))).fetchall():
                leader = dep.stack.processes[service].pid
                os.killpg(leader, signal.SIGSTOP)
                held = [doc_id for (doc_id,) in conn.execute(query, (status, list(exclude))).fetchall()]
                if held:
                    if whole_group:
                        os.killpg(leader, signal.SIGKILL)
                    else:
                        for child in _pool_children(leader):
                            os.kill(child, signal.SIGKILL)
                        os.killpg(leader, signal.SIGCONT)
                    return Kill(service, status, held, time.time())
                os.killpg(leader, signal.SIGCONT)
            time.sleep(0.02)
    raise TimeoutError(f"no document was seen {status} by {service} within {timeout:.0f} s")


def takeover_seconds(dep: Deployment, kill: Kill) -> dict[int, float | None]:
    """Per killed document: seconds from the kill to the next claim of the same stage."""
    taken: dict[int, float | None] = {}
    for doc_id in kill.document_ids:
        claims = dep.rows(
            "SELECT extract(epoch FROM at) FROM documentevent WHERE document_id = %s AND status::text = %s "
            "ORDER BY id",
            doc_id,
            kill.status,
        )
        later = [float(at) for (at,) in claims if float(at) > kill.at]
        taken[doc_id] = (later[0] - kill.at) if later else None
    return taken


def kill_workers_mid_stage(dep: Deployment, log: ClientLog, planned: int) -> dict[str, Any]:
    """SIGKILL the parser's, the validator's and the publisher's whole process group, each
    while it holds a document mid-stage (all three in the same few seconds)."""
    wait_for_receipts(log, 1)
    kills: dict[str, Kill] = {}
    errors: list[BaseException] = []

    def catch(service: str) -> None:
        try:
            kills[service] = catch_mid_stage(dep, service)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=catch, args=(service,)) for service in WORKER_STAGES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return {"kills": list(kills.values())}


def kill_pool_child_mid_parse(dep: Deployment, log: ClientLog, planned: int) -> dict[str, Any]:
    """SIGKILL only the parser's pool processes mid-parse: Celery's master rejects the task
    (task_reject_on_worker_lost) and the broker delivers it again at once."""
    wait_for_receipts(log, 1)
    return {"kills": [catch_mid_stage(dep, "parser", whole_group=False)]}


BROKER_OUTAGE = 5.0


def lose_broker(dep: Deployment, log: ClientLog, planned: int) -> dict[str, Any]:
    """SIGKILL Redis (no persistence: every queued message is lost); uploads go on meanwhile;
    a new empty Redis on the same port after BROKER_OUTAGE seconds."""
    wait_for_receipts(log, max(1, planned // 3))
    dep.redis.stop()
    accepted_before = len(log.receipts)
    time.sleep(BROKER_OUTAGE)
    dep.redis.start()
    return {"accepted_while_down": len(log.receipts) - accepted_before}


DATABASE_CUT = 5.0


def cut_database(dep: Deployment, log: ClientLog, planned: int) -> dict[str, Any]:
    """pg_terminate_backend on every connection to the run's database, every 0.2 s for
    DATABASE_CUT seconds."""
    wait_for_receipts(log, max(1, planned // 3))
    return {"terminated": keep_terminating(dep.database, DATABASE_CUT, every=0.2)}


# The 30 s, shortened to fit the suite in its few minutes: 20 s still outlasts the
# storage client's read timeout (10 s, NIANBAO_S3_READ_TIMEOUT on branch hardening), so
# every stalled call times out and is retried or answered 503.
S3_FREEZE = 20.0


def freeze_storage(dep: Deployment, log: ClientLog, planned: int) -> dict[str, Any]:
    """SIGSTOP the S3 server for S3_FREEZE seconds: connections hang, nothing answers."""
    wait_for_receipts(log, max(1, planned // 3))
    dep.s3.freeze()
    time.sleep(S3_FREEZE)
    dep.s3.thaw()
    return {"frozen_for": S3_FREEZE}


S3_DOWN = 5.0


def restart_storage(dep: Deployment, log: ClientLog, planned: int) -> dict[str, Any]:
    """Stop the S3 server, keep it down S3_DOWN seconds, start it again on the same port
    with the same data directory (a server that persists, as MinIO or S3 do)."""
    wait_for_receipts(log, max(1, planned // 3))
    dep.s3.stop()
    time.sleep(S3_DOWN)
    dep.s3.start()
    return {"down_for": S3_DOWN}


def kill_api(dep: Deployment, log: ClientLog, planned: int) -> dict[str, Any]:
    """SIGKILL the API with uploads in flight: it is stopped first (SIGSTOP) for a moment so
    that the clients' requests pile up in it, then killed; the supervisor starts it again."""
    wait_for_receipts(log, 1)  # early: most uploads are still to come, some in flight
    dep.kill_service("api", signal.SIGSTOP)
    time.sleep(0.5)
    errors_before = log.connection_errors
    dep.kill_service("api", signal.SIGKILL)
    wait_until(
        lambda: httpx.get(f"{dep.api_url}/healthz", timeout=2).status_code == 200, 60, what="the API back"
    )
    return {"dropped_requests": log.connection_errors - errors_before}


@dataclass(frozen=True)
class Scenario:
    name: str
    fault: Fault
    persistent_s3: bool = False  # needs an S3 server that keeps its data across a restart
    dependency_down: bool = False  # the API may answer 503 + Retry-After meanwhile


SCENARIOS = (
    Scenario("worker SIGKILL mid-parse/validate/publish", kill_workers_mid_stage),
    Scenario("worker pool child SIGKILL mid-parse", kill_pool_child_mid_parse),
    Scenario("broker killed, queues lost", lose_broker),
    Scenario("database connections terminated", cut_database, dependency_down=True),
    Scenario(f"S3 frozen {S3_FREEZE:.0f} s", freeze_storage, persistent_s3=True, dependency_down=True),
    Scenario("S3 stopped and restarted", restart_storage, persistent_s3=True, dependency_down=True),
    Scenario("API SIGKILL with uploads in flight", kill_api),
)
