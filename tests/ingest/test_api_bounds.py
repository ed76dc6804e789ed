"""The API's answers to out-of-range numbers, its headers, tokens' lifetime, /healthz."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from services.cli import app as cli
from services.ingest.auth import Role, create_token, parse_duration
from shared.db import session_scope
from tests.ingest.conftest import Api

HUGE = str(2**40)


@pytest.mark.parametrize(
    ("method", "path", "role", "body"),
    [
        ("GET", f"/api/v1/documents/{HUGE}", "ops", None),
        ("GET", f"/api/v1/documents/-{HUGE}", "ops", None),
        ("GET", f"/api/v1/documents?year={HUGE}", "ops", None),
        ("GET", f"/api/v1/documents?page={HUGE}", "ops", None),
        ("GET", f"/api/v1/documents?page={2**64}", "ops", None),
        ("GET", f"/api/v1/documents/{HUGE}/deliveries", "publisher", None),
        ("POST", f"/api/v1/documents/{HUGE}/approve", "reviewer", None),
        ("POST", f"/api/v1/documents/{HUGE}/reject", "reviewer", {"reason": "x"}),
        ("POST", f"/api/v1/documents/{HUGE}/retract", "publisher", {"reason": "x"}),
        ("POST", f"/api/v1/documents/{HUGE}/retry", "ops", None),
        ("POST", "/api/v1/ops/failures/retry", "ops", {"ids": [2**40]}),
        ("POST", "/api/v1/ops/failures/acknowledge", "ops", {"ids": [2**40]}),
        ("POST", "/api/v1/ops/reprocess", "ops", {"ids": [2**40]}),
    ],
)
def test_out_of_range_numbers_are_refused_not_500(
    api: Api, method: str, path: str, role: str, body: dict[str, object] | None
) -> None:
    answer = api.client.request(method, path, headers=api.headers(role), json=body)
    assert answer.status_code in (404, 422), (answer.status_code, answer.text)


def test_an_out_of_range_year_on_upload_is_422(api: Api) -> None:
    answer = api.client.post(
        "/api/v1/uploads", headers=api.headers(), files=[("files", ("a.txt", b"abc"))], data={"year": HUGE}
    )
    assert answer.status_code == 422


def test_api_answers_are_not_sniffed_nor_cached(api: Api) -> None:
    for answer in (
        api.client.get("/api/v1/documents", headers=api.headers()),
        api.client.get("/api/v1/documents/1", headers=api.headers()),
        api.client.get("/healthz"),
        api.client.get("/api/v1/documents"),  # 401
    ):
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Cache-Control"] == "no-store"


def test_an_expired_token_is_refused(api: Api) -> None:
    with session_scope() as session:
        token = create_token(session, Role.ops, expires_in=timedelta(seconds=1))
    assert api.client.get("/api/v1/documents", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    time.sleep(1.2)
    answer = api.client.get("/api/v1/documents", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]


def test_a_token_is_revoked_on_the_command_line(api: Api) -> None:
    runner = CliRunner()
    created = runner.invoke(cli, ["token", "create", "--role", "reviewer", "--expires-in", "90d"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()  # the sign-in link goes to stderr
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/documents", headers=headers).status_code == 200
    revoked = runner.invoke(cli, ["token", "revoke", token])
    assert revoked.exit_code == 0, revoked.output
    assert api.client.get("/api/v1/documents", headers=headers).status_code == 401
    assert runner.invoke(cli, ["token", "revoke", token]).exit_code == 1


def test_durations() -> None:
    assert parse_duration("90d") == timedelta(days=90)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("45") == timedelta(seconds=45)
    for bad in ("", "0", "-3d", "soon", "3w"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_healthz_answers_within_two_seconds_when_a_dependency_hangs(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.ingest import app as app_module

    def hang() -> None:
        time.sleep(10)

    monkeypatch.setattr(app_module, "_probe_storage", hang)
    started = time.monotonic()
    answer = api.client.get("/healthz")
    assert time.monotonic() - started < 2.0
    assert answer.status_code == 503
    assert answer.json()["storage"] == {"ok": False, "error": "no answer within 1.5 s"}
    assert answer.json()["database"]["ok"] is True


def test_a_slow_upload_does_not_hold_up_other_requests(
    api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import threading

    from shared.storage import LocalStore

    def stalled(method: Any) -> Any:
        def stalled_put(self: LocalStore, *args: Any, **kwargs: Any) -> None:
            time.sleep(3)  # a stalled storage server
            method(self, *args, **kwargs)

        return stalled_put

    for name in ("put", "put_stream"):
        if hasattr(LocalStore, name):
            monkeypatch.setattr(LocalStore, name, stalled(getattr(LocalStore, name)))
    results: dict[str, int] = {}
    uploader = threading.Thread(
        target=lambda: results.update(
            upload=api.client.post(
                "/api/v1/uploads", headers=api.headers(), files=[("files", ("s.txt", b"slow report"))]
            ).status_code
        )
    )
    uploader.start()
    time.sleep(0.5)
    started = time.monotonic()
    listed = api.client.get("/api/v1/documents", headers=api.headers("ops"))
    elapsed = time.monotonic() - started
    uploader.join()
    assert listed.status_code == 200 and results["upload"] == 202
    assert elapsed < 1.5, f"a database-only request waited {elapsed:.1f} s behind a stalled upload"


@pytest.mark.parametrize(
    ("method", "path", "role", "extra"),
    [
        ("GET", "/api/v1/documents?agency=a%00b", "ops", {}),
        ("GET", "/api/v1/uploads/a%00b", "ops", {}),
        ("POST", "/api/v1/documents/1/reject", "reviewer", {"json": {"reason": "a\x00b"}}),
        ("POST", "/api/v1/documents/1/approve", "reviewer", {"json": {"reason": "a\x00b"}}),
        ("POST", "/api/v1/documents/1/retract", "publisher", {"json": {"reason": "a\x00b"}}),
        ("POST", "/api/v1/ops/failures/acknowledge", "ops", {"json": {"reason": "a\x00b"}}),
        ("POST", "/api/v1/uploads", "ops", {"files": [("files", ("a.txt", b"x"))], "data": {"agency": "a\x00b"}}),
    ],
)
def test_a_nul_character_in_text_input_is_refused_not_500(
    api: Api, method: str, path: str, role: str, extra: dict[str, Any]
) -> None:
    answer = api.client.request(method, path, headers=api.headers(role), **extra)
    assert answer.status_code == 422, (answer.status_code, answer.text)
