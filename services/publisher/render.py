"""One report's pages and files: the HTML page, data.json, data.csv and the original.

Every page is a plain file that may be served under any URL prefix (MinIO bucket, a
static server, the ingest app's /portal/), so all links are relative and point at
explicit `index.html` files (object stores do not serve directory indexes).
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from services.publisher.layout import TableLayout, cell_labels, tables_for
from services.publisher.model import (
    PortalFile,
    PortalReport,
    as_utc,
    beijing_time,
    deadline_for,
    original_file_name,
    version_dir,
)
from shared.report import (
    SECTION_TITLES,
    UNCERTAIN_BELOW,
    CellDetail,
    CellValue,
    Finding,
    ParsedReport,
    keys_for_format,
)

KIND_LABELS = {"agency": "部门报告", "summary": "政府汇总报告"}
FORMAT_LABELS = {"v2021": "2021年格式", "v2019": "2019年格式（试行）", "pre2019": "2019年以前格式"}
DEADLINE_LABELS = {"on_time": "按时发布", "late": "逾期发布", "unknown": "发布日期不详"}
# A notice is a harmless deviation from the template (recorded, never holding a report).
SEVERITY_LABELS = {"error": "不一致", "warning": "请注意", "notice": "提示", "info": "说明"}
SEVERITY_ORDER = ("error", "warning", "notice", "info")
NULL_CELL_TEXT = "—未识别"
LOW_CONFIDENCE = UNCERTAIN_BELOW  # below this the parser's reading is flagged on the page
CSV_COLUMNS = ("key", "label", "value", "raw", "marker", "note", "confidence", "source")

ENVIRONMENT = Environment(
    loader=PackageLoader("services.publisher", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
ENVIRONMENT.filters["beijing_time"] = beijing_time
ENVIRONMENT.globals.update(
    KIND_LABELS=KIND_LABELS, FORMAT_LABELS=FORMAT_LABELS, DEADLINE_LABELS=DEADLINE_LABELS
)


def format_number(value: CellValue) -> str:
    """A number as plain decimal text: 7730.28, never 7.73028e3 or 1e-05."""
    if value is None:
        return ""
    if isinstance(value, bool):  # bool is an int subclass; never a valid cell
        raise TypeError("a cell value cannot be a bool")
    if isinstance(value, int):
        return str(value)
    return format(Decimal(repr(value)).normalize(), "f")


@dataclass(frozen=True)
class CellView:
    """How one table cell is shown: its text, a CSS class and an explanatory tooltip."""

    key: str
    text: str
    value: str  # machine-readable value for data-value ("" when null)
    css_class: str
    title: str


def cell_view(
    key: str, value: CellValue, detail: CellDetail | None, label: str, flagged_by: Sequence[Finding] = ()
) -> CellView:
    """The raw text for blank and "/"-style markers, the number otherwise, "—未识别" for null."""
    notes = [label, f"键 {key}"]
    notes += [f"核对 {finding.rule}：{finding.message_zh}" for finding in flagged_by]
    if detail is not None:
        if detail.raw.strip() and detail.raw.strip() != format_number(value):
            notes.append(f"原文：{detail.raw.strip()}")
        if detail.source:
            notes.append(f"位置：{detail.source}")
        if detail.note:
            notes.append(f"备注：{detail.note}")
    flag_classes = _flag_classes(key, flagged_by)
    if value is None:
        notes.append("未能识别此单元格（不是 0）")
        return CellView(key, NULL_CELL_TEXT, "", " ".join(["cell-null", *flag_classes]), "\n".join(notes))
    classes = ["num", *flag_classes]
    text = format_number(value)
    if detail is not None and detail.marker is not None:
        # Blank, "/" and "0" mean different things to a reviewer: show what was printed.
        text = detail.raw.strip()
        classes.append("cell-blank" if not text else "cell-marker")
        notes.append(f"按 {format_number(value)} 计算（原表为{'空白' if not text else '“' + text + '”'}）")
    if detail is not None and detail.note:
        classes.append("cell-note")
    if detail is not None and detail.confidence < LOW_CONFIDENCE:
        classes.append("cell-lowconf")
        notes.append(f"识别置信度 {detail.confidence:.2f}")
    return CellView(key, text, format_number(value), " ".join(classes), "\n".join(notes))


def _flag_classes(key: str, flagged_by: Sequence[Finding]) -> list[str]:
    if not flagged_by:
        return []
    worst = min(flagged_by, key=lambda finding: SEVERITY_ORDER.index(finding.severity)).severity
    classes = ["cell-flagged", f"flag-{worst}"]
    if any(finding.culprit == key for finding in flagged_by):
        classes.append("cell-culprit")
    return classes


def findings_by_cell(findings: Sequence[Finding]) -> dict[str, list[Finding]]:
    by_cell: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        for key in dict.fromkeys([*finding.cells, *([finding.culprit] if finding.culprit else [])]):
            by_cell[key].append(finding)
    return by_cell


def render_tables(report: PortalReport) -> dict[str, Markup]:
    """Section number → the HTML of its table, filled with the report's cells."""
    parsed = report.parsed
    flags = findings_by_cell(report.findings)
    template = ENVIRONMENT.get_template("table.html")
    rendered: dict[str, Markup] = {}
    for layout in _layouts(report):
        cells = {
            key: cell_view(
                key, parsed.cells.get(key), parsed.cell_details.get(key), label, flags.get(key, ())
            )
            for key, label in layout.labels.items()
        }
        rendered[layout.section] = Markup(template.render(layout=layout, cells=cells))
    return rendered


