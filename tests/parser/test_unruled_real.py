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


def test_synthetic_pdfs_without_rulings_every_cell_matches_truth(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ruled PDF of the corpus read with its rulings hidden: tall rows (repeat_header),
    spaced digits (distributed) and plain Word exports all become unruled tables."""
    from tests.corpus.compare import compare, wrong_at_full_confidence
    from tests.corpus.generate import build_corpus, default_corpus_dir
    from tests.corpus.render_office import soffice_available

    if not soffice_available():
        pytest.skip("LibreOffice (soffice) is not installed")
    styles = ("pdf_word_export", "pdf_repeat_header", "pdf_distributed")
    items = build_corpus(default_corpus_dir(per_style=4, seed=2024), per_style=4, seed=2024)
    monkeypatch.setattr(pdf_tables, "ruling_edges", lambda page: [])
    misses: list[str] = []
    for item in (i for i in items if i.style in styles):
        found = compare(item.truth, parse_document(item.path.read_bytes(), item.path.name))
        misses += [m.line(item.style, item.path.name) for m in found]
        assert not wrong_at_full_confidence(found)
    assert misses == []


def test_group_label_debris_between_wrapped_label_lines() -> None:
    from services.parser.labels import label_completeness, without_leading_group_debris

    assert (
        without_leading_group_debris("他处理纳费用、行政机关不再处理其政府")
        == "纳费用,行政机关不再处理其政府"
    )
    assert without_leading_group_debris("纳费用、行政机关") is None
    assert (
        label_completeness("（六）其2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府") == "part"
    )
    assert label_completeness("（三）不4.保护第三方合法权益") == "whole"
