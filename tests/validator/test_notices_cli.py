"""`nianbao notices --year Y`: per agency, the notices of its latest validated report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from shared.db import session_scope
from shared.models import Document, Upload
from tests.databases import migrated_database


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with migrated_database(monkeypatch, tmp_path):
        yield


def _notice(rule: str) -> dict[str, str]:
    return {"rule": rule, "severity": "notice"}


def test_notices_per_agency_count_the_latest_report_only(database: None) -> None:
    stored = [
        ("甲局", 2023, [_notice("NUM-MARKER"), _notice("TBL-HEADER-ALTERED")]),  # superseded below
        ("甲局", 2023, [_notice("NUM-MARKER"), {"rule": "SEC-ORDER", "severity": "warning"}]),
        ("乙局", 2023, [_notice("META-PUBDATE-LATE"), _notice("NUM-MARKER")]),
        ("丙局", 2023, [{"rule": "T4-CORRECTED-RATE", "severity": "info"}]),
        ("乙局", 2022, [_notice("NARR-FEE")]),
        ("丁局", 2023, None),  # not validated yet
    ]
    with session_scope() as session:
        session.add(Upload(id="u1"))
        session.flush()
        for n, (agency, year, findings) in enumerate(stored):
            session.add(Document(upload_id="u1", filename=f"{n}.txt", size=1, sha256=str(n), storage_key=str(n),
                                 agency_norm=agency, year=year, findings=findings))
    result = CliRunner().invoke(app, ["notices", "--year", "2023"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert "3 agencies" in lines[0]
    assert lines[1:] == ["乙局\t2\tMETA-PUBDATE-LATE ×1, NUM-MARKER ×1", "甲局\t1\tNUM-MARKER ×1"]
