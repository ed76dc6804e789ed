"""ParsedReport.to_json is written out by hand for speed: it must say what asdict says."""

from __future__ import annotations

import random
from dataclasses import asdict

import pytest

from services.parser import parse_document
from shared.report import CellDetail, ParsedReport, ParseFinding
from tests.corpus.generate import FAST_STYLES, render_fast
from tests.corpus.truth import random_truth


@pytest.mark.parametrize("style", FAST_STYLES)
def test_to_json_equals_asdict_and_round_trips(style: str) -> None:
    name, data = render_fast(random_truth(random.Random(style)), style)
    report = parse_document(data, name)
    assert report.to_json() == asdict(report)
    assert ParsedReport.from_json(report.to_json()) == report


def test_to_json_shares_no_list_or_dict_with_the_report() -> None:
    report = ParsedReport(
        sections={"1": "text"},
        cells={"t2_rules_made": 3},
        cell_details={"t2_rules_made": CellDetail(raw="3", page=1, box=[1.0, 2.0, 3.0, 4.0])},
        parse_findings=[ParseFinding("PARSE-CELL-MISSING", "missing", ["t2_rules_made"])],
    )
    data = report.to_json()
    data["sections"]["1"] = "changed"
    data["cells"]["t2_rules_made"] = 4
    data["cell_details"]["t2_rules_made"]["box"].append(5.0)
    data["parse_findings"][0]["cells"].append("t2_other")
    assert report == ParsedReport(
        sections={"1": "text"},
        cells={"t2_rules_made": 3},
        cell_details={"t2_rules_made": CellDetail(raw="3", page=1, box=[1.0, 2.0, 3.0, 4.0])},
        parse_findings=[ParseFinding("PARSE-CELL-MISSING", "missing", ["t2_rules_made"])],
    )
