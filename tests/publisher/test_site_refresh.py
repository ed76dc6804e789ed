"""The site refresh reads only part of each parse result from the database: the pages it
makes must be the ones the whole parse results make (SQLite and PostgreSQL evaluate the
JSON paths differently, so both)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import event
from sqlmodel import col, select

from services.agencies import government_of
from services.parser import parse_document
from services.publisher import site_files
from services.publisher.tasks import (
    SITE_REFRESH_EVERY,
    SITE_REFRESH_SHARE,
    _current_reports,
    portal_report,
    refresh_site,
    request_site_refresh,
    site_part_of,
    site_refresh_interval,
)
from shared import db as shared_db
from shared.db import session_scope
from shared.models import Document, PortalState, Publication, Status, Upload, utcnow
from tests.corpus.generate import render_fast
from tests.corpus.truth import random_truth
from tests.databases import migrated_database, migrated_postgresql
from tests.integration.stack import create_database, drop_database

VARIANTS = [("v2021", False), ("v2021", True), ("v2019", False)] * 2


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if request.param == "sqlite":
        with migrated_database(monkeypatch, tmp_path):
            yield
        return
    with migrated_postgresql(monkeypatch, tmp_path):
        yield


def publish_rows() -> None:
    rng = random.Random(12)
    with session_scope() as session:
        session.add(Upload(id="u1"))
        session.flush()
        for index, (report_format, hybrid) in enumerate(VARIANTS):
            truth = random_truth(rng, report_format=report_format, hybrid=hybrid)  # type: ignore[arg-type]
            style = "txt_tab_seed" if index % 2 else "html_trs_utf8"
            report = parse_document(*reversed(render_fast(truth, style)))
            doc = Document(
                upload_id="u1",
                filename=f"{index}.txt",
                size=1,
                sha256=f"{index}",
                storage_key="",
                status=Status.published,
                agency=report.agency,
                agency_norm=report.agency,
                year=report.year,
                parsed=report.to_json(),
                findings=[],
                version=1,
            )
            session.add(doc)
            session.flush()
            assert doc.id is not None and report.agency and report.year
            location = f"reports/{doc.id}/index.html"
            session.add(
                Publication(
                    document_id=doc.id,
                    agency_norm=report.agency,
                    year=report.year,
                    version=1,
                    location=location,
                )
            )


def test_the_site_pages_from_part_of_each_parse_equal_those_from_the_whole(database: None) -> None:
    publish_rows()
    with session_scope() as session:
        light = _current_reports(session)
        rows = session.exec(
            select(Document, Publication).join(Publication, col(Publication.document_id) == col(Document.id))
        ).all()
        whole = [portal_report(d, [], p, government_of(session, d.agency_norm)) for d, p in rows]
    assert sum(report.is_hybrid for report in whole) == 2
    hybrid = {r.document_id: r.is_hybrid for r in whole}
    assert {r.document_id: r.is_hybrid for r in light} == hybrid
    as_of = date(2026, 12, 4)
    assert site_files(light, as_of=as_of) == site_files(whole, as_of=as_of)


def test_a_slow_rebuild_spaces_out_the_next_ones(database: None) -> None:
    """The rebuild records its duration; requests then wait long enough that rebuilds take
    at most SITE_REFRESH_SHARE of the publisher's time (issue 12: at a season's end one
    rebuild takes seconds, and the one publisher must keep publishing)."""
    publish_rows()
    with session_scope() as session:
        session.add(PortalState(id=1, dirty_seq=1))
    refresh_site()  # in this process, as the publish worker runs it
    with session_scope() as session:
        state = session.get(PortalState, 1)
        assert state is not None and state.built_seq == 1 and (state.last_build_seconds or 0) > 0
        assert site_refresh_interval(state) == SITE_REFRESH_EVERY  # a small site: the floor
        state.last_build_seconds = 3.0  # as a large archive's rebuild takes
        assert site_refresh_interval(state) == pytest.approx(3.0 / SITE_REFRESH_SHARE)
        state.dirty_seq = 2
        state.refresh_sent_at = utcnow() - timedelta(seconds=SITE_REFRESH_EVERY + 1)
        session.add(state)
    assert request_site_refresh() is False  # past the floor, within the longer interval
    with session_scope() as session:
        state = session.get(PortalState, 1)
        assert state is not None and state.dirty_seq == 2 and state.built_seq == 1


def test_a_publisher_that_just_asked_for_a_rebuild_does_not_read_the_state_again_until_one_may_be_due(
    database: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every publish asks for a site rebuild; one that asked (or saw a request) a moment
    ago knows none is due yet without a transaction, and asks again once one may be."""
    from services.publisher import tasks

    sent: list[str] = []
    monkeypatch.setattr(tasks, "_requests_quiet_until", {})
    monkeypatch.setattr(tasks.celery_app, "send_task", lambda name, **_: sent.append(name))
    with session_scope() as session:
        session.add(PortalState(id=1, dirty_seq=1))
    statements: list[str] = []
    event.listen(shared_db.get_engine(), "before_cursor_execute", lambda *args: statements.append(args[2]))

    assert request_site_refresh() is True and len(sent) == 1
    asked = len(statements)
    assert request_site_refresh() is False
    assert len(statements) == asked  # the state was not read

    later = utcnow() + timedelta(seconds=SITE_REFRESH_EVERY + 1)
    monkeypatch.setattr(tasks, "utcnow", lambda: later)
    assert request_site_refresh() is True and len(sent) == 2

    tasks._requests_quiet_until.clear()  # as another publish process, which saw no request
    assert request_site_refresh() is False  # the state shows the request just sent
    seen = len(statements)
    assert request_site_refresh() is False and len(statements) == seen


