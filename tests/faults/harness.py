"""Run the compose deployment on servers of its own, upload reports while a fault strikes,
and judge the outcome. Shared by the fault tests (tests/faults) and bench/faults.py.

A run: plan uploads (several agencies, each with corrected versions of its report for
one year, each uploaded with that agency's uploader token), send them from a few client
threads that behave as a careful client does (same Idempotency-Key on every retry; retry
after a dropped connection or a 5xx, honouring Retry-After), let the scenario break
something meanwhile, approve what needs review as a reviewer would, wait until every
accepted document is terminal, then read the database and the portal bucket:

* every 202 upload's documents reach a terminal status (published, rejected, failed,
  superseded) — the rest are *stuck*;
* nothing is published twice — one publication row and one `published` event per
  document, one publication per (agency, year, version), one published document per
  agency-year — and no upload is recorded twice for one Idempotency-Key (*duplicated*);
* for each agency-year, versions follow receipt order and the newest approved version is
  the published one and the one on the portal's page of the report;
* no 5xx answered (a scenario whose dependency is down may answer 503 with Retry-After).
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from minio import Minio
from sqlmodel import Session, create_engine

from services.ingest.auth import Role, create_token
from tests.corpus.generate import report_of
from tests.faults.servers import (
    MotoServer,
    RedisServer,
    S3Server,
    own_database,
    own_redis,
    own_s3,
)
from tests.integration.stack import Servers, Stack, running_stack, wait_until

TERMINAL = {"published", "rejected", "failed", "superseded"}
YEAR = 2024
# The deployment's defaults (stage time limit 300 s, claim heartbeat 5 s / 20 s, broker
# visibility timeout 600 s) except two clocks that only set how long a test waits:
# a message lost with the broker is re-sent after 10 s (not 10 min) and transient
# retries back off at most 4 s (not 60 s); the sweeper runs every second.
FAULT_CLOCKS = {
    "NIANBAO_REQUEUE_WAITING_AFTER": "10",
    "NIANBAO_RETRY_BACKOFF_MAX": "4",
    "NIANBAO_SWEEP_INTERVAL": "1",
}
# Bodies that report to the same government: each gets an uploader token of its own.
AGENCIES = (
    "洛阳市财政局",
    "洛阳市民政局",
    "洛阳市教育局",
    "洛阳市水利局",
    "洛阳市交通运输局",
    "洛阳市商务局",
    "洛阳市审计局",
    "洛阳市统计局",
    "洛阳市林业局",
    "洛阳市司法局",
    "洛阳市体育局",
    "洛阳市粮食和物资储备局",
)
UPLOAD_DEADLINE = 240.0  # seconds a client keeps retrying one upload


@dataclass
class Deployment:
    """The compose services on a Redis, a database and an S3 server of their own."""

    stack: Stack
    redis: RedisServer
    s3: S3Server
    database: str
    database_url: str
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return self.stack.api_url

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            return conn.execute(sql, params).fetchall()

    def token(self, role: Role, agency: str | None = None) -> str:
        """A token made as `nianbao token create` makes it (without a process per token)."""
        name = f"{role.value}:{agency or ''}"
        if name not in self.tokens:
            engine = create_engine(self.database_url)
            try:
                with Session(engine) as session:
                    self.tokens[name] = create_token(session, role, [agency] if agency else [], "fault suite")
                    session.commit()
            finally:
                engine.dispose()
        return self.tokens[name]

    def kill_service(self, service: str, sig: int = signal.SIGKILL) -> None:
        """Signal the service's whole process group (a Celery worker: master and pool);
        the stack's supervisor starts it again, as compose's restart policy does."""
        os.killpg(self.stack.processes[service].pid, sig)

    def portal_page(self, key: str) -> str:
        client = Minio(
            self.s3.endpoint, access_key=self.s3.access_key, secret_key=self.s3.secret_key, secure=False
        )
        response = client.get_object(self.stack.env["NIANBAO_PORTAL_BUCKET"], key)
        try:
            return response.read().decode("utf-8")
        finally:
            response.close()
            response.release_conn()


@contextmanager
def deployment(directory: Path, s3: type[S3Server] = MotoServer) -> Iterator[Deployment]:
    """Start a Redis, a database, an S3 server and the app services; tear all down after."""
    directory.mkdir(parents=True, exist_ok=True)
    with (
        own_redis(directory) as redis_server,
        own_database() as (name, url),
        own_s3(s3(directory)) as s3_server,
    ):
        servers = Servers(database_url=url, broker_url=redis_server.url, s3_endpoint=s3_server.endpoint)
        extra = FAULT_CLOCKS | s3_server.environment()
        with running_stack(servers, directory, extra) as stack:
            try:
                yield Deployment(stack, redis_server, s3_server, name, url)
            finally:
                stack.stop_all(signal.SIGKILL)  # judged already: no need for a graceful stop


# --- the uploads ------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedUpload:
    key: str  # the Idempotency-Key of every attempt
    agency: str
    filename: str
    data: bytes


def plan_uploads(count: int, label: str, agencies: int = 4) -> list[PlannedUpload]:
    """`count` reports of `agencies` bodies for one year: every body has several corrected
    versions, sent interleaved so that versions of a series race each other."""
    bodies = AGENCIES[: max(1, min(agencies, len(AGENCIES), count))]
    first_variant = zlib.crc32(label.encode()) % 1000
    plans = []
    for index in range(count):
        agency = bodies[index % len(bodies)]
        variant = index // len(bodies)
        plans.append(
            PlannedUpload(
                key=f"{label}-{index}",
                agency=agency,
                filename=f"{agency}{YEAR}年报-v{variant + 1}.txt",
                data=report_of(agency, YEAR, variant=first_variant + variant),
            )
        )
    return plans


@dataclass
class ClientLog:
    """What the clients saw."""

    receipts: dict[str, dict[str, Any]] = field(default_factory=dict)  # key → 202 body
    server_errors: Counter[int] = field(default_factory=Counter)  # 5xx status → count
    unavailable_without_retry_after: int = 0
    connection_errors: int = 0
    refused: list[str] = field(default_factory=list)  # 4xx and gave-up attempts
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note_server_error(self, response: httpx.Response) -> None:
        with self.lock:
            self.server_errors[response.status_code] += 1
            if response.status_code == 503 and "retry-after" not in response.headers:
                self.unavailable_without_retry_after += 1

    @property
    def accepted_ids(self) -> list[int]:
        return sorted(
            {d["id"] for r in self.receipts.values() for d in r["documents"] if d.get("id") is not None}
        )


def retry_pause(response: httpx.Response | None) -> float:
    """Retry-After when given, but at most 5 s: a test's patience, not a client's rule."""
    if response is not None:
        try:
            return min(5.0, max(0.2, float(response.headers.get("retry-after", "1"))))
        except ValueError:
            return 1.0
    return 0.5


def send_upload(api_url: str, token: str, plan: PlannedUpload, log: ClientLog) -> None:
    """Send one upload as a careful client: retry with the same key until a 202 or a 4xx."""
    deadline = time.monotonic() + UPLOAD_DEADLINE
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": plan.key}
    while time.monotonic() < deadline:
        response = None
        try:
            response = httpx.post(
                f"{api_url}/api/v1/uploads",
                headers=headers,
                files=[("files", (plan.filename, plan.data))],
                timeout=90,
            )
        except httpx.TransportError:
            with log.lock:
                log.connection_errors += 1
        else:
            if response.status_code == 202:
                with log.lock:
                    log.receipts[plan.key] = response.json()
                return
            if response.status_code >= 500:
                log.note_server_error(response)
            else:
                with log.lock:
                    log.refused.append(f"{plan.key}: {response.status_code} {response.text[:200]}")
                return
        time.sleep(retry_pause(response))
    with log.lock:
        log.refused.append(f"{plan.key}: no 202 within {UPLOAD_DEADLINE:.0f} s")


# --- waiting for the end ------------------------------------------------------------------


def approve_waiting(dep: Deployment, ids: list[int], log: ClientLog) -> None:
    """A reviewer approves every document that needs review (as the integration tests do)."""
    waiting = dep.rows(
        "SELECT id FROM document WHERE id = ANY(%s) AND status::text = 'needs_review'", list(ids)
    )
    reviewer = dep.token(Role.reviewer)
    for (doc_id,) in waiting:
        try:
            response = httpx.post(
                f"{dep.api_url}/api/v1/documents/{doc_id}/approve",
                headers={"Authorization": f"Bearer {reviewer}"},
                json={"reason": "checked (fault suite)"},
                timeout=30,
            )
        except httpx.TransportError:
            continue  # next round
        if response.status_code >= 500:
            log.note_server_error(response)


def settle(dep: Deployment, ids: list[int], log: ClientLog, timeout: float) -> list[int]:
    """Approve what needs review until every document is terminal; returns those still not."""
    deadline = time.monotonic() + timeout
    pending = list(ids)
    while pending and time.monotonic() < deadline:
        try:
            approve_waiting(dep, pending, log)
            pending = [
                doc_id
                for (doc_id,) in dep.rows(
                    "SELECT id FROM document WHERE id = ANY(%s) AND status::text <> ALL(%s)",
                    pending,
                    list(TERMINAL),
                )
            ]
        except psycopg.OperationalError:
            pass  # the database is being cut: look again
        time.sleep(0.5)
    return pending


# --- judging --------------------------------------------------------------------------


@dataclass
class RunResult:
    scenario: str
    planned: int
    accepted: int = 0
    terminal: int = 0
    stuck: int = 0
    failed: int = 0
    duplicated: int = 0
    server_errors: int = 0
    server_error_codes: dict[int, int] = field(default_factory=dict)
    recover_seconds: float | None = None
    problems: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def row(self) -> list[str]:
        recover = "-" if self.recover_seconds is None else f"{self.recover_seconds:.1f} s"
        codes = ", ".join(f"{code}×{n}" for code, n in sorted(self.server_error_codes.items()))
        return [
            self.scenario,
            str(self.accepted),
            str(self.terminal),
            str(self.stuck),
            str(self.failed),
            str(self.duplicated),
            f"{self.server_errors} ({codes})" if codes else "0",
            recover,
        ]


TABLE_HEADER = ["scenario", "accepted", "terminal", "stuck", "failed", "duplicated", "5xx", "time to recover"]


def table(results: list[RunResult]) -> str:
    rows = [TABLE_HEADER, *(r.row() for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_HEADER))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def _stuck_trails(dep: Deployment, ids: list[int]) -> list[str]:
    trails = []
    for doc_id in ids[:5]:
        events = dep.rows(
            "SELECT status::text, stage::text, attempt, detail FROM documentevent WHERE document_id = %s ORDER BY id",
            doc_id,
        )
        trails.append(f"document {doc_id} stuck: {events}")
    return trails


def judge(
    dep: Deployment,
    result: RunResult,
    log: ClientLog,
    plans: list[PlannedUpload],
    stuck: list[int],
    restored_at: float,
    allow_unavailable: bool,
) -> RunResult:
    ids = log.accepted_ids
    result.accepted = len(ids)
    result.stuck = len(stuck)
    result.problems += _stuck_trails(dep, stuck)
    result.problems += log.refused
    if len(log.receipts) != len(plans):
        result.problems.append(f"{len(plans) - len(log.receipts)} of {len(plans)} uploads never got a 202")

    statuses = dict(dep.rows("SELECT id, status::text FROM document WHERE id = ANY(%s)", ids))
    result.terminal = sum(1 for s in statuses.values() if s in TERMINAL)
    failures = dep.rows(
        "SELECT id, failed_stage::text, error FROM document WHERE id = ANY(%s) AND status::text = 'failed'",
        ids,
    )
    result.failed = len(failures)
    result.problems += [f"document {i} failed in {stage}: {error}" for i, stage, error in failures]

    duplicated = _published_twice(dep, ids) + _uploaded_twice(dep, plans, log)
    result.duplicated = len(duplicated)
    result.problems += duplicated
    result.problems += _newest_not_on_portal(dep, ids)

    result.server_errors = sum(log.server_errors.values())
    result.server_error_codes = dict(log.server_errors)
    unexpected = {code: n for code, n in log.server_errors.items() if not (allow_unavailable and code == 503)}
    if unexpected:
        result.problems.append(f"server errors answered: {unexpected}")
    if log.unavailable_without_retry_after:
        result.problems.append(f"{log.unavailable_without_retry_after} answers 503 without Retry-After")

    if not stuck:
        (last,) = dep.rows("SELECT max(status_changed_at) FROM document WHERE id = ANY(%s)", ids)[0]
        if last is not None:
            result.recover_seconds = max(0.0, _epoch(last) - restored_at)
    return result


def _epoch(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _published_twice(dep: Deployment, ids: list[int]) -> list[str]:
    found = [
        f"document {doc_id} has {n} publication rows"
        for doc_id, n in dep.rows(
            "SELECT document_id, count(*) FROM publication WHERE document_id = ANY(%s) GROUP BY 1 HAVING count(*) > 1",
            ids,
        )
    ]
    found += [
        f"document {doc_id} was published {n} times (history)"
        for doc_id, n in dep.rows(
            "SELECT document_id, count(*) FROM documentevent WHERE document_id = ANY(%s) AND status::text = 'published' "
            "GROUP BY 1 HAVING count(*) > 1",
            ids,
        )
    ]
    found += [
        f"{agency} {year} version {version} has {n} publications"
        for agency, year, version, n in dep.rows(
            "SELECT agency_norm, year, version, count(*) FROM publication GROUP BY 1, 2, 3 HAVING count(*) > 1"
        )
    ]
    found += [
        f"{agency} {year} has {n} published documents at once"
        for agency, year, n in dep.rows(
            "SELECT agency_norm, year, count(*) FROM document WHERE status::text = 'published' "
            "GROUP BY 1, 2 HAVING count(*) > 1"
        )
    ]
    return found


def _uploaded_twice(dep: Deployment, plans: list[PlannedUpload], log: ClientLog) -> list[str]:
    """A retried request must never record the upload (or its documents) a second time."""
    keys = [p.key for p in plans]
    found = [
        f"Idempotency-Key {key} recorded {n} uploads"
        for key, n in dep.rows(
            "SELECT idempotency_key, count(*) FROM upload WHERE idempotency_key = ANY(%s) GROUP BY 1 HAVING count(*) > 1",
            keys,
        )
    ]
    by_sha = Counter(hashlib.sha256(p.data).hexdigest() for p in plans)
    for sha, n in dep.rows(
        "SELECT d.sha256, count(*) FROM document d JOIN upload u ON u.id = d.upload_id "
        "WHERE u.idempotency_key = ANY(%s) GROUP BY 1",
        keys,
    ):
        if n > by_sha[sha]:
            found.append(f"file {sha[:12]} recorded {n} times for {by_sha[sha]} upload(s)")
    return found


def _newest_not_on_portal(dep: Deployment, ids: list[int]) -> list[str]:
    """Per agency-year: versions in receipt order, the newest approved one published and on
    the portal's report page."""
    problems = []
    rows = dep.rows(
        "SELECT d.id, d.agency_norm, d.year, d.version, d.status::text, "
        "EXISTS (SELECT 1 FROM documentevent e WHERE e.document_id = d.id AND e.status::text = 'approved') "
        "FROM document d WHERE d.id = ANY(%s) AND d.duplicate_of IS NULL AND d.agency_norm IS NOT NULL "
        "ORDER BY d.id",
        ids,
    )
    series: dict[tuple[str, int], list[tuple[int, int, str, bool]]] = {}
    for doc_id, agency, year, version, status, approved in rows:
        series.setdefault((agency, year), []).append((doc_id, version, status, approved))
    for (agency, year), docs in series.items():
        versions = [version for _, version, _, _ in docs]  # docs in receipt (id) order
        if versions != sorted(versions) or len(set(versions)) != len(versions):
            problems.append(f"{agency} {year}: versions {versions} do not follow receipt order")
        approved = [d for d in docs if d[3]]
        if not approved:
            continue
        newest_id, newest_version, newest_status, _ = max(approved, key=lambda d: d[1])
        if newest_status != "published":
            problems.append(
                f"{agency} {year}: newest version {newest_version} (document {newest_id}) is {newest_status}"
            )
            continue
        location = dep.rows("SELECT location FROM publication WHERE document_id = %s", newest_id)
        if not location:
            problems.append(f"{agency} {year}: document {newest_id} is published without a publication row")
            continue
        page = dep.portal_page(location[0][0])
        if f'data-document-id="{newest_id}"' not in page:
            problems.append(
                f"{agency} {year}: the portal's page {location[0][0]} is not document {newest_id}"
            )
    return problems


