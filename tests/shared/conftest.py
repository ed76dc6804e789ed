"""SQLite with the migrations applied, in a temporary data dir: the database of the
tracking and series tests (no broker, local storage)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.db import get_engine, upgrade_schema
from shared.settings import get_settings


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("NIANBAO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NIANBAO_MAX_STAGE_ATTEMPTS", "3")  # the poison-file test counts to it
    get_settings.cache_clear()
    get_engine.cache_clear()
    upgrade_schema()
    yield
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()