def test_the_migration_fills_the_site_part_as_publishing_does(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path}/old.db"
    config = Config()
    config.set_main_option("script_location", str(Path(shared_db.__file__).parent / "migrations"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "0010_copy_buckets")
    truth = random_truth(random.Random(3), report_format="v2021", hybrid=True)
    parsed = parse_document(*reversed(render_fast(truth, "txt_tab_seed"))).to_json()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO upload (id, created_at) VALUES ('u', '2025-01-01')"))
        conn.execute(
            text(
                "INSERT INTO document (id, upload_id, filename, size, sha256, storage_key, status,"
                " status_changed_at, received_at, agency_key, stage_attempts, parsed)"
                " VALUES (1, 'u', 'a.txt', 1, 'x', '', 'PUBLISHED', '2025-01-01', '2025-01-01', '', 0, :parsed)"
            ),
            {"parsed": json.dumps(parsed, ensure_ascii=False)},
        )
        conn.execute(
            text(
                "INSERT INTO publication (document_id, agency_norm, year, version, published_at,"
                " published_by, location) VALUES (1, 'a', 2025, 1, '2025-01-01', 'pipeline', 'x')"
            )
        )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        [stored] = conn.execute(text("SELECT site_part FROM publication")).one()
    engine.dispose()
    assert json.loads(stored) == site_part_of(parsed)
    assert json.loads(stored)["cell_details"]  # the hybrid row's details came along


def test_publishes_of_different_series_do_not_wait_for_each_other_or_a_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: a publish holds its series' lock, a rebuild the site's; neither holds
    the other up, and a second publish of the same series waits (issue 12)."""
    from sqlalchemy import text

    from services.publisher.tasks import _take_series_turn, _take_site_turn

    try:
        name, url = create_database()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is not available: {exc}")
    try:
        with (
            migrated_database(monkeypatch, tmp_path, NIANBAO_DATABASE_URL=url),
            session_scope() as first,
            session_scope() as rebuild,
            session_scope() as other,
        ):
            _take_series_turn(first, "2024-aaaa")
            _take_site_turn(rebuild)
            other.execute(text("SET lock_timeout = '300ms'"))
            _take_series_turn(other, "2024-bbbb")  # another series: at once
            other.commit()
            other.execute(text("SET lock_timeout = '300ms'"))
            with pytest.raises(Exception, match="lock timeout"):
                _take_series_turn(other, "2024-aaaa")  # the same series: waits
            other.rollback()
    finally:
        drop_database(name)


def test_two_first_publishes_share_the_new_portal_state_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL, a new portal: two publishes both find no portal-state row; the second
    waits for the first's row and bumps it (a fault run once failed on the duplicate key)."""
    import threading

    from services.publisher.tasks import _take_portal_turn

    try:
        name, url = create_database()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is not available: {exc}")
    errors: list[BaseException] = []

    def second_publish() -> None:
        try:
            with session_scope() as session:
                _take_portal_turn(session, bump=True)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    try:
        with migrated_database(monkeypatch, tmp_path, NIANBAO_DATABASE_URL=url):
            with session_scope() as first:
                _take_portal_turn(first, bump=True)  # creates the row, not yet committed
                second = threading.Thread(target=second_publish)
                second.start()
                second.join(timeout=0.5)
                assert second.is_alive()  # waiting for the first's row
            second.join(timeout=10)
            assert not errors, errors
            with session_scope() as session:
                state = session.get(PortalState, 1)
                assert state is not None and state.dirty_seq == 2
    finally:
        drop_database(name)
