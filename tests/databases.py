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
