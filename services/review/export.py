"""The findings of a queue filter as an XLSX workbook (pure): one row per finding, from
which offices write their follow-up letters."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

from services.review.findings import finding_key

COLUMNS: tuple[tuple[str, str, int], ...] = (
    # (heading, field, width)
    ("文档 document", "document_id", 10),
    ("受理号 submission", "submission_no", 22),
    ("机构 agency", "agency", 30),
    ("年度 year", "year", 8),
    ("状态 status", "status", 14),
    ("规则 rule", "rule", 20),
    ("级别 severity", "severity", 10),
    ("单元格 cells", "cells", 36),
    ("问题 message (zh)", "message_zh", 60),
    ("message (en)", "message_en", 60),
    ("关键单元格 culprit", "culprit", 28),
    ("审核 review", "review", 30),
)


def finding_rows(
    docs: Iterable[tuple[Mapping[str, Any], set[str]]],
) -> list[dict[str, Any]]:
    """Rows from (document summary with `findings`, its dismissed finding keys)."""
    rows: list[dict[str, Any]] = []
    for doc, dismissed in docs:
        for finding in doc.get("findings") or []:
            rows.append(
                {
                    "document_id": doc.get("id"),
                    "submission_no": doc.get("submission_no"),
                    "agency": doc.get("agency"),
                    "year": doc.get("year"),
                    "status": doc.get("status"),
                    "rule": finding.get("rule"),
                    "severity": finding.get("severity"),
                    "cells": ", ".join(finding.get("cells") or []),
                    "message_zh": finding.get("message_zh"),
                    "message_en": finding.get("message_en"),
                    "culprit": finding.get("culprit"),
                    "review": "dismissed" if finding_key(finding) in dismissed else "",
                }
            )
    return rows


def findings_workbook(rows: Iterable[Mapping[str, Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "findings"
    sheet.append([heading for heading, _, _ in COLUMNS])
    for row in rows:
        sheet.append([_text_cell(sheet, row.get(name)) for _, name, _ in COLUMNS])
    for index, (_, _, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _text_cell(sheet: Worksheet, value: Any) -> Any:
    """Agency names and messages come from uploaded files: text starting with '=' must
    stay text, never become a formula Excel would run."""
    if isinstance(value, str) and value.startswith("="):
        cell = Cell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value
