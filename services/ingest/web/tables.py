"""The report's tables on the desk's document page, in the official layout.

The portal's renderer decides the layout (services.publisher.layout) and how each cell
reads (services.publisher.render.cell_view: text, flags, culprit, tooltip); the desk's
template adds what the portal does not show: every cell's parse confidence and its
source, as data attributes that the reviewer panels can use later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from services.publisher import PortalReport
from services.publisher.layout import TableLayout, cell_labels, tables_for
from services.publisher.render import LOW_CONFIDENCE, CellView, cell_view, findings_by_cell, format_number
from shared.models import Document
from shared.report import Finding, ParsedReport


@dataclass(frozen=True)
class DeskCell:
    view: CellView
    confidence: float | None  # None: the parser recorded no detail for this cell
    source: str
    low: bool


def report_of(doc: Document) -> PortalReport | None:
    """The portal's view of a parsed document (any status), or None before parsing."""
    if doc.parsed is None or doc.id is None:
        return None
    parsed = ParsedReport.from_json(doc.parsed)
    return PortalReport(
        document_id=doc.id,
        version=doc.version or 1,
        agency=doc.agency or doc.agency_key,
        government=None,
        year=doc.year or doc.year_hint or 0,
        report_kind=parsed.report_kind,
        report_format=parsed.report_format,
        published_at=doc.published_at or doc.received_at,
        deadline_status="unknown",
        original_filename=doc.filename,
        original=None,
        parsed=parsed,
        findings=[Finding.from_json(f) for f in doc.findings or []],
    )


def _layouts(report: PortalReport) -> tuple[TableLayout, ...]:
    hubei_row = any(key.startswith("t2v19_other_docs_") for key in report.parsed.cells)
    return tables_for(report.report_format, hybrid=report.is_hybrid, hubei_row=hubei_row)


def desk_cells(report: PortalReport, layout: TableLayout) -> dict[str, DeskCell]:
    parsed, flags = report.parsed, findings_by_cell(report.findings)
    cells = {}
    for key, label in layout.labels.items():
        detail = parsed.cell_details.get(key)
        view = cell_view(key, parsed.cells.get(key), detail, label, flags.get(key, ()))
        confidence = detail.confidence if detail is not None else None
        cells[key] = DeskCell(
            view,
            confidence,
            detail.source if detail is not None else "",
            confidence is not None and confidence < LOW_CONFIDENCE,
        )
    return cells


def render_desk_tables(report: PortalReport, environment: Environment, **context: Any) -> dict[str, Markup]:
    """Section number → the HTML of its table, rendered with the desk's table template
    (`context`: the page's language helpers)."""
    template = environment.get_template("desk_table.html")
    return {
        layout.section: Markup(template.render(layout=layout, cells=desk_cells(report, layout), **context))
        for layout in _layouts(report)
    }


def labels_of(report: PortalReport) -> dict[str, str]:
    return dict(cell_labels(report.report_format, hybrid=report.is_hybrid))


def figures_of(report: PortalReport, finding: Finding) -> list[tuple[str, str, str]]:
    """(key, label, value as shown) of each cell a finding names, for the findings list."""
    labels = labels_of(report)
    keys = list(dict.fromkeys([*finding.cells, *([finding.culprit] if finding.culprit else [])]))
    shown = []
    for key in keys:
        value = report.parsed.cells.get(key)
        shown.append((key, labels.get(key, key), "—" if value is None else format_number(value)))
    return shown
