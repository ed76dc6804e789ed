"""Trust: versions follow receipt order and the agency of the upload, whatever order the
workers read the files in, and a late publish never puts an older version back on top.

Runs the validate and publish stages' own functions on SQLite with local storage (no
broker): the orders that faults produce are set up by hand.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from services.parser import parse_document
from services.publisher.tasks import publish_approved_document
from services.validator import tasks as validator_tasks
from services.validator.tasks import validate_parsed_document
from shared.db import session_scope
from shared.models import Document, DocumentEvent, Publication, Stage, Status, Upload
from shared.settings import get_settings
from shared.stages import DeferStage, StageOutcome, StageWork, run_stage
from shared.storage import open_store, raw_key
from tests.corpus.generate import report_of

AGENCY_A = "淮安市清河区民政局"


def report_bytes(agency: str, year: int = 2023, variant: int = 0) -> bytes:
    return report_of(agency, year, variant)


def received(data: bytes, *, bound_to: str = AGENCY_A, status: Status = Status.parsed) -> int:
    """A stored, parsed upload bound to `bound_to` ("" = an ops upload naming no agency)."""
    report = parse_document(data, "report.txt")
    settings = get_settings()
    open_store(settings, settings.raw_bucket).put(raw_key(str(hash(data))), data)
    with session_scope() as session:
        upload = Upload(id=f"u{len(data)}-{hash(data)}")
        session.merge(upload)
        session.flush()
        doc = Document(
            upload_id=upload.id,
            filename="report.txt",
            size=len(data),
            sha256=str(hash(data)),
            storage_key=raw_key(str(hash(data))),
            agency_key=bound_to,
            status=status,
            parsed=report.to_json(),
            agency=report.agency,
            year=report.year,
        )
        session.add(doc)
        session.flush()
        assert doc.id is not None
        return doc.id


def run_now(doc_id: int, work: StageWork) -> StageOutcome:
    """A stage's work function on one document, its outcome recorded, without a broker."""
    with session_scope() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None
        outcome = work(session, doc)
        doc.status = outcome.status
        session.add(doc)
        return outcome


def validate_now(doc_id: int) -> StageOutcome:
    return run_now(doc_id, validate_parsed_document)


def publish_now(doc_id: int) -> StageOutcome:
    return run_now(doc_id, publish_approved_document)


def row(doc_id: int) -> Document:
    with session_scope() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None
        return doc


def patience_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the earlier upload had been waited for as long as the sweeper needs."""
    monkeypatch.setenv("NIANBAO_REQUEUE_WAITING_AFTER", "0")
    monkeypatch.setenv("NIANBAO_STAGE_TIME_LIMIT", "0")
    get_settings.cache_clear()


def test_a_later_upload_waits_for_an_earlier_unread_one(database: None) -> None:
    older = received(report_bytes(AGENCY_A, variant=0))
    newer = received(report_bytes(AGENCY_A, variant=1))
    with pytest.raises(DeferStage, match=f"earlier upload {older}"):
        validate_now(newer)  # the sweeper re-sent the older one only after this one
    assert row(newer).version is None
    validate_now(older)
    validate_now(newer)
    assert (row(older).version, row(newer).version) == (1, 2)


def test_other_agencies_and_other_years_do_not_wait(database: None) -> None:
    received(report_bytes(AGENCY_A, year=2022))  # unread, but another year
    received(report_bytes("淮安市清河区财政局"), bound_to="淮安市清河区财政局")  # another agency
    newer = received(report_bytes(AGENCY_A, year=2023))
    with session_scope() as session:  # the other-year upload is read, only its year is known
        first = session.get(Document, newer - 2)
        assert first is not None
        first.year = 2022
    validate_now(newer)
    assert row(newer).version == 1


def test_an_older_upload_read_after_a_newer_one_is_kept_as_superseded(
    database: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = received(report_bytes(AGENCY_A, variant=0), status=Status.received)
    newer = received(report_bytes(AGENCY_A, variant=1))
    patience_over(monkeypatch)  # the older one's message was lost for longer than that
    validate_now(newer)
    outcome = validate_now(older)  # read at last
    assert row(newer).version == 1
    assert outcome.status == Status.superseded and f"document {newer}" in outcome.detail
    assert row(older).version is None and row(older).findings is not None


def test_an_earlier_upload_already_read_is_waited_for_however_long_the_later_one_waited(
    database: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A validator stopped for a while leaves both uploads parsed, past the patience for a
    lost one: its two workers then take them in any order, and the numbers must still
    follow receipt."""
    older = received(report_bytes(AGENCY_A, variant=0))  # parsed, its validate queued
    newer = received(report_bytes(AGENCY_A, variant=1))
    patience_over(monkeypatch)
    with pytest.raises(DeferStage, match=f"earlier upload {older}"):
        validate_now(newer)
    validate_now(older)
    validate_now(newer)
    assert (row(older).version, row(newer).version) == (1, 2)


def test_the_database_refuses_two_documents_with_one_version(database: None) -> None:
    first = received(report_bytes(AGENCY_A, variant=0))
    second = received(report_bytes(AGENCY_A, variant=1))
    validate_now(first)
    with pytest.raises(IntegrityError), session_scope() as session:
        doc = session.get(Document, second)
        assert doc is not None
        doc.agency_norm, doc.version = row(first).agency_norm, 1


