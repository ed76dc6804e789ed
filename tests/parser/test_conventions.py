"""Conventions of real filings the parser must read exactly (issue 11): column titles
wrapped over lines, zeros left blank, one-sheet workbooks whose last row is all blank."""

from __future__ import annotations

import io
import random

from openpyxl import Workbook

from services.parser import parse_document
from services.parser.labels import t2_title_piece_format
from tests.corpus import render_txt, render_xlsx
from tests.corpus.truth import random_truth

T2_V2021_WRAPPED = """某县民政局2024年政府信息公开工作年度报告
二、主动公开政府信息情况
第二十条第（一）项
信息内容\t本年制发\t本年废止\t现行有效
\t件数\t件数\t件数
规章\t0\t0\t0
行政规范性文件\t3\t1\t12
第二十条第（五）项
信息内容\t本年处理决定数量
行政许可\t40
"""


def test_wrapped_title_pieces_name_their_format() -> None:
    assert t2_title_piece_format("本年制发") == "v2021"
    assert t2_title_piece_format("对外公开") == "v2019"
    assert t2_title_piece_format("件数") is None  # both formats count 件数
    assert t2_title_piece_format("本机关全年废止规范性文件三件，清理工作按期完成") is None  # a sentence


def test_table_two_with_wrapped_titles_is_read() -> None:
    report = parse_document(T2_V2021_WRAPPED.encode(), "r.txt")
    assert report.cells["t2_normative_issued"] == 3 and report.cells["t2_normative_in_force"] == 12
    assert report.cells["t2_license_decisions"] == 40 and report.cells["t2_rules_issued"] == 0


def test_table_two_without_titles_is_told_by_its_rows() -> None:
    headless = "\n".join(line for line in T2_V2021_WRAPPED.splitlines() if "件数" not in line and "制发" not in line)
    report = parse_document(headless.encode(), "r.txt")
    assert report.cells["t2_license_decisions"] == 40  # one cell in a licence row: v2021


def test_a_row_of_blank_tab_fields_is_a_row_of_zeros() -> None:
    truth = random_truth(random.Random(2), report_format="v2021")
    name, data = render_txt.render(truth, "txt_tab_blank_zeros")
    report = parse_document(data, name)
    zero_keys = [k for k, v in truth["cells"].items() if v == 0 and k.startswith("t3_")]
    assert zero_keys and all(report.cells[k] == 0 for k in zero_keys)
    assert all(report.cell_details[k].marker == "blank" for k in zero_keys)


def test_table_four_prefers_its_numbers_to_a_spacing_line() -> None:
    truth = random_truth(random.Random(3), report_format="v2021")
    name, data = render_txt.render(truth, "txt_tab_seed")
    header_end = "尚未审结\t总计\n"
    text = data.decode()
    last_header = text.rindex(header_end) + len(header_end)
    spaced = text[:last_header] + "\t" * 14 + "\n" + text[last_header:]
    report = parse_document(spaced.encode(), name)
    assert [report.cells[k] for k in sorted(report.cells) if k.startswith("t4_")] == [
        truth["cells"][k] for k in sorted(report.cells) if k.startswith("t4_")
    ]


def test_a_sheet_keeps_its_last_row_of_blank_zeros() -> None:
    truth = random_truth(random.Random(4), report_format="v2021")
    truth["cells"].update({k: 0 for k in truth["cells"] if k.startswith("t4_")})
    name, data = render_xlsx.render(truth, "xlsx_tables_only")
    report = parse_document(data, name)
    assert all(report.cells[k] == 0 for k in report.cells if k.startswith("t4_"))


def test_sheet_padding_is_not_read_as_rows() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.cell(1, 1, "标题")
    sheet.cell(500, 1, None).number_format = "0"  # formatted far below: padding, not a table row
    buffer = io.BytesIO()
    workbook.save(buffer)
    from services.parser.office import extract_xlsx

    [table] = extract_xlsx(buffer.getvalue()).blocks
    assert max(cell.row for cell in table.cells) < 5  # type: ignore[union-attr]
