"""The portal's shared pages: index, search, coverage, statistics and bulk open data.

`site_files` gets the *current* version of every published report (with its history
attached) and renders every page that spans reports; `build_portal` adds each report's
own files, giving the complete set of files that `write_site` mirrors into the store.
Retracted reports keep their own page (with the notice) but appear nowhere else.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from markupsafe import Markup

from services.publisher.charts import Series, bar_chart
from services.publisher.folding import fold_name, traditional_to_simplified_map
from services.publisher.model import PortalFile, PortalReport, deadline_for
from services.publisher.opendata import year_csv, year_xlsx
from services.publisher.render import ENVIRONMENT, format_number, report_files
from shared.report import CellValue, ReportKind

NO_GOVERNMENT = "（未注明所属政府）"


def governments_by_agency(expected: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Folded agency name → its government, from the expected lists (a government's own
    name maps to itself)."""
    lookup = {fold_name(government): government for government in expected}
    for government, agencies in expected.items():
        lookup.update({fold_name(agency): government for agency in agencies})
    return lookup


def government_of(report: PortalReport) -> str:
    """The government a report is listed under. A summary report is its government's own,
    so without a recorded government it is listed under its own name."""
    if report.government:
        return report.government
    return report.agency if report.report_kind == "summary" else NO_GOVERNMENT


class DuplicateReportError(ValueError):
    """Two different documents claim the same (agency, year) page."""


# --- statistics ---------------------------------------------------------------

# (measure, label, cell keys summed). "other" depends on the layout; see _measure_keys.
MEASURES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("received", "本年新收申请", ("t3_new_received__total",)),
    ("carried_over", "上年结转", ("t3_carried_over__total",)),
    ("granted", "予以公开", ("t3_granted__total",)),
    ("partial", "部分公开", ("t3_partial__total",)),
    (
        "denied",
        "不予公开",
        tuple(
            f"t3_denied_{x}__total"
            for x in (
                "state_secret",
                "law_forbidden",
                "three_security",
                "third_party",
                "internal_affairs",
                "process_info",
                "enforcement_file",
                "admin_query",
            )
        ),
    ),
    (
        "unable",
        "无法提供",
        ("t3_unable_not_held__total", "t3_unable_need_creation__total", "t3_unable_unclear__total"),
    ),
    (
        "ignored",
        "不予处理",
        tuple(
            f"t3_ignored_{x}__total"
            for x in ("petition", "duplicate", "publication", "mass_repeat", "confirm")
        ),
    ),
    (
        "other",
        "其他处理",
        ("t3_other_no_correction__total", "t3_other_no_fee__total", "t3_other_other__total"),
    ),
    ("total_processed", "办理结果总计", ("t3_total_processed__total",)),
    ("carried_forward", "结转下年", ("t3_carried_forward__total",)),
    ("reviews", "行政复议", ("t4_review_total",)),
    ("suits", "行政诉讼", ("t4_suit_direct_total", "t4_suit_after_review_total")),
)
OUTCOME_COLORS: tuple[tuple[str, str], ...] = (
    ("granted", "#2e7d32"),
    ("partial", "#81c784"),
    ("denied", "#c62828"),
    ("unable", "#f9a825"),
    ("ignored", "#6d4c41"),
    ("other", "#90a4ae"),
)
MEASURE_LABELS = {name: label for name, label, _ in MEASURES}


def _measure_keys(report: PortalReport, measure: str, keys: tuple[str, ...]) -> tuple[str, ...]:
    # v2019 and hybrid tables print （六）其他处理 as one row (spec §3.6).
    if measure == "other" and (report.report_format == "v2019" or report.is_hybrid):
        return ("t3_other_all__total",)
    return keys


def report_figures(report: PortalReport) -> dict[str, CellValue]:
    """The report's statistics; a measure is None when any of its cells is null (unread)."""
    figures: dict[str, CellValue] = {}
    for measure, _, keys in MEASURES:
        values = [report.parsed.cells.get(key) for key in _measure_keys(report, measure, keys)]
        figures[measure] = None if any(v is None for v in values) else sum(v for v in values if v is not None)
    return figures


