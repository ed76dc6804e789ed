"""Bulk open data: every published report's cells of one year, as CSV and XLSX.

One row per report, one column per cell key (catalogue order), so analysts can load a
whole year at once. Files are byte-for-byte reproducible — the XLSX carries no save
time — so an unchanged year is never rewritten by `write_site`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from services.publisher.model import PortalReport
from services.publisher.render import format_number
from shared.report import keys_for_format

META_COLUMNS = (
    "document_id",
    "version",
    "slug",
    "agency",
    "government",
    "year",
    "report_kind",
    "report_format",
    "hybrid",
    "published_on",
    "deadline_status",
)
# Catalogue order across formats: v2021 (with the hybrid other_all row), then v2019-only keys.
_CATALOGUE: tuple[str, ...] = tuple(
    dict.fromkeys((*keys_for_format("v2021", hybrid=True), *keys_for_format("v2019")))
)
_CATALOGUE_POSITION = {key: position for position, key in enumerate(_CATALOGUE)}
# A fixed timestamp for the XLSX package, so equal data gives equal bytes.
_FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def cell_columns(reports: Sequence[PortalReport]) -> list[str]:
    """The cell keys any of these reports holds, in catalogue order (unknown keys last)."""
    present = {key for report in reports for key in report.parsed.cells}
    return sorted(present, key=lambda key: (_CATALOGUE_POSITION.get(key, len(_CATALOGUE)), key))


def _meta_values(report: PortalReport) -> list[Any]:
    return [
        report.document_id,
        report.version,
        report.slug,
        report.agency,
        report.government or "",
        report.year,
        report.report_kind,
        report.report_format,
        report.is_hybrid,
        report.parsed.published_on or "",
        report.deadline_status,
    ]


def year_csv(reports: Sequence[PortalReport]) -> bytes:
    columns = cell_columns(reports)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*META_COLUMNS, *columns))
    for report in reports:
        cells = report.parsed.cells
        writer.writerow((*_meta_values(report), *(format_number(cells.get(key)) for key in columns)))
    return out.getvalue().encode("utf-8-sig")  # BOM: Excel then reads the Chinese names


class _ReproducibleZip(zipfile.ZipFile):
    """A ZipFile that stamps every entry with the same fixed time."""

    def writestr(
        self, zinfo_or_arcname: Any, data: Any, compress_type: Any = None, compresslevel: Any = None
    ) -> None:
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=_FIXED_ZIP_TIME)
            zinfo_or_arcname.compress_type = zipfile.ZIP_DEFLATED
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(
        self, filename: Any, arcname: Any = None, compress_type: Any = None, compresslevel: Any = None
    ) -> None:
        # openpyxl streams worksheets through a temporary file; stamp those alike.
        with open(filename, "rb") as source:
            self.writestr(arcname or filename, source.read(), compress_type, compresslevel)


# The last workbook made for each year, by the digest of its rows: the publisher rebuilds
# the site pages every few seconds in a season, mostly for one year's new reports, and
# openpyxl is two thirds of a rebuild; a year whose rows did not change is not made again.
_LAST_WORKBOOK: dict[int, tuple[str, bytes]] = {}


def year_xlsx(reports: Sequence[PortalReport], year: int) -> bytes:
    columns = cell_columns(reports)
    header = [*META_COLUMNS, *columns]
    rows = [[*_meta_values(report), *(report.parsed.cells.get(key) for key in columns)] for report in reports]
    # repr keeps the types apart (1 and 1.0 and "1" are different cells in a workbook).
    digest = hashlib.sha256(repr((year, header, rows)).encode("utf-8")).hexdigest()
    last = _LAST_WORKBOOK.get(year)
    if last is not None and last[0] == digest:
        return last[1]
    workbook = _workbook(year, header, rows)
    _LAST_WORKBOOK[year] = (digest, workbook)
    return workbook


def _workbook(year: int, header: list[str], rows: list[list[Any]]) -> bytes:
    workbook = Workbook(write_only=True)  # streaming writer: several times faster
    sheet = workbook.create_sheet(str(year))
    sheet.freeze_panes = "E2"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    # openpyxl's save_workbook stamps the current time; write through ExcelWriter instead.
    fixed = datetime(2000, 1, 1)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    buffer = io.BytesIO()
    archive = _ReproducibleZip(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(workbook, archive).save()
    return buffer.getvalue()
