"""Reading a ParsedReport's cells the way every rule needs them.

The spec's two conventions live here and nowhere else: a blank/marker cell is 0 for
arithmetic (the parser stores it as 0 with a marker), and a *null* cell (not printed, not
located) makes every check that needs it skip.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from shared.report import (
    T3_COLUMN_LABELS,
    T3_COLUMNS,
    T3_RESULT_ROWS_DENIED,
    T3_RESULT_ROWS_IGNORED,
    T3_RESULT_ROWS_OTHER,
    T3_RESULT_ROWS_UNABLE,
    T3_ROWS_V2019,
    T3_ROWS_V2021,
    CellValue,
    ParsedReport,
    t3_key,
)

Number = int | float
BLANK_MARKERS = frozenset({"blank", "/", "—", "－", "-", "–", "无"})

COLUMN_ZH = T3_COLUMN_LABELS

ROW_ZH = {
    "new_received": "一、本年新收",
    "carried_over": "二、上年结转",
    "granted": "（一）予以公开",
    "partial": "（二）部分公开",
    "denied_state_secret": "（三）1.属于国家秘密",
    "denied_law_forbidden": "（三）2.其他法律行政法规禁止公开",
    "denied_three_security": "（三）3.危及“三安全一稳定”",
    "denied_third_party": "（三）4.保护第三方合法权益",
    "denied_internal_affairs": "（三）5.属于三类内部事务信息",
    "denied_process_info": "（三）6.属于四类过程性信息",
    "denied_enforcement_file": "（三）7.属于行政执法案卷",
    "denied_admin_query": "（三）8.属于行政查询事项",
    "unable_not_held": "（四）1.本机关不掌握相关政府信息",
    "unable_need_creation": "（四）2.没有现成信息需要另行制作",
    "unable_unclear": "（四）3.补正后申请内容仍不明确",
    "ignored_petition": "（五）1.信访举报投诉类申请",
    "ignored_duplicate": "（五）2.重复申请",
    "ignored_publication": "（五）3.要求提供公开出版物",
    "ignored_mass_repeat": "（五）4.无正当理由大量反复申请",
    "ignored_confirm": "（五）5.要求行政机关确认或重新出具已获取信息",
    "other_no_correction": "（六）1.逾期不补正",
    "other_no_fee": "（六）2.逾期未缴费",
    "other_other": "（六）3.其他",
    "other_all": "（六）其他处理",
    "total_processed": "（七）总计",
    "carried_forward": "四、结转下年度继续办理",
}

T3Layout = Literal["v2021", "single_other", "none"]
RESULT_ROWS_BEFORE_OTHER: tuple[str, ...] = T3_ROWS_V2021[2:20]


@dataclass(frozen=True)
class CellReader:
    """Values, markers and parser confidence of one report's cells."""

    report: ParsedReport

    def value(self, key: str) -> CellValue:
        return self.report.cells.get(key)

    def values(self, keys: Iterable[str]) -> list[CellValue]:
        return [self.report.cells.get(k) for k in keys]

    def total(self, keys: Iterable[str]) -> Number | None:
        """Sum of the cells, or None when any of them is null (the check is then skipped)."""
        out: Number = 0
        for k in keys:
            v = self.report.cells.get(k)
            if v is None:
                return None
            out += v
        return out

    def marker(self, key: str) -> str | None:
        detail = self.report.cell_details.get(key)
        return detail.marker if detail else None

    def is_blank(self, key: str) -> bool:
        return self.marker(key) in BLANK_MARKERS

    def confidence(self, key: str) -> float:
        detail = self.report.cell_details.get(key)
        return detail.confidence if detail else 1.0

    def has_printed_digits(self, key: str) -> bool:
        return self.value(key) is not None and self.marker(key) is None

    def shown(self, key: str, lang: str = "zh") -> str:
        """A cell value as a reviewer reads it in a message: '0（空白）' / '0 (blank)', '12', 'null'."""
        v = self.value(key)
        if v is None:
            return "null"
        text = fmt(v)
        marker = self.marker(key)
        if marker == "blank":
            return f"{text}（空白）" if lang == "zh" else f"{text} (blank)"
        if marker:
            return f"{text}（“{marker}”）" if lang == "zh" else f"{text} ('{marker}')"
        return text


def fmt(v: Number) -> str:
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else f"{v:.4f}".rstrip("0").rstrip(".")
    return str(v)


def t3_layout(report: ParsedReport) -> T3Layout:
    """v2021 sub-rows, the single （六） row (v2019 or hybrid, §3.6), or no table 三 at all."""
    if report.report_format == "pre2019":
        return "none"
    cells = report.cells
    has_sub_rows = any(cells.get(t3_key(r, c)) is not None for r in T3_RESULT_ROWS_OTHER for c in T3_COLUMNS)
    if report.report_format == "v2021" and has_sub_rows:
        return "v2021"
    if any(cells.get(t3_key("other_all", c)) is not None for c in T3_COLUMNS):
        return "single_other"
    return "v2021" if report.report_format == "v2021" else "single_other"


def t3_rows(layout: T3Layout) -> tuple[str, ...]:
    if layout == "v2021":
        return T3_ROWS_V2021
    if layout == "single_other":
        return T3_ROWS_V2019
    return ()


def other_rows(layout: T3Layout) -> tuple[str, ...]:
    return T3_RESULT_ROWS_OTHER if layout == "v2021" else ("other_all",)


def result_rows(layout: T3Layout) -> tuple[str, ...]:
    """Rows 3–20 plus the （六） row(s): the rows whose sum is （七）总计."""
    return (*RESULT_ROWS_BEFORE_OTHER, *other_rows(layout))


RESULT_GROUPS: dict[str, tuple[str, ...]] = {
    "granted": ("granted",),
    "partial": ("partial",),
    "denied": T3_RESULT_ROWS_DENIED,
    "unable": T3_RESULT_ROWS_UNABLE,
    "ignored": T3_RESULT_ROWS_IGNORED,
}


def table_keys_present(report: ParsedReport, prefix: str) -> list[str]:
    return [k for k, v in report.cells.items() if k.startswith(prefix) and v is not None]
