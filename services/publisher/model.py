"""What the publisher is given: plain data, built from the database by the publish task.

One `PortalReport` is one published version of one agency's report for one year. The
portal identifies a report by (folded agency name, year) — the slug — so a corrected
re-upload (a new document, a new version) replaces the page at the same address and the
older versions stay reachable under `reports/<slug>/v<version>/`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Literal

from services.publisher.folding import fold_name
from shared.report import Finding, ParsedReport, ReportFormat, ReportKind

DeadlineStatus = Literal["on_time", "late", "unknown"]


@dataclass(frozen=True)
class StoredFile:
    """A file the store already holds (the upload, under its content address): the store
    copies it into the portal itself rather than the publisher reading and writing it.
    `sha256` is its content's digest, as the portal's manifests record every file's."""

    key: str
    sha256: str


# A portal file: its bytes, or a copy of a stored file.
PortalFile = bytes | StoredFile


@dataclass(frozen=True)
class Retraction:
    """Why and when a published report was withdrawn (shown on its page)."""

    retracted_at: datetime
    reason: str


@dataclass
class PortalReport:
    document_id: int
    version: int
    agency: str
    government: str | None  # the government the agency belongs to; None when unknown
    year: int
    report_kind: ReportKind
    report_format: ReportFormat
    published_at: datetime  # when this version went onto the portal
    deadline_status: DeadlineStatus  # the agency's own publication date vs the legal deadline
    original_filename: str
    original: PortalFile | None  # the uploaded file, copied into the portal; None = not offered
    parsed: ParsedReport
    # Earlier published versions of the same report (any order), with their own data so
    # that their pages can be rendered again with a "superseded" banner.
    superseded_versions: list[PortalReport] = field(default_factory=list)
    retraction: Retraction | None = None
    # The validator's findings that were accepted at approval, shown on the page so that a
    # reader sees which printed numbers do not add up (the report is published as printed).
    findings: list[Finding] = field(default_factory=list)
    # The agency the report was submitted for (its series, normalised) when it differs in
    # form from the printed name: the address follows it, so a report that names another
    # agency can never take that agency's address.
    series_agency: str | None = None

    @property
    def retracted(self) -> bool:
        return self.retraction is not None

    @property
    def slug(self) -> str:
        return report_slug(self.series_agency or self.agency, self.year)

    @property
    def is_hybrid(self) -> bool:
        """A v2021 report whose table 三 prints the single v2019 （六）其他处理 row (spec §3.6)."""
        if self.report_format != "v2021":
            return False
        return any(
            self.parsed.cells.get(key) is not None or key in self.parsed.cell_details
            for key in (f"t3_other_all__{column}" for column in ("natural", "total"))
        )


BEIJING = timezone(timedelta(hours=8), "北京时间")  # China has one zone and no DST


def as_utc(moment: datetime) -> datetime:
    """The database stores naive UTC times; make that explicit."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def beijing_time(moment: datetime) -> str:
    """How a time is shown on the portal: Beijing time, to the minute."""
    return as_utc(moment).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def report_slug(agency: str, year: int) -> str:
    """A path- and URL-safe name for (agency, year): `<year>-<12 hex digits>`.

    Agency names are Chinese and may contain "/" or "..", so they never enter a path; the
    hash of the folded name is stable across 繁/简 and width variants of the same name.
    """
    digest = hashlib.sha256(fold_name(agency).encode("utf-8")).hexdigest()[:12]
    return f"{int(year)}-{digest}"


def version_dir(slug: str, version: int) -> str:
    return f"reports/{slug}/v{int(version)}"


_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,8})$")
# Originals are served from the portal's own origin, so only passive formats keep their
# extension (and content type); an uploaded .html or .svg could otherwise run scripts on
# the portal. Anything else becomes original.bin, which browsers download, not display.
PASSIVE_EXTENSIONS = frozenset(
    {
        "pdf",
        "doc",
        "docx",
        "wps",
        "xls",
        "xlsx",
        "et",
        "ofd",
        "rtf",
        "txt",
        "jpg",
        "jpeg",
        "png",
        "zip",
        "rar",
    }
)


def original_file_name(original_filename: str) -> str:
    """The portal's name for the uploaded file: `original.<ext>` for passive formats, else `original.bin`."""
    match = _EXTENSION.search(original_filename.strip())
    extension = match.group(1).lower() if match else ""
    return f"original.{extension}" if extension in PASSIVE_EXTENSIONS else "original.bin"


def deadline_for(year: int, report_kind: ReportKind) -> date:
    """The legal publication deadline (条例 Art. 49, spec §4.1).

    Departments publish by 31 January of the next year; a government's own summary report
    is due by 31 March.
    """
    return date(year + 1, 3, 31) if report_kind == "summary" else date(year + 1, 1, 31)


def deadline_status_of(published_on: str | None, year: int, report_kind: ReportKind) -> DeadlineStatus:
    """'on_time' / 'late' from the report's own publication date; 'unknown' without one."""
    if not published_on:
        return "unknown"
    try:
        published = date.fromisoformat(published_on[:10])
    except ValueError:
        return "unknown"
    return "on_time" if published <= deadline_for(year, report_kind) else "late"