def _layouts(report: PortalReport) -> tuple[TableLayout, ...]:
    hubei_row = any(key.startswith("t2v19_other_docs_") for key in report.parsed.cells)
    return tables_for(report.report_format, hybrid=report.is_hybrid, hubei_row=hubei_row)


def render_report_page(
    report: PortalReport, *, at_current_address: bool = False, superseded_by: PortalReport | None = None
) -> str:
    """The report's HTML page.

    By default the page lives in its version directory `reports/<slug>/v<n>/index.html`;
    `at_current_address` renders it for `reports/<slug>/index.html` (links adjusted).
    `superseded_by` adds a banner pointing at the newer version.
    """
    return _render_page(report, render_tables(report), at_current_address, superseded_by)


def _render_page(
    report: PortalReport,
    tables: dict[str, Markup],
    at_current_address: bool,
    superseded_by: PortalReport | None,
) -> str:
    retraction = report.retraction or (superseded_by.retraction if superseded_by else None)
    to_report_dir = "" if at_current_address else "../"
    history = sorted([report, *report.superseded_versions], key=lambda r: r.version, reverse=True)
    if superseded_by is not None:
        history = sorted(
            [superseded_by, *superseded_by.superseded_versions], key=lambda r: r.version, reverse=True
        )
    return ENVIRONMENT.get_template("report.html").render(
        report=report,
        parsed=report.parsed,
        root="../../" if at_current_address else "../../../",
        to_version=f"v{report.version}/" if at_current_address else "",
        to_report_dir=to_report_dir,
        original_name=original_file_name(report.original_filename),
        section_titles=SECTION_TITLES,
        tables={} if retraction else tables,
        deadline=deadline_for(report.year, report.report_kind),
        history=history,
        superseded_by=superseded_by,
        retraction=retraction,
        null_text=NULL_CELL_TEXT,
        findings=sorted(report.findings, key=lambda f: SEVERITY_ORDER.index(f.severity)),
        labels=cell_labels(report.report_format, hybrid=report.is_hybrid),
        severity_labels=SEVERITY_LABELS,
    )


