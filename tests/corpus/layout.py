"""The three tables of a report as grids of (possibly merged) cells, plus text helpers.

Every non-DOCX renderer draws from these grids, so the HTML rowspans, the XLSX merges and
the TXT dumps all follow the official template's structure (spec §3.2–3.6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.report import SECTION_TITLES, T3_COLUMNS, T4_GROUPS, T4_OUTCOMES, t3_key

T3_BALANCE_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
T3_ORG_HEADERS = ("商业\n企业", "科研\n机构", "社会公益组织", "法律服务机构", "其他")

# (row key, group label or None, item label) in print order; group labels are rowspan cells.
T3_ROW_LABELS_V2021: tuple[tuple[str, str | None, str], ...] = (
    ("granted", None, "（一）予以公开"),
    ("partial", None, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    ("denied_state_secret", "（三）不予公开", "1.属于国家秘密"),
    ("denied_law_forbidden", "（三）不予公开", "2.其他法律行政法规禁止公开"),
    ("denied_three_security", "（三）不予公开", "3.危及“三安全一稳定”"),
    ("denied_third_party", "（三）不予公开", "4.保护第三方合法权益"),
    ("denied_internal_affairs", "（三）不予公开", "5.属于三类内部事务信息"),
    ("denied_process_info", "（三）不予公开", "6.属于四类过程性信息"),
    ("denied_enforcement_file", "（三）不予公开", "7.属于行政执法案卷"),
    ("denied_admin_query", "（三）不予公开", "8.属于行政查询事项"),
    ("unable_not_held", "（四）无法提供", "1.本机关不掌握相关政府信息"),
    ("unable_need_creation", "（四）无法提供", "2.没有现成信息需要另行制作"),
    ("unable_unclear", "（四）无法提供", "3.补正后申请内容仍不明确"),
    ("ignored_petition", "（五）不予处理", "1.信访举报投诉类申请"),
    ("ignored_duplicate", "（五）不予处理", "2.重复申请"),
    ("ignored_publication", "（五）不予处理", "3.要求提供公开出版物"),
    ("ignored_mass_repeat", "（五）不予处理", "4.无正当理由大量反复申请"),
    ("ignored_confirm", "（五）不予处理", "5.要求行政机关确认或重新出具已获取信息"),
    (
        "other_no_correction",
        "（六）其他处理",
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    ),
    (
        "other_no_fee",
        "（六）其他处理",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    ),
    ("other_other", "（六）其他处理", "3.其他"),
    ("total_processed", None, "（七）总计"),
)
T3_ROW_LABELS_SINGLE_OTHER = (
    *T3_ROW_LABELS_V2021[:18],
    ("other_all", None, "（六）其他处理"),
    T3_ROW_LABELS_V2021[-1],
)
T3_OUTER_LABELS = {
    "new_received": "一、本年新收政府信息公开申请数量",
    "carried_over": "二、上年结转政府信息公开申请数量",
    "carried_forward": "四、结转下年度继续办理",
}
T3_RESULTS_LABEL = "三、本年度办理结果"
T4_OUTCOME_HEADERS = ("结果\n维持", "结果\n纠正", "其他\n结果", "尚未\n审结", "总计")

SECTION_TITLES_V2021 = SECTION_TITLES
# The v2019 template worded sections 四 and 五 differently (spec §3.1).
SECTION_TITLES_V2019 = {
    **SECTION_TITLES_V2021,
    "4": "四、因政府信息公开工作被申请行政复议、提起行政诉讼情况",
    "5": "五、政府信息公开工作存在的主要问题及改进情况",
}


def section_titles(truth: dict[str, Any]) -> dict[str, str]:
    return SECTION_TITLES_V2021 if truth["report_format"] == "v2021" else SECTION_TITLES_V2019


@dataclass
class GridCell:
    row: int
    col: int
    text: str = ""  # label or header text; "\n" marks a line break inside the cell
    key: str | None = None  # set for data cells
    rowspan: int = 1
    colspan: int = 1


@dataclass
class TableGrid:
    name: str  # "t2", "t3" or "t4"
    n_cols: int
    cells: list[GridCell] = field(default_factory=list)
    header_rows: int = 0  # leading rows that only hold headers (repeated after a page break)

    def add(
        self,
        row: int,
        col: int,
        text: str = "",
        *,
        key: str | None = None,
        rowspan: int = 1,
        colspan: int = 1,
    ) -> None:
        self.cells.append(GridCell(row, col, text, key, rowspan, colspan))

    @property
    def n_rows(self) -> int:
        return max(c.row + c.rowspan for c in self.cells)

    def rows(self) -> list[list[GridCell]]:
        """Cells grouped by the row they start in, left to right (HTML `<tr>` order)."""
        grouped: list[list[GridCell]] = [[] for _ in range(self.n_rows)]
        for cell in self.cells:
            grouped[cell.row].append(cell)
        return [sorted(r, key=lambda c: c.col) for r in grouped]


# --- section 二 ---------------------------------------------------------------


def _t2_block(
    grid: TableGrid, row: int, title: str, headers: tuple[str, ...], body: list[tuple[str, list[str]]]
) -> int:
    """One 第二十条 block: merged title row, header row, data rows. Returns the next free row."""
    grid.add(row, 0, title, colspan=4)
    grid.add(row + 1, 0, "信息内容")
    _add_spread(grid, row + 1, [("", h) for h in headers], text_cells=True)
    for offset, (label, keys) in enumerate(body, start=2):
        grid.add(row + offset, 0, label)
        _add_spread(grid, row + offset, [(k, "") for k in keys], text_cells=False)
    return row + 2 + len(body)


def _add_spread(grid: TableGrid, row: int, items: list[tuple[str, str]], *, text_cells: bool) -> None:
    """Fill columns 1..3 with 1–3 cells, the last one stretched over what is left (as in the template)."""
    for index, (key, text) in enumerate(items):
        colspan = 3 - index if index == len(items) - 1 else 1
        grid.add(row, 1 + index, text, key=None if text_cells else key, colspan=colspan)


def table2_grid(truth: dict[str, Any]) -> TableGrid:
    grid = TableGrid("t2", 4)
    if truth["report_format"] == "v2021":
        row = _t2_block(
            grid,
            0,
            "第二十条第（一）项",
            ("本年制发件数", "本年废止件数", "现行有效件数"),
            [
                ("规章", ["t2_rules_issued", "t2_rules_repealed", "t2_rules_in_force"]),
                ("行政规范性文件", ["t2_normative_issued", "t2_normative_repealed", "t2_normative_in_force"]),
            ],
        )
        row = _t2_block(
            grid, row, "第二十条第（五）项", ("本年处理决定数量",), [("行政许可", ["t2_license_decisions"])]
        )
        row = _t2_block(
            grid,
            row,
            "第二十条第（六）项",
            ("本年处理决定数量",),
            [
                ("行政处罚", ["t2_penalty_decisions"]),
                ("行政强制", ["t2_coercion_decisions"]),
            ],
        )
        _t2_block(
            grid,
            row,
            "第二十条第（八）项",
            ("本年收费金额（单位：万元）",),
            [("行政事业性收费", ["t2_fee_amount_wan"])],
        )
        return grid
    counts = ("prev_items", "delta", "decisions")
    row = _t2_block(
        grid,
        0,
        "第二十条第（一）项",
        ("本年新\n制作数量", "本年新\n公开数量", "对外公开\n总数量"),
        [
            (label, [f"t2v19_{doc}_{c}" for c in ("new_made", "new_published", "total_published")])
            for label, doc in (("规章", "rules"), ("规范性文件", "normative"))
        ],
    )
    row = _t2_block(
        grid,
        row,
        "第二十条第（五）项",
        ("上一年\n项目数量", "本年增/减", "处理决定\n数量"),
        [
            ("行政许可", [f"t2v19_license_{c}" for c in counts]),
            ("其他对外管理服务事项", [f"t2v19_other_service_{c}" for c in counts]),
        ],
    )
    row = _t2_block(
        grid,
        row,
        "第二十条第（六）项",
        ("上一年\n项目数量", "本年增/减", "处理决定\n数量"),
        [
            ("行政处罚", [f"t2v19_penalty_{c}" for c in counts]),
            ("行政强制", [f"t2v19_coercion_{c}" for c in counts]),
        ],
    )
    row = _t2_block(
        grid,
        row,
        "第二十条第（八）项",
        ("上一年\n项目数量", "本年增/减"),
        [
            ("行政事业性收费", ["t2v19_fee_prev_items", "t2v19_fee_delta"]),
        ],
    )
    _t2_block(
        grid,
        row,
        "第二十条第（九）项",
        ("采购项目数量", "采购总金额"),
        [
            ("政府集中采购", ["t2v19_procurement_items", "t2v19_procurement_amount"]),
        ],
    )
    return grid


# --- section 三 ---------------------------------------------------------------


def t3_row_labels(truth: dict[str, Any]) -> tuple[tuple[str, str | None, str], ...]:
    single_other = truth["cells"].get(t3_key("other_all", "total")) is not None
    return T3_ROW_LABELS_SINGLE_OTHER if single_other else T3_ROW_LABELS_V2021


def table3_grid(truth: dict[str, Any]) -> TableGrid:
    grid = TableGrid("t3", 10, header_rows=3)
    grid.add(0, 0, T3_BALANCE_NOTE, rowspan=3, colspan=3)
    grid.add(0, 3, "申请人情况", colspan=7)
    grid.add(1, 3, "自然人", rowspan=2)
    grid.add(1, 4, "法人或其他组织", colspan=5)
    grid.add(1, 9, "总计", rowspan=2)
    for offset, header in enumerate(T3_ORG_HEADERS):
        grid.add(2, 4 + offset, header)

    def data(row: int, row_key: str) -> None:
        for offset, column in enumerate(T3_COLUMNS):
            grid.add(row, 3 + offset, key=t3_key(row_key, column))

    grid.add(3, 0, T3_OUTER_LABELS["new_received"], colspan=3)
    data(3, "new_received")
    grid.add(4, 0, T3_OUTER_LABELS["carried_over"], colspan=3)
    data(4, "carried_over")
    labels = t3_row_labels(truth)
    grid.add(5, 0, T3_RESULTS_LABEL, rowspan=len(labels))
    seen_groups: set[str] = set()
    for index, (row_key, group, item) in enumerate(labels):
        row = 5 + index
        if group is None:
            grid.add(row, 1, item, colspan=2)
        else:
            if group not in seen_groups:
                seen_groups.add(group)
                grid.add(row, 1, group, rowspan=sum(1 for _, g, _ in labels if g == group))
            grid.add(row, 2, item)
        data(row, row_key)
    last = 5 + len(labels)
    grid.add(last, 0, T3_OUTER_LABELS["carried_forward"], colspan=3)
    data(last, "carried_forward")
    return grid


# --- section 四 ---------------------------------------------------------------


def table4_grid(truth: dict[str, Any]) -> TableGrid:
    grid = TableGrid("t4", 15, header_rows=3)
    grid.add(0, 0, "行政复议", colspan=5)
    grid.add(0, 5, "行政诉讼", colspan=10)
    for offset, header in enumerate(T4_OUTCOME_HEADERS):
        grid.add(1, offset, header, rowspan=2)
    grid.add(1, 5, "未经复议直接起诉", colspan=5)
    grid.add(1, 10, "复议后起诉", colspan=5)
    for block in (5, 10):
        for offset, header in enumerate(T4_OUTCOME_HEADERS):
            grid.add(2, block + offset, header)
    for g_index, group in enumerate(T4_GROUPS):
        for o_index, outcome in enumerate(T4_OUTCOMES):
            grid.add(3, g_index * 5 + o_index, key=f"t4_{group}_{outcome}")
    return grid


def all_grids(truth: dict[str, Any]) -> dict[str, TableGrid]:
    """Section number → its table grid."""
    return {"2": table2_grid(truth), "3": table3_grid(truth), "4": table4_grid(truth)}


# --- numbers ------------------------------------------------------------------

FULLWIDTH = str.maketrans("0123456789,.-/", "０１２３４５６７８９，．－／")


def plain_number(value: int | float) -> str:
    if isinstance(value, float):
        text = repr(value)
        return text if "e" not in text else f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


@dataclass(frozen=True)
class NumberStyle:
    """How a style prints a data cell. Defaults: plain digits, blanks as printed in the truth."""

    thousands: bool = False  # 1015 → "1,015"
    fullwidth: bool = False  # 15 → "１５"
    unit: str = ""  # "件" appended to non-zero counts
    blank_as: str | None = None  # override for blank cells (e.g. "—" where a blank would vanish)
    zero_as: str | None = None  # how a 0 is printed ("": zeros left blank, as some offices do)

    def format(self, truth: dict[str, Any], key: str) -> str:
        if key in truth["markers"]:
            marker = truth["markers"][key]
            return self.blank_as if marker == "" and self.blank_as is not None else marker
        value = truth["cells"][key]
        if value is None:
            raise ValueError(f"{key} is not printed in this layout")
        if value == 0 and self.zero_as is not None:
            return self.zero_as
        text = plain_number(value)
        if self.thousands and abs(value) >= 1000:
            whole, _, decimals = text.partition(".")
            text = f"{int(whole):,}" + (f".{decimals}" if decimals else "")
        if self.unit and value and isinstance(value, int) and key.startswith(("t3_", "t4_")):
            text += self.unit
        return text.translate(FULLWIDTH) if self.fullwidth else text


CellFormatter = Callable[[str], str]


def formatter(truth: dict[str, Any], style: NumberStyle) -> CellFormatter:
    return lambda key: style.format(truth, key)
