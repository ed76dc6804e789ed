"""Confidence must mean something: clean cells are certain, doubtful ones are not.

A parser that marks every cell unsure sends every report to a human; one that marks a
doubtful cell certain lets a wrong number through. Both directions are tested here.
"""

from __future__ import annotations

import random

import pytest

from services.parser import parse_document
from services.parser.numbers import read_number
from shared.report import UNCERTAIN_BELOW
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
