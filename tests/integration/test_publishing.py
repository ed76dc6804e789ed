"""Publishing on the real servers: portal pages in S3, a new version superseding the old,
retraction, and signed pushes to an external portal that fails once before accepting."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from minio import Minio

from services.publisher.webhooks import verify_webhook
from tests.corpus.generate import report_of
from tests.integration.conftest import FAST_RECOVERY
from tests.integration.stack import Servers, Stack, free_port, running_stack, wait_until
from tests.integration.test_pipeline import SETTLED, auth, upload, wait_for_status

SECRET = "receiver-secret"
AGENCY = "西工区城市改造办公室"


class Receiver:
    """An external portal: answers 503 to the first request, then checks signatures."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests += 1
                if receiver.requests == 1:
                    self.send_response(503)
                elif verify_webhook(SECRET.encode(), dict(self.headers), body):
                    receiver.events.append(json.loads(body) | {"webhook-id": self.headers["webhook-id"]})
                    self.send_response(204)
                else:
                    self.send_response(401)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.server.shutdown()


@pytest.fixture(scope="module")
def stack(servers: Servers, receiver: Receiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    targets = [{"name": "province", "url": f"http://127.0.0.1:{receiver.port}/hook", "secret": SECRET}]
    extra = FAST_RECOVERY | {"NIANBAO_WEBHOOK_TARGETS": json.dumps(targets)}
    with running_stack(servers, tmp_path_factory.mktemp("publishing"), extra) as running:
        yield running


@pytest.fixture(scope="module")
def publisher_token(stack: Stack) -> str:
    return stack.cli("token", "create", "--role", "publisher").strip()


def portal_file(stack: Stack, key: str) -> str:
    client = Minio(stack.env["NIANBAO_S3_ENDPOINT"], access_key="x", secret_key="y", secure=False)
    response = client.get_object(stack.env["NIANBAO_PORTAL_BUCKET"], key)
    try:
        return response.read().decode("utf-8")
    finally:
        response.close()


def publish(api: httpx.Client, tokens: dict[str, str], data: bytes) -> dict:
    doc_id = upload(api, tokens["uploader"], [("report.txt", data)])["documents"][0]["id"]
    doc = wait_for_status(
        api, tokens["uploader"], doc_id, {"needs_review", "approved", "published", "rejected", "failed"}
    )
    if doc["status"] == "needs_review":
        api.post(f"/api/v1/documents/{doc_id}/approve", headers=auth(tokens["reviewer"]), json={})
    return wait_for_status(api, tokens["uploader"], doc_id, {"published", "failed"})


def test_publish_supersede_retract_and_push(
    api: httpx.Client,
    tokens: dict[str, str],
    publisher_token: str,
    seed_report: bytes,
    stack: Stack,
    receiver: Receiver,
) -> None:
    registry = stack.log_dir / "registry.csv"
    registry.write_text(
        f"government,agency\n洛阳市西工区人民政府,{AGENCY}\n洛阳市西工区人民政府,西工区财政局\n",
        encoding="utf-8",
    )
    assert "2 agencies registered" in stack.cli("agencies", "import", str(registry))
    first = publish(api, tokens, seed_report)
    assert first["status"] == "published" and first["publication"]["version"] == 1
    location = first["publication"]["location"]
    assert location.endswith("/index.html")
    assert AGENCY in portal_file(stack, location)
    # The upload itself, copied in by the S3 server, served as what it is.
    original = location.replace("index.html", "v1/original.txt")
    assert portal_file(stack, original) == seed_report.decode("utf-8")
    client = Minio(stack.env["NIANBAO_S3_ENDPOINT"], access_key="x", secret_key="y", secure=False)
    served_as = client.stat_object(stack.env["NIANBAO_PORTAL_BUCKET"], original).content_type
    assert served_as is not None and served_as.startswith("text/plain")
    # The site-wide pages follow within a few seconds (one rebuild for many publications).
    wait_until(lambda: AGENCY in portal_file(stack, "index.html"), 30, what="the index to list the report")
    coverage = portal_file(stack, "coverage.html")
    assert "洛阳市西工区人民政府" in coverage and "西工区财政局" in coverage  # registered, not yet published

    # The receiver refused the first attempt; the retry went through, signed.
    wait_until(lambda: len(receiver.events) == 1, 60, what="the published event to arrive")
    assert (
        receiver.events[0]["type"] == "report.published" and receiver.events[0]["document_id"] == first["id"]
    )
    log = api.get(f"/api/v1/documents/{first['id']}/deliveries", headers=auth(publisher_token)).json()[
        "deliveries"
    ]
    assert [(d["attempt"], d["status_code"], d["ok"]) for d in log] == [(1, 503, False), (2, 204, True)]

    # A corrected upload for the same agency and year is version 2 and takes the address.
    second = publish(api, tokens, seed_report.replace("无".encode(), "本年度无其他需要报告的事项。".encode()))
    assert second["status"] == "published" and second["publication"]["version"] == 2
    assert second["publication"]["location"] == location
    old = api.get(f"/api/v1/documents/{first['id']}", headers=auth(tokens["ops"])).json()
    assert old["status"] == "superseded"
    assert portal_file(stack, location.replace("index.html", "v1/index.html"))  # history stays reachable

    retracted = api.post(
        f"/api/v1/documents/{second['id']}/retract",
        headers=auth(publisher_token),
        json={"reason": "报送单位申请撤回"},
    )
    assert retracted.status_code == 200, retracted.text
    assert retracted.json()["publication"]["retract_reason"] == "报送单位申请撤回"
    wait_until(
        lambda: AGENCY not in portal_file(stack, "index.html"), 60, what="the index to drop the report"
    )
    assert "报送单位申请撤回" in portal_file(stack, location)
    wait_until(
        lambda: any(e["type"] == "report.retracted" for e in receiver.events), 60, what="the retraction event"
    )


def test_only_a_publisher_may_retract(api: httpx.Client, tokens: dict[str, str]) -> None:
    response = api.post("/api/v1/documents/1/retract", headers=auth(tokens["reviewer"]), json={"reason": "x"})
    assert response.status_code == 403


def test_an_agency_cannot_replace_another_agencys_report(
    api: httpx.Client, tokens: dict[str, str], stack: Stack
) -> None:
    """Issue 14.1: agency A uploads a copy of B's published report with 13 bytes appended.
    It is held for review as A's, and even approved it never takes B's place."""
    owner = "淮安市清河区财政局"
    owner_token = stack.cli("token", "create", "--role", "uploader", "--agency", owner).strip()
    original = report_of(owner, 2023, variant=3)
    b_id = upload(api, owner_token, [("report.txt", original)])["documents"][0]["id"]
    b_doc = wait_for_status(api, owner_token, b_id, {"needs_review", "published", "rejected", "failed"})
    if b_doc["status"] == "needs_review":
        api.post(f"/api/v1/documents/{b_id}/approve", headers=auth(tokens["reviewer"]), json={})
    b_doc = wait_for_status(api, owner_token, b_id, {"published", "failed"})
    assert b_doc["status"] == "published", b_doc["history"]

    copy_id = upload(api, tokens["other_uploader"], [("copy.txt", original + b"\nappended 13b")])[
        "documents"
    ][0]["id"]
    copy = wait_for_status(
        api, tokens["other_uploader"], copy_id, {"needs_review", "rejected", "published", "failed"}
    )
    assert copy["status"] == "needs_review", copy["history"]
    assert copy["submitted_for"] == "某县民政局" and copy["submitted_by"]["role"] == "uploader"
    assert "META-AGENCY-MISMATCH" in {f["rule"] for f in copy["findings"]}
    assert copy["version"] == 1  # the first version of 某县民政局's report, not B's second

    approved = api.post(f"/api/v1/documents/{copy_id}/approve", headers=auth(tokens["reviewer"]), json={})
    assert approved.status_code == 200
    copy = wait_for_status(api, tokens["other_uploader"], copy_id, {"published", "superseded", "failed"})
    b_doc = api.get(f"/api/v1/documents/{b_id}", headers=auth(owner_token)).json()
    assert b_doc["status"] == "published"
    assert copy["publication"]["location"] != b_doc["publication"]["location"]


def test_a_scanned_report_reaches_the_portal_with_its_doubts_marked(
    api: httpx.Client, tokens: dict[str, str], stack: Stack
) -> None:
    """An image-only PDF (an office scan of a generated report) through the compose
    services: read by OCR in the parse worker, checked, approved where a person must look,
    published — and on the portal its doubtful cells carry the low-confidence mark."""
    import shutil
    import subprocess

    from tests.corpus.generate import build_corpus, default_corpus_dir
    from tests.corpus.render_office import soffice_available
    from tests.corpus.scans import scanned_pdf

    if shutil.which("tesseract") is None or "chi_sim" not in subprocess.run(
        ["tesseract", "--list-langs"], capture_output=True, text=True
    ).stdout.split():
        pytest.skip("Tesseract with chi_sim is not installed (scripts/setup.sh)")
    if not soffice_available():
        pytest.skip("LibreOffice (soffice) is not installed")
    [item, *_] = [
        i for i in build_corpus(default_corpus_dir(per_style=4, seed=2024), per_style=4, seed=2024)
        if i.style == "pdf_word_export"
    ][1:]
    scan = scanned_pdf(item.path.read_bytes(), "office", seed=1)
    receipt = upload(api, tokens["ops"], [("扫描件.pdf", scan)], agency=item.truth["agency"])
    doc_id = receipt["documents"][0]["id"]
    doc = wait_for_status(api, tokens["ops"], doc_id, SETTLED, timeout=240)
    assert doc["status"] in ("needs_review", "approved", "published"), doc["history"]
    details = doc["report"]["cell_details"]
    assert all("OCR" in d["source"] for k, d in details.items() if k.startswith("t3_"))
    assert (doc["agency"], doc["year"]) == (item.truth["agency"], item.truth["year"])
    doubtful = sorted(k for k, d in details.items() if d["confidence"] < 0.9)
    if doc["status"] == "needs_review":
        api.post(f"/api/v1/documents/{doc_id}/approve", headers=auth(tokens["reviewer"]), json={})
    doc = wait_for_status(api, tokens["ops"], doc_id, {"published", "failed"})
    assert doc["status"] == "published", doc["history"]
    page = portal_file(stack, doc["publication"]["location"])
    assert item.truth["agency"] in page
    if doubtful:
        assert "cell-lowconf" in page, doubtful
