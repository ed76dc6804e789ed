"""The three tables of a report as the official template prints them (spec §3.2–3.6).

A layout is data: rows of header cells (with the template's rowspan/colspan) and value
cells (naming the cell key whose number goes there). The page template draws any layout
the same way, so the v2021, v2019 and hybrid tables differ only here. Merges follow
official-blank-template-2021.docx; v2019 blocks follow the 60号 format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from shared.report import (
    T3_COLUMN_LABELS,
    T3_COLUMNS,
    T3_RESULT_ROWS_DENIED,
    T3_RESULT_ROWS_IGNORED,
    T3_RESULT_ROWS_OTHER,
    T3_RESULT_ROWS_UNABLE,
    T3_ROW_LABELS,
    T4_GROUPS,
    T4_OUTCOMES,
    ReportFormat,
    t3_key,
)


@dataclass(frozen=True)
class HeaderCell:
    text: str
    rowspan: int = 1
    colspan: int = 1
    is_row_label: bool = False  # a row's label (th scope=row) rather than a column header


@dataclass(frozen=True)
class ValueCell:
    key: str
    colspan: int = 1


Cell = HeaderCell | ValueCell
Row = tuple[Cell, ...]


@dataclass(frozen=True)
class TableLayout:
    section: str  # "2", "3" or "4"
    rows: tuple[Row, ...]
    labels: Mapping[str, str]  # cell key -> "row label｜column label", for tooltips and CSV


# --- Section 二 ---------------------------------------------------------------

# (block title, column headers with their colspans, [(row label, keys)]) — keys line up
# with the column headers after the first 信息内容 column.
_Block = tuple[str, tuple[tuple[str, int], ...], tuple[tuple[str, tuple[str, ...]], ...]]

_V2021_BLOCKS: tuple[_Block, ...] = (
    (
        "第二十条第（一）项",
        (("本年制发件数", 1), ("本年废止件数", 1), ("现行有效件数", 1)),
        (
            ("规章", ("t2_rules_issued", "t2_rules_repealed", "t2_rules_in_force")),
            ("行政规范性文件", ("t2_normative_issued", "t2_normative_repealed", "t2_normative_in_force")),
        ),
    ),
    ("第二十条第（五）项", (("本年处理决定数量", 3),), (("行政许可", ("t2_license_decisions",)),)),
    (
        "第二十条第（六）项",
        (("本年处理决定数量", 3),),
        (("行政处罚", ("t2_penalty_decisions",)), ("行政强制", ("t2_coercion_decisions",))),
    ),
    (
        "第二十条第（八）项",
        (("本年收费金额（单位：万元）", 3),),
        (("行政事业性收费", ("t2_fee_amount_wan",)),),
    ),
)


def _v19(item: str, columns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"t2v19_{item}_{column}" for column in columns)


_V2019_DOC_COLUMNS = ("new_made", "new_published", "total_published")
_V2019_ITEM_COLUMNS = ("prev_items", "delta", "decisions")
_V2019_ITEM_HEADERS = (("上一年项目数量", 1), ("本年增/减", 1), ("处理决定数量", 1))


def _v2019_blocks(with_hubei_row: bool) -> tuple[_Block, ...]:
    document_rows: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("规章", _v19("rules", _V2019_DOC_COLUMNS)),
        ("规范性文件", _v19("normative", _V2019_DOC_COLUMNS)),
    )
    if with_hubei_row:  # Hubei's provincial extra row (spec §2), only when printed
        document_rows = (*document_rows, ("其他主动公开文件", _v19("other_docs", _V2019_DOC_COLUMNS)))
    return (
        (
            "第二十条第（一）项",
            (("本年新制作数量", 1), ("本年新公开数量", 1), ("对外公开总数量", 1)),
            document_rows,
        ),
        (
            "第二十条第（五）项",
            _V2019_ITEM_HEADERS,
            (
                ("行政许可", _v19("license", _V2019_ITEM_COLUMNS)),
                ("其他对外管理服务事项", _v19("other_service", _V2019_ITEM_COLUMNS)),
            ),
        ),
        (
            "第二十条第（六）项",
            _V2019_ITEM_HEADERS,
            (
                ("行政处罚", _v19("penalty", _V2019_ITEM_COLUMNS)),
                ("行政强制", _v19("coercion", _V2019_ITEM_COLUMNS)),
            ),
        ),
        (
            "第二十条第（八）项",
            (("上一年项目数量", 1), ("本年增/减", 2)),
            (("行政事业性收费", ("t2v19_fee_prev_items", "t2v19_fee_delta")),),
        ),
        (
            "第二十条第（九）项",
            (("采购项目数量", 1), ("采购总金额", 2)),
            (("政府集中采购", ("t2v19_procurement_items", "t2v19_procurement_amount")),),
        ),
    )


def _section2(blocks: tuple[_Block, ...]) -> TableLayout:
    rows: list[Row] = []
    labels: dict[str, str] = {}
    for title, headers, items in blocks:
        rows.append((HeaderCell(title, colspan=4),))
        rows.append((HeaderCell("信息内容"), *(HeaderCell(text, colspan=span) for text, span in headers)))
        for row_label, keys in items:
            cells: list[Cell] = [HeaderCell(row_label, is_row_label=True)]
            for key, (header, span) in zip(keys, headers, strict=True):
                cells.append(ValueCell(key, colspan=span))
                labels[key] = f"{row_label}｜{header}"
            rows.append(tuple(cells))
    return TableLayout("2", tuple(rows), MappingProxyType(labels))


# --- Section 三 ---------------------------------------------------------------

T3_BALANCE_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
_T3_ITEM_LABELS: dict[str, str] = {
    row: label
    for row, label in T3_ROW_LABELS.items()
    if row.startswith(("denied_", "unable_", "ignored_", "other_"))
}
_T3_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("（三）不予公开", T3_RESULT_ROWS_DENIED),
    ("（四）无法提供", T3_RESULT_ROWS_UNABLE),
    ("（五）不予处理", T3_RESULT_ROWS_IGNORED),
)


def _t3_values(row: str, row_label: str, labels: dict[str, str]) -> tuple[ValueCell, ...]:
    for column in T3_COLUMNS:
        labels[t3_key(row, column)] = f"{row_label}｜{T3_COLUMN_LABELS[column]}"
    return tuple(ValueCell(t3_key(row, column)) for column in T3_COLUMNS)


def _section3(single_other_row: bool) -> TableLayout:
    """Table 三; `single_other_row` is the v2019 / hybrid （六）其他处理 without sub-rows."""
    labels: dict[str, str] = {}
    header: tuple[Row, ...] = (
        (HeaderCell(T3_BALANCE_NOTE, rowspan=3, colspan=3), HeaderCell("申请人情况", colspan=7)),
        (
            HeaderCell("自然人", rowspan=2),
            HeaderCell("法人或其他组织", colspan=5),
            HeaderCell("总计", rowspan=2),
        ),
        tuple(HeaderCell(T3_COLUMN_LABELS[c]) for c in T3_COLUMNS[1:6]),
    )

    def full_width(row: str, text: str) -> Row:
        return (HeaderCell(text, colspan=3, is_row_label=True), *_t3_values(row, text, labels))

    def two_wide(row: str, text: str) -> list[Cell]:
        return [HeaderCell(text, colspan=2, is_row_label=True), *_t3_values(row, text, labels)]

    result_rows: list[list[Cell]] = [
        two_wide("granted", "（一）予以公开"),
        two_wide("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    ]
    groups = _T3_GROUPS if single_other_row else (*_T3_GROUPS, ("（六）其他处理", T3_RESULT_ROWS_OTHER))
    for group_label, items in groups:
        for position, item in enumerate(items):
            item_label = _T3_ITEM_LABELS[item]
            group_cell: list[Cell] = (
                [HeaderCell(group_label, rowspan=len(items), is_row_label=True)] if position == 0 else []
            )
            item_cell = HeaderCell(item_label, is_row_label=True)
            result_rows.append(
                [*group_cell, item_cell, *_t3_values(item, f"{group_label}{item_label}", labels)]
            )
    if single_other_row:
        result_rows.append(two_wide("other_all", "（六）其他处理"))
    result_rows.append(two_wide("total_processed", "（七）总计"))
    result_rows[0].insert(0, HeaderCell("三、本年度办理结果", rowspan=len(result_rows), is_row_label=True))

    rows: tuple[Row, ...] = (
        *header,
        full_width("new_received", "一、本年新收政府信息公开申请数量"),
        full_width("carried_over", "二、上年结转政府信息公开申请数量"),
        *(tuple(row) for row in result_rows),
        full_width("carried_forward", "四、结转下年度继续办理"),
    )
    return TableLayout("3", rows, MappingProxyType(labels))


# --- Section 四 ---------------------------------------------------------------

_T4_OUTCOME_LABELS = {
    "upheld": "结果维持",
    "corrected": "结果纠正",
    "other": "其他结果",
    "pending": "尚未审结",
    "total": "总计",
}
_T4_GROUP_LABELS = {
    "review": "行政复议",
    "suit_direct": "行政诉讼｜未经复议直接起诉",
    "suit_after_review": "行政诉讼｜复议后起诉",
}


def _section4() -> TableLayout:
    outcomes = tuple(HeaderCell(_T4_OUTCOME_LABELS[o]) for o in T4_OUTCOMES)
    rows: tuple[Row, ...] = (
        (HeaderCell("行政复议", colspan=5), HeaderCell("行政诉讼", colspan=10)),
        (
            *(HeaderCell(_T4_OUTCOME_LABELS[o], rowspan=2) for o in T4_OUTCOMES),
            HeaderCell("未经复议直接起诉", colspan=5),
            HeaderCell("复议后起诉", colspan=5),
        ),
        (*outcomes, *outcomes),
        tuple(ValueCell(f"t4_{g}_{o}") for g in T4_GROUPS for o in T4_OUTCOMES),
    )
    labels = {
        f"t4_{g}_{o}": f"{_T4_GROUP_LABELS[g]}｜{_T4_OUTCOME_LABELS[o]}"
        for g in T4_GROUPS
        for o in T4_OUTCOMES
    }
    return TableLayout("4", rows, MappingProxyType(labels))


@lru_cache(maxsize=16)
def tables_for(
    report_format: ReportFormat, *, hybrid: bool = False, hubei_row: bool = False
) -> tuple[TableLayout, ...]:
    """The section 二, 三 and 四 tables of this format; none for free-form pre-2019 reports.

    Cached: layouts are immutable and every report of a format shares them.
    """
    if report_format == "v2021":
        return (_section2(_V2021_BLOCKS), _section3(single_other_row=hybrid), _section4())
    if report_format == "v2019":
        return (_section2(_v2019_blocks(hubei_row)), _section3(single_other_row=True), _section4())
    return ()


@lru_cache(maxsize=16)
def cell_labels(
    report_format: ReportFormat, *, hybrid: bool = False, hubei_row: bool = False
) -> Mapping[str, str]:
    """Every printed cell key of this layout -> its human label, in print order."""
    labels: dict[str, str] = {}
    for table in tables_for(report_format, hybrid=hybrid, hubei_row=hubei_row):
        labels.update(table.labels)
    return MappingProxyType(labels)