def data_json(report: PortalReport) -> bytes:
    """The report's data: portal metadata plus the parse result, as published."""
    payload: dict[str, Any] = {
        "document_id": report.document_id,
        "version": report.version,
        "slug": report.slug,
        "agency": report.agency,
        "government": report.government,
        "year": report.year,
        "report_kind": report.report_kind,
        "report_format": report.report_format,
        "hybrid": report.is_hybrid,
        "published_at": as_utc(report.published_at).isoformat(),
        "deadline": deadline_for(report.year, report.report_kind).isoformat(),
        "deadline_status": report.deadline_status,
        "original_filename": report.original_filename,
        "parsed": _parsed_payload(report.parsed),
    }
    # No indent: json then uses its C encoder, several times faster for 200 cells.
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def _parsed_payload(parsed: ParsedReport) -> dict[str, Any]:
    """ParsedReport.to_json() without dataclasses.asdict's deep copy (the slowest step of
    publishing); the test suite checks that ParsedReport.from_json reads it back equal."""
    payload = {f.name: getattr(parsed, f.name) for f in fields(parsed)}
    payload["cell_details"] = {key: dict(vars(detail)) for key, detail in parsed.cell_details.items()}
    payload["parse_findings"] = [dict(vars(finding)) for finding in parsed.parse_findings]
    return payload


def ordered_cell_keys(report: PortalReport) -> list[str]:
    """The report's cell keys in catalogue order, then any others it holds, sorted."""
    catalogue = keys_for_format(report.report_format, hybrid=report.is_hybrid)
    extra = sorted(set(report.parsed.cells) - set(catalogue))
    return [*catalogue, *extra]


def data_csv(report: PortalReport) -> bytes:
    """One row per cell: key, label, value, raw, marker, note, confidence, source.

    UTF-8 with a byte-order mark so that Excel opens the Chinese labels correctly.
    """
    labels = cell_labels(report.report_format, hybrid=report.is_hybrid)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for key in ordered_cell_keys(report):
        detail = report.parsed.cell_details.get(key)
        writer.writerow(
            (
                key,
                labels.get(key, ""),
                format_number(report.parsed.cells.get(key)),
                detail.raw if detail else "",
                (detail.marker or "") if detail else "",
                (detail.note or "") if detail else "",
                detail.confidence if detail else "",
                detail.source if detail else "",
            )
        )
    return out.getvalue().encode("utf-8-sig")


def _earlier_version_files(earlier: PortalReport, current: PortalReport) -> dict[str, PortalFile]:
    # Under the current version's slug: the agency may have been renamed since.
    directory = version_dir(current.slug, earlier.version)
    page = _render_page(earlier, render_tables(earlier), False, current)
    files: dict[str, PortalFile] = {f"{directory}/index.html": page.encode("utf-8")}
    if not current.retracted:
        files.update(_data_files(earlier, directory))
    return files


def _data_files(report: PortalReport, directory: str) -> dict[str, PortalFile]:
    """data.json, data.csv and the original — none for a retracted report, which keeps
    only its page and the notice."""
    if report.retracted:
        return {}
    files: dict[str, PortalFile] = {
        f"{directory}/data.json": data_json(report),
        f"{directory}/data.csv": data_csv(report),
    }
    if report.original is not None:
        files[f"{directory}/{original_file_name(report.original_filename)}"] = report.original
    return files


def report_files(report: PortalReport) -> dict[str, PortalFile]:
    """Every file of one report: each version's directory and the current-version page."""
    tables = render_tables(report)  # the same table HTML serves both addresses of the current version
    directory = version_dir(report.slug, report.version)
    files: dict[str, PortalFile] = {
        f"{directory}/index.html": _render_page(report, tables, False, None).encode("utf-8")
    }
    files.update(_data_files(report, directory))
    for earlier in report.superseded_versions:
        if earlier.version == report.version:
            raise ValueError(
                f"{report.agency} {report.year}: version {report.version} listed as its own predecessor"
            )
        files.update(_earlier_version_files(earlier, report))
    current_page = _render_page(report, tables, True, None)
    files[f"reports/{report.slug}/index.html"] = current_page.encode("utf-8")
    return files
