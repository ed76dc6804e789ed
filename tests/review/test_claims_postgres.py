"""Claims are decided by the database: reviewers claiming the same document at the same
moment on PostgreSQL get exactly one winner, whatever the timing."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest
from sqlmodel import Session

from services.review import Conflict
from services.review.claims import ClaimConflict, claim
from shared.db import make_engine, upgrade_schema
from shared.models import Document, Upload
from tests.integration.stack import create_database, drop_database

CLAIMANTS = 8


@pytest.fixture
def database_url() -> Iterator[str]:
    try:
        name, url = create_database()
    except psycopg.OperationalError:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    upgrade_schema(url)
    yield url
    drop_database(name)


def test_simultaneous_claims_have_one_winner(database_url: str) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        session.add(Upload(id="u1"))
        session.flush()
        doc = Document(upload_id="u1", filename="a.pdf", size=1, sha256="0" * 64, storage_key="raw/a")
        session.add(doc)
        session.commit()
        document_id = doc.id
    assert document_id is not None
    start = threading.Barrier(CLAIMANTS)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        with Session(engine) as session:
            start.wait()
            try:
                claim(session, document_id, f"reviewer#{n}")
                session.commit()
                outcomes.append("won")
            except ClaimConflict as exc:
                outcomes.append(exc.message)
            except Conflict:
                outcomes.append("changed hands")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(CLAIMANTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    assert outcomes.count("won") == 1, outcomes
    assert all(o == "won" or o.startswith("being reviewed by reviewer#") for o in outcomes), outcomes
