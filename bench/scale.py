"""Per-document cost of the validate and publish stages against a full archive (a benchmark,
not a test).

Loads N documents' rows straight into a PostgreSQL database by COPY — parse results,
findings, text signatures and their copy buckets, history, publications with their site
part, all published under N agency names over two years — then measures a sample of new
reports through the stages' own work functions (`validate_parsed_document`,
`publish_approved_document`, in-process, no Celery) on an empty database and on the
archive, the same reports on both, in rounds alternating between the two. What must hold:
the per-document figures on the archive within 20 % of the empty database's. Then
`--rss-documents` more reports go through parse, validate and publish in this one process,
and its resident memory is printed every 1,000: it must stay flat (± 10 % after the first
1,000), or a stage keeps something per document.

With `--reprocess N`, the archive's first N documents carry a parse from an old parser
and their files are put in a moto S3 server; `nianbao ops reprocess --parser-version-below`
then has compose's API and parse worker read them all again, and the rate is printed.

    python bench/scale.py --documents 20000 --sample 100 --rss-documents 10000 --reprocess 10000
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pipeline import REDIS_URL, cpu_seconds_by_service, cpu_seconds_of_servers  # noqa: E402
from tests.corpus.generate import FAST_STYLES, render_fast  # noqa: E402
from tests.corpus.truth import random_truth  # noqa: E402
from tests.integration.stack import (  # noqa: E402
    Servers,
    Stack,
    create_database,
    drop_database,
    start_moto,
    wait_until,
)

YEARS = (2024, 2025)
OLD_PARSER_VERSION = "0.0.1"  # what the archive's reprocessed share was read with
FIRST_ID = 1_000_000  # the archive's ids: past the empty database's sample


def distinct_reports(count: int, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    return [render_fast(random_truth(rng), FAST_STYLES[i % len(FAST_STYLES)]) for i in range(count)]


def archive_kinds() -> list[tuple[str, bytes]]:
    """The archive's 500 distinct reports (document i is a copy of kind i % 500)."""
    return distinct_reports(500, seed=1)


def archive_rows(documents: int, old_parses: int = 0) -> dict[str, Iterator[tuple[Any, ...]]]:
    """COPY rows for the archive: 500 distinct parse results under `documents` agency names;
    the first `old_parses` documents carry a parse from an old parser version."""
    from services.parser import PARSER_VERSION, parse_document
    from services.publisher.tasks import site_part_of
    from services.validator import text_signature
    from services.validator.copied_text import band_buckets, copy_check_text

    kinds = []
    for name, data in archive_kinds():
        report = parse_document(data, name)
        signature = text_signature(copy_check_text(report))
        parsed = report.to_json()
        kinds.append((json.dumps(parsed, ensure_ascii=False), json.dumps(site_part_of(parsed)), signature))

    def agency(i: int) -> str:
        return f"规模县第{i // len(YEARS)}局"

    def document(i: int) -> tuple[Any, ...]:
        parsed, _, signature = kinds[i % len(kinds)]
        name, year = agency(i), YEARS[i % len(YEARS)]
        return (
            i,
            "archive",
            f"NB-{i}",
            f"{i}.txt",
            1,
            f"{i:064x}",
            f"raw/{i}",
            "published",
            "now",
            "now",
        ) + (name, name, name, year, 1, parsed, "[]", json.dumps(signature), 0, "now", parser_version(i))

    def parser_version(i: int) -> str:
        return OLD_PARSER_VERSION if i < FIRST_ID + old_parses else PARSER_VERSION

    def events(i: int) -> Iterator[tuple[Any, ...]]:
        for status, stage in (
            ("received", None),
            ("parsing", "parse"),
            ("parsed", "parse"),
            ("validating", "validate"),
            ("approved", "validate"),
            ("publishing", "publish"),
            ("published", "publish"),
        ):
            yield (i, "now", status, stage, 1 if stage else 0, "", None)

    def buckets(i: int) -> Iterator[tuple[Any, ...]]:
        signature = kinds[i % len(kinds)][2]
        for band, bucket in band_buckets(signature):
            yield (YEARS[i % len(YEARS)], bucket, band, i)

    def publication(i: int) -> tuple[Any, ...]:
        year = YEARS[i % len(YEARS)]
        site_part = kinds[i % len(kinds)][1]
        return (i, agency(i), year, 1, "now", "pipeline", f"reports/{i}/index.html", site_part)

    ids = range(FIRST_ID, FIRST_ID + documents)
    return {
        "document (id, upload_id, submission_no, filename, size, sha256, storage_key, status,"
        " status_changed_at, received_at, agency_key, agency, agency_norm, year, version, parsed,"
        " findings, text_signature, stage_attempts, published_at, parser_version)": (document(i) for i in ids),
        "documentevent (document_id, at, status, stage, attempt, detail, actor)": (
            row for i in ids for row in events(i)
        ),
        "copybucket (year, bucket, band, document_id)": (row for i in ids for row in buckets(i)),
        "publication (document_id, agency_norm, year, version, published_at, published_by, location,"
        " site_part)": (publication(i) for i in ids),
    }