def test_a_validator_that_loses_the_race_for_a_number_takes_the_next(
    database: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = received(report_bytes(AGENCY_A, variant=0))
    second = received(report_bytes(AGENCY_A, variant=1))
    validate_now(first)
    seen = iter([(None, 0)])  # as if it read the series just before `first` took number 1
    real = validator_tasks.series_numbers
    monkeypatch.setattr(validator_tasks, "series_numbers", lambda s, d: next(seen, None) or real(s, d))
    validate_now(second)
    assert (row(first).version, row(second).version) == (1, 2)


def test_a_version_is_assigned_once(database: None) -> None:
    doc_id = received(report_bytes(AGENCY_A))
    validate_now(doc_id)
    validate_now(doc_id)  # a redelivered validate (or a retry) keeps the number
    assert row(doc_id).version == 1


def test_versions_follow_the_bound_agency_not_the_printed_name(database: None) -> None:
    """Agency A uploads a copy of B's report: it is A's version 1, held with a finding."""
    b_report = received(report_bytes("淮安市清河区财政局"), bound_to="淮安市清河区财政局")
    validate_now(b_report)
    copy = received(report_bytes("淮安市清河区财政局") + b"\nappended 13b")
    outcome = validate_now(copy)
    doc = row(copy)
    assert doc.agency_norm == AGENCY_A and doc.version == 1 and row(b_report).version == 1
    assert outcome.status in (Status.needs_review, Status.rejected)
    mismatch = [f for f in doc.findings or [] if f["rule"] == "META-AGENCY-MISMATCH"]
    assert mismatch and mismatch[0]["severity"] == "warning"
    assert "淮安市清河区财政局" in mismatch[0]["message_zh"] and AGENCY_A in mismatch[0]["message_zh"]


def test_a_title_without_its_city_is_the_same_agency(database: None) -> None:
    doc_id = received(report_bytes("清河区民政局"))  # the token says 淮安市清河区民政局
    validate_now(doc_id)
    assert not [f for f in row(doc_id).findings or [] if f["rule"] == "META-AGENCY-MISMATCH"]


def approved(doc_id: int) -> None:
    with session_scope() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None
        doc.status = Status.approved


def test_a_late_publish_of_an_older_version_does_not_replace_the_newer(database: None) -> None:
    v1 = received(report_bytes(AGENCY_A, variant=0))
    v2 = received(report_bytes(AGENCY_A, variant=1))
    for doc_id in (v1, v2):
        validate_now(doc_id)
        approved(doc_id)
    assert publish_now(v2).status == Status.published  # v1's publisher was killed meanwhile
    late = publish_now(v1)
    assert late.status == Status.superseded and "version 2" in late.detail
    assert row(v2).status == Status.published
    with session_scope() as session:
        published = session.exec(select(Publication.document_id)).all()
    assert published == [v2]


def test_a_newer_version_supersedes_the_older_one(database: None) -> None:
    v1 = received(report_bytes(AGENCY_A, variant=0))
    v2 = received(report_bytes(AGENCY_A, variant=1))
    for doc_id in (v1, v2):
        validate_now(doc_id)
        approved(doc_id)
    publish_now(v1)
    publish_now(v2)
    assert (row(v1).status, row(v2).status) == (Status.superseded, Status.published)


def test_another_agencys_copy_gets_its_own_portal_address(database: None) -> None:
    b_report = received(report_bytes("淮安市清河区财政局"), bound_to="淮安市清河区财政局")
    copy = received(report_bytes("淮安市清河区财政局") + b"\nappended 13b")
    for doc_id in (b_report, copy):
        validate_now(doc_id)
        approved(doc_id)  # even if a reviewer let the copy through
    publish_now(b_report)
    publish_now(copy)
    assert row(b_report).status == Status.published and row(copy).status == Status.published
    with session_scope() as session:
        locations = session.exec(select(Publication.location).order_by(Publication.id)).all()
    assert len(set(locations)) == 2


class RetryRequested(Exception):
    def __init__(self, **options: Any) -> None:
        self.options = options


def test_a_deferred_stage_returns_the_document_to_waiting_and_retries(database: None) -> None:
    older = received(report_bytes(AGENCY_A, variant=0))
    newer = received(report_bytes(AGENCY_A, variant=1))

    def retry(**options: Any) -> RetryRequested:
        return RetryRequested(**options)

    task = SimpleNamespace(request=SimpleNamespace(id="t-1", retries=0), max_retries=5, retry=retry)
    with session_scope() as session:
        session.get(Document, newer).status = Status.parsed  # type: ignore[union-attr]
    with pytest.raises(RetryRequested) as raised:
        run_stage(task, Stage.validate, newer, validate_parsed_document)  # type: ignore[arg-type]
    assert 0 < raised.value.options["countdown"] <= 15
    doc = row(newer)
    assert doc.status == Status.parsed and doc.stage_attempts == 0 and doc.claim_task_id is None
    with session_scope() as session:
        details = session.exec(select(DocumentEvent.detail).where(DocumentEvent.document_id == newer)).all()
    assert any(f"earlier upload {older}" in d for d in details)
