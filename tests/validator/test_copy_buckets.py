"""The copy check over the database: candidates come from stored LSH buckets, not from
every report of the year (issue 12)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session, select

from services.validator import tasks as validator_tasks
from services.validator.copied_text import band_buckets, lsh_params, text_signature
from services.validator.tasks import _peer_index, bucket_neighbours, check_document, record_copy_buckets
from shared.db import get_engine
from shared.models import CopyBucket, Document, Status, Upload
from shared.report import ParsedReport
from tests.corpus.generate import render_fast
from tests.corpus.truth import with_agency
from tests.databases import migrated_postgresql
from tests.review.helpers import add_document, sqlite_session, truth

MIGRATION = Path(__file__).resolve().parents[2] / "shared/migrations/versions/0010_copy_buckets.py"


@pytest.fixture(params=["sqlite", "postgresql"])
def session(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    if request.param == "sqlite":
        yield from sqlite_session(tmp_path)
        return
    with migrated_postgresql(monkeypatch, tmp_path), Session(get_engine(), expire_on_commit=False) as session:
        session.add(Upload(id="u1"))
        session.flush()
        yield session


def _report(seed: int, agency: str) -> tuple[str, bytes]:
    return render_fast(with_agency(truth(seed), agency), "html_trs_utf8")


def test_the_migration_buckets_signatures_as_the_validator_does() -> None:
    spec = importlib.util.spec_from_file_location("copy_buckets_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    made = truth(11)
    signature = text_signature(made["sections"]["1"] + made["sections"]["5"])
    assert len(signature) == migration.NUM_PERM
    assert lsh_params() == (migration.BANDS, migration.ROWS)
    values = np.asarray(signature, dtype=np.uint64)
    assert band_buckets(signature) == [(b, migration.bucket_of(values, b)) for b in range(migration.BANDS)]


def test_the_signature_is_a_fresh_minhash_of_the_shingles() -> None:
    """Stored signatures must stay comparable: the cached permutations are the seed's own."""
    from datasketch import MinHash

    from services.validator.copied_text import NUM_PERM, SCHEME, shingles

    text = truth(12)["sections"]["1"]
    fresh = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME)
    fresh.update_batch(list(shingles(text)))
    assert text_signature(text) == [int(v) for v in fresh.hashvalues]
    assert text_signature(text) == text_signature(text)


def test_a_copy_is_found_through_the_stored_buckets(session: Session) -> None:
    name, data = _report(11, "某县民政局")
    original = add_document(session, name, data, agency_key="某县民政局")
    original.agency_norm = "某县民政局"
    check_document(session, original, ParsedReport.from_json(original.parsed or {}), {})
    original.status = Status.published
    copy_name, copy_data = _report(11, "某县财政局")  # the same narrative under another agency
    copier = add_document(session, copy_name, copy_data, agency_key="某县财政局")
    copier.agency_norm = "某县财政局"
    outcome = check_document(session, copier, ParsedReport.from_json(copier.parsed or {}), {})
    assert any(f["rule"] == "PEER-DUP-TEXT" for f in copier.findings or []), outcome
    stored = session.exec(select(CopyBucket).where(CopyBucket.document_id == copier.id)).all()
    assert len(stored) == lsh_params()[0] and {b.year for b in stored} == {copier.year}
    # A report whose text shares no bucket reads nobody else's signature.
    other_name, other_data = _report(12, "某县教育局")
    other = add_document(session, other_name, other_data, agency_key="某县教育局")
    other.agency_norm = "某县教育局"
    check_document(session, other, ParsedReport.from_json(other.parsed or {}), {})
    assert not any(f["rule"] == "PEER-DUP-TEXT" for f in other.findings or [])
    assert _peer_index(session, other) is None  # no shared bucket: no other signature read


def test_recording_again_replaces_the_buckets(session: Session) -> None:
    name, data = _report(13, "某县民政局")
    doc: Document = add_document(session, name, data)
    check_document(session, doc, ParsedReport.from_json(doc.parsed or {}), {})
    record_copy_buckets(session, doc)
    record_copy_buckets(session, doc)
    assert len(session.exec(select(CopyBucket).where(CopyBucket.document_id == doc.id)).all()) == lsh_params()[0]


def _checked(session: Session, seed: int, agency: str, status: Status | None = None) -> Document:
    """A report of narrative `seed` under `agency`, through the copy check; then `status`."""
    name, data = _report(seed, agency)
    doc = add_document(session, name, data, agency_key=agency)
    doc.agency_norm = agency
    check_document(session, doc, ParsedReport.from_json(doc.parsed or {}), {})
    if status is not None:
        doc.status = status
        session.add(doc)
        session.flush()
    return doc


def test_a_text_shared_by_many_reports_is_compared_with_the_nearest_few(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(validator_tasks, "MAX_COPY_CANDIDATES", 3)
    for agency in ["某县民政局", "某县财政局", "某县教育局", "某县交通局", "某县水利局"]:
        _checked(session, 21, agency, Status.published)  # one narrative, five agencies
    copier = _checked(session, 21, "某县卫生健康委员会")
    index = _peer_index(session, copier)
    assert index is not None and len(index) == 3
    assert any(f["rule"] == "PEER-DUP-TEXT" for f in copier.findings or [])


def test_reports_no_longer_standing_do_not_crowd_out_a_standing_copy(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(validator_tasks, "MAX_COPY_CANDIDATES", 2)
    for agency in ["某县民政局", "某县财政局", "某县教育局"]:  # superseded since
        _checked(session, 22, agency, Status.superseded)
    _checked(session, 22, "某县交通局", Status.published)
    copier = _checked(session, 22, "某县卫生健康委员会")
    index = _peer_index(session, copier)
    assert index is not None and len(index) == 1
    assert any(f["rule"] == "PEER-DUP-TEXT" for f in copier.findings or [])


def test_a_copy_is_found_when_a_phrase_crowds_one_of_its_buckets(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bucket gives its newest members only (PostgreSQL): newer reports crowding one
    bucket of the source leave the source in all its other buckets, still the nearest."""
    monkeypatch.setattr(validator_tasks, "MAX_BUCKET_MEMBERS", 3)
    source = _checked(session, 23, "某县民政局", Status.published)
    assert source.year is not None and source.id is not None
    band, bucket = band_buckets(source.text_signature or [])[0]
    for index, agency in enumerate(["某县财政局", "某县教育局", "某县交通局", "某县水利局"]):
        crowder = _checked(session, 31 + index, agency, Status.published)  # other narratives…
        assert crowder.id is not None
        session.add(CopyBucket(year=source.year, band=band, bucket=bucket, document_id=crowder.id))  # …one phrase
    session.flush()
    copier = _checked(session, 23, "某县卫生健康委员会")
    shared = bucket_neighbours(session, copier, band_buckets(copier.text_signature or []))
    bands = lsh_params()[0]
    capped = session.get_bind().dialect.name == "postgresql"
    assert shared[source.id] == (bands - 1 if capped else bands)  # the crowded bucket passed it by
    assert max(shared, key=lambda doc_id: shared[doc_id]) == source.id
    assert any(f["rule"] == "PEER-DUP-TEXT" for f in copier.findings or [])
