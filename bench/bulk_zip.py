"""One bulk upload of a season's reports as a zip (a benchmark, not a test).

Builds a zip of N unique HTML reports, each carrying an embedded picture as web pages
do (a data: URI of random bytes, so each member takes about --member-kb in the zip:
5,000 × 200 KB ≈ 1 GB), starts compose's API (`nianbao serve`, two workers) against the machine's
PostgreSQL and Redis and a moto S3 server, with the upload limits raised for one such
bundle, and sends the zip in one `POST /api/v1/uploads` streamed from disk. It samples
the API's resident memory throughout and prints: the zip's size, the request's time and
MB/s, documents recorded and parse messages sent, and the API's peak RSS next to its RSS
before the request — bounded means the peak does not grow with the zip.

    python bench/bulk_zip.py --reports 5000 --member-kb 200
"""

from __future__ import annotations

import argparse
import base64
import random
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import httpx
import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pipeline import REDIS_URL, running_processes  # noqa: E402
from tests.corpus.generate import STYLES, render_fast  # noqa: E402
from tests.corpus.truth import random_truth  # noqa: E402
from tests.integration.stack import Servers, Stack, create_database, drop_database, start_moto  # noqa: E402

HTML_STYLES = tuple(s.name for s in STYLES if s.input_format == "html")
GIB = 1024**3


def build_zip(path: Path, reports: int, member_kb: int) -> int:
    """The bundle on disk; returns its size in bytes."""
    rng = random.Random(2028)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bundle:
        for i in range(reports):
            name, html = render_fast(random_truth(rng), HTML_STYLES[i % len(HTML_STYLES)])
            # Random bytes do not compress: as base64 they deflate back to about member_kb.
            picture = base64.b64encode(rng.randbytes(member_kb * 1024))
            image = b'<p><img alt="" src="data:image/png;base64,' + picture + b'"></p>'
            page = html.replace(b"</body>", image + b"</body>", 1) if b"</body>" in html else html + image
            bundle.writestr(f"{i:05d}-{name}", page)
    return path.stat().st_size


def api_resident_mb(stack: Stack) -> float:
    """Resident memory of the API's processes (the server and its workers), summed."""
    session = stack.processes["api"].pid
    return sum(p.rss_mb for p in running_processes() if p.session == session)


def send_bundle(stack: Stack, zip_path: Path, token: str) -> tuple[float, float, float]:
    """Upload the zip in one request while sampling the API's memory: (seconds, RSS
    before, peak RSS)."""
    before = api_resident_mb(stack)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak.append(api_resident_mb(stack))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    with zip_path.open("rb") as body:
        response = httpx.post(
            f"{stack.api_url}/api/v1/uploads",
            headers={"Authorization": f"Bearer {token}"},
            files=[("files", ("season.zip", body, "application/zip"))],
            timeout=3600,
        )
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    response.raise_for_status()
    return elapsed, before, max(peak)


def recorded(url: str) -> tuple[dict[str, int], int]:
    """Documents per status, and parse messages sent."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        statuses: dict[str, int] = dict(conn.execute("SELECT status::text, count(*) FROM document GROUP BY 1").fetchall())
        (sent,) = conn.execute("SELECT count(*) FROM outboxmessage WHERE sent_at IS NOT NULL").fetchone()  # type: ignore[misc]
    return statuses, int(sent)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=5000)
    parser.add_argument("--member-kb", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log_dir = Path(tmp)
        zip_path = log_dir / "season.zip"
        zip_bytes = build_zip(zip_path, args.reports, args.member_kb)
        moto, endpoint = start_moto(log_dir)
        name, url = create_database()
        limits = {
            "NIANBAO_MAX_REQUEST_BYTES": str(2 * GIB),
            "NIANBAO_MAX_UPLOAD_BYTES": str(2 * GIB),
            "NIANBAO_MAX_ZIP_MEMBERS": str(args.reports),
            "NIANBAO_MAX_ZIP_TOTAL_BYTES": str(4 * GIB),
        }
        servers = Servers(database_url=url, broker_url=REDIS_URL, s3_endpoint=endpoint, run_name=name)
        stack = Stack(env=servers.environment(log_dir, limits), log_dir=log_dir)
        try:
            stack.prepare()
            token = stack.cli("token", "create", "--role", "ops").strip()
            stack.start("api")
            stack.wait_for_api()
            elapsed, before, peak = send_bundle(stack, zip_path, token)
            statuses, sent = recorded(url)
        finally:
            stack.stop_all()
            drop_database(name)
            moto.terminate()
            broker = redis.Redis.from_url(REDIS_URL)  # no worker ran: drop the run's parse messages
            for key in broker.scan_iter(f"{name}:*"):
                broker.delete(key)
    print(f"zip:                 {args.reports} reports, {zip_bytes / 1024**2:.0f} MB")
    print(f"upload request:      {elapsed:.1f} s ({zip_bytes / 1024**2 / elapsed:.1f} MB/s, {args.reports / elapsed:.0f} reports/s)")
    print(f"documents recorded:  {statuses}; parse messages sent: {sent}")
    print(f"API resident memory: {before:.0f} MB before, peak {peak:.0f} MB during the request (both workers)")


if __name__ == "__main__":
    main()
