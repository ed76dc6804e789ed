"""Benchmark the publisher: render and write a portal of 1,000 reports, twice.

    .venv/bin/python bench/publish.py [--reports 1000]

The first run writes every file; the second, with the same input, must write none. A
third, partial run publishes one changed report (what one publish task costs).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.publisher import PortalReport, report_files, site_files, write_site  # noqa: E402
from services.publisher.model import PortalFile  # noqa: E402
from services.publisher.write import WriteResult  # noqa: E402
from shared.storage import LocalStore  # noqa: E402
from tests.publisher.factories import synthetic_reports  # noqa: E402

AS_OF = date(2026, 6, 1)


def expected_agencies(reports: list[PortalReport]) -> dict[str, list[str]]:
    """Every published agency is expected by its government, plus one that never reports."""
    expected: dict[str, list[str]] = {}
    for report in reports:
        if report.government and report.report_kind == "agency":
            expected.setdefault(report.government, []).append(report.agency)
    for government, agencies in expected.items():
        agencies.append(government.removesuffix("人民政府") + "从未报送局")
    return expected


def publish_once(
    store: LocalStore, reports: list[PortalReport], expected: dict[str, list[str]]
) -> tuple[dict[str, float], WriteResult]:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    files: dict[str, PortalFile] = dict(site_files(reports, expected, as_of=AS_OF))
    timings["site_files"] = time.perf_counter() - started
    started = time.perf_counter()
    for report in reports:
        files.update(report_files(report))
    timings["report_files"] = time.perf_counter() - started
    started = time.perf_counter()
    result = write_site(store, files)
    timings["write_site"] = time.perf_counter() - started
    timings["total"] = sum(timings.values())
    timings["files"] = len(files)
    timings["megabytes"] = sum(len(data) for data in files.values() if isinstance(data, bytes)) / 1e6
    return timings, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1000)
    args = parser.parse_args()
    started = time.perf_counter()
    reports = synthetic_reports(args.reports)
    expected = expected_agencies(reports)
    print(
        f"built {len(reports)} synthetic PortalReports in {time.perf_counter() - started:.1f} s (not timed below)"
    )
    with tempfile.TemporaryDirectory() as directory:
        store = LocalStore(Path(directory))
        for run in (1, 2):
            timings, result = publish_once(store, reports, expected)
            print(
                f"run {run}: {timings['total']:.2f} s total — site_files {timings['site_files']:.2f} s, "
                f"report_files {timings['report_files']:.2f} s, write_site {timings['write_site']:.2f} s; "
                f"{int(timings['files'])} files, {timings['megabytes']:.1f} MB; "
                f"written {result.written}, unchanged {result.unchanged}, deleted {result.deleted}"
            )
        if result.written != 0:
            raise SystemExit(f"second run wrote {result.written} files; expected 0")
        print("second run wrote 0 files: OK")
        # What one publish costs: a new version of one report, site pages re-rendered,
        # only that report's files rendered (write_site's partial mode).
        report = reports[0]
        report.parsed.cells["t2_license_decisions"] = 123456
        started = time.perf_counter()
        files = {**site_files(reports, expected, as_of=AS_OF), **report_files(report)}
        result = write_site(store, files, only_reports=[report.slug])
        print(
            f"one report changed, partial publish: {time.perf_counter() - started:.2f} s; "
            f"written {result.written}, unchanged {result.unchanged}, deleted {result.deleted}"
        )


if __name__ == "__main__":
    main()
