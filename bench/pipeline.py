"""End-to-end throughput of the running system (a benchmark, not a test).

Starts the compose services as local processes against the machine's Redis and
PostgreSQL and a moto S3 server (as tests/integration does), uploads N generated text
reports (TXT/HTML) through the API, waits until every one reaches a terminal status, then
does the same with M text-layer PDFs (Word exports by LibreOffice, 4–6 pages each). It
prints, per run: reports/second end to end (and PDF pages/second), p50/p99 upload →
terminal, upload p50/p99, CPU per report of each service and of the machine, and the
throughput of no-op tasks on the same Celery/Redis setup, as a ratio.

    python bench/pipeline.py --reports 300 --pdf-reports 100

The PDFs are rendered once with LibreOffice (about a minute per 100) and kept in var/corpus.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.corpus.generate import FAST_STYLES, STYLES, build_corpus, default_corpus_dir, render_fast  # noqa: E402
from tests.corpus.truth import random_truth  # noqa: E402
from tests.integration.stack import Servers, Stack, create_database, drop_database, start_moto, wait_until  # noqa: E402

TERMINAL = ("needs_review", "rejected", "published", "failed", "superseded")
REDIS_URL = "redis://127.0.0.1:6379/8"
_ANSWERED = re.compile(r'HTTP/1\.[01]" [1-5][0-9][0-9] ')  # werkzeug's access log line
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?!s)")
PDF_SEED = 2027
CLIENTS = 16  # concurrent uploaders, as a district office in the last days of January


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def generate(n: int) -> list[tuple[str, bytes]]:
    rng = random.Random(2026)
    return [render_fast(random_truth(rng), FAST_STYLES[i % len(FAST_STYLES)]) for i in range(n)]


def generate_pdfs(n: int) -> list[tuple[str, bytes]]:
    """n unique text-layer PDFs, spread over the PDF styles (their truths differ by seed)."""
    if n == 0:
        return []
    styles = tuple(s.name for s in STYLES if s.extension == "pdf" and s.docx_source is not None)
    per_style = -(-n // len(styles))
    items = build_corpus(
        default_corpus_dir(per_style=per_style, seed=PDF_SEED),
        per_style=per_style,
        seed=PDF_SEED,
        styles=styles,
    )
    return [(item.path.name, item.path.read_bytes()) for item in items[:n]]


def pdf_pages(data: bytes) -> int:
    return len(_PDF_PAGE.findall(data))


def run_pipeline(stack: Stack, reports: list[tuple[str, bytes]], token: str, moto_pid: int) -> dict[str, Any]:
    upload_times: list[float] = []
    # One client for all uploaders (keep-alive, as a browser or a script would): a new
    # client per request spends the load generator's CPU, on the cores being measured.
    client = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60)

    def send(item: tuple[str, bytes]) -> None:
        started = time.perf_counter()
        response = client.post(f"{stack.api_url}/api/v1/uploads", files=[("files", item)])
        response.raise_for_status()
        upload_times.append(time.perf_counter() - started)

    db_url = stack.env["NIANBAO_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(db_url) as conn:  # this run's documents: those with a higher id
        (since,) = conn.execute("SELECT coalesce(max(id), 0) FROM document").fetchone()  # type: ignore[misc]
    cpu_before = cpu_seconds_by_service(stack) | cpu_seconds_of_servers(moto_pid)
    s3_before = s3_requests(stack.log_dir)
    transactions_before = database_transactions(db_url)
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(send, reports))
    client.close()

    def all_terminal() -> bool:
        with psycopg.connect(db_url) as conn:
            (pending,) = conn.execute(
                "SELECT count(*) FROM document WHERE status::text <> ALL(%s)", (list(TERMINAL),)
            ).fetchone()  # type: ignore[misc]
        return pending == 0

    wait_until(all_terminal, 3600, 0.5, what="all reports to finish")
    elapsed = time.perf_counter() - started
    cpu_after = cpu_seconds_by_service(stack) | cpu_seconds_of_servers(moto_pid)
    s3_per_report = (s3_requests(stack.log_dir) - s3_before) / len(reports)
    time.sleep(STATS_FLUSH_SECONDS)
    transactions = (database_transactions(db_url) - transactions_before) / len(reports)
    cpu_ms = {s: (cpu_after[s] - cpu_before[s]) * 1000 / len(reports) for s in cpu_after}
    with psycopg.connect(db_url) as conn:
        latencies = [
            row[0]
            for row in conn.execute(
                "SELECT extract(epoch FROM status_changed_at - received_at) FROM document WHERE id > %s",
                (since,),
            ).fetchall()
        ]
        by_status: dict[str, int] = dict(
            conn.execute(
                "SELECT status::text, count(*) FROM document WHERE id > %s GROUP BY 1", (since,)
            ).fetchall()
        )
        stages = conn.execute(STAGE_TIMES, (since,)).fetchall()
        (handled_twice,) = conn.execute(HANDLED_TWICE, (since,)).fetchone()  # type: ignore[misc]
    print("final statuses:", by_status)
    return {
        "cpu_ms": cpu_ms,
        "s3_per_report": s3_per_report,
        "transactions_per_report": transactions,
        "stages": stages,
        "handled_twice": handled_twice,
        "throughput": len(reports) / elapsed,
        "pages_per_second": sum(pdf_pages(data) for _, data in reports) / elapsed,
        "e2e_p50": percentile(latencies, 0.5),
        "e2e_p99": percentile(latencies, 0.99),
        "upload_p50": percentile(upload_times, 0.5) * 1000,
        "upload_p99": percentile(upload_times, 0.99) * 1000,
    }


def cpu_seconds_by_service(stack: Stack) -> dict[str, float]:
    """CPU time (user + system) of each service's processes so far, pool children included:
    every process of a service shares its session (the stack starts each in a new one)."""
    sessions = {process.pid: service.split("#")[0] for service, process in stack.processes.items()}
    used = dict.fromkeys(sessions.values(), 0.0)
    for process in running_processes():
        if process.session in sessions:
            used[sessions[process.session]] += process.cpu_seconds
    return used


class RunningProcess(NamedTuple):
    pid: int
    name: str
    session: int
    cpu_seconds: float  # user + system so far
    rss_mb: float


def running_processes() -> Iterator[RunningProcess]:
    """Every process on the machine with its CPU time so far and its resident memory."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        process = read_process(int(stat.parent.name))
        if process is not None:
            yield process


