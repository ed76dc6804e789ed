"""The parser against the hand-checked real reports of the shared corpus."""

from __future__ import annotations

from services.parser import PARSER_VERSION, parse_document
from tests.parser.conftest import cell_mismatches, corpus_file, load_truth


def test_seed_text_every_cell_matches_truth() -> None:
    report = parse_document(corpus_file("seed/000_73a337edb7ff8878.txt"), "000.txt")
    truth = load_truth("luoyang-xigong-2022.truth.json")
    assert cell_mismatches(report.cells, truth["cells"]) == []
    assert set(report.cells) == set(truth["cells"])
    assert report.agency == "西工区城市改造办公室"
    assert report.year == 2022
    assert report.report_format == "v2021"
    assert report.report_kind == "agency"
    assert report.parser_version == PARSER_VERSION


def test_seed_eight_number_rows_are_flagged_with_lower_confidence() -> None:
    report = parse_document(corpus_file("seed/000_73a337edb7ff8878.txt"), "000.txt")
    ambiguous = [f for f in report.parse_findings if f.rule == "PARSE-COLUMNS-AMBIGUOUS"]
    assert ambiguous and "t3_denied_state_secret__natural" in ambiguous[0].cells
    assert "t3_new_received__natural" not in ambiguous[0].cells
    assert report.cell_details["t3_denied_state_secret__total"].confidence < 0.8
    assert report.cell_details["t3_new_received__total"].confidence > 0.9


def test_seed_sections_and_blank_free_values() -> None:
    report = parse_document(corpus_file("seed/000_73a337edb7ff8878.txt"), "000.txt")
    assert sorted(report.sections) == ["0", "1", "2", "3", "4", "5", "6"]  # "0": the preamble
    assert report.sections["6"] == "无"
    assert "截止2022年底累计" in report.sections["1"]
    assert report.cell_details["t2_fee_amount_wan"].raw == "0"
    assert report.cell_details["t2_fee_amount_wan"].source == "line 29"


def test_shanghai_markdown_dump_every_cell_matches_truth() -> None:
    report = parse_document(corpus_file("real/shanghai-govoffice-2025.pdf-dump.md"), "sh.md")
    truth = load_truth("shanghai-govoffice-2025.truth.json")
    assert cell_mismatches(report.cells, truth["cells"]) == []
    assert report.agency == "上海市人民政府办公厅"
    assert report.year == 2025
    assert report.report_kind == "agency"
    assert report.statistics_period == "2025-01-01..2025-12-31"
    rules = {f.rule: f for f in report.parse_findings}
    assert set(rules["NUM-UNPARSEABLE"].cells) == {"t2_rules_repealed", "t2_normative_repealed"}
    assert report.cell_details["t2_normative_repealed"].note == "(含自然失效29件)"
    assert "TBL-HEADER-ALTERED" not in rules
    # Section 五 exists only as sub-headings in this dump; they still delimit it.
    assert "2024 年工作中存在问题的改进情况" not in report.sections["5"]
    assert report.sections["6"].startswith("2025 年度本机关未收取")


def test_huaian_hybrid_pdf_every_cell_matches_truth() -> None:
    import pytest

    pytest.importorskip("services.parser.pdf")
    report = parse_document(corpus_file("real/huaian-hongze-2023.pdf"), "hz.pdf")
    truth = load_truth("huaian-hongze-2023.truth.json")
    assert cell_mismatches(report.cells, truth["cells"]) == []
    assert (report.agency, report.year, report.report_kind) == ("淮安市洪泽区人民政府", 2023, "summary")
    altered = next(f for f in report.parse_findings if f.rule == "TBL-HEADER-ALTERED")
    assert "t3_denied_law_forbidden__natural" in altered.cells
    assert "t3_other_all__natural" in altered.cells
