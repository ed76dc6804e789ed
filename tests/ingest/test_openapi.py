"""The OpenAPI document declares errors and answer models, and schemathesis, generating
requests from it against the app in-process, never gets a server error."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.ingest.conftest import Api

ROLES = ("uploader", "other_uploader", "reviewer", "publisher", "ops")


def api_operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
    ]


def test_every_api_operation_declares_its_errors_and_a_typed_answer(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    operations = api_operations(spec)
    assert len(operations) >= 10
    for method, path, operation in operations:
        codes = set(operation["responses"])
        assert {"401", "403"} <= codes, (method, path, codes)
        if "{" in path:
            assert "404" in codes or "422" in codes, (method, path, codes)
    typed = {
        ("post", "/api/v1/uploads"),
        ("get", "/api/v1/uploads/{upload_id}"),
        ("get", "/api/v1/documents"),
        ("get", "/api/v1/documents/{document_id}"),
        ("post", "/api/v1/documents/{document_id}/approve"),
        ("post", "/api/v1/documents/{document_id}/reject"),
        ("post", "/api/v1/documents/{document_id}/retract"),
        ("get", "/api/v1/documents/{document_id}/deliveries"),
    }
    for method, path in typed:
        ok = next(c for c in spec["paths"][path][method]["responses"] if c.startswith("2"))
        schema = spec["paths"][path][method]["responses"][ok]["content"]["application/json"]["schema"]
        assert "$ref" in schema, (method, path, schema)


def test_schemathesis_finds_no_server_error(api: Api) -> None:
    for name in ("a.txt", "b.html"):
        api.client.post(
            "/api/v1/uploads", headers=api.headers(), files=[("files", (name, "一、总体情况\n".encode()))]
        )
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app)
    cases = schema.include(path_regex="^/api/v1/").as_strategy(GenerationMode.POSITIVE) | schema.include(
        path_regex="^/api/v1/"
    ).as_strategy(GenerationMode.NEGATIVE)
    server_errors: list[str] = []

    @given(case=cases, role=st.sampled_from(ROLES))
    @settings(
        max_examples=500,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def no_server_error(case: Any, role: str) -> None:
        response = case.call(headers=api.headers(role))
        if response.status_code >= 500:
            server_errors.append(f"{case.method} {case.formatted_path} → {response.status_code}: {response.text[:200]}")

    no_server_error()
    assert not server_errors, "\n".join(server_errors[:10])
