"""DOCX reports made by filling the official blank template (its merged cells kept).

Three layouts: v2021 as printed in the template; the hybrid (v2021 section 二, table 三 with
the single v2019 （六）其他处理 row, spec §3.6) made by cutting the template's two extra
sub-rows; and v2019, whose section 二 table is rebuilt from the v2019 grid.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import docx
from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from shared.report import T3_COLUMNS, T4_KEYS, t3_key
from tests.corpus.layout import NumberStyle, TableGrid, section_titles, t3_row_labels, table2_grid
from tests.reference import CORPUS, corpus_path

TEMPLATE = CORPUS / "templates" / "official-blank-template-2021.docx"
# docx_repeat_header: the header rows of tables 三 and 四 repeat after a page break, as in
# many Word-exported PDFs (spec §8).
# docx_distributed: numbers spread across their cells (分散对齐 / expanded character spacing,
# common in WPS files), so the glyphs of "20" stand apart in the PDF (lessons-from-the-field §1).
# docx_unruled: every table border switched off, so the PDF has text-aligned columns and no
# ruling lines to rebuild the grid from (issue 3, item 4).
# docx_blank_zeros: every 0 left blank (as some offices fill the form), thousands separators.
DOCX_STYLES = ("docx_template", "docx_repeat_header", "docx_distributed", "docx_unruled", "docx_blank_zeros")

# Template paragraphs that the report's text replaces (indices into document.paragraphs).
P_TITLE, P_PREAMBLE, P_SECTION1, P_HEADING4, P_HEADING5, P_SECTION5, P_SECTION6 = 1, 2, 4, 23, 28, 29, 31
# Table 三: the first data column and the first row of 本年度办理结果 in the template grid.
T3_FIRST_DATA_COLUMN, T3_FIRST_RESULT_ROW = 3, 5
# Template table 二: data row → keys of its cells (columns 1..3; merged cells appear once).
T2_TEMPLATE_ROWS: dict[int, tuple[str, ...]] = {
    2: ("t2_rules_issued", "t2_rules_repealed", "t2_rules_in_force"),
    3: ("t2_normative_issued", "t2_normative_repealed", "t2_normative_in_force"),
    6: ("t2_license_decisions",),
    9: ("t2_penalty_decisions",),
    10: ("t2_coercion_decisions",),
    13: ("t2_fee_amount_wan",),
}


def template_path() -> Path:
    # In a test, a missing template skips it with the reason (outside one, e.g. in bench/,
    # pytest's Skipped exception stops the run with the same message).
    return corpus_path(TEMPLATE.relative_to(CORPUS))


def render(truth: dict[str, Any], style: str = "docx_template") -> tuple[str, bytes]:
    if style not in DOCX_STYLES:
        raise ValueError(f"unknown DOCX style {style!r}")
    document = docx.Document(str(template_path()))
    number = NumberStyle(thousands=True, zero_as="" if style == "docx_blank_zeros" else None)
    _fill_text(document, truth)
    table2, table3, table4 = document.tables
    if truth["report_format"] == "v2019":
        _replace_table(table2, _build_grid_table(document, table2_grid(truth), truth, number))
    else:
        _fill_table2(table2, truth, number)
    if truth["cells"].get(t3_key("other_all", "total")) is not None:
        _collapse_other_rows(table3)
    _fill_table3(table3, truth, number)
    _fill_table4(table4, truth, number)
    if style == "docx_distributed":
        for table in (table2, table3, table4):
            _distribute_numbers(table)
    if style == "docx_unruled":
        for table in document.tables:
            _remove_borders(table)
    if style == "docx_repeat_header":
        for table in (table3, table4):
            _repeat_header_rows(table, 3)
        _stretch_rows(table3, first=3)
        _add_page_number_footer(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return f"{truth['title']}.docx", buffer.getvalue()


# --- text -----------------------------------------------------------------------


def _set_text(paragraph: Paragraph, text: str) -> None:
    """Replace a paragraph's text but keep the template's font of its first run."""
    runs = paragraph.runs
    if not runs:
        paragraph.add_run(text)
        return
    runs[0].text = text
    for run in runs[1:]:
        run._r.getparent().remove(run._r)


def _set_multiline(paragraph: Paragraph, text: str) -> None:
    """One template paragraph becomes several: one per line of the text, same formatting."""
    lines = text.split("\n") or [""]
    _set_text(paragraph, lines[0])
    anchor = paragraph._p
    for line in lines[1:]:
        clone = copy.deepcopy(paragraph._p)
        anchor.addnext(clone)
        anchor = clone
        _set_text(Paragraph(clone, paragraph._parent), line)


def _fill_text(document: Document, truth: dict[str, Any]) -> None:
    paragraphs = document.paragraphs
    titles = section_titles(truth)
    _set_text(paragraphs[P_TITLE], truth["title"])
    _set_text(paragraphs[P_PREAMBLE], truth["preamble"])
    _set_text(paragraphs[P_HEADING4], titles["4"])
    _set_text(paragraphs[P_HEADING5], titles["5"])
    # Later paragraphs first, so that inserting lines does not move the earlier indices.
    _set_multiline(paragraphs[P_SECTION6], truth["sections"]["6"])
    _set_multiline(paragraphs[P_SECTION5], truth["sections"]["5"])
    _set_multiline(paragraphs[P_SECTION1], truth["sections"]["1"])


# --- tables -----------------------------------------------------------------------


def _write_cell(cell: _Cell, text: str) -> None:
    """Write a number; a blank stays as the template left it (U+3000), like a real filled form."""
    if text == "":
        return
    paragraph = cell.paragraphs[0]
    _set_text(paragraph, text)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _fill_table2(table: Table, truth: dict[str, Any], number: NumberStyle) -> None:
    for row_index, keys in T2_TEMPLATE_ROWS.items():
        for offset, key in enumerate(keys):
            _write_cell(table.cell(row_index, 1 + offset), number.format(truth, key))


def _t3_row_keys(truth: dict[str, Any]) -> list[str]:
    return ["new_received", "carried_over", *(row for row, _, _ in t3_row_labels(truth)), "carried_forward"]


def _fill_table3(table: Table, truth: dict[str, Any], number: NumberStyle) -> None:
    for row_index, row in enumerate(_t3_row_keys(truth), start=3):
        for offset, column in enumerate(T3_COLUMNS):
            _write_cell(
                table.cell(row_index, T3_FIRST_DATA_COLUMN + offset),
                number.format(truth, t3_key(row, column)),
            )


def _fill_table4(table: Table, truth: dict[str, Any], number: NumberStyle) -> None:
    for offset, key in enumerate(T4_KEYS):
        _write_cell(table.cell(3, offset), number.format(truth, key))


def _collapse_other_rows(table: Table) -> None:
    """Hybrid layout: drop sub-rows 2 and 3 of （六）其他处理 and let its label span the item column."""
    first = T3_FIRST_RESULT_ROW + 18  # （六）其他处理 1.… in the template
    for tr in (table.rows[first + 2]._tr, table.rows[first + 1]._tr):
        tr.getparent().remove(tr)
    group_tc, item_tc = table.rows[first]._tr.tc_lst[1:3]
    properties = group_tc.get_or_add_tcPr()
    for merge in properties.findall(qn("w:vMerge")):
        properties.remove(merge)
    width = properties.find(qn("w:tcW"))
    item_width = item_tc.get_or_add_tcPr().find(qn("w:tcW"))
    width.set(qn("w:w"), str(int(width.get(qn("w:w"))) + int(item_width.get(qn("w:w")))))
    span = OxmlElement("w:gridSpan")  # schema order: tcW, then gridSpan
    span.set(qn("w:val"), "2")
    width.addnext(span)
    item_tc.getparent().remove(item_tc)


def _build_grid_table(
    document: Document, grid: TableGrid, truth: dict[str, Any], number: NumberStyle
) -> Table:
    """A new bordered table from a layout grid (used for the v2019 section 二)."""
    table = document.add_table(rows=grid.n_rows, cols=grid.n_cols)
    table.style = document.tables[0].style
    _set_borders(table)
    for cell in grid.cells:
        target = table.cell(cell.row, cell.col)
        if cell.rowspan > 1 or cell.colspan > 1:
            target = target.merge(table.cell(cell.row + cell.rowspan - 1, cell.col + cell.colspan - 1))
        text = number.format(truth, cell.key) if cell.key else cell.text
        target.paragraphs[0].text = text
        target.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    return table


def _set_borders(table: Table) -> None:
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{side}")
        element.set(qn("w:val"), "single")
        element.set(qn("w:sz"), "6")
        borders.append(element)
    table._tbl.tblPr.append(borders)


def _remove_borders(table: Table) -> None:
    """No ruling at all: table-level borders off and every cell's own borders off.

    Works on the XML cells (w:tc), because python-docx's row.cells hides the continuation
    cells of vertical merges, which carry borders of their own.
    """
    sides = ("top", "left", "bottom", "right", "insideH", "insideV")
    for old in table._tbl.tblPr.findall(qn("w:tblBorders")):
        table._tbl.tblPr.remove(old)
    borders = OxmlElement("w:tblBorders")
    for side in sides:
        element = OxmlElement(f"w:{side}")
        element.set(qn("w:val"), "none")
        borders.append(element)
    table._tbl.tblPr.append(borders)
    for cell in table._tbl.iter(qn("w:tc")):
        for cell_borders in cell.iter(qn("w:tcBorders")):
            for border in cell_borders:
                border.set(qn("w:val"), "none")


def _repeat_header_rows(table: Table, count: int) -> None:
    for row in table.rows[:count]:
        marker = OxmlElement("w:tblHeader")
        row._tr.get_or_add_trPr().append(marker)


def _stretch_rows(table: Table, *, first: int) -> None:
    """Taller data rows make table 三 longer than a page, so LibreOffice must split it."""
    for row in table.rows[first:]:
        height = OxmlElement("w:trHeight")
        height.set(qn("w:val"), "620")
        height.set(qn("w:hRule"), "atLeast")
        row._tr.get_or_add_trPr().append(height)


def _add_page_number_footer(document: Document) -> None:
    """ "— N —" under every page: PDF text then has page numbers in the middle of table 三."""
    paragraph = document.sections[0].footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("— ")
    for kind, text in (("begin", None), (None, " PAGE "), ("end", None)):
        run = paragraph.add_run()
        if kind:
            field = OxmlElement("w:fldChar")
            field.set(qn("w:fldCharType"), kind)
            run._r.append(field)
        else:
            instruction = OxmlElement("w:instrText")
            instruction.text = text
            run._r.append(instruction)
    paragraph.add_run(" —")


def _distribute_numbers(table: Table) -> None:
    for row in table.rows:
        for cell in row.cells:
            text = cell.text.strip()
            if len(text) > 1 and text.replace(",", "").replace(".", "").isdigit():
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.DISTRIBUTE
                for run in cell.paragraphs[0].runs:
                    spacing = OxmlElement("w:spacing")
                    spacing.set(qn("w:val"), "120")  # 6 pt between glyphs, in twentieths of a point
                    run._r.get_or_add_rPr().append(spacing)


def _replace_table(old: Table, new: Table) -> None:
    old._tbl.addnext(new._tbl)
    old._tbl.getparent().remove(old._tbl)
