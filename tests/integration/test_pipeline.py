"""Upload → stored → parsed → validated → (reviewed) → published, on the real servers."""

from __future__ import annotations

import functools
import io
import zipfile
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.ingest.test_bundles import GbkNamedInfo
from tests.integration.stack import Stack, wait_until

SETTLED = {"needs_review", "rejected", "approved", "published", "failed", "superseded"}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload(api: httpx.Client, token: str, files: list[tuple[str, bytes]], **form: str) -> dict:
    response = api.post(
        "/api/v1/uploads", headers=auth(token), files=[("files", f) for f in files], data=form
    )
    assert response.status_code == 202, response.text
    return response.json()


def wait_for_status(api: httpx.Client, token: str, doc_id: int, statuses: set[str], timeout: float = 90) -> dict:
    last: dict = {}

    def current() -> dict | None:
        last.update(api.get(f"/api/v1/documents/{doc_id}", headers=auth(token)).json())
        return dict(last) if last["status"] in statuses else None

    try:
        return wait_until(current, timeout, 0.3, what=f"document {doc_id} to reach {statuses}")  # type: ignore[no-any-return]
    except TimeoutError as exc:  # say where it stuck, for whoever reads the failure
        trail = [(e["status"], e["stage"], e["attempt"], e["detail"]) for e in last.get("history", [])]
        raise TimeoutError(f"{exc}; stuck at {last.get('status')}, history {trail}") from None


def db_rows(stack: Stack, sql: str, *params: object) -> list[tuple]:
    url = stack.env["NIANBAO_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def test_seed_goes_from_upload_to_published(
    api: httpx.Client, tokens: dict[str, str], seed_report: bytes, stack: Stack
) -> None:
    receipt = upload(api, tokens["uploader"], [("西工区城改办2022年报.txt", seed_report)], year="2022")
    [item] = receipt["documents"]
    assert item["status"] == "received" and item["submission_no"].startswith("NB")
    doc = wait_for_status(api, tokens["uploader"], item["id"], SETTLED)
    # The seed is arithmetically sound, but states cumulative figures and prints 8 numbers
    # per row of an all-zero table that nothing can settle: a human must look.
    assert doc["status"] == "needs_review", doc["history"]
    assert doc["agency"] == "西工区城市改造办公室" and doc["year"] == 2022
    assert doc["report"]["cells"]["t3_total_processed__total"] == 0
    assert not [f for f in doc["findings"] if f["severity"] == "error"]

    approved = api.post(
        f"/api/v1/documents/{item['id']}/approve",
        headers=auth(tokens["reviewer"]),
        json={"reason": "checked"},
    )
    assert approved.status_code == 200, approved.text
    doc = wait_for_status(api, tokens["uploader"], item["id"], {"published", "failed"})
    assert doc["status"] == "published", doc["history"]
    statuses = [e["status"] for e in doc["history"]]
    assert statuses == [
        "received",
        "parsing",
        "parsed",
        "validating",
        "needs_review",
        "approved",
        "publishing",
        "published",
    ]
    assert doc["decision"]["by"].startswith("reviewer#")
    assert db_rows(stack, "SELECT count(*) FROM publication WHERE document_id = %s", item["id"]) == [(1,)]


def test_duplicate_upload_points_at_the_original(api: httpx.Client, tokens: dict[str, str]) -> None:
    body = "重复测试 2023年 政府信息公开工作年度报告\n".encode() * 3
    first = upload(api, tokens["ops"], [("a.txt", body)], agency="重复测试局")["documents"][0]
    second = upload(api, tokens["ops"], [("b.txt", body)], agency="重复测试局")["documents"][0]
    assert second["duplicate_of"] == first["id"] and second["sha256"] == first["sha256"]
    assert "duplicate_of" not in first
    other_agency = upload(api, tokens["ops"], [("c.txt", body)], agency="另一个局")["documents"][0]
    assert "duplicate_of" not in other_agency


