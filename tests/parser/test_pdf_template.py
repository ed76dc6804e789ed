"""PDF extraction on PDFs made from the official template: fill it, convert it, read it back.

The template is filled with python-docx with a distinct number in every cell (table 三
cell at template row r, column c holds 10·r + c), padded so that tables 二 and 三 break
across pages, given a running header and a "第 N 页" footer, and converted to PDF by
LibreOffice. Every number must come back at its own row label and column header.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.table import _Cell

from services.parser import parse_extracted
from services.parser.document import ExtractedDocument, Paragraph, Table
from services.parser.pdf import extract_pdf
from shared.report import T3_COLUMNS, T3_ROWS_V2021, T4_KEYS, t3_key
from tests.parser.test_pdf import (
    CORPUS,
    T2_LOOKUP,
    T3_ROW_KEYWORDS,
    assert_t3_header_order,
    data_columns,
    find_value,
    squash,
    stacked_rows,
    t3_table_rows,
    t3_value,
    tables_between,
)
from tests.reference import missing

TEMPLATE = CORPUS / "templates" / "official-blank-template-2021.docx"
RUNNING_HEADER = "某某市人民政府办公室政府信息公开工作年度报告"

pytestmark = [
    pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"),
    pytest.mark.skipif(not TEMPLATE.exists(), reason=missing(TEMPLATE)),
]

T2_VALUES = {
    "t2_rules_issued": "1",
    "t2_rules_repealed": "0",
    "t2_rules_in_force": "12",
    "t2_normative_issued": "20",
    "t2_normative_repealed": "3",
    "t2_normative_in_force": "145",
    "t2_license_decisions": "550",
    "t2_penalty_decisions": "4119",
    "t2_coercion_decisions": "195",
    "t2_fee_amount_wan": "7730.2800",
}
# (template row, column) of each section-二 value cell.
T2_POSITIONS = {
    "t2_rules_issued": (2, 1),
    "t2_rules_repealed": (2, 2),
    "t2_rules_in_force": (2, 3),
    "t2_normative_issued": (3, 1),
    "t2_normative_repealed": (3, 2),
    "t2_normative_in_force": (3, 3),
    "t2_license_decisions": (6, 1),
    "t2_penalty_decisions": (9, 1),
    "t2_coercion_decisions": (10, 1),
    "t2_fee_amount_wan": (13, 1),
}
T3_FIRST_DATA_ROW = 3
T3_FIRST_DATA_COL = 3
# Template rows 21–23 are the three v2021 （六） sub-rows; keywords for them and for the
# full v2021 label of row 6.
T3_ROW_KEYWORDS_V2021 = {
    **{k: v for k, v in T3_ROW_KEYWORDS.items() if k != "other_all"},
    "denied_law_forbidden": "2.其他法律行政法规禁止公开",
    "other_no_correction": "逾期不补正",
    "other_no_fee": "缴纳费用",
    "other_other": "3.其他",
}


def t3_number(row_key: str, column: str) -> int:
    return (
        10 * (T3_FIRST_DATA_ROW + T3_ROWS_V2021.index(row_key)) + T3_FIRST_DATA_COL + T3_COLUMNS.index(column)
    )


def set_text(cell: _Cell, text: str) -> None:
    """Replace a cell's text, keeping its first run's formatting."""
    paragraph = cell.paragraphs[0]
    for run in paragraph.runs[1:]:
        run._r.getparent().remove(run._r)
    if paragraph.runs:
        paragraph.runs[0].text = text
    else:
        paragraph.add_run(text)


def add_page_number_footer(document: DocxDocument) -> None:
    footer = document.sections[0].footer.paragraphs[0]
    footer.add_run("第 ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    placeholder = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    placeholder.append(text)
    field.append(placeholder)
    footer._p.append(field)
    footer.add_run(" 页")


def fill_template(path: Path, filler_paragraphs: int) -> None:
    document = Document(str(TEMPLATE))
    table_two, table_three, table_four = document.tables
    for key, (row, col) in T2_POSITIONS.items():
        set_text(table_two.rows[row].cells[col], T2_VALUES[key])
    for row_key in T3_ROWS_V2021:
        for column in T3_COLUMNS:
            row = T3_FIRST_DATA_ROW + T3_ROWS_V2021.index(row_key)
            col = T3_FIRST_DATA_COL + T3_COLUMNS.index(column)
            set_text(table_three.rows[row].cells[col], str(t3_number(row_key, column)))
    for index in range(len(T4_KEYS)):
        set_text(table_four.rows[3].cells[index], str(index + 1))
    overview = document.paragraphs[4]
    for number in range(filler_paragraphs):
        overview.insert_paragraph_before(
            f"（{number}）本段为测试用的说明文字，没有实际意义，只用来占据版面，使后面的表格跨页排版。"
        )
    document.sections[0].header.paragraphs[0].text = RUNNING_HEADER
    add_page_number_footer(document)
    document.save(str(path))


def convert_to_pdf(docx_path: Path) -> bytes:
    profile = docx_path.parent / "lo_profile"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(docx_path.parent),
            str(docx_path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, "HOME": str(docx_path.parent)},
    )
    return docx_path.with_suffix(".pdf").read_bytes()


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> ExtractedDocument:
    docx_path = tmp_path_factory.mktemp("template") / "filled.docx"
    fill_template(docx_path, filler_paragraphs=12)
    return extract_pdf(convert_to_pdf(docx_path))


def test_tables_break_across_pages(filled: ExtractedDocument) -> None:
    table_two = tables_between(filled, "二、主动公开政府信息情况", "三、收到和处理")
    table_three = tables_between(filled, "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议")
    assert len(table_two) >= 2 and len(table_three) >= 2, "the fixture no longer splits the tables"
    pages = [t.source.split(",")[0] for t in table_three]
    assert len(set(pages)) == len(pages)  # one fragment per page
    assert all(c.source.startswith(t.source + ", r") for t in table_three for c in t.cells)


def test_table_two_every_value(filled: ExtractedDocument) -> None:
    rows = stacked_rows(tables_between(filled, "二、主动公开政府信息情况", "三、收到和处理"))
    for key, (label, header_words) in T2_LOOKUP.items():
        assert find_value(rows, label, header_words) == float(T2_VALUES[key]), key


def test_table_three_every_value(filled: ExtractedDocument) -> None:
    rows = t3_table_rows(filled)
    assert_t3_header_order(rows)
    for row_key, keyword in T3_ROW_KEYWORDS_V2021.items():
        for column in T3_COLUMNS:
            assert t3_value(rows, keyword, column) == t3_number(row_key, column), (row_key, column)


def test_table_four_every_value_in_order(filled: ExtractedDocument) -> None:
    tables = tables_between(filled, "四、政府信息公开行政复议", "五、存在的主要问题")
    rows = stacked_rows(tables)
    data = [row for row in rows if data_columns(row)]
    assert len(data) == 1
    assert [int(data[0][c]) for c in data_columns(data[0])] == list(range(1, 16))


def test_running_header_and_page_numbers_are_stripped(filled: ExtractedDocument) -> None:
    paragraphs = [squash(b.text) for b in filled.blocks if isinstance(b, Paragraph)]
    assert not any(RUNNING_HEADER in p for p in paragraphs)
    assert not any(p.startswith("第") and p.endswith("页") for p in paragraphs)
    assert paragraphs[0] == "政府信息公开工作年度报告格式模板"
    assert "六、其他需要报告的事项" in paragraphs


def test_reading_order_puts_each_table_after_its_heading(filled: ExtractedDocument) -> None:
    order = []
    for block in filled.blocks:
        if isinstance(block, Paragraph) and squash(block.text)[:2] in {"二、", "三、", "四、", "五、"}:
            order.append(squash(block.text)[:2])
        elif isinstance(block, Table) and (not order or order[-1] != "T"):
            order.append("T")
    assert order == ["二、", "T", "三、", "T", "四、", "T", "五、"]


def remove_borders(document: DocxDocument, sides: tuple[str, ...], outer_only: bool) -> None:
    """Switch off cell borders: only on the table's outer sides, or everywhere.

    Works on the XML cells (w:tc), because python-docx's row.cells hides the continuation
    cells of vertical merges, which carry borders of their own.
    """
    for table in document.tables:
        for row in table._tbl.tr_lst:
            cells = row.findall(qn("w:tc"))
            for index, cell in enumerate(cells):
                for side in sides:
                    outer = (side == "left" and index == 0) or (side == "right" and index == len(cells) - 1)
                    if outer_only and not outer:
                        continue
                    for border in cell.iter(qn(f"w:{side}")):
                        if border.getparent().tag == qn("w:tcBorders"):
                            border.set(qn("w:val"), "none")


def convert_variant(tmp_path: Path, sides: tuple[str, ...], outer_only: bool) -> ExtractedDocument:
    docx_path = tmp_path / "variant.docx"
    fill_template(docx_path, filler_paragraphs=12)
    document = Document(str(docx_path))
    remove_borders(document, sides, outer_only)
    document.save(str(docx_path))
    return extract_pdf(convert_to_pdf(docx_path))


def test_tables_without_outer_side_borders(tmp_path: Path) -> None:
    """Open left/right sides: the outer columns (labels, 总计) must still be cells."""
    doc = convert_variant(tmp_path, ("left", "right"), outer_only=True)
    rows = t3_table_rows(doc)
    assert_t3_header_order(rows)
    for row_key, keyword in T3_ROW_KEYWORDS_V2021.items():
        for column in T3_COLUMNS:
            assert t3_value(rows, keyword, column) == t3_number(row_key, column), (row_key, column)
    table_four = stacked_rows(tables_between(doc, "四、政府信息公开行政复议", "五、存在的主要问题"))
    data = [row for row in table_four if data_columns(row)]
    assert [int(data[0][c]) for c in data_columns(data[0])] == list(range(1, 16))


def test_unruled_tables_come_out_as_rows_of_cells(tmp_path: Path) -> None:
    """Without any rulings there is no grid; each printed row is rebuilt from character
    positions into one line of cells (label, then one cell per column)."""
    doc = convert_variant(tmp_path, ("top", "left", "bottom", "right"), outer_only=False)
    assert not [b for b in doc.blocks if isinstance(b, Table)]
    lines = [b.text for b in doc.blocks if isinstance(b, Paragraph)]
    for row_key in (
        "new_received",
        "carried_over",
        "denied_admin_query",
        "total_processed",
        "carried_forward",
    ):
        expected = "\t".join(str(t3_number(row_key, c)) for c in T3_COLUMNS)
        keyword = T3_ROW_KEYWORDS_V2021[row_key]
        assert any(keyword in line and line.endswith("\t" + expected) for line in lines), row_key
    assert "行政许可\t550" in lines
    assert "\t".join(str(n) for n in range(1, 16)) in lines
    report = parse_extracted(doc)
    for row_key in T3_ROWS_V2021:
        for column in T3_COLUMNS:
            key = t3_key(row_key, column)
            assert report.cells[key] == t3_number(row_key, column), key
            # Rebuilt from positions, not from a ruled grid: never presented as certain.
            assert report.cell_details[key].confidence < 1.0, key


def test_tables_with_horizontal_rules_only_are_read_as_unruled(tmp_path: Path) -> None:
    """Rules in one direction enclose no cell (a "three-line table"): no crash, every cell read."""
    doc = convert_variant(tmp_path, ("left", "right"), outer_only=False)
    report = parse_extracted(doc)
    for row_key in T3_ROWS_V2021:
        for column in T3_COLUMNS:
            assert report.cells[t3_key(row_key, column)] == t3_number(row_key, column), (row_key, column)
    assert [report.cells[k] for k in T4_KEYS] == list(range(1, 16))
