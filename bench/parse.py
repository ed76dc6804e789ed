"""Parse benchmark on the synthetic corpus: accuracy, honesty and speed per input format.

    python bench/parse.py [--per-style N] [--seed S]

For each input format it prints: cell accuracy against the truth (metadata fields agency /
year / report_format counted as cells), the share of wrong cells the parser flagged
(confidence < 1 or named in a parse finding), wrong cells presented with full confidence,
and median / p95 milliseconds per report and per PDF page. Only the parse call is timed,
in one process pinned to one core, after one untimed warm-up parse per format.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from services.parser import parse_document  # noqa: E402
from shared.report import UnreadableDocument  # noqa: E402
from tests.corpus.compare import compare, wrong_at_full_confidence  # noqa: E402
from tests.corpus.generate import CorpusItem, build_corpus, default_corpus_dir  # noqa: E402

PDF_PAGE = re.compile(rb"/Type\s*/Page(?!s)")


@dataclass
class FormatStats:
    reports: int = 0
    unreadable: int = 0
    cells: int = 0
    wrong: int = 0
    wrong_flagged: int = 0
    wrong_confident: int = 0
    ms_per_report: list[float] = field(default_factory=list)
    ms_per_page: list[float] = field(default_factory=list)


def _pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(items: list[CorpusItem], *, by_style: bool = False) -> dict[str, FormatStats]:
    stats: dict[str, FormatStats] = {}
    warmed: set[str] = set()
    for item in items:
        data = item.path.read_bytes()
        if item.input_format not in warmed:  # imports and caches must not count as parse time
            warmed.add(item.input_format)
            with contextlib.suppress(UnreadableDocument):
                parse_document(data, item.path.name)
        entry = stats.setdefault(item.style if by_style else item.input_format, FormatStats())
        entry.reports += 1
        checked = len(item.truth["cells"]) + 3
        entry.cells += checked
        started = time.perf_counter()
        try:
            parsed = parse_document(data, item.path.name)
        except UnreadableDocument:
            parsed = None
        elapsed_ms = (time.perf_counter() - started) * 1000
        entry.ms_per_report.append(elapsed_ms)
        if item.input_format == "pdf":
            entry.ms_per_page.append(elapsed_ms / max(1, len(PDF_PAGE.findall(data))))
        if parsed is None:
            entry.unreadable += 1
            entry.wrong += checked
            continue
        misses = compare(item.truth, parsed)
        entry.wrong += len(misses)
        entry.wrong_flagged += sum(m.flagged for m in misses)
        entry.wrong_confident += len(wrong_at_full_confidence(misses))
    return stats


def print_table(stats: dict[str, FormatStats]) -> None:
    header = f"{'group':23} {'reports':>7} {'unread':>6} {'cells':>7} {'accuracy':>9} {'wrong':>6} {'flagged':>8} {'wrong@1.0':>9} {'ms/rep p50':>10} {'p95':>8} {'ms/page p50':>11} {'p95':>8}"
    print(header)
    print("-" * len(header))
    totals = FormatStats()
    for name in sorted(stats):
        s = stats[name]
        for attr in ("reports", "unreadable", "cells", "wrong", "wrong_flagged", "wrong_confident"):
            setattr(totals, attr, getattr(totals, attr) + getattr(s, attr))
        totals.ms_per_report += s.ms_per_report
        _print_row(name, s)
    print("-" * len(header))
    _print_row("all", totals)


def _print_row(name: str, s: FormatStats) -> None:
    accuracy = 1 - s.wrong / s.cells if s.cells else 0.0
    flagged = f"{s.wrong_flagged / s.wrong:.1%}" if s.wrong else "-"
    page = (
        f"{statistics.median(s.ms_per_page):11.1f} {_percentile(s.ms_per_page, 0.95):8.1f}"
        if s.ms_per_page
        else f"{'-':>11} {'-':>8}"
    )
    print(
        f"{name:23} {s.reports:7d} {s.unreadable:6d} {s.cells:7d} {accuracy:9.2%} {s.wrong:6d} {flagged:>8} {s.wrong_confident:9d} "
        f"{statistics.median(s.ms_per_report):10.1f} {_percentile(s.ms_per_report, 0.95):8.1f} {page}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per-style", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--by-style", action="store_true", help="one row per rendering style instead of per format"
    )
    args = parser.parse_args(argv)
    items = build_corpus(
        default_corpus_dir(per_style=args.per_style, seed=args.seed), per_style=args.per_style, seed=args.seed
    )
    _pin_to_one_core()
    print(f"{len(items)} synthetic reports, {args.per_style} per style, seed {args.seed}")
    print_table(measure(items, by_style=args.by_style))


if __name__ == "__main__":
    main()
