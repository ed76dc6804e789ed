"""Confidence must mean something: clean cells are certain, doubtful ones are not.

A parser that marks every cell unsure sends every report to a human; one that marks a
doubtful cell certain lets a wrong number through. Both directions are tested here.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from services.parser import parse_document
from services.parser.numbers import read_number
from shared.report import UNCERTAIN_BELOW, ParsedReport
from tests.corpus.generate import render_fast
from tests.corpus.render_docx import render as render_docx
from tests.corpus.truth import random_truth
from tests.reference import corpus_path


@pytest.mark.parametrize("raw", ["0", "7", "12", "164", "1,015", "3件"])
def test_plain_numbers_are_certain(raw: str) -> None:
    assert read_number(raw).confidence == 1.0


@pytest.mark.parametrize("raw", ["1O", "l2", "2 0"])
def test_doubtful_numbers_are_flagged(raw: str) -> None:
    assert read_number(raw).confidence < UNCERTAIN_BELOW


def render(truth: dict, style: str) -> tuple[str, bytes]:  # type: ignore[type-arg]
    return render_docx(truth, style) if style.startswith("docx") else render_fast(truth, style)


@pytest.mark.parametrize("style", ["html_trs_utf8", "txt_space_bom", "docx_template"])
def test_a_clean_report_is_read_with_certainty(style: str) -> None:
    name, data = render(random_truth(random.Random(5)), style)
    report = parse_document(data, name)
    unsure = {k: d.confidence for k, d in report.cell_details.items() if d.confidence < UNCERTAIN_BELOW}
    assert len(unsure) <= 0.01 * len(report.cell_details), unsure


def test_rows_the_arithmetic_cannot_decide_follow_the_decided_rows_of_their_table() -> None:
    """Seed-style dumps print 8 numbers for 7 columns; an all-zero row fits any reading,
    but rows with numbers show which one the table uses."""
    name, data = render_fast(random_truth(random.Random(5)), "txt_tab_seed")
    report = parse_document(data, name)
    eight_number_rows = [k for k in report.cell_details if k.startswith("t3_denied_")]
    assert all(report.cell_details[k].confidence >= UNCERTAIN_BELOW for k in eight_number_rows)
    assert any(
        f.rule == "PARSE-EXTRA-CELL" and "could not decide" in f.message for f in report.parse_findings
    )


def test_an_all_zero_seed_table_stays_undecided() -> None:
    seed = corpus_path("seed/000_73a337edb7ff8878.txt")
    report = parse_document(seed.read_bytes(), seed.name)
    assert report.cell_details["t3_denied_state_secret__total"].confidence < UNCERTAIN_BELOW


# --- evidence that raises or lowers confidence (issue 9) -----------------------------------


def _html_with(truth_seed: int, old: str, new: str) -> tuple[dict[str, Any], ParsedReport]:
    truth = random_truth(random.Random(truth_seed))
    name, data = render_fast(truth, "html_trs_utf8")
    text = data.decode("utf-8")
    assert old in text
    return truth, parse_document(text.replace(old, new, 1).encode("utf-8"), name)


def test_a_typo_label_at_its_template_position_is_certain() -> None:
    """淮安市洪泽区 2023 prints "2.其他法律行政止公开": row 2 of （三）, right after row 1."""
    truth, report = _html_with(5, ">2.其他法律行政法规禁止公开<", ">2.其他法律行政止公开<")
    row = {k: d for k, d in report.cell_details.items() if k.startswith("t3_denied_law_forbidden__")}
    assert len(row) == 7 and all(d.confidence >= UNCERTAIN_BELOW for d in row.values())
    assert all(report.cells[k] == truth["cells"][k] for k in row)
    assert any(f.rule == "TBL-HEADER-ALTERED" for f in report.parse_findings)


def test_spaced_digits_inside_a_grid_cell_are_one_number() -> None:
    cell = '行政许可</span></p></td><td width="426" valign="center" colspan="3"><p align="center"><span style="font-size:14px">'
    _, report = _html_with(5, f"{cell}0<", f"{cell}3 0<")
    detail = report.cell_details["t2_license_decisions"]
    assert report.cells["t2_license_decisions"] == 30 and detail.confidence >= UNCERTAIN_BELOW
    # In a text dump the same "3 0" may be two cells run together: not vouched for.
    assert read_number("3 0").confidence < UNCERTAIN_BELOW


def test_markdown_cells_beyond_the_table_columns_are_debris() -> None:
    """A PDF-to-Markdown dump leaves an empty cell after rows whose label took one column."""
    name, data = render_fast(random_truth(random.Random(7)), "md_pdf_dump")
    report = parse_document(data, name)
    assert not [f for f in report.parse_findings if f.rule == "PARSE-COLUMNS-AMBIGUOUS"]
    assert all(d.confidence >= UNCERTAIN_BELOW for k, d in report.cell_details.items() if k.startswith("t3_"))


def test_the_tables_arithmetic_confirms_or_suspects_cells() -> None:
    from services.parser.confidence import CONFIRMED, confirm_by_arithmetic
    from shared.report import CellDetail

    name, data = render_fast(random_truth(random.Random(3)), "txt_space_bom")  # 153 granted
    report = parse_document(data, name)
    cells = dict(report.cells)
    details = {k: CellDetail(raw=str(v), confidence=0.85) for k, v in cells.items()}
    confirm_by_arithmetic(cells, details)
    # Every table-三 cell sits in a row sum and a column identity that hold: certain.
    assert all(details[k].confidence == CONFIRMED for k in cells if k.startswith("t3_") and cells[k] is not None)
    # Table 二 has no arithmetic: the label's doubt stays.
    assert details["t2_fee_amount_wan"].confidence == 0.85
    # A digit lost by extraction breaks its row and its column: that cell drops, the others
    # of the row (one broken identity among several) keep what they had.
    key = next(k for k in cells if k.startswith("t3_granted__") and not k.endswith("total") and (cells[k] or 0) >= 10)
    broken = dict(cells, **{key: (cells[key] or 0) // 10})
    text_read = {k: CellDetail(raw=str(v), confidence=0.95) for k, v in broken.items()}
    confirm_by_arithmetic(broken, text_read)
    assert text_read[key].confidence < UNCERTAIN_BELOW
    assert text_read["t3_new_received__natural"].confidence == CONFIRMED
    # Undecided 8-number rows are exactly what the arithmetic cannot settle: left alone.
    undecided = {k: CellDetail(raw=str(v), confidence=0.6) for k, v in cells.items()}
    confirm_by_arithmetic(cells, undecided, {k for k in cells if k.startswith("t3_granted__")})
    assert undecided["t3_granted__total"].confidence == 0.6
    # A grid cell's text is exact: a sum it breaks is the report's own error.
    grid = {k: CellDetail(raw=str(v), confidence=1.0) for k, v in broken.items()}
    confirm_by_arithmetic(broken, grid)
    assert grid[key].confidence == 1.0


def test_shanghai_cells_printed_outside_their_row_are_placed_by_their_notes() -> None:
    path = corpus_path("real/shanghai-govoffice-2025.pdf-dump.md")
    report = parse_document(path.read_bytes(), path.name)
    # "55（含自然失效29件）" names its column (失效 → 本年废止); "22（其中修订16件）" left the
    # same column by the same extraction quirk.
    for key in ("t2_rules_repealed", "t2_normative_repealed"):
        assert report.cell_details[key].confidence >= UNCERTAIN_BELOW, key
    placement = next(f for f in report.parse_findings if f.rule == "PARSE-CELL-PLACEMENT")
    assert "siblings" in placement.message and "the note" in placement.message
