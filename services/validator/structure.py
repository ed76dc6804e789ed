"""Document structure and metadata rules (§6.1): META-*, SEC-*, TBL-*."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from shared.report import T3_COLUMNS, Finding, ParsedReport, Severity, t3_key

from .agency import AgencyLevel
from .catalogue import make_finding
from .cells import t3_layout

SECTION_ZH = {"1": "一", "2": "二", "3": "三", "4": "四", "5": "五", "6": "六"}
TABLE_PREFIX = {"2": ("t2_", "t2v19_"), "3": ("t3_",), "4": ("t4_",)}
# The six parts as a preamble names them (§3.1), for SEC-COUNT-CLAIM.
PART_NAMES = (r"总体情况", r"主动公开", r"收到和处理|依申请", r"行政复议|行政诉讼", r"问题|改进", r"其他需要报告")
CN_COUNT = {"五": 5, "六": 6, "七": 7, "四": 4, "5": 5, "6": 6, "7": 7, "4": 4}


def expected_format(year: int) -> str:
    if year <= 2018:
        return "pre2019"
    return "v2019" if year <= 2020 else "v2021"


def check_metadata(report: ParsedReport, as_of: dt.date, level: AgencyLevel | None) -> list[Finding]:
    out = []
    if not (report.agency or "").strip():
        out.append(make_finding("META-AGENCY", "", ""))
    out += _year(report, as_of)
    if report.year:
        out += _period(report)
        out += _publication_date(report, level)
        out += _format_year(report)
        out += _cited_notice(report)
    return out


def _year(report: ParsedReport, as_of: dt.date) -> list[Finding]:
    year = report.year
    title_year = re.search(r"(\d{4})\s*年", report.title or "")
    if year is None:
        return [make_finding("META-YEAR", "未能识别报告年度", "no report year found")]
    if year < 2008 or year > as_of.year - 1:
        return [make_finding("META-YEAR", f"报告年度{year}（处理日期{as_of.isoformat()}）",
                             f"report year {year} (processed {as_of.isoformat()})")]
    if title_year and int(title_year.group(1)) != year:
        return [make_finding("META-YEAR", f"标题年度{title_year.group(1)}与报告年度{year}不一致",
                             f"title year {title_year.group(1)} differs from report year {year}")]
    return []


def _period(report: ParsedReport) -> list[Finding]:
    if not report.statistics_period:
        return []
    dates = re.findall(r"(\d{4})?-?(\d{1,2})-(\d{1,2})", report.statistics_period)
    if len(dates) != 2:
        return []
    start_year = dates[0][0]
    (y1, m1, d1), (y2, m2, d2) = dates
    y2 = y2 or start_year  # "至12月31日": the end takes the start's year (§6.1)
    stated = f"{y1}-{int(m1):02d}-{int(d1):02d}..{y2}-{int(m2):02d}-{int(d2):02d}"
    expected = f"{report.year}-01-01..{report.year}-12-31"
    if stated == expected:
        return []
    return [make_finding("META-PERIOD", f"统计期限{stated}，应为{expected}", f"period {stated}, expected {expected}")]


def _publication_date(report: ParsedReport, level: AgencyLevel | None) -> list[Finding]:
    try:
        published = dt.date.fromisoformat((report.published_on or "")[:10])
    except ValueError:
        return []
    year = report.year or 0
    if published <= dt.date(year, 12, 31):
        return [make_finding("META-PUBDATE-EARLY", f"发布日期{published}，统计期至{year}-12-31",
                             f"published {published}, period ends {year}-12-31")]
    if level is None or level == "township":
        return []  # no Art. 49 deadline for 乡镇/街道; unknown level: cannot tell the deadline
    if year <= 2018 or report.report_kind == "summary":
        deadline = dt.date(year + 1, 3, 31)
    else:
        deadline = dt.date(year + 1, 1, 31)
    if published <= deadline:
        return []
    return [make_finding("META-PUBDATE-LATE", f"发布日期{published}，法定时限{deadline}",
                         f"published {published}, deadline {deadline}")]


def _format_year(report: ParsedReport) -> list[Finding]:
    year = report.year or 0
    expected = expected_format(year)
    found = report.report_format
    if found == expected:
        return []
    severity: Severity = "error" if found == "v2021" and year <= 2020 else "warning"
    return [make_finding("META-FORMAT-YEAR", f"{year}年度报告使用{found}格式（应为{expected}）",
                         f"a {year} report in {found} format (expected {expected})", severity=severity)]


def _cited_notice(report: ParsedReport) -> list[Finding]:
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", " ".join(report.sections.values())))
    year = report.year or 0
    if year >= 2021 and re.search(r"〔2019〕60号|\[2019\]60号|\(2019\)60号", text):
        return [make_finding("META-CITED-DOC", f"{year}年度报告引用国办公开办函〔2019〕60号",
                             f"a {year} report cites the 2019 notice (〔2019〕60号)")]
    if year <= 2020 and re.search(r"〔2021〕30号|\[2021\]30号|\(2021\)30号", text):
        return [make_finding("META-CITED-DOC", f"{year}年度报告引用国办公开办函〔2021〕30号",
                             f"a {year} report cites the 2021 notice (〔2021〕30号)")]
    return []


# --- sections and tables ----------------------------------------------------------


def table_found(report: ParsedReport, number: str) -> bool:
    return any(v is not None and k.startswith(TABLE_PREFIX[number]) for k, v in report.cells.items())


def _improvement_subheadings(report: ParsedReport) -> bool:
    """Section 五 written only as sub-headings （一）…问题 / （二）…改进 (上海市人民政府办公厅 2025)."""
    text = "\n".join(report.sections.get(n, "") for n in ("3", "4"))
    heads = [ln for ln in text.splitlines() if re.match(r"\s*[（(][一二三四][）)]", ln)]
    return any("问题" in h for h in heads) and any(re.search("改进|整改", h) for h in heads)


def check_sections(report: ParsedReport) -> list[Finding]:
    if not report.sections:
        return []  # no narrative text was extracted: absence proves nothing
    out = []
    for n, zh in SECTION_ZH.items():
        present = n in report.sections
        if not present and n in TABLE_PREFIX:
            present = table_found(report, n)
        if not present and n == "5":
            present = _improvement_subheadings(report)
        if not present:
            out.append(make_finding(f"SEC-MISSING-{n}", f"未找到第{zh}部分", f"section {zh} ({n}) not found"))
    order = [n for n in report.sections if n in SECTION_ZH]
    if order != sorted(order):
        out.append(make_finding("SEC-ORDER", "顺序为" + "、".join(SECTION_ZH[n] for n in order),
                                "order found: " + ", ".join(order)))
    out += _count_claim(report.sections.get("0", ""))
    for n in ("1", "5"):
        text = re.sub(r"\s+", "", report.sections.get(n, ""))
        if n in report.sections and len(text) < 50:
            out.append(make_finding("SEC-EMPTY-NARRATIVE", f"第{SECTION_ZH[n]}部分仅{len(text)}字",
                                    f"section {n} has only {len(text)} characters"))
    return out


def _count_claim(preamble: str) -> list[Finding]:
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", preamble))
    m = re.search(r"(?:包括|由)(?P<list>[^。]{4,200}?)(?:等)?(?P<n>[四五六七456])个?部分", text)
    if not m:
        return []
    named = sum(1 for p in PART_NAMES if re.search(p, m.group("list")))
    claimed = CN_COUNT[m.group("n")]
    if named == claimed or named < 3:  # fewer than three names: not a list of the parts
        return []
    return [make_finding("SEC-COUNT-CLAIM", f"前言称{m.group('n')}部分，但列出{named}部分",
                         f"preamble claims {claimed} parts but names {named}")]


def check_tables(report: ParsedReport) -> list[Finding]:
    out = []
    if report.year is not None and report.year >= 2019:
        not_extracted = " ".join(
            f"{pf.message} {' '.join(pf.cells)}" for pf in report.parse_findings
            if pf.rule.lower().replace("-", "_") == "table_not_extracted"
        )
        for n in TABLE_PREFIX:
            if not table_found(report, n) and not _mentions_table(not_extracted, n):
                out.append(make_finding(f"TBL-MISSING-{n}", f"未读到第{SECTION_ZH[n]}部分表格",
                                        f"table of section {n} not found"))
    return out


def _mentions_table(text: str, n: str) -> bool:
    return bool(text) and (f"t{n}_" in text or re.search(rf"(?:table|表|TBL-MISSING-){n}|表{SECTION_ZH[n]}", text) is not None)


def hybrid_layout_alteration(report: ParsedReport) -> tuple[str, str] | None:
    """The single （六）其他处理 row inside a v2021 table 三 (§3.6) is a template alteration."""
    printed = any(report.cells.get(t3_key("other_all", c)) is not None for c in T3_COLUMNS)
    if report.report_format == "v2021" and t3_layout(report) == "single_other" and printed:
        return ("表三“（六）其他处理”为单行（v2019样式），缺少三个子项",
                "table 三 prints （六）其他处理 as one row (v2019 layout) instead of three sub-rows")
    return None
