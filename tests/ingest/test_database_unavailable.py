"""A request that cannot reach the database gets 503 with Retry-After, never a 500
(found by the fault suite: connections terminated mid-run answered uploads with 500)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.ingest.app import create_app
from shared.db import get_engine
from shared.settings import get_settings
from tests.integration.stack import free_port


@pytest.fixture
def client_without_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    # Nothing listens on this port: every connection attempt is refused.
    monkeypatch.setenv("NIANBAO_DATABASE_URL", f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    monkeypatch.setenv("NIANBAO_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        with TestClient(create_app(), raise_server_exceptions=False) as client:
            yield client
    finally:
        get_settings.cache_clear()
        get_engine.cache_clear()


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/documents"), ("POST", "/api/v1/uploads"), ("POST", "/api/v1/documents/1/approve")],
)
def test_unreachable_database_is_503_with_retry_after(
    client_without_database: TestClient, method: str, path: str
) -> None:
    response = client_without_database.request(
        method,
        path,
        headers={"Authorization": "Bearer nb_anything", "Idempotency-Key": "k"},
        files=[("files", ("a.txt", b"x"))] if path.endswith("uploads") else None,
    )
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"].isdigit()
    assert "database" in response.json()["detail"]
