"""The site refresh over a large archive (a benchmark, not a test).

Loads N published reports' rows straight into a fresh PostgreSQL database (parse results
of generated TXT/HTML reports, 500 distinct ones repeated under N agency names), then
times what one `nianbao.refresh_site` run does before writing: reading the current
reports (`_current_reports`, which reads each publication's `site_part`) and rendering
the site-wide pages; and, for contrast, reading the whole parse results as it did before.

    python bench/site_refresh.py --reports 1000 5000 20000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.corpus.generate import FAST_STYLES, render_fast  # noqa: E402
from tests.corpus.truth import random_truth  # noqa: E402
from tests.integration.stack import create_database, drop_database  # noqa: E402


def parse_results(count: int) -> list[dict[str, object]]:
    from services.parser import parse_document

    rng = random.Random(5)
    results = []
    for index in range(count):
        name, data = render_fast(random_truth(rng), FAST_STYLES[index % len(FAST_STYLES)])
        results.append(parse_document(data, name).to_json())
    return results


DOCUMENT_COLUMNS = (
    "id, upload_id, filename, size, sha256, storage_key, status, status_changed_at, received_at,"
    " agency_key, agency, agency_norm, year, version, parsed, findings, stage_attempts"
)
PUBLICATION_COLUMNS = (
    "document_id, agency_norm, year, version, location, published_at, published_by, site_part"
)


def load_rows(url: str, reports: int, parsed: list[dict[str, object]]) -> None:
    """Documents and publications by COPY (as publishing writes them): as many agencies as
    reports, one year."""
    from services.publisher.tasks import site_part_of

    texts = [json.dumps(p, ensure_ascii=False) for p in parsed]
    parts = [json.dumps(site_part_of(p), ensure_ascii=False) for p in parsed]
    agencies = {i: f"基准县第{i}局" for i in range(1, reports + 1)}
    documents = (
        (i, "bench", f"{i}.txt", 1, f"{i:064x}", "", "published", "now", "now", *[name] * 3, 2025, 1)
        + (texts[i % len(texts)], "[]", 0)
        for i, name in agencies.items()
    )
    publications = (
        (i, name, 2025, 1, f"reports/{i}/index.html", "now", "system", parts[i % len(parts)])
        for i, name in agencies.items()
    )
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("INSERT INTO upload (id, created_at) VALUES ('bench', now())")
        for table, columns, rows in (
            ("document", DOCUMENT_COLUMNS, documents),
            ("publication", PUBLICATION_COLUMNS, publications),
        ):
            with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


def measure(url: str) -> dict[str, float]:
    os.environ["NIANBAO_DATABASE_URL"] = url
    from sqlmodel import col, select

    from services.agencies import government_of
    from services.publisher import site_files
    from services.publisher.tasks import _current_reports, portal_report
    from shared.db import get_engine, session_scope
    from shared.models import Document, Publication
    from shared.settings import get_settings

    get_settings.cache_clear()
    get_engine.cache_clear()
    with session_scope() as session:
        started = time.perf_counter()
        reports = _current_reports(session)
        read = time.perf_counter() - started
        started = time.perf_counter()
        site_files(reports)
        render = time.perf_counter() - started
        started = time.perf_counter()
        rows = session.exec(
            select(Document, Publication).join(Publication, col(Publication.document_id) == col(Document.id))
        ).all()
        [portal_report(d, [], p, government_of(session, d.agency_norm)) for d, p in rows]
        whole = time.perf_counter() - started
    get_engine().dispose()
    return {"read": read, "render": render, "whole": whole}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, nargs="+", default=[1000, 5000])
    args = parser.parse_args()
    parsed = parse_results(500)
    from shared.db import upgrade_schema

    print("reports | read current (site part) | render site pages | read whole parse results (before)")
    for reports in args.reports:
        name, url = create_database()
        try:
            upgrade_schema(url)
            load_rows(url, reports, parsed)
            figures = measure(url)
        finally:
            drop_database(name)
        print(
            f"{reports:7d} | {figures['read']:10.2f} s | {figures['render']:8.2f} s | {figures['whole']:8.2f} s"
        )


if __name__ == "__main__":
    main()
