"""XLSX reports built directly with openpyxl: narrative on a first sheet, one sheet per table.

Numbers are stored as numeric cells (as an Excel user types them), blank markers as text,
blanks as empty cells; merges follow the template grid.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from tests.corpus.layout import TableGrid, all_grids, section_titles

# xlsx_openpyxl: narrative sheet + one sheet per table; xlsx_one_sheet: everything stacked on
# one sheet, as when a whole report is pasted into Excel.
# xlsx_tables_only: the title and the three tables on one sheet, no narrative, zeros left blank.
XLSX_STYLES = ("xlsx_openpyxl", "xlsx_one_sheet", "xlsx_tables_only")
SHEET_NAMES = {"2": "主动公开", "3": "依申请公开", "4": "复议诉讼"}


def render(truth: dict[str, Any], style: str = "xlsx_openpyxl") -> tuple[str, bytes]:
    if style not in XLSX_STYLES:
        raise ValueError(f"unknown XLSX style {style!r}")
    workbook = Workbook()
    narrative = workbook.active
    assert narrative is not None
    narrative.title = "年度报告"
    if style == "xlsx_one_sheet":
        _write_one_sheet(narrative, truth)
    elif style == "xlsx_tables_only":
        _write_tables_only(narrative, truth)
    else:
        _write_narrative(narrative, truth)
        titles = section_titles(truth)
        for number, grid in all_grids(truth).items():
            sheet = workbook.create_sheet(SHEET_NAMES[number])
            sheet.cell(1, 1, titles[number])
            _write_grid(sheet, grid, truth, first_row=2)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return f"{truth['title']}.xlsx", buffer.getvalue()


def _write_narrative(sheet: Worksheet, truth: dict[str, Any]) -> None:
    lines = [truth["title"], truth["preamble"]]
    for number, heading in section_titles(truth).items():
        lines.append(heading)
        if number in SHEET_NAMES:
            lines.append(f"（见“{SHEET_NAMES[number]}”工作表）")
        else:
            lines += truth["sections"][number].split("\n")
    for row, line in enumerate(lines, start=1):
        sheet.cell(row, 1, line)
    sheet.column_dimensions["A"].width = 120


def _write_one_sheet(sheet: Worksheet, truth: dict[str, Any]) -> None:
    """Title, preamble, then each section: its text lines or its table, top to bottom."""
    grids = all_grids(truth)
    row = 1
    for line in (truth["title"], truth["preamble"]):
        sheet.cell(row, 1, line)
        row += 1
    for number, heading in section_titles(truth).items():
        sheet.cell(row, 1, heading)
        row += 1
        if number in grids:
            _write_grid(sheet, grids[number], truth, first_row=row)
            row += grids[number].n_rows + 1
        else:
            for line in truth["sections"][number].split("\n"):
                sheet.cell(row, 1, line)
                row += 1


def _write_tables_only(sheet: Worksheet, truth: dict[str, Any]) -> None:
    """The statistics an office keeps in Excel: the title, then each table under its heading."""
    sheet.title = "统计表"
    sheet.cell(1, 1, truth["title"])
    row = 2
    titles = section_titles(truth)
    for number, grid in all_grids(truth).items():
        sheet.cell(row, 1, titles[number])
        _write_grid(sheet, grid, truth, first_row=row + 1, zeros_blank=True)
        row += grid.n_rows + 2


def _write_grid(
    sheet: Worksheet, grid: TableGrid, truth: dict[str, Any], *, first_row: int, zeros_blank: bool = False
) -> None:
    wrap = Alignment(wrap_text=True, horizontal="center", vertical="center")
    for cell in grid.cells:
        row, col = first_row + cell.row, 1 + cell.col
        value: Any = cell.text or None
        if cell.key:
            marker = truth["markers"].get(cell.key)
            value = truth["cells"][cell.key] if marker is None else (marker or None)
            if zeros_blank and value == 0:
                value = None
        target = sheet.cell(row, col, value)
        target.alignment = wrap
        if cell.rowspan > 1 or cell.colspan > 1:
            sheet.merge_cells(
                start_row=row,
                start_column=col,
                end_row=row + cell.rowspan - 1,
                end_column=col + cell.colspan - 1,
            )