def load_archive(url: str, documents: int, old_parses: int = 0) -> float:
    started = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("INSERT INTO upload (id, created_at) VALUES ('archive', now())")
        for target, rows in archive_rows(documents, old_parses).items():
            with conn.cursor().copy(f"COPY {target} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        conn.execute("SELECT setval('document_id_seq', (SELECT max(id) FROM document))")
    # An archive gathered over a season has been vacuumed and analysed by autovacuum (its
    # inserts alone trigger it): rows freshly COPYed have neither statistics nor the
    # visibility map that lets an index answer alone, and would measure a state no
    # deployment stays in.
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        for table in ("document", "documentevent", "copybucket", "publication"):
            conn.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - started


def stage_times(sample: int, seed: int) -> dict[str, list[float]]:
    """New reports through validate then publish, each stage's work in its own transaction;
    the milliseconds of each document's stages. The same seed gives the same reports."""
    from services.parser import parse_document
    from services.publisher.tasks import publish_approved_document
    from services.validator.tasks import validate_parsed_document
    from shared.db import session_scope
    from shared.models import Document, Status, Upload
    from shared.settings import get_settings
    from shared.storage import open_store

    settings = get_settings()
    raw = open_store(settings, settings.raw_bucket)
    upload_id = f"sample-{seed}"
    with session_scope() as session:
        session.add(Upload(id=upload_id))
    timings: dict[str, list[float]] = {"validate": [], "publish": []}
    for index, (name, data) in enumerate(distinct_reports(sample, seed=seed)):
        report = parse_document(data, name)
        agency = f"样本县{seed}第{index}局"
        report.agency = agency  # new agencies, as in a season
        key = f"raw/sample-{seed}-{index}"
        raw.put(key, data)
        with session_scope() as session:
            doc = Document(
                upload_id=upload_id,
                filename=name,
                size=len(data),
                sha256=f"{seed}-{index}",
                storage_key=key,
                status=Status.validating,
                agency_key=agency,
                parsed=report.to_json(),
                agency=agency,
                year=report.year,
            )
            session.add(doc)
            session.flush()
            doc_id = doc.id
        for stage, work in (("validate", validate_parsed_document), ("publish", publish_approved_document)):
            started = time.perf_counter()
            with session_scope() as session:
                loaded = session.get(Document, doc_id)
                assert loaded is not None
                outcome = work(session, loaded)
                loaded.status = outcome.status if stage == "publish" else Status.publishing
                session.add(loaded)
            timings[stage].append((time.perf_counter() - started) * 1000)
    return timings


def quantiles(timings: dict[str, list[float]]) -> dict[str, float]:
    """Median and p95 milliseconds per document of each stage."""
    return {
        f"{stage} {q}": value
        for stage, values in timings.items()
        for q, value in (("p50", statistics.median(values)), ("p95", sorted(values)[int(0.95 * len(values))]))
    }


ROUNDS = 5  # the sample is measured in this many rounds, alternating the two databases


def use_database(url: str) -> None:
    """Point this process's settings and engine at another database."""
    from shared.db import get_engine
    from shared.settings import get_settings

    get_engine().dispose()
    get_engine.cache_clear()
    os.environ["NIANBAO_DATABASE_URL"] = url
    get_settings.cache_clear()


def compare_databases(sample: int, empty_url: str, archive_url: str) -> tuple[dict[str, float], dict[str, float]]:
    """The same new reports through the stages on the empty database and on the archive, in
    rounds that alternate between the two: this machine's speed drifts by tens of per cent
    within minutes, and measuring one database after the other measured the drift.
    Ends pointed at the archive."""
    timings: dict[str, dict[str, list[float]]] = {"empty": {}, "archive": {}}
    for url in (empty_url, archive_url):  # not counted: imports, templates, first connections
        use_database(url)
        stage_times(3, seed=9)
    for round_number in range(ROUNDS):
        count = sample // ROUNDS + (1 if round_number < sample % ROUNDS else 0)
        for label, url in (("empty", empty_url), ("archive", archive_url)):
            use_database(url)
            for stage, values in stage_times(count, seed=10 + round_number).items():
                timings[label].setdefault(stage, []).extend(values)
    return quantiles(timings["empty"]), quantiles(timings["archive"])


def measure_reprocess(name: str, url: str, documents: int) -> float:
    """`nianbao ops reprocess --parser-version-below` over the archive's first `documents`
    (their files in a moto S3 server), run by compose's parse worker; reports per second
    from the command until every one has its result in the history."""
    from services.parser import PARSER_VERSION

    with tempfile.TemporaryDirectory() as tmp:
        log_dir = Path(tmp)
        moto, endpoint = start_moto(log_dir)
        servers = Servers(database_url=url, broker_url=REDIS_URL, s3_endpoint=endpoint, run_name=name)
        stack = Stack(env=servers.environment(log_dir), log_dir=log_dir)
        try:
            stack.prepare()
            store_archive_files(stack.env, documents)
            for service in ("api", "parser"):
                stack.start(service)
            stack.wait_for_api()
            token = stack.cli("token", "create", "--role", "ops").strip()
            cpu_before = cpu_seconds_by_service(stack) | cpu_seconds_of_servers(moto.pid)
            started = time.perf_counter()
            answer = stack.cli(
                "ops", "reprocess", "--parser-version-below", PARSER_VERSION, "--api", stack.api_url, "--token", token,
                timeout=1800,
            )
            print(f"{answer.strip()} in {time.perf_counter() - started:.1f} s", flush=True)
            wait_until(lambda: (reprocess_results(url) or 0) >= documents, 3600, 1, what="every reprocess")
            rate = documents / (time.perf_counter() - started)
            cpu_after = cpu_seconds_by_service(stack) | cpu_seconds_of_servers(moto.pid)
            cpu = ", ".join(
                f"{what} {(cpu_after[what] - cpu_before[what]) * 1000 / documents:.0f}"
                for what in ("api", "parser", "s3", "postgres", "machine")
            )
            print(f"CPU ms per reprocessed report: {cpu}", flush=True)
        finally:
            stack.stop_all()
            moto.terminate()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        outcomes = conn.execute(
            "SELECT split_part(detail, ':', 1), count(*) FROM documentevent"
            " WHERE detail LIKE 'reprocess%' AND detail <> 'reprocess requested' GROUP BY 1"
        ).fetchall()
    print("reprocess outcomes:", dict(outcomes))
    return rate


def store_archive_files(env: dict[str, str], documents: int) -> None:
    """The archive documents' files, where their storage keys say (raw/<id>)."""
    from minio import Minio

    client = Minio(
        env["NIANBAO_S3_ENDPOINT"], access_key=env["NIANBAO_S3_ACCESS_KEY"], secret_key=env["NIANBAO_S3_SECRET_KEY"], secure=False
    )
    kinds = [data for _, data in archive_kinds()]

    def put(i: int) -> None:
        data = kinds[(i - FIRST_ID) % len(kinds)]
        client.put_object(env["NIANBAO_RAW_BUCKET"], f"raw/{i}", io.BytesIO(data), len(data))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, range(FIRST_ID, FIRST_ID + documents)))


