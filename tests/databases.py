"""A migrated database for tests that run our code in-process (no services)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from shared.db import get_engine, upgrade_schema
from shared.settings import get_settings


@contextmanager
def migrated_database(monkeypatch: pytest.MonkeyPatch, data_dir: Path, **env: str) -> Iterator[None]:
    """Settings from `env` (NIANBAO_* variables) with `data_dir` as the data directory — its
    SQLite file unless `env` names another database — and the migrations applied. The
    cached settings and engine are dropped afterwards, so the next test starts clean."""
    monkeypatch.setenv("NIANBAO_DATA_DIR", str(data_dir))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    get_engine.cache_clear()
    upgrade_schema()
    try:
        yield
    finally:
        get_engine().dispose()
        get_settings.cache_clear()
        get_engine.cache_clear()


@contextmanager
def migrated_postgresql(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Iterator[None]:
    """`migrated_database` on a new PostgreSQL database of the machine's server, dropped
    afterwards; the test skips when the server is not there."""
    import psycopg

    from tests.integration.stack import create_database, drop_database

    try:
        name, url = create_database()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is not available: {exc}")
    try:
        with migrated_database(monkeypatch, data_dir, NIANBAO_DATABASE_URL=url):
            yield
    finally:
        drop_database(name)
