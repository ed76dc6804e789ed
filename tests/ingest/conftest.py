"""The ingest API in-process (FastAPI's TestClient) over a PostgreSQL database of its own
(out-of-range numbers only show on a real PostgreSQL), a storage directory and kombu's
in-memory broker. For the behaviour of the deployed services see tests/integration."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from services.ingest.auth import Role, create_token
from shared import db
from shared.celery_app import celery_app
from shared.settings import get_settings
from tests.integration.stack import create_database, drop_database


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]
    data_dir: Path

    def headers(self, role: str = "uploader", **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}", **extra}


def _configure(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    db.get_engine.cache_clear()


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    try:
        name, url = create_database()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is not available: {exc}")
    yield url
    drop_database(name)


def make_api(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, database_url: str, **env: str
) -> Iterator[Api]:
    from services.ingest.app import create_app

    _configure(
        monkeypatch,
        {
            "NIANBAO_DATA_DIR": str(data_dir),
            "NIANBAO_DATABASE_URL": database_url,
            "NIANBAO_BROKER_URL": "memory://",
            "NIANBAO_STORAGE_BACKEND": "local",
            **env,
        },
    )
    monkeypatch.setattr(celery_app.conf, "broker_url", "memory://")
    db.upgrade_schema()
    with db.session_scope() as session:
        tokens = {
            "uploader": create_token(session, Role.uploader, ["某县民政局"]),
            "other_uploader": create_token(session, Role.uploader, ["某县财政局"]),
            "reviewer": create_token(session, Role.reviewer),
            "publisher": create_token(session, Role.publisher),
            "ops": create_token(session, Role.ops),
        }
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield Api(client, tokens, data_dir)
    db.get_engine().dispose()
    get_settings.cache_clear()
    db.get_engine.cache_clear()


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Iterator[Api]:
    yield from make_api(monkeypatch, tmp_path, database_url)