def read_process(pid: int) -> RunningProcess | None:
    """One process's CPU time so far and resident memory (/proc/<pid>/stat); None when it
    has ended."""
    try:
        head, rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)
    except OSError:
        return None
    fields = rest.split()
    seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss_mb = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 1024**2
    return RunningProcess(pid, head.split("(", 1)[1], int(fields[3]), seconds, rss_mb)


# Per stage, from each document's history: the wait in its queue (the previous status to
# the claim) and the work (the claim to the outcome), median and p90 in milliseconds.
STAGE_TIMES = """
WITH steps AS (
    SELECT stage::text AS stage, status::text AS status, at,
           lag(at) OVER (PARTITION BY document_id ORDER BY at, id) AS before,
           lead(at) OVER (PARTITION BY document_id ORDER BY at, id) AS after
    FROM documentevent
    WHERE document_id IN (SELECT id FROM document WHERE id > %s)
)
SELECT stage,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM at - before)) * 1000,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM at - before)) * 1000,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM after - at)) * 1000,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM after - at)) * 1000
FROM steps
WHERE status IN ('parsing', 'validating', 'publishing') AND before IS NOT NULL AND after IS NOT NULL
GROUP BY stage ORDER BY min(at)
"""


# Documents a stage finished more than once (two workers doing the same work): must be none.
HANDLED_TWICE = """
SELECT count(DISTINCT document_id) FROM (
    SELECT document_id, stage FROM documentevent
    WHERE stage IS NOT NULL AND status::text NOT IN ('parsing', 'validating', 'publishing')
      AND document_id > %s
    GROUP BY document_id, stage HAVING count(*) > 1
) AS twice
"""


def cpu_seconds_of_servers(moto_pid: int) -> dict[str, float]:
    """CPU time so far of what is not ours but shares the cores: the S3 server, PostgreSQL
    (every backend), Redis, this load generator, and the whole machine (/proc/stat)."""
    used = {"s3": 0.0, "postgres": 0.0, "redis": 0.0}
    for process in running_processes():
        if process.pid == moto_pid:
            used["s3"] += process.cpu_seconds
        elif process.name.startswith("postgres"):
            used["postgres"] += process.cpu_seconds
        elif process.name.startswith("redis-server"):
            used["redis"] += process.cpu_seconds
    own = os.times()
    used["load generator"] = own.user + own.system
    busy = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    used["machine"] = (sum(busy) - busy[3] - busy[4]) / os.sysconf("SC_CLK_TCK")  # all but idle, iowait
    return used


