"""Real-world variants the synthetic corpus does not produce (spec §3, §8): small inline fixtures."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from services.parser import parse_document
from shared.report import ParsedReport
from tests.corpus.generate import FAST_STYLES, render_fast
from tests.corpus.truth import random_truth


def _truth(seed: int, **kwargs: Any) -> dict[str, Any]:
    return random_truth(random.Random(seed), **kwargs)


def _parse_text(text: str, name: str = "report.txt") -> ParsedReport:
    return parse_document(text.encode("utf-8"), name)


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- section texts hold prose only (issue 3) ----------------------------------------


@pytest.mark.parametrize("style", FAST_STYLES)
def test_section_texts_hold_prose_not_table_rows(style: str) -> None:
    truth = _truth(7, report_format="v2021")
    name, data = render_fast(truth, style)
    report = parse_document(data, name)
    for number in ("2", "3", "4"):
        text = report.sections.get(number, "")
        assert "|" not in text and "\t" not in text, (number, text[:200])
        assert not re.search(r"本年制发件数|自然人|结果维持|予以公开|\b\d+\b", text), (number, text[:200])
    if style != "html_mirror_traditional":  # the mirror's prose is in traditional characters
        for number in ("1", "5", "6"):
            assert _squeezed(report.sections[number]) == _squeezed(truth["sections"][number])


def test_table_without_its_heading_does_not_enter_section_one() -> None:
    name, data = render_fast(_truth(8, report_format="v2021"), "md_pdf_dump")
    text = data.decode("utf-8").replace("二、主动公开政府信息情况\n", "")
    report = _parse_text(text, name)
    assert "|" not in report.sections["1"]
    assert "第二十条" not in report.sections["1"]
    assert report.cells["t2_rules_issued"] is not None


def test_section_six_keeps_a_bare_none() -> None:
    name, data = render_fast(_truth(9, report_format="v2021"), "txt_tab_seed")
    text = data.decode("utf-8")
    head, _, _ = text.partition("六、其他需要报告的事项")
    report = _parse_text(head + "六、其他需要报告的事项\n无\n", name)
    assert report.sections["6"] == "无"