@dataclass
class Aggregate:
    """Figures summed over reports; `unread` counts the reports that lacked each measure."""

    source: str
    reports: int = 0
    totals: dict[str, float] = field(default_factory=lambda: {m: 0 for m, _, _ in MEASURES})
    unread: dict[str, int] = field(default_factory=lambda: {m: 0 for m, _, _ in MEASURES})

    def add(self, report: PortalReport) -> None:
        self.reports += 1
        for measure, value in report_figures(report).items():
            if value is None:
                self.unread[measure] += 1
            else:
                self.totals[measure] += value

    def shown(self, measure: str) -> str:
        text = format_number(self.totals[measure])
        return f"{text}*" if self.unread[measure] else text


def _government_aggregate(year_reports: Sequence[PortalReport], government: str) -> Aggregate:
    """A government's own summary report when published, else the sum of its agencies' reports."""
    summaries = sorted(
        (r for r in year_reports if r.report_kind == "summary"),
        key=lambda r: (fold_name(r.agency) != fold_name(government), fold_name(r.agency)),
    )
    if summaries:  # the government's own, by name, when several are listed under it
        aggregate = Aggregate(source=f"本级政府汇总报告（{summaries[0].agency}）")
        aggregate.add(summaries[0])
        return aggregate
    aggregate = Aggregate(source=f"{len(year_reports)} 份部门报告之和")
    for report in year_reports:
        aggregate.add(report)
    return aggregate


def _charts(years: list[int], by_year: Mapping[int, Aggregate], title: str) -> tuple[Markup, Markup]:
    categories = [str(year) for year in years]
    outcomes = [
        Series(MEASURE_LABELS[m], color, [by_year[y].totals[m] for y in years]) for m, color in OUTCOME_COLORS
    ]
    disputes = [
        Series("行政复议", "#1565c0", [by_year[y].totals["reviews"] for y in years]),
        Series("行政诉讼", "#8e24aa", [by_year[y].totals["suits"] for y in years]),
    ]
    return (
        bar_chart(f"{title}：申请办理结果", categories, outcomes, stacked=True),
        bar_chart(f"{title}：行政复议和行政诉讼", categories, disputes, stacked=False),
    )


def _stats_page(current: Sequence[PortalReport]) -> str:
    by_government: dict[str, dict[int, list[PortalReport]]] = defaultdict(lambda: defaultdict(list))
    for report in current:
        by_government[government_of(report)][report.year].append(report)
    governments = []
    for government in sorted(by_government, key=fold_name):
        years = sorted(by_government[government])
        by_year = {y: _government_aggregate(by_government[government][y], government) for y in years}
        governments.append((government, years, by_year, *_charts(years, by_year, government)))
    all_agencies: dict[int, Aggregate] = {}
    for report in current:
        if report.report_kind == "agency":
            all_agencies.setdefault(report.year, Aggregate(source="全部部门报告之和")).add(report)
    overall_years = sorted(all_agencies)
    overall_charts = _charts(overall_years, all_agencies, "全部部门报告") if overall_years else None
    return ENVIRONMENT.get_template("stats.html").render(
        root="",
        measures=MEASURES,
        governments=governments,
        overall_years=overall_years,
        overall=all_agencies,
        overall_charts=overall_charts,
    )


# --- coverage -----------------------------------------------------------------


@dataclass(frozen=True)
class CoverageRow:
    agency: str
    report_kind: ReportKind
    deadline: date
    status: str  # on_time | late | unknown (published, date not known) | missing | not_due
    report: PortalReport | None
    expected: bool  # on the government's list (False: published but not listed)


COVERAGE_LABELS = {
    "on_time": "按时发布",
    "late": "逾期发布",
    "unknown": "已发布（发布日期不详）",
    "missing": "未发布",
    "not_due": "未到期",
}


