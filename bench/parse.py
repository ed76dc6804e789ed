"""Parse benchmark on the synthetic corpus: accuracy, honesty and speed per input format.

    python bench/parse.py [--per-style N] [--seed S]

For each input format it prints: cell accuracy against the truth (metadata fields agency /
year / report_format counted as cells), the share of wrong cells the parser flagged
(confidence < 1 or named in a parse finding), wrong cells presented with full confidence,
and median / p95 milliseconds per report and per PDF page. Only the parse call is timed,
in one process pinned to one core, after one untimed warm-up parse per format.

Then calibration: per confidence band, over every style (and the real reports of
../shared/corpus that have a truth file), how many cells fell in the band and the share of
them that were wrong. A confidence is meant as the probability that the value is right:
at or above UNCERTAIN_BELOW at most 1 wrong cell in 10,000. The clean corpus is read
without error, so `--damaged N` adds N reports per text style whose table cells carry the
damage of real extractions (OCR look-alikes, digits spaced apart, stray characters, and in
tables 三/四 a digit lost): there the cells below UNCERTAIN_BELOW must be the ones that are
wrong. A lost digit leaves no trace in the text, so it is only put where the report's own
arithmetic can see it; in table 二 no reader could tell.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from services.parser import parse_document  # noqa: E402
from shared.report import UNCERTAIN_BELOW, ParsedReport, UnreadableDocument  # noqa: E402
from tests.corpus.compare import compare, same_value, wrong_at_full_confidence  # noqa: E402
from tests.corpus.generate import (  # noqa: E402
    STYLES_BY_NAME,
    CorpusItem,
    build_corpus,
    default_corpus_dir,
    render_fast,
    truth_for,
)

PDF_PAGE = re.compile(rb"/Type\s*/Page(?!s)")
SHARED = REPO.parent / "shared" / "corpus"
REAL_REPORTS = (  # (file, truth) of the hand-checked real reports
    ("seed/000_73a337edb7ff8878.txt", "real/luoyang-xigong-2022.truth.json"),
    ("real/shanghai-govoffice-2025.pdf-dump.md", "real/shanghai-govoffice-2025.truth.json"),
    ("real/huaian-hongze-2023.pdf", "real/huaian-hongze-2023.truth.json"),
)
# Lower bounds of the confidence bands, highest first; UNCERTAIN_BELOW is one of them.
BANDS = (1.0, 0.99, 0.95, UNCERTAIN_BELOW, 0.8, 0.6, 0.0)


@dataclass
class Band:
    cells: int = 0
    wrong: int = 0


def band_of(confidence: float) -> float:
    return next(b for b in BANDS if confidence >= b)


def calibrate(truth_cells: dict[str, object], parsed: ParsedReport, bands: dict[float, Band]) -> None:
    """Every truth cell the parse gave a value with a confidence, counted in its band."""
    for key, expected in truth_cells.items():
        detail = parsed.cell_details.get(key)
        if detail is None or parsed.cells.get(key) is None:
            continue  # not read: a null is not presented as a value
        band = bands.setdefault(band_of(detail.confidence), Band())
        band.cells += 1
        band.wrong += not same_value(expected, parsed.cells.get(key))


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


def measure(
    items: list[CorpusItem], *, by_style: bool = False, bands: dict[float, Band] | None = None
) -> dict[str, FormatStats]:
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
        if bands is not None:
            calibrate(item.truth["cells"], parsed, bands)
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


def calibrate_real(bands: dict[float, Band]) -> int:
    """The real reports with a truth file, when ../shared is present; returns how many were read."""
    import json

    read = 0
    for relative, truth_file in REAL_REPORTS:
        path, truth_path = SHARED / relative, SHARED / truth_file
        if not path.exists() or not truth_path.exists():
            continue
        try:
            parsed = parse_document(path.read_bytes(), path.name)
        except (UnreadableDocument, ImportError):
            continue
        calibrate(json.loads(truth_path.read_text(encoding="utf-8"))["cells"], parsed, bands)
        read += 1
    return read


DAMAGED_STYLES = ("txt_tab_seed", "txt_tab_subtotal", "txt_space_bom", "txt_pipe_gbk", "md_pdf_dump")
_TABLE_NUMBER = re.compile(r"(?<=[\t|])\d{1,4}(?=[\t|]|$)|(?<=  )\d{1,4}(?=  |$)", re.MULTILINE)


def damage(text: str, rng: random.Random, share: float = 0.08) -> str:
    """What text extraction does to some table cells; a lost digit changes the value read."""
    start = text.find("本年新收")
    head, tail = (text, "") if start < 0 else (text[:start], text[start:])
    return _damage(head, rng, share, lose_digits=False) + _damage(tail, rng, share, lose_digits=True)


def _damage(text: str, rng: random.Random, share: float, *, lose_digits: bool) -> str:
    def hurt(match: re.Match[str]) -> str:
        value = match.group(0)
        if rng.random() > share:
            return value
        kind = rng.choice(("ocr", "spaced", "stray", "lost"))
        if kind == "ocr" and ("0" in value or "1" in value):
            return value.replace("0", "O", 1) if "0" in value else value.replace("1", "l", 1)
        if kind == "spaced" and len(value) > 1:
            return " ".join(value)
        if kind == "stray":
            return "? " + value
        if kind == "lost" and lose_digits and len(value) > 1:
            return value[:-1]
        return value

    return _TABLE_NUMBER.sub(hurt, text)


def calibrate_damaged(per_style: int, seed: int, bands: dict[float, Band]) -> int:
    rng = random.Random(seed)
    count = 0
    for style in DAMAGED_STYLES:
        encoding = "gbk" if "gbk" in style else "utf-8"
        for index in range(per_style):
            truth = truth_for(STYLES_BY_NAME[style], index, seed)
            name, data = render_fast(truth, style)
            text = damage(data.decode(encoding, errors="replace"), rng)
            try:
                parsed = parse_document(text.encode(encoding, errors="replace"), name)
            except UnreadableDocument:
                continue
            calibrate(truth["cells"], parsed, bands)
            count += 1
    return count


def print_calibration(bands: dict[float, Band], real: int, damaged: int = 0) -> None:
    print()
    sources = (f" and {real} real reports" if real else "") + (f" and {damaged} damaged text reports" if damaged else "")
    print(f"calibration over every style{sources}: "
          f"share of cells wrong per confidence band (UNCERTAIN_BELOW = {UNCERTAIN_BELOW})")
    print(f"{'band':14} {'cells':>8} {'wrong':>6} {'wrong-rate':>11}")
    upper = None
    for low in BANDS:
        band = bands.get(low, Band())
        name = "1.0" if low == 1.0 else f"[{low:.2f}, {upper:.2f})"
        rate = f"{band.wrong / band.cells:.5f}" if band.cells else "-"
        print(f"{name:14} {band.cells:8d} {band.wrong:6d} {rate:>11}")
        upper = low
    certain = [b for low, b in bands.items() if low >= UNCERTAIN_BELOW]
    cells, wrong = sum(b.cells for b in certain), sum(b.wrong for b in certain)
    uncertain = [b for low, b in bands.items() if low < UNCERTAIN_BELOW]
    u_cells, u_wrong = sum(b.cells for b in uncertain), sum(b.wrong for b in uncertain)
    print(f"≥ {UNCERTAIN_BELOW}: {wrong} wrong of {cells} ({wrong / cells if cells else 0:.6f}; target ≤ 0.0001); "
          f"< {UNCERTAIN_BELOW}: {u_wrong} wrong of {u_cells}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per-style", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--by-style", action="store_true", help="one row per rendering style instead of per format"
    )
    parser.add_argument(
        "--damaged", type=int, default=20, help="damaged text reports per text style for the calibration"
    )
    args = parser.parse_args(argv)
    items = build_corpus(
        default_corpus_dir(per_style=args.per_style, seed=args.seed), per_style=args.per_style, seed=args.seed
    )
    _pin_to_one_core()
    print(f"{len(items)} synthetic reports, {args.per_style} per style, seed {args.seed}")
    bands: dict[float, Band] = {}
    print_table(measure(items, by_style=args.by_style, bands=bands))
    print_calibration(bands, calibrate_real(bands))
    if args.damaged:
        damaged: dict[float, Band] = {}
        print_calibration(damaged, 0, calibrate_damaged(args.damaged, args.seed, damaged))


if __name__ == "__main__":
    main()
