"""`POST /api/v1/ops/reprocess` by parser version: more reports than one request takes are
queued page by page, each page after the last id of the one before."""

from __future__ import annotations

import pytest

from services.ingest.routes import ops as ops_routes
from shared import db
from shared.models import Document, Status, Upload
from tests.ingest.conftest import Api


def test_reprocess_by_parser_version_pages_through_every_report(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ops_routes, "MAX_BULK", 2)
    with db.session_scope() as session:
        session.add(Upload(id="old-parses"))
        session.flush()
        docs = [
            Document(
                upload_id="old-parses",
                filename=f"{i}.txt",
                size=1,
                sha256=f"{i:064d}",
                storage_key=f"raw/{i}",
                status=Status.published,
                parser_version="0.0.1",
            )
            for i in range(3)
        ]
        session.add_all(docs)
        session.flush()
        ids = [d.id for d in docs]

    def reprocess(body: dict[str, object]) -> dict[str, object]:
        response = api.client.post("/api/v1/ops/reprocess", headers=api.headers("ops"), json=body)
        assert response.status_code == 202, response.text
        answer: dict[str, object] = response.json()
        return answer

    first = reprocess({"parser_version_below": "99"})
    assert first == {"done": ids[:2], "skipped": [], "next_after_id": ids[1]}
    second = reprocess({"parser_version_below": "99", "after_id": ids[1]})
    assert second == {"done": ids[2:], "skipped": [], "next_after_id": None}
    by_ids = reprocess({"ids": ids[:1]})
    assert by_ids == {"done": ids[:1], "skipped": [], "next_after_id": None}
