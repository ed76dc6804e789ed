"""A summary report's members, found by the government's place name on PostgreSQL: the
name's prefix is matched literally (LIKE's wildcards in a place name match only
themselves), through an index that serves a prefix whatever the collation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from services.validator.tasks import _member_reports, like_prefix
from shared.db import get_engine
from shared.models import Document, Status, Upload
from shared.report import ParsedReport
from tests.corpus.generate import render_fast
from tests.corpus.truth import with_agency
from tests.databases import migrated_postgresql
from tests.review.helpers import add_document, truth


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Session]:
    with migrated_postgresql(monkeypatch, tmp_path), Session(get_engine(), expire_on_commit=False) as session:
        session.add(Upload(id="u1"))
        session.flush()
        yield session


YEAR = 2025


def _published(session: Session, seed: int, agency: str) -> Document:
    doc = add_document(
        session,
        f"{seed}.html",
        render_fast(with_agency(truth(seed), agency), "html_trs_utf8")[1],
        status=Status.published,
    )
    doc.year = YEAR
    session.flush()
    return doc


def _members_of(session: Session, government: str, year: int | None) -> list[str]:
    summary = Document(
        upload_id="u1", filename="s.html", size=1, sha256="s", storage_key="raw/s", agency_norm=government, year=year
    )
    report = ParsedReport(report_kind="summary", agency=government, year=year)
    return sorted(member.agency or "" for member in _member_reports(session, summary, report) or [])


def test_a_summary_reads_the_agencies_named_after_its_place(session: Session) -> None:
    for seed, agency in ((1, "某市某区民政局"), (2, "某市某区财政局"), (3, "某市他区民政局")):
        _published(session, seed, agency)
    _published(session, 4, "某甲区民政局")  # would match "某_区%" if "_" were a wildcard
    assert _members_of(session, "某市某区人民政府", YEAR) == ["某市某区民政局", "某市某区财政局"]
    assert _members_of(session, "某_区人民政府", YEAR) == []
    indexdef = session.execute(
        text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_document_agency_prefix'")
    ).scalar_one()
    assert "text_pattern_ops" in indexdef


def test_like_prefix_escapes_the_wildcards() -> None:
    assert like_prefix("某_区50%/") == "某/_区50/%//%"
