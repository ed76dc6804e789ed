"""Database engine and sessions for every service (one engine per process)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, create_engine

from shared.settings import get_settings


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # WAL lets the API read while a worker writes; several processes share the file.
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # An API process serves many uploads at once from its thread pool; a connection beyond
    # pool_size is closed after its request, and PostgreSQL starts a new backend for the
    # next (five were too few at 16 concurrent uploads).
    engine = create_engine(url, pool_size=10, max_overflow=10)
    _ping_after_idle(engine)
    return engine


IDLE_BEFORE_PING = 2.0  # seconds a pooled connection may rest before it is tested again


def _ping_after_idle(engine: Engine) -> None:
    """Test a pooled connection on checkout only when it has rested: a restarted PostgreSQL
    leaves dead connections in the pool, but testing every checkout (pool_pre_ping) cost a
    round trip per transaction, a fifth of an upload's database time. A dead connection
    found here is replaced at once (SQLAlchemy retries the checkout); one that dies while
    busy fails its transaction, which the API answers 503 and a stage retries."""

    @event.listens_for(engine, "checkin")
    def _rested_since(_dbapi_conn: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _test_if_rested(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < IDLE_BEFORE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError(f"pooled connection is dead: {exc}") from exc


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def upgrade_schema(url: str | None = None) -> None:
    """Bring the database to the newest Alembic revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.set_main_option("sqlalchemy.url", url or get_settings().database_url)
    command.upgrade(config, "head")
