"""The report data contract shared by parser, validator, publisher and API.

Cell keys and rule IDs are those of the domain spec
(../shared/domain/annual-report-format.md §3 and §6). This module only *describes*
a report; reading one is the parser's job and judging one the validator's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

ReportFormat = Literal["v2021", "v2019", "pre2019"]
ReportKind = Literal["agency", "summary"]
# error → rejected; warning → needs review; notice → a harmless deviation from the template,
# recorded and counted per agency but not holding the report; info → a fact worth showing.
Severity = Literal["error", "warning", "notice", "info"]
CellValue = int | float | None

# --- Section 二 -------------------------------------------------------------
T2_KEYS_V2021: tuple[str, ...] = (
    "t2_rules_issued",
    "t2_rules_repealed",
    "t2_rules_in_force",
    "t2_normative_issued",
    "t2_normative_repealed",
    "t2_normative_in_force",
    "t2_license_decisions",
    "t2_penalty_decisions",
    "t2_coercion_decisions",
    "t2_fee_amount_wan",
)

T2_KEYS_V2019: tuple[str, ...] = (
    *(
        f"t2v19_{x}_{c}"
        for x in ("rules", "normative")
        for c in ("new_made", "new_published", "total_published")
    ),
    *(
        f"t2v19_{x}_{c}"
        for x in ("license", "other_service", "penalty", "coercion")
        for c in ("prev_items", "delta", "decisions")
    ),
    "t2v19_fee_prev_items",
    "t2v19_fee_delta",
    "t2v19_procurement_items",
    "t2v19_procurement_amount",
)
# Hubei's provincial extra row (§2); only present when the report prints it.
T2_KEYS_V2019_HUBEI: tuple[str, ...] = tuple(
    f"t2v19_other_docs_{c}" for c in ("new_made", "new_published", "total_published")
)

# --- Section 三 -------------------------------------------------------------
T3_COLUMNS: tuple[str, ...] = (
    "natural",
    "org_business",
    "org_research",
    "org_ngo",
    "org_legal",
    "org_other",
    "total",
)
T3_ORG_COLUMNS: tuple[str, ...] = T3_COLUMNS[1:6]

T3_RESULT_ROWS_DENIED = (
    "denied_state_secret",
    "denied_law_forbidden",
    "denied_three_security",
    "denied_third_party",
    "denied_internal_affairs",
    "denied_process_info",
    "denied_enforcement_file",
    "denied_admin_query",
)
T3_RESULT_ROWS_UNABLE = ("unable_not_held", "unable_need_creation", "unable_unclear")
T3_RESULT_ROWS_IGNORED = (
    "ignored_petition",
    "ignored_duplicate",
    "ignored_publication",
    "ignored_mass_repeat",
    "ignored_confirm",
)
T3_RESULT_ROWS_OTHER = ("other_no_correction", "other_no_fee", "other_other")

T3_ROWS_V2021: tuple[str, ...] = (
    "new_received",
    "carried_over",
    "granted",
    "partial",
    *T3_RESULT_ROWS_DENIED,
    *T3_RESULT_ROWS_UNABLE,
    *T3_RESULT_ROWS_IGNORED,
    *T3_RESULT_ROWS_OTHER,
    "total_processed",
    "carried_forward",
)
# v2019 (and the hybrid layout of §3.6): rows 21–23 replaced by one （六）其他处理 row.
T3_ROWS_V2019: tuple[str, ...] = (
    *T3_ROWS_V2021[:20],
    "other_all",
    "total_processed",
    "carried_forward",
)

# --- Section 四 -------------------------------------------------------------
T4_GROUPS: tuple[str, ...] = ("review", "suit_direct", "suit_after_review")
T4_OUTCOMES: tuple[str, ...] = ("upheld", "corrected", "other", "pending", "total")
T4_KEYS: tuple[str, ...] = tuple(f"t4_{g}_{o}" for g in T4_GROUPS for o in T4_OUTCOMES)


# --- The template's own words (checked character by character against the blank 2021
# template): what the parser matches, the portal prints and messages quote. -------------
SECTION_TITLES: dict[str, str] = {
    "1": "一、总体情况",
    "2": "二、主动公开政府信息情况",
    "3": "三、收到和处理政府信息公开申请情况",
    "4": "四、政府信息公开行政复议、行政诉讼情况",
    "5": "五、存在的主要问题及改进情况",
    "6": "六、其他需要报告的事项",
}
T3_COLUMN_LABELS: dict[str, str] = {
    "natural": "自然人",
    "org_business": "商业企业",
    "org_research": "科研机构",
    "org_ngo": "社会公益组织",
    "org_legal": "法律服务机构",
    "org_other": "其他",
    "total": "总计",
}
T3_ROW_LABELS: dict[str, str] = {
    "new_received": "一、本年新收政府信息公开申请数量",
    "carried_over": "二、上年结转政府信息公开申请数量",
    "granted": "（一）予以公开",
    "partial": "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
    "denied_state_secret": "1.属于国家秘密",
    "denied_law_forbidden": "2.其他法律行政法规禁止公开",
    "denied_three_security": "3.危及“三安全一稳定”",
    "denied_third_party": "4.保护第三方合法权益",
    "denied_internal_affairs": "5.属于三类内部事务信息",
    "denied_process_info": "6.属于四类过程性信息",
    "denied_enforcement_file": "7.属于行政执法案卷",
    "denied_admin_query": "8.属于行政查询事项",
    "unable_not_held": "1.本机关不掌握相关政府信息",
    "unable_need_creation": "2.没有现成信息需要另行制作",
    "unable_unclear": "3.补正后申请内容仍不明确",
    "ignored_petition": "1.信访举报投诉类申请",
    "ignored_duplicate": "2.重复申请",
    "ignored_publication": "3.要求提供公开出版物",
    "ignored_mass_repeat": "4.无正当理由大量反复申请",
    "ignored_confirm": "5.要求行政机关确认或重新出具已获取信息",
    "other_no_correction": "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "other_no_fee": "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "other_other": "3.其他",
    "total_processed": "（七）总计",
    "carried_forward": "四、结转下年度继续办理",
}


def t3_key(row: str, column: str) -> str:
    return f"t3_{row}__{column}"


def t3_keys(rows: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(t3_key(r, c) for r in rows for c in T3_COLUMNS)


def keys_for_format(report_format: ReportFormat, *, hybrid: bool = False) -> tuple[str, ...]:
    """Every key a report of this format holds (null when not printed or not read).

    A hybrid v2021 report (§3.6) holds both the v2021 （六） sub-rows (null) and `other_all`.
    """
    if report_format == "v2021":
        rows = (*T3_ROWS_V2021[:23], "other_all", *T3_ROWS_V2021[23:]) if hybrid else T3_ROWS_V2021
        return (*T2_KEYS_V2021, *t3_keys(rows), *T4_KEYS)
    if report_format == "v2019":
        return (*T2_KEYS_V2019, *t3_keys(T3_ROWS_V2019), *T4_KEYS)
    return ()


# --- Parse result -----------------------------------------------------------

# A cell's confidence is the probability that its value is the one printed (bench/parse.py
# measures the calibration per band). Below this a cell is *uncertain*: the validator holds
# the report for a person (PARSE-LOW-CONFIDENCE) and never rests an error on it, the portal
# marks it. At or above it (0.95 for a text dump whose layout was unambiguous, 0.99 for a
# cell the table's arithmetic confirms, 1.0 for a grid cell) the reading counts as certain:
# at most 1 wrong cell in 10,000.
UNCERTAIN_BELOW = 0.9


@dataclass
class CellDetail:
    """Where a cell's value came from and how sure the parser is of it."""

    raw: str
    marker: str | None = None  # None | "blank" | "/" | "—" | "-" | "无"
    source: str = ""  # e.g. "page 3, table 2, row 5, col 4" or "line 57"
    confidence: float = 1.0
    note: str | None = None  # e.g. the bracketed remark of "22（其中修订16件）"
    # Where exactly (see services/parser/document.py `Position`), all optional: PDFs give
    # `page` and `box` = [x0, y0, x1, y1] in PDF points, origin at the page's bottom-left
    # corner, y up (PDF user space as pypdfium2 uses it); grid tables give `table` (0-based
    # in reading order), `row`, `col`; text lines give `paragraph` (0-based block) and
    # `col` (the field of the line), plain text files also `line` (1-based line of the file).
    page: int | None = None
    box: list[float] | None = None
    line: int | None = None
    table: int | None = None
    paragraph: int | None = None
    row: int | None = None
    col: int | None = None
    corrected_by: str | None = None  # a reviewer's correction replaced the value read (who)