def _expected_row(
    name: str, kind: ReportKind, year: int, found: PortalReport | None, as_of: date
) -> CoverageRow:
    deadline = deadline_for(year, kind)
    if found is not None:
        return CoverageRow(name, kind, deadline, found.deadline_status, found, True)
    return CoverageRow(name, kind, deadline, "missing" if as_of > deadline else "not_due", None, True)


def coverage(
    current: Sequence[PortalReport], expected: Mapping[str, Sequence[str]] | None, as_of: date
) -> dict[int, dict[str, list[CoverageRow]]]:
    """Per year and government: who published (on time or late) and who has not.

    A government is expected to publish its own summary report (due 31 March) and each
    listed agency its report (due 31 January). Names match after folding (繁/简, width,
    spaces). Published reports from agencies not on the list are shown too, marked.
    """
    result: dict[int, dict[str, list[CoverageRow]]] = {}
    years = {r.year for r in current}
    if expected:
        years.add(as_of.year - 1)  # the year being reported on now, even before anyone has
    for year in sorted(years, reverse=True):
        year_reports = [r for r in current if r.year == year]
        by_name = {fold_name(r.agency): r for r in year_reports}
        matched: set[int] = set()
        per_government: dict[str, list[CoverageRow]] = {}
        for government, agencies in (expected or {}).items():
            summary = by_name.get(fold_name(government)) or next(
                (
                    r
                    for r in year_reports
                    if r.report_kind == "summary"
                    and r.government
                    and fold_name(r.government) == fold_name(government)
                ),
                None,
            )
            rows = [_expected_row(government, "summary", year, summary, as_of)]
            rows += [_expected_row(a, "agency", year, by_name.get(fold_name(a)), as_of) for a in agencies]
            matched.update(id(row.report) for row in rows if row.report is not None)
            per_government[government] = rows
        for report in sorted(year_reports, key=lambda r: fold_name(r.agency)):
            if id(report) in matched:
                continue
            government = government_of(report)
            deadline = deadline_for(year, report.report_kind)
            row = CoverageRow(
                report.agency, report.report_kind, deadline, report.deadline_status, report, False
            )
            per_government.setdefault(government, []).append(row)
        result[year] = dict(sorted(per_government.items(), key=lambda item: fold_name(item[0])))
    return result


def _coverage_counts(rows: Iterable[CoverageRow]) -> dict[str, int]:
    counts = dict.fromkeys(COVERAGE_LABELS, 0)
    for row in rows:
        counts[row.status] += 1
    return counts


# --- index, search, open data -----------------------------------------------------


def _report_link(report: PortalReport) -> str:
    return f"reports/{report.slug}/index.html"


def _index_page(current: Sequence[PortalReport]) -> str:
    by_year: dict[int, dict[str, list[PortalReport]]] = defaultdict(lambda: defaultdict(list))
    for report in current:
        by_year[report.year][government_of(report)].append(report)
    years = []
    for year in sorted(by_year, reverse=True):
        governments = []
        for government in sorted(by_year[year], key=fold_name):
            reports = sorted(
                by_year[year][government], key=lambda r: (r.report_kind != "summary", fold_name(r.agency))
            )
            governments.append((government, reports))
        years.append((year, governments))
    return ENVIRONMENT.get_template("index.html").render(root="", years=years, link=_report_link)


def _agencies_page(current: Sequence[PortalReport]) -> str:
    """Government → agency → one column per year, so gaps in an agency's series show."""
    table: dict[str, dict[str, dict[int, PortalReport]]] = defaultdict(lambda: defaultdict(dict))
    names: dict[str, str] = {}  # folded → the name as last published
    for report in sorted(current, key=lambda r: r.year):
        folded = fold_name(report.agency)
        names[folded] = report.agency
        table[government_of(report)][folded][report.year] = report
    governments = [
        (government, [(names[folded], table[government][folded]) for folded in sorted(table[government])])
        for government in sorted(table, key=fold_name)
    ]
    published_years = [r.year for r in current]
    years = list(range(min(published_years), max(published_years) + 1)) if published_years else []
    return ENVIRONMENT.get_template("agencies.html").render(
        root="", governments=governments, years=years, link=_report_link
    )


