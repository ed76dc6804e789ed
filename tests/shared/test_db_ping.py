"""Pooled PostgreSQL connections are tested only after a rest, and a dead one is replaced
without the caller seeing an error (shared.db._ping_after_idle)."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import event, text

from shared import db

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _count_pings(engine):  # type: ignore[no-untyped-def]
    pings: list[int] = []
    real_ping = engine.dialect.do_ping

    def counting_ping(dbapi_conn):  # type: ignore[no-untyped-def]
        pings.append(1)
        return real_ping(dbapi_conn)

    engine.dialect.do_ping = counting_ping
    return pings


def test_a_busy_pool_is_not_pinged_and_a_rested_dead_connection_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db, "IDLE_BEFORE_PING", 0.3)
    engine = db.make_engine(ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"))
    engine.pool.dispose()
    pings = _count_pings(engine)
    checkouts: list[int] = []
    event.listen(engine, "checkout", lambda *_: checkouts.append(1))
    try:
        for _ in range(5):  # back to back: no test round trips
            with engine.connect() as conn:
                backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert len(checkouts) == 5 and pings == []
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:  # the server drops it
            admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
        time.sleep(0.4)
        with engine.connect() as conn:  # rested: tested, found dead, replaced
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != backend
        assert len(pings) == 1
    finally:
        engine.dispose()
