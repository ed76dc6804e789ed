"""OCR benchmark: the generator's text-layer PDFs scanned (tests/corpus/scans.py) and read
back by the parser, per condition: cells exact, wrong cells flagged, wrong cells presented
as certain, agency/year right, seconds per page (one core).

    python bench/ocr.py [--reports 4] [--conditions clean,office,photo]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pypdfium2 as pdfium  # noqa: E402

from services.parser import parse_document  # noqa: E402
from tests.corpus.compare import META_FIELDS, compare  # noqa: E402
from tests.corpus.generate import build_corpus, default_corpus_dir  # noqa: E402
from tests.corpus.scans import CONDITIONS, scanned_pdf  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=4)
    parser.add_argument("--conditions", default=",".join(CONDITIONS))
    args = parser.parse_args()
    with_cores = getattr(os, "sched_setaffinity", None)
    if with_cores is not None:
        with_cores(0, {0})
    os.environ["OMP_THREAD_LIMIT"] = "1"
    items = build_corpus(default_corpus_dir(per_style=4, seed=2024), per_style=4, seed=2024)
    pdfs = [i for i in items if i.style == "pdf_word_export"][: args.reports]
    print(f"{len(pdfs)} generated PDFs (v2021, v2019, hybrid, summary) scanned per condition")
    print(f"{'condition':10} {'cells':>6} {'exact':>8} {'wrong flagged':>14} {'wrong certain':>14} {'agency+year':>12} {'s/page':>7}")
    for condition in args.conditions.split(","):
        cells = flagged = certain = meta = pages = 0
        seconds = 0.0
        for index, item in enumerate(pdfs):
            scan = scanned_pdf(item.path.read_bytes(), condition, seed=index)
            start = time.perf_counter()
            report = parse_document(scan, "scan.pdf")
            seconds += time.perf_counter() - start
            pages += len(pdfium.PdfDocument(scan))
            meta += (report.agency, report.year) == (item.truth["agency"], item.truth["year"])
            cells += sum(v is not None for v in item.truth["cells"].values())
            misses = [m for m in compare(item.truth, report) if m.key not in META_FIELDS]
            doubtful = sum(m.flagged or m.got is None for m in misses)
            flagged += doubtful
            certain += len(misses) - doubtful
        exact = cells - flagged - certain
        print(
            f"{condition:10} {cells:6d} {exact / cells:8.2%} {flagged:14d} {certain:14d} "
            f"{meta:>7d}/{len(pdfs):<4d} {seconds / max(pages, 1):7.2f}"
        )


if __name__ == "__main__":
    main()
