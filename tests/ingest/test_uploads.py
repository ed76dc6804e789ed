"""Uploads through the API in-process: refused files in any position, file names,
storage faults, idempotency, request size, bundles over the member limit."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.ingest.conftest import Api, make_api

REPORT = "某县民政局2023年政府信息公开工作年度报告\n一、总体情况\n".encode()


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def upload(api: Api, files: list[tuple[str, bytes]], **kwargs: Any) -> Any:
    return api.client.post(
        "/api/v1/uploads",
        headers=api.headers(**kwargs.pop("headers", {})),
        files=[("files", (name, data)) for name, data in files],
        **kwargs,
    )


def statuses(answer: Any) -> list[tuple[str, str, str | None]]:
    return [(d["filename"], d["status"], d.get("error")) for d in answer.json()["documents"]]


@pytest.mark.parametrize(
    ("first", "reason"),
    [
        (("empty.txt", b""), "empty file"),
        (("bundle.zip", make_zip({"../../etc/passwd": b"x"})), "path traversal"),
        (("bundle.zip", make_zip({"inner.zip": make_zip({"a.txt": b"a"})})), "nested zip"),
        (("bundle.zip", make_zip({"bomb.txt": b"0" * 5_000_000})), "zip bomb"),
    ],
)
def test_a_refused_first_file_is_recorded_failed_and_the_rest_received(
    api: Api, first: tuple[str, bytes], reason: str
) -> None:
    answer = upload(api, [first, ("report.txt", REPORT + reason.encode())])
    assert answer.status_code == 202, answer.text
    (refused, received) = answer.json()["documents"]
    assert refused["status"] == "failed" and reason in refused["error"]
    assert received["status"] == "received"
    detail = api.client.get(f"/api/v1/documents/{refused['id']}", headers=api.headers()).json()
    assert reason in detail["history"][0]["detail"]


def test_a_file_over_the_limit_is_recorded_failed_in_any_position(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    for small_api in make_api(monkeypatch, tmp_path, database_url, NIANBAO_MAX_UPLOAD_BYTES="1000"):
        answer = upload(
            small_api, [("big.txt", b"x" * 1001), ("report.txt", REPORT + b"big"), ("big2.txt", b"y" * 5000)]
        )
        assert answer.status_code == 202, answer.text
        assert [(n, s) for n, s, _ in statuses(answer)] == [
            ("big.txt", "failed"),
            ("report.txt", "received"),
            ("big2.txt", "failed"),
        ]
        assert "larger than 1000 bytes" in (statuses(answer)[0][2] or "")


def test_file_names_are_cleaned_and_the_original_kept_in_the_history(api: Api) -> None:
    # Built by hand: HTTP clients percent-encode a NUL in a file name, an attacker does not.
    sent = "report\x00\u202egpj.txt".encode()
    body = (
        b"--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" + sent + b"\"\r\n"
        b"Content-Type: text/plain\r\n\r\n" + REPORT + b"names\r\n--XyZ--\r\n"
    )
    answer = api.client.post(
        "/api/v1/uploads",
        content=body,
        headers=api.headers(**{"Content-Type": "multipart/form-data; boundary=XyZ"}),
    )
    assert answer.status_code == 202, answer.text
    document = answer.json()["documents"][0]
    assert document["filename"] == "reportgpj.txt"
    detail = api.client.get(f"/api/v1/documents/{document['id']}", headers=api.headers()).json()
    assert "\\x00" in detail["history"][0]["detail"] and "\\xe2\\x80\\xae" in detail["history"][0]["detail"]


def test_an_over_long_file_name_is_shortened_keeping_its_extension(api: Api) -> None:
    answer = upload(api, [("长" * 600 + ".txt", REPORT + b"long")])
    name = answer.json()["documents"][0]["filename"]
    assert len(name) <= 200 and name.endswith(".txt")


def test_storage_down_answers_503_with_retry_after_and_records_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    from tests.integration.stack import free_port

    dead = f"127.0.0.1:{free_port()}"  # nothing listens there: connection refused
    for s3_api in make_api(
        monkeypatch, tmp_path, database_url, NIANBAO_STORAGE_BACKEND="s3", NIANBAO_S3_ENDPOINT=dead
    ):
        before = s3_api.client.get("/api/v1/documents", headers=s3_api.headers("ops")).json()["total"]
        answer = upload(s3_api, [("empty.txt", b""), ("report.txt", REPORT + b"s3")])
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"]
        after = s3_api.client.get("/api/v1/documents", headers=s3_api.headers("ops")).json()["total"]
        assert after == before


def test_reusing_an_idempotency_key_with_another_body_is_refused(api: Api) -> None:
    key = {"Idempotency-Key": "k-reuse"}
    first = upload(api, [("a.txt", REPORT + b"a")], headers=key)
    again = upload(api, [("a.txt", REPORT + b"a")], headers=key)
    other = upload(api, [("a.txt", REPORT + b"other")], headers=key)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert "duplicate_of" not in first.json()["documents"][0] and "error" not in first.json()["documents"][0]
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]


def test_an_empty_idempotency_key_is_no_key(api: Api) -> None:
    """Found by schemathesis: "" was stored as a key, so a second upload with "" and another
    body hit the unique index (500)."""
    empty = {"Idempotency-Key": ""}
    first = upload(api, [("e1.txt", REPORT + b"e1")], headers=empty)
    second = upload(api, [("e2.txt", REPORT + b"e2")], headers=empty)
    assert first.status_code == second.status_code == 202, second.text
    assert first.json()["upload_id"] != second.json()["upload_id"]


def test_the_receipt_time_is_iso_utc_with_one_z(api: Api) -> None:
    received_at = upload(api, [("t.txt", REPORT + b"t")]).json()["received_at"]
    assert received_at.endswith("Z") and "+00:00" not in received_at


def test_a_bundle_over_the_member_limit_is_one_failed_document(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    for small_api in make_api(monkeypatch, tmp_path, database_url, NIANBAO_MAX_ZIP_MEMBERS="5"):
        bundle = make_zip({f"{i}.txt": REPORT + str(i).encode() for i in range(50)})
        answer = upload(small_api, [("many.zip", bundle)])
        assert answer.status_code == 202, answer.text
        [(name, status, error)] = statuses(answer)
        assert status == "failed" and "50 files, more than the limit of 5" in (error or "")


def test_a_request_over_the_size_limit_is_413(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    for small_api in make_api(monkeypatch, tmp_path, database_url, NIANBAO_MAX_REQUEST_BYTES="100000"):
        answer = upload(small_api, [("big.txt", b"x" * 200_000)])
        assert answer.status_code == 413
        total = small_api.client.get("/api/v1/documents", headers=small_api.headers("ops")).json()["total"]
        assert upload(small_api, [("ok.txt", REPORT + b"413")]).status_code == 202
        assert small_api.client.get("/api/v1/documents", headers=small_api.headers("ops")).json()["total"] == total + 1


def test_uploads_are_stored_from_the_request_file_not_read_whole(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from starlette.datastructures import UploadFile

    read_whole: list[int] = []
    original = UploadFile.read

    async def recording_read(self: UploadFile, size: int = -1) -> bytes:
        data = await original(self, size)
        if len(data) > 1024 * 1024:
            read_whole.append(len(data))
        return data

    monkeypatch.setattr(UploadFile, "read", recording_read)
    data = REPORT + b"z" * 3_000_000  # beyond the spooling threshold: a file on disk
    answer = upload(api, [("large.txt", data)])
    assert read_whole == [], "the upload was read into memory whole"
    document = answer.json()["documents"][0]
    stored = api.data_dir / "storage" / "nianbao-raw" / "raw" / document["sha256"][:2] / document["sha256"]
    assert stored.read_bytes() == data and document["size"] == len(data)


def test_lists_and_status_polls_leave_the_parse_result_in_the_database(api: Api) -> None:
    """A parse result is about 50 KB: the list, upload and status-poll reads must not fetch it."""
    from sqlalchemy import event

    from shared import db

    upload = api.client.post(
        "/api/v1/uploads", headers=api.headers(), files=[("files", ("a.txt", b"report"))]
    ).json()
    statements: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", remember)
    try:
        for path in ("/api/v1/documents", f"/api/v1/uploads/{upload['upload_id']}"):
            assert api.client.get(path, headers=api.headers()).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    document_reads = [s for s in statements if "FROM document" in s and "document.filename" in s]
    assert len(document_reads) >= 2, statements
    for statement in document_reads:
        for bulky in ("document.parsed", "document.findings", "document.text_signature"):
            assert bulky not in statement
