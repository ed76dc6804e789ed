"""The real WPS-exported PDF read as if its tables had no ruling lines at all.

Hiding the rulings from the extractor turns 洪泽区 2023 into an unruled table of real
typography (its fonts, column widths, wrapped labels and the one-character-per-line
三、本年度办理结果), which the synthetic unruled style cannot fake.
"""

from __future__ import annotations

import pytest

from services.parser import parse_document, pdf_tables
from tests.parser.conftest import cell_mismatches, corpus_file, load_truth


def test_real_pdf_without_rulings_every_cell_matches_truth(monkeypatch: pytest.MonkeyPatch) -> None:
    data = corpus_file("real/huaian-hongze-2023.pdf")
    monkeypatch.setattr(pdf_tables, "ruling_edges", lambda page: [])
    report = parse_document(data, "huaian.pdf")
    truth = load_truth("huaian-hongze-2023.truth.json")
    assert cell_mismatches(report.cells, truth["cells"]) == []
    # Rebuilt from positions, not read from a grid: no cell is presented as certain.
    assert max(detail.confidence for detail in report.cell_details.values()) < 1.0
