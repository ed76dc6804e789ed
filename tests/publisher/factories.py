"""Building PortalReports for tests and the benchmark from corpus truths."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from services.publisher.model import PortalReport, deadline_status_of
from shared.report import CellDetail, ParsedReport
from tests.corpus.truth import random_truth
from tests.reference import corpus_path

MARKER_NAMES = {"": "blank", "/": "/", "—": "—", "-": "-", "无": "无"}


def parsed_from_truth(truth: dict[str, Any]) -> ParsedReport:
    """What a perfect parser returns for this truth: every cell, markers kept as raw text."""
    details = {
        key: CellDetail(raw=raw, marker=MARKER_NAMES.get(raw, raw), source="synthetic")
        for key, raw in truth.get("markers", {}).items()
    }
    for key, value in truth["cells"].items():
        if value is not None and key not in details:
            details[key] = CellDetail(raw=str(value), source="synthetic")
    return ParsedReport(
        agency=truth["agency"],
        year=truth["year"],
        report_format=truth["report_format"],
        report_kind=truth["report_kind"],
        published_on=truth.get("published_on"),
        statistics_period=truth.get("statistics_period"),
        title=truth.get("title"),
        sections=dict(truth.get("sections", {})),
        cells=dict(truth["cells"]),
        cell_details=details,
    )


def portal_report(
    truth: dict[str, Any],
    *,
    document_id: int = 1,
    version: int = 1,
    government: str | None = None,
    published_at: datetime = datetime(2024, 2, 1, 9, 30),
    original: bytes | None = b"%PDF-1.4 synthetic\n",
) -> PortalReport:
    parsed = parsed_from_truth(truth)
    return PortalReport(
        document_id=document_id,
        version=version,
        agency=truth["agency"],
        government=government,
        year=truth["year"],
        report_kind=truth["report_kind"],
        report_format=truth["report_format"],
        published_at=published_at,
        deadline_status=deadline_status_of(parsed.published_on, truth["year"], truth["report_kind"]),
        original_filename=truth.get("file") or f"{truth['agency']}{truth['year']}.pdf",
        original=original,
        parsed=parsed,
    )


def real_truth(name: str) -> dict[str, Any]:
    truth: dict[str, Any] = json.loads(corpus_path(f"real/{name}.truth.json").read_text(encoding="utf-8"))
    return truth


def synthetic_reports(count: int, *, seed: int = 7) -> list[PortalReport]:
    """`count` distinct (agency, year) reports across formats, kinds and governments."""
    rng = random.Random(seed)
    reports: list[PortalReport] = []
    seen: set[tuple[str, int]] = set()
    while len(reports) < count:
        report_format = rng.choice(("v2021", "v2021", "v2021", "v2019"))
        hybrid = report_format == "v2021" and rng.random() < 0.1
        kind = "summary" if rng.random() < 0.15 else "agency"
        truth = random_truth(rng, report_format=report_format, hybrid=hybrid, kind=kind)
        if (truth["agency"], truth["year"]) in seen:
            continue
        seen.add((truth["agency"], truth["year"]))
        government = truth["agency"] if kind == "summary" else _government_of(truth["agency"])
        published = datetime(truth["year"] + 1, 2, 1) + timedelta(minutes=len(reports))
        reports.append(
            portal_report(truth, document_id=len(reports) + 1, government=government, published_at=published)
        )
    return reports


def _government_of(agency: str) -> str:
    """The 市/区/县 prefix of a synthetic agency name plus 人民政府 — good enough for grouping."""
    for suffix in ("区", "县", "市"):
        position = agency.find(suffix)
        if 0 < position < 8:
            return agency[: position + 1] + "人民政府"
    return agency