# --- a run ----------------------------------------------------------------------------------

# (deployment, what the clients saw so far, how many uploads the run plans) → facts
Fault = Callable[[Deployment, ClientLog, int], dict[str, Any]]


def run_scenario(
    dep: Deployment,
    scenario: str,
    fault: Fault,
    *,
    uploads: int,
    concurrency: int,
    allow_unavailable: bool = False,
    settle_timeout: float = 180.0,
) -> RunResult:
    """Upload `uploads` reports from `concurrency` clients while `fault` strikes; judge."""
    plans = plan_uploads(uploads, scenario, agencies=max(2, uploads // 3))
    tokens = {p.agency: dep.token(Role.uploader, p.agency) for p in plans}
    dep.token(Role.reviewer)
    log = ClientLog()
    result = RunResult(scenario, planned=uploads)
    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as clients:
        sent = [clients.submit(send_upload, dep.api_url, tokens[p.agency], p, log) for p in plans]
        result.facts = fault(dep, log, uploads)
        restored_at = time.time()
        for future in sent:
            future.result()
    stuck = settle(dep, log.accepted_ids, log, settle_timeout)
    judge(dep, result, log, plans, stuck, restored_at, allow_unavailable)
    result.facts["seconds"] = round(time.monotonic() - started, 1)
    result.facts["connection_errors"] = log.connection_errors
    return result


def wait_for_receipts(log: ClientLog, count: int, timeout: float = 120) -> None:
    """Let the run get going before the fault strikes."""
    wait_until(lambda: len(log.receipts) >= count, timeout, 0.05, what=f"{count} accepted uploads")