# PostgreSQL's backends publish their counters at most once a second, and an idle one
# about a second after its last transaction.
STATS_FLUSH_SECONDS = 2.5


def database_transactions(db_url: str) -> int:
    """Transactions the run's database has committed or rolled back so far (this
    benchmark's own status polls included: one every half second)."""
    with psycopg.connect(db_url) as conn:
        (count,) = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()  # type: ignore[misc]
    return int(count)


def s3_requests(log_dir: Path) -> int:
    """Requests the S3 server has answered so far (one log line each)."""
    return len(_ANSWERED.findall((log_dir / "moto.log").read_text(errors="replace")))


def run_noop(env: dict[str, str], n: int, log_dir: Path) -> float:
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "bench.noop_tasks:app",
                "worker",
                "-Q",
                queue,
                "-c",
                "1",
                "--loglevel=WARNING",
            ],
            env=os.environ | env,
            cwd=Path(__file__).resolve().parents[1],
            stdout=(log_dir / f"noop-{queue}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for queue in ("parse", "validate", "publish")
    ]
    try:
        os.environ.update(env)
        from bench.noop_tasks import app

        counter = redis.Redis.from_url(env["NIANBAO_BROKER_URL"])
        counter.delete("bench:noop:done")
        time.sleep(3)  # let the workers connect
        started = time.perf_counter()
        for i in range(n):
            app.send_task("bench.noop.parse", args=[i], queue="parse")
        wait_until(lambda: int(counter.get("bench:noop:done") or 0) >= n, 600, 0.05, what="no-op chains")
        return n / (time.perf_counter() - started)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=200, help="text reports (TXT/HTML)")
    parser.add_argument("--pdf-reports", type=int, default=100, help="text-layer PDFs (0: none)")
    parser.add_argument(
        "--replicas", type=int, default=1, help="instances of each worker service but the publisher"
    )
    args = parser.parse_args()
    runs = {"text": generate(args.reports), "pdf": generate_pdfs(args.pdf_reports)}
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        log_dir = Path(tmp)
        moto, endpoint = start_moto(log_dir)
        name, url = create_database()
        servers = Servers(database_url=url, broker_url=REDIS_URL, s3_endpoint=endpoint, run_name=name)
        stack = Stack(env=servers.environment(log_dir), log_dir=log_dir)
        try:
            stack.prepare()
            token = stack.cli("token", "create", "--role", "ops").strip()
            stack.start_all(replicas=args.replicas)
            for kind, reports in runs.items():
                if reports:
                    results[kind] = run_pipeline(stack, reports, token, moto.pid)
            stack.stop_all()
            noop = run_noop(stack.env, max(args.reports, 500), log_dir)
        finally:
            stack.stop_all()
            drop_database(name)
            moto.terminate()
    for kind, result in results.items():
        print_run(kind, len(runs[kind]), result)
    print(f"no-op 3-stage chains:    {noop:.1f} chains/s on the same Celery/Redis setup")
    if "text" in results:
        print(f"pipeline / no-op ratio:  {results['text']['throughput'] / noop:.3f} (text reports)")


def print_run(kind: str, count: int, result: dict[str, Any]) -> None:
    print(f"--- {count} {kind} reports")
    print(f"end-to-end throughput:   {result['throughput']:.2f} reports/s")
    if kind == "pdf":
        print(f"PDF pages:               {result['pages_per_second']:.1f} pages/s")
    print(f"upload → terminal:       p50 {result['e2e_p50']:.2f} s, p99 {result['e2e_p99']:.2f} s")
    print(f"upload request:          p50 {result['upload_p50']:.0f} ms, p99 {result['upload_p99']:.0f} ms")
    cpu = ", ".join(f"{service} {ms:.0f}" for service, ms in result["cpu_ms"].items())
    print(f"CPU ms per report:       {cpu}")
    print(f"S3 requests per report:  {result['s3_per_report']:.1f}")
    print(f"PostgreSQL transactions per report: {result['transactions_per_report']:.1f}")
    print(f"documents a stage finished twice: {result['handled_twice']}")
    for stage, wait50, wait90, work50, work90 in result["stages"]:
        print(
            f"  {stage:9} queue wait p50 {wait50:6.0f} ms, p90 {wait90:6.0f} ms; "
            f"work p50 {work50:5.0f} ms, p90 {work90:5.0f} ms"
        )


if __name__ == "__main__":
    main()