@dataclass
class ParseFinding:
    rule: str
    message: str
    cells: list[str] = field(default_factory=list)


@dataclass
class ParsedReport:
    agency: str | None = None
    year: int | None = None
    report_format: ReportFormat = "pre2019"
    report_kind: ReportKind = "agency"
    published_on: str | None = None  # ISO date
    statistics_period: str | None = None  # "YYYY-MM-DD..YYYY-MM-DD" as stated
    title: str | None = None
    sections: dict[str, str] = field(default_factory=dict)  # "1".."6" -> text; "0" the preamble
    cells: dict[str, CellValue] = field(default_factory=dict)
    cell_details: dict[str, CellDetail] = field(default_factory=dict)
    parse_findings: list[ParseFinding] = field(default_factory=list)
    parser_version: str = ""

    def to_json(self) -> dict[str, Any]:
        """As `dataclasses.asdict` gives it, written out: asdict deep-copies every value of
        hundreds of cell details, a large share of a text report's whole parse time."""
        data = {name: getattr(self, name) for name in _REPORT_FIELDS}
        data["sections"] = dict(self.sections)
        data["cells"] = dict(self.cells)
        data["cell_details"] = {key: _detail_json(d) for key, d in self.cell_details.items()}
        data["parse_findings"] = [
            {"rule": f.rule, "message": f.message, "cells": list(f.cells)} for f in self.parse_findings
        ]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParsedReport:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["cell_details"] = {k: CellDetail(**v) for k, v in data.get("cell_details", {}).items()}
        known["parse_findings"] = [ParseFinding(**f) for f in data.get("parse_findings", [])]
        return cls(**known)


_REPORT_FIELDS = tuple(f.name for f in fields(ParsedReport))
_DETAIL_FIELDS = tuple(f.name for f in fields(CellDetail))


def _detail_json(detail: CellDetail) -> dict[str, Any]:
    data = {name: getattr(detail, name) for name in _DETAIL_FIELDS}
    if detail.box is not None:
        data["box"] = list(detail.box)
    return data


# --- Validation result ------------------------------------------------------


@dataclass
class Finding:
    """One rule's verdict on one report, phrased so a reviewer can act on it."""

    rule: str
    severity: Severity
    message_zh: str
    message_en: str
    cells: list[str] = field(default_factory=list)
    culprit: str | None = None  # the one cell that best explains the failure, if pinned
    # What the reviewer should check and where, for findings that hold a report (warning, error).
    question_zh: str | None = None
    question_en: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class UnreadableDocument(Exception):
    """A permanent reason why a file cannot be parsed (the document ends `failed`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