def search_index(current: Sequence[PortalReport]) -> bytes:
    """The search page's data: each report's name folded server-side, plus the 繁→简 table."""
    entries = [
        {
            "agency": r.agency,
            "folded": fold_name(r.agency),
            "government": r.government or "",
            "year": r.year,
            "kind": r.report_kind,
            "url": _report_link(r),
        }
        for r in sorted(current, key=lambda r: (-r.year, fold_name(r.agency)))
    ]
    mapping = traditional_to_simplified_map(fold_name(r.agency) for r in current)
    payload = {"t2s": mapping, "reports": entries}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _by_year(current: Sequence[PortalReport]) -> dict[int, list[PortalReport]]:
    grouped: dict[int, list[PortalReport]] = defaultdict(list)
    for report in sorted(current, key=lambda r: (r.year, r.government or "", fold_name(r.agency))):
        grouped[report.year].append(report)
    return dict(sorted(grouped.items()))


def _check_unique(reports: Sequence[PortalReport]) -> None:
    seen: dict[str, PortalReport] = {}
    for report in reports:
        other = seen.setdefault(report.slug, report)
        if other is not report:
            raise DuplicateReportError(
                f"documents {other.document_id} and {report.document_id} are both the current report of "
                f"{report.agency} for {report.year}; publish one as a new version of the other"
            )


def site_files(
    reports: Sequence[PortalReport],
    expected: Mapping[str, Sequence[str]] | None = None,
    *,
    as_of: date | None = None,
) -> dict[str, bytes]:
    """Every page spanning reports. `reports` are current versions; `expected` maps a
    government to the agencies that must report to it; `as_of` (default today) decides
    which deadlines have passed. A report without a recorded government is listed under
    the government whose `expected` list names it."""
    _check_unique(reports)
    today = as_of or date.today()
    governments = governments_by_agency(expected or {})
    current = [
        replace(r, government=governments.get(fold_name(r.agency))) if r.government is None else r
        for r in reports
        if not r.retracted
    ]
    by_year = _by_year(current)
    files: dict[str, bytes] = {
        "index.html": _index_page(current).encode("utf-8"),
        "agencies.html": _agencies_page(current).encode("utf-8"),
        "search.html": ENVIRONMENT.get_template("search.html").render(root="").encode("utf-8"),
        "search.js": ENVIRONMENT.get_template("search.js").render().encode("utf-8"),
        "search-index.json": search_index(current),
        "stats.html": _stats_page(current).encode("utf-8"),
    }
    coverage_by_year = coverage(current, expected, today)
    files["coverage.html"] = (
        ENVIRONMENT.get_template("coverage.html")
        .render(
            root="",
            coverage=coverage_by_year,
            counts=_coverage_counts,
            labels=COVERAGE_LABELS,
            has_expected=expected is not None,
            as_of=today,
            link=_report_link,
        )
        .encode("utf-8")
    )
    for year, year_reports in by_year.items():
        files[f"data/{year}.csv"] = year_csv(year_reports)
        files[f"data/{year}.xlsx"] = year_xlsx(year_reports, year)
    files["data/index.html"] = (
        ENVIRONMENT.get_template("data.html")
        .render(root="../", years=[(year, len(rs)) for year, rs in sorted(by_year.items(), reverse=True)])
        .encode("utf-8")
    )
    return files


def build_portal(
    reports: Sequence[PortalReport],
    expected: Mapping[str, Sequence[str]] | None = None,
    *,
    as_of: date | None = None,
) -> dict[str, PortalFile]:
    """The complete portal: `site_files` plus every report's own files (retracted included)."""
    files: dict[str, PortalFile] = dict(site_files(reports, expected, as_of=as_of))
    for report in reports:
        files.update(report_files(report))
    return files
