"""Ops against the running services: the summary equals what PostgreSQL and Redis hold,
stopped workers show as down, failures are retried and acknowledged through the ops API,
/metrics parses, reprocessing keeps the old result when it fails, and the dashboard works
in a real browser.

The tests of this module share one stack and run in order (each leaves the pipeline
settled for the next).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from minio import Minio
from prometheus_client.parser import text_string_to_metric_families

from services.ops.broker import redis_queue_keys
from services.parser import PARSER_VERSION
from tests.chromium import CHROMIUM, HEADLESS_FLAGS
from tests.integration.stack import REPO, Stack, wait_until
from tests.integration.test_pipeline import SETTLED, auth, db_rows, upload, wait_for_status

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
BROKEN_PDF = b"%PDF-1.4\n%%EOF\n"


def summary(api: httpx.Client, token: str) -> dict[str, Any]:
    response = api.get("/api/v1/ops/summary", headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()


def database_counts(stack: Stack) -> dict[str, int]:
    return dict(db_rows(stack, "SELECT status, count(*) FROM document GROUP BY status"))


def redis_depth(stack: Stack, queue: str) -> int:
    client = redis.Redis.from_url(stack.env["NIANBAO_BROKER_URL"])
    return sum(int(client.llen(key)) for key in redis_queue_keys(queue))


def raw_store(stack: Stack) -> tuple[Minio, str]:
    client = Minio(
        stack.env["NIANBAO_S3_ENDPOINT"],
        access_key=stack.env["NIANBAO_S3_ACCESS_KEY"],
        secret_key=stack.env["NIANBAO_S3_SECRET_KEY"],
        secure=False,
    )
    return client, stack.env["NIANBAO_RAW_BUCKET"]


def storage_key(stack: Stack, doc_id: int) -> str:
    [(key,)] = db_rows(stack, "SELECT storage_key FROM document WHERE id = %s", doc_id)
    return str(key)


def wait_workers(api: httpx.Client, token: str, stage: str, up: bool, timeout: float) -> float:
    """Seconds until the summary shows `stage` with (up) or without (not up) a worker."""
    started = time.monotonic()
    wait_until(
        lambda: (summary(api, token)["stages"][stage]["workers_up"] > 0) == up,
        timeout,
        0.5,
        what=f"{stage} workers {'up' if up else 'down'}",
    )
    return time.monotonic() - started


def assert_summary_matches(api: httpx.Client, token: str, stack: Stack) -> dict[str, Any]:
    seen = summary(api, token)
    in_db = database_counts(stack)
    assert {k: v for k, v in seen["counts"].items() if v} == in_db
    for stage in ("parse", "validate", "publish"):
        assert seen["stages"][stage]["queue_depth"] == redis_depth(stack, stage), stage
    return seen


def test_summary_equals_database_and_redis_while_workers_are_down(
    api: httpx.Client, tokens: dict[str, str], stack: Stack, seed_report: bytes
) -> None:
    ops = tokens["ops"]
    wait_workers(api, ops, "parse", up=True, timeout=30)
    stack.stop("parser")
    stack.stop("validator")
    # A stopped worker shows as down well within 30 s.
    assert wait_workers(api, ops, "parse", up=False, timeout=30) < 30
    assert wait_workers(api, ops, "validate", up=False, timeout=30) < 30
    assert summary(api, ops)["stages"]["publish"]["workers_up"] == 1

    docs = upload(
        api,
        ops,
        [("good.txt", seed_report + b"\n"), ("lost.txt", seed_report + b"\n\n")],
        agency="运维测试局",
    )["documents"]
    good, lost = docs[0]["id"], docs[1]["id"]
    wait_until(lambda: redis_depth(stack, "parse") == 2, 20, what="both messages queued")
    seen = assert_summary_matches(api, ops, stack)
    assert seen["stages"]["parse"]["queue_depth"] == 2
    assert seen["oldest"]["received"]["id"] == good
    assert seen["oldest"]["received"]["age_seconds"] >= 0

    # The stored file vanishes before parse: that document fails, the other waits for validate.
    client, bucket = raw_store(stack)
    lost_key = storage_key(stack, lost)
    client.remove_object(bucket, lost_key)
    stack.start("parser")
    wait_for_status(api, ops, lost, {"failed"}, timeout=60)
    wait_for_status(api, ops, good, {"parsed"}, timeout=60)
    # A worker that has just started may miss a liveness ping while busy; give it its 30 s.
    wait_workers(api, ops, "parse", up=True, timeout=30)
    seen = assert_summary_matches(api, ops, stack)
    assert seen["stages"]["validate"]["queue_depth"] == 1
    parse = seen["stages"]["parse"]
    assert parse["workers_up"] == 1 and parse["throughput"]["5m"]["finished"] == 2
    assert parse["throughput"]["5m"]["outcomes"] == {"failed": 1, "parsed": 1}
    # Queue wait and run time of both parses, straight from their histories.
    waits, run_times = [], []
    for doc_id in (good, lost):
        events = db_rows(
            stack, "SELECT status, at FROM documentevent WHERE document_id = %s ORDER BY id", doc_id
        )
        statuses = [e[0] for e in events]
        # The sweeper may have re-sent the waiting message meanwhile ("received" again):
        # the wait runs from the first "received" to the claim.
        assert statuses[0] == "received" and "parsing" in statuses
        claim = statuses.index("parsing")
        received, claimed, finished = events[0][1], events[claim][1], events[claim + 1][1]
        waits.append(round((claimed - received).total_seconds(), 3))
        run_times.append(round((finished - claimed).total_seconds(), 3))
    assert [parse["queue_wait_seconds"]["p50"], parse["queue_wait_seconds"]["p95"]] == sorted(waits)
    assert [parse["run_seconds"]["p50"], parse["run_seconds"]["p95"]] == sorted(run_times)

    [group] = [g for g in seen["failures"] if lost in [d["id"] for d in g["documents"]]]
    assert group["reason"] == "parse: stored file raw/N/N is missing" and group["count"] == 1

    # Put the file back and retry the whole group through the ops API: it completes.
    client.put_object(bucket, lost_key, io.BytesIO(seed_report + b"\n\n"), len(seed_report) + 2)
    retried = api.post("/api/v1/ops/failures/retry", headers=auth(ops), json={"reason": group["reason"]})
    assert retried.json() == {"done": [lost], "skipped": []}
    wait_for_status(api, ops, lost, {"parsed"}, timeout=60)

    stack.start("validator")
    assert wait_workers(api, ops, "validate", up=True, timeout=60) < 60
    for doc_id in (good, lost):
        assert wait_for_status(api, ops, doc_id, SETTLED, timeout=60)["status"] == "needs_review"
    history = api.get(f"/api/v1/documents/{lost}", headers=auth(ops)).json()["history"]
    retry = [e for e in history if e["detail"] == "retry from parse requested"]
    assert len(retry) == 1 and retry[0]["actor"].startswith("ops#")
    assert_summary_matches(api, ops, stack)


def test_failure_retried_then_acknowledged(api: httpx.Client, tokens: dict[str, str], stack: Stack) -> None:
    ops = tokens["ops"]
    doc_id = upload(api, ops, [("broken.pdf", BROKEN_PDF)], agency="运维测试局")["documents"][0]["id"]
    wait_for_status(api, ops, doc_id, {"failed"})
    assert api.post(
        "/api/v1/ops/failures/retry", headers=auth(ops), json={"ids": [doc_id, 10**9]}
    ).json() == {
        "done": [doc_id],
        "skipped": [{"id": 10**9, "reason": "no such document"}],
    }
    again = wait_until(
        lambda: (
            (d := api.get(f"/api/v1/documents/{doc_id}", headers=auth(ops)).json())["status"] == "failed"
            and [e["status"] for e in d["history"]].count("parsing") == 2
            and d
        ),
        60,
        0.3,
        what="the retried document to fail again",
    )
    assert "retry from parse requested" in [e["detail"] for e in again["history"]]
    failing = [d["id"] for g in summary(api, ops)["failures"] for d in g["documents"]]
    assert doc_id in failing  # a failure after a retry is news again

    acked = api.post("/api/v1/ops/failures/acknowledge", headers=auth(ops), json={"ids": [doc_id]})
    assert acked.json() == {"done": [doc_id], "skipped": []}
    failing = [d["id"] for g in summary(api, ops)["failures"] for d in g["documents"]]
    assert doc_id not in failing
    assert api.get(f"/api/v1/documents/{doc_id}", headers=auth(ops)).json()["status"] == "failed"
    # Only ops may steer.
    assert (
        api.post(
            "/api/v1/ops/failures/retry", headers=auth(tokens["reviewer"]), json={"ids": [doc_id]}
        ).status_code
        == 403
    )


def test_metrics_parse_and_agree_with_the_database(api: httpx.Client, stack: Stack) -> None:
    text = api.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert {
        "nianbao_stage_runs",
        "nianbao_stage_queue_wait_seconds",
        "nianbao_stage_run_seconds",
        "nianbao_documents",
        "nianbao_queue_depth",
        "nianbao_workers_up",
    } <= set(families)
    documents = {s.labels["status"]: s.value for s in families["nianbao_documents"].samples}
    assert {k: v for k, v in documents.items() if v} == database_counts(stack)
    [(parse_outcomes,)] = db_rows(
        stack,
        "SELECT count(*) FROM documentevent WHERE stage = 'parse' AND attempt >= 1 AND status <> 'parsing'",
    )
    runs = sum(s.value for s in families["nianbao_stage_runs"].samples if s.labels["stage"] == "parse")
    assert runs == parse_outcomes
    workers = {s.labels["stage"]: s.value for s in families["nianbao_workers_up"].samples}
    assert workers == {"parse": 1, "validate": 1, "publish": 1}


def test_reprocess_keeps_the_old_result_when_it_fails(
    api: httpx.Client, tokens: dict[str, str], stack: Stack, seed_report: bytes
) -> None:
    ops = tokens["ops"]
    doc_id = upload(api, ops, [("again.txt", seed_report + b"\n\n\n")], agency="运维测试局")["documents"][0][
        "id"
    ]
    before = wait_for_status(api, ops, doc_id, SETTLED)
    assert before["status"] == "needs_review"

    def reprocess_event(count: int) -> list[dict[str, Any]] | None:
        history = api.get(f"/api/v1/documents/{doc_id}", headers=auth(ops)).json()["history"]
        done = [e for e in history if e["detail"].startswith(("reprocessed", "reprocess failed"))]
        return done if len(done) >= count else None

    answer = api.post("/api/v1/ops/reprocess", headers=auth(ops), json={"ids": [doc_id]})
    assert answer.status_code == 202 and answer.json()["done"] == [doc_id]
    [first] = wait_until(lambda: reprocess_event(1), 60, 0.3, what="reprocess")
    assert first["detail"].startswith(
        f"reprocessed: parser {PARSER_VERSION} → {PARSER_VERSION}; 0 cells changed"
    )

    # A published report stays published through a reprocess.
    approve = api.post(f"/api/v1/documents/{doc_id}/approve", headers=auth(tokens["reviewer"]), json={})
    assert approve.status_code == 200, approve.text
    before = wait_for_status(api, ops, doc_id, {"published", "failed"})
    assert before["status"] == "published"
    api.post("/api/v1/ops/reprocess", headers=auth(ops), json={"ids": [doc_id]})
    second = wait_until(lambda: reprocess_event(2), 60, 0.3, what="reprocess of a published report")[1]
    assert "status kept at published" in second["detail"]

    client, bucket = raw_store(stack)
    client.remove_object(bucket, storage_key(stack, doc_id))
    api.post("/api/v1/ops/reprocess", headers=auth(ops), json={"ids": [doc_id]})
    third = wait_until(lambda: reprocess_event(3), 60, 0.3, what="failed reprocess")[2]
    assert third["detail"].startswith("reprocess failed, previous result kept: stored file")
    after = api.get(f"/api/v1/documents/{doc_id}", headers=auth(ops)).json()
    assert after["status"] == "published"
    assert after["report"] == before["report"] and after["findings"] == before["findings"]
    failed_doc = api.post("/api/v1/ops/reprocess", headers=auth(ops), json={"parser_version_below": "0.0.1"})
    assert failed_doc.json() == {"done": [], "skipped": [], "next_after_id": None}
    # The same through the command line, as ops would type it.
    typed = subprocess.run(
        [sys.executable, "-m", "services.cli", "ops", "reprocess", str(doc_id)],
        env=os.environ | stack.env | {"NIANBAO_API_URL": stack.api_url, "NIANBAO_TOKEN": ops},
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert typed.returncode == 0, typed.stderr
    assert typed.stdout.strip().endswith("1 reports queued for reprocessing, 0 skipped")
    wait_until(lambda: reprocess_event(4), 60, 0.3, what="reprocess requested from the command line")


def test_cli_status_and_json_logs(tokens: dict[str, str], stack: Stack) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "ops", "status"],
        env=os.environ
        | stack.env
        | {"NIANBAO_API_URL": stack.api_url, "NIANBAO_TOKEN": tokens["ops"], "COLUMNS": "200"},
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "needs_review" in result.stdout and "1 up" in result.stdout
    lines = [line for line in (Path(stack.log_dir) / "parser.log").read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any("document_id" in r and "upload_id" in r for r in records)
    # Only what Celery and billiard print while shutting down (the test stopped the worker).
    plain = [line for line in lines if not line.startswith("{")]
    assert all("shutdown" in line or "exited with" in line for line in plain), plain


CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="headless Chromium is not installed"
)
def test_dashboard_in_a_browser(
    api: httpx.Client, tokens: dict[str, str], stack: Stack, tmp_path: Path
) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    ops = tokens["ops"]
    doc_id = upload(api, ops, [("browser.pdf", BROKEN_PDF + b"% browser\n")], agency="运维测试局")[
        "documents"
    ][0]["id"]
    wait_for_status(api, ops, doc_id, {"failed"})
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        *HEADLESS_FLAGS,
        f"--user-data-dir={tmp_path / 'chromium'}",
        "--window-size=1400,1800",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    wait = WebDriverWait(driver, 20, poll_frequency=0.2)
    try:
        driver.get(f"{stack.api_url}/ops")
        driver.find_element(By.ID, "token").send_keys(ops)
        driver.find_element(By.ID, "save-token").click()
        failed_cell = "#statuses tr[data-status=failed] td.count"
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, failed_cell))
        expected = summary(api, ops)
        assert driver.find_element(By.CSS_SELECTOR, failed_cell).text == str(expected["counts"]["failed"])
        needs_review = driver.find_element(By.CSS_SELECTOR, "#statuses tr[data-status=needs_review] td.count")
        assert needs_review.text == str(expected["counts"]["needs_review"])
        assert driver.find_element(
            By.CSS_SELECTOR, "#stages tr[data-stage=parse] td.workers"
        ).text.startswith("1 up")
        assert driver.execute_script("return sessionStorage.getItem('nianbao-ops-token')") == ops

        retry = f"#failures tr[data-id='{doc_id}'] button.retry"
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, retry))
        driver.save_screenshot(str(stack.log_dir / "ops-dashboard.png"))
        driver.find_element(By.CSS_SELECTOR, retry).click()
        wait.until(lambda d: "retry: 1 done" in d.find_element(By.ID, "message").text)
        history = api.get(f"/api/v1/documents/{doc_id}", headers=auth(ops)).json()["history"]
        retried = [e for e in history if e["detail"] == "retry from parse requested"]
        assert len(retried) == 1 and retried[0]["actor"].startswith("ops#")

        driver.refresh()  # the token is remembered for the tab
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, failed_cell))
        assert not driver.find_element(By.ID, "board").get_attribute("class")
    finally:
        driver.quit()