def reprocess_results(url: str) -> int | None:
    """History lines reprocessing has written so far (None while the database is not up)."""
    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            (count,) = conn.execute(
                "SELECT count(*) FROM documentevent WHERE detail LIKE 'reprocess%'"
                " AND detail <> 'reprocess requested'"
            ).fetchone()  # type: ignore[misc]
    except psycopg.OperationalError:
        return None
    return int(count)


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def measure_memory(documents: int, chunk: int = 500) -> list[tuple[int, float]]:
    """(documents so far, resident MB) after every 1,000 documents through the stages."""
    readings: list[tuple[int, float]] = []
    for start in range(0, documents, chunk):
        stage_times(min(chunk, documents - start), seed=100 + start // chunk)
        done = min(start + chunk, documents)
        if done % 1000 == 0 or done == documents:
            readings.append((done, resident_mb()))
    return readings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=20000)
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--rss-documents", type=int, default=0)
    parser.add_argument("--reprocess", type=int, default=0, help="archive reports to reprocess (≤ --documents)")
    args = parser.parse_args()
    name, url = create_database()
    empty_name, empty_url = create_database()
    with tempfile.TemporaryDirectory() as data_dir:
        os.environ |= {
            "NIANBAO_DATABASE_URL": url,
            "NIANBAO_DATA_DIR": data_dir,
            "NIANBAO_STORAGE_BACKEND": "local",
        }
        from shared.db import get_engine, upgrade_schema

        try:  # each figure is printed when measured: a long run that fails later keeps them
            upgrade_schema(url)
            upgrade_schema(empty_url)
            loaded = load_archive(url, args.documents, old_parses=args.reprocess)
            empty, full = compare_databases(args.sample, empty_url, url)
            print_samples(args.documents, args.sample, loaded, empty, full)
            if args.reprocess:
                rate = measure_reprocess(name, url, args.reprocess)
                print(f"nianbao ops reprocess of {args.reprocess} stored reports: {rate:.1f} reports/s", flush=True)
            if args.rss_documents:
                print_memory(measure_memory(args.rss_documents))
        finally:
            get_engine().dispose()
            drop_database(name)
            drop_database(empty_name)


def print_samples(documents: int, sample: int, loaded: float, empty: dict[str, float], full: dict[str, float]) -> None:
    print(f"archive: {documents} documents loaded by COPY in {loaded:.0f} s; sample of {sample}")
    print("ms per document        empty      archive    change")
    for key in empty:
        change = (full[key] - empty[key]) / empty[key] * 100
        print(f"{key:20s} {empty[key]:8.1f}  {full[key]:10.1f}   {change:+6.0f} %", flush=True)


def print_memory(memory: list[tuple[int, float]]) -> None:
    base = memory[0][1]
    print("resident memory, parse + validate + publish in one process:")
    for done, mb in memory:
        print(f"  after {done:6d} documents: {mb:7.1f} MB ({(mb - base) / base * 100:+5.1f} % on the first 1,000)")


if __name__ == "__main__":
    main()
