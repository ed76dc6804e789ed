"""SQLite with the migrations applied, in a temporary data dir: the database of the
tracking and series tests (no broker, local storage)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import migrated_database


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # NIANBAO_MAX_STAGE_ATTEMPTS: the poison-file test counts to it.
    with migrated_database(monkeypatch, tmp_path, NIANBAO_MAX_STAGE_ATTEMPTS="3"):
        yield