def test_zip_bundle_becomes_one_document_per_member(
    api: httpx.Client, tokens: dict[str, str], seed_report: bytes
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr(GbkNamedInfo("年报/甲.txt"), seed_report + b"\n")
        bundle.writestr("b.txt", seed_report + b"\n\n")
        bundle.writestr("../escape.txt", b"x")
        bundle.writestr("inner.zip", b"PK\x03\x04")
    receipt = upload(api, tokens["ops"], [("bundle.zip", buffer.getvalue())], agency="西工区城市改造办公室")
    by_name = {d["filename"]: d for d in receipt["documents"]}
    assert by_name["bundle.zip/甲.txt"]["status"] == "received"
    assert by_name["bundle.zip/b.txt"]["status"] == "received"
    assert "path traversal" in by_name["bundle.zip/../escape.txt"]["error"]
    assert "nested zip" in by_name["bundle.zip/inner.zip"]["error"]
    for name in ("bundle.zip/甲.txt", "bundle.zip/b.txt"):
        assert wait_for_status(api, tokens["ops"], by_name[name]["id"], SETTLED)["status"] == "needs_review"
    listed = api.get(f"/api/v1/uploads/{receipt['upload_id']}", headers=auth(tokens["ops"])).json()
    assert len(listed["documents"]) == 4


def test_unreadable_file_fails_with_reason_and_can_be_retried(
    api: httpx.Client, tokens: dict[str, str]
) -> None:
    item = upload(api, tokens["ops"], [("empty-report.pdf", b"%PDF-1.4\n%%EOF\n")], agency="测试局")[
        "documents"
    ][0]
    doc = wait_for_status(api, tokens["ops"], item["id"], SETTLED)
    assert doc["status"] == "failed" and doc["failed_stage"] == "parse" and doc["error"]
    retried = api.post(f"/api/v1/documents/{item['id']}/retry", headers=auth(tokens["ops"]))
    assert retried.status_code == 200
    again = wait_for_status(api, tokens["ops"], item["id"], SETTLED)
    assert again["status"] == "failed"
    assert [e["status"] for e in again["history"]].count("parsing") == 2


def test_uploader_sees_only_its_agency(api: httpx.Client, tokens: dict[str, str], seed_report: bytes) -> None:
    mine = upload(api, tokens["uploader"], [("x.txt", seed_report + b" ")])["documents"][0]
    assert (
        api.get(f"/api/v1/documents/{mine['id']}", headers=auth(tokens["other_uploader"])).status_code == 404
    )
    listing = api.get("/api/v1/documents", headers=auth(tokens["other_uploader"])).json()
    assert all(item["id"] != mine["id"] for item in listing["items"])
    forbidden = api.post(
        "/api/v1/uploads",
        headers=auth(tokens["other_uploader"]),
        files=[("files", ("y.txt", b"y"))],
        data={"agency": "西工区城市改造办公室"},
    )
    assert forbidden.status_code == 403


def test_idempotency_key_returns_the_same_answer(api: httpx.Client, tokens: dict[str, str]) -> None:
    headers = auth(tokens["ops"]) | {"Idempotency-Key": "retry-me-1"}
    files = [("files", ("idem.txt", "幂等 2023年".encode()))]
    first = api.post("/api/v1/uploads", headers=headers, files=files, data={"agency": "幂等局"})
    second = api.post("/api/v1/uploads", headers=headers, files=files, data={"agency": "幂等局"})
    assert first.json() == second.json()


def test_health_reports_each_dependency(api: httpx.Client) -> None:
    health = api.get("/healthz").json()
    assert health == {"ok": True, "database": {"ok": True}, "broker": {"ok": True}, "storage": {"ok": True}}


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
def test_openapi_is_served(api: httpx.Client, path: str) -> None:
    assert api.get(path).status_code == 200


def test_cli_upload_of_a_folder_prints_the_results(
    stack: Stack, tokens: dict[str, str], seed_report: bytes, tmp_path: Path
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "seed-copy.txt").write_bytes(seed_report + b"\n\n\n")
    (folder / "notes.txt").write_text("会议纪要：讨论搬迁。", encoding="utf-8")
    out = stack.cli(
        "upload",
        str(folder),
        "--api",
        stack.api_url,
        "--token",
        tokens["ops"],
        "--agency",
        "西工区城市改造办公室",
    )
    assert "seed-copy.txt" in out and "needs_review" in out
    assert "notes.txt" in out and "failed" in out and "no_report_found" in out
    status = stack.cli("status", "1", "--api", stack.api_url, "--token", tokens["ops"])
    assert "received" in status and "parsing" in status and "NB" in status


def test_workers_yield_the_cpu_to_the_api(stack: Stack) -> None:
    """compose's workers run at NIANBAO_WORKER_NICE (pool children too); the API does not."""

    def niceness(pid: int) -> int:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])

    def session_pids(leader: int) -> list[int]:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[3]) == leader:
                    found.append(int(stat.parent.name))
            except (OSError, ValueError):
                continue
        return found

    def worker_and_pool(service: str) -> list[int]:  # the pool starts a moment after the worker
        pids = session_pids(stack.processes[service].pid)
        return pids if len(pids) >= 2 else []

    for service in ("parser", "validator", "publisher"):
        pids = wait_until(functools.partial(worker_and_pool, service), 30, what=f"{service}'s pool")
        assert {niceness(pid) for pid in pids} == {10}, service
    assert {niceness(pid) for pid in session_pids(stack.processes["api"].pid)} == {0}

    def session_niceness(service: str) -> int:  # Linux's autogroup: the session's share
        return int(Path(f"/proc/{stack.processes[service].pid}/autogroup").read_text().split()[-1])

    if Path("/proc/self/autogroup").exists():  # each service leads a session of its own here
        assert [session_niceness(s) for s in ("parser", "validator", "publisher", "api")] == [10, 10, 10, 0]
