import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from services.publisher import deliver_webhook, sign_webhook, verify_webhook
from services.publisher.webhooks import backoff_delay

SECRET = b"ops-configured-secret"
EVENT = {"type": "report.published", "agency": "淮安市洪泽区人民政府", "year": 2023, "version": 2}


def test_signature_matches_the_standard_webhooks_test_vector():
    secret = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")  # whsec_… of the specification
    signature = sign_webhook(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


class Receiver(BaseHTTPRequestHandler):
    """A portal's webhook endpoint: verifies the signature; fails the first `failures` calls."""

    failures = 0
    failure_status = 503
    retry_after: str | None = None
    received: list[dict[str, object]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        valid = verify_webhook(SECRET, dict(self.headers.items()), body)
        self.received.append({"headers": dict(self.headers.items()), "body": body, "valid": valid})
        failing = len(self.received) <= self.failures
        status = self.failure_status if failing else (204 if valid else 401)
        self.send_response(status)
        if status == self.failure_status and self.retry_after is not None:
            self.send_header("retry-after", self.retry_after)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


@contextmanager
def receiver(
    failures: int = 0, failure_status: int = 503, retry_after: str | None = None
) -> Iterator[tuple[str, list[dict[str, object]]]]:
    received: list[dict[str, object]] = []
    settings = {
        "failures": failures,
        "failure_status": failure_status,
        "retry_after": retry_after,
        "received": received,
    }
    handler = type("Handler", (Receiver,), settings)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/nianbao", received
    finally:
        server.shutdown()
        server.server_close()


def test_delivery_is_verified_by_a_real_receiver():
    sleeps: list[float] = []
    with receiver() as (url, received), httpx.Client(timeout=5) as client:
        attempts = deliver_webhook(url, SECRET, EVENT, "pub-11-v2", client=client, sleep=sleeps.append)
    assert [a.status_code for a in attempts] == [204]
    assert attempts[0].delivered and sleeps == []
    assert received[0]["valid"] is True
    headers = received[0]["headers"]
    assert isinstance(headers, dict) and headers["webhook-id"] == "pub-11-v2"
    assert json.loads(received[0]["body"]) == EVENT  # type: ignore[arg-type]


def test_wrong_secret_is_rejected_and_not_retried():
    sleeps: list[float] = []
    with receiver() as (url, received), httpx.Client(timeout=5) as client:
        attempts = deliver_webhook(url, b"another secret", EVENT, "pub-1", client=client, sleep=sleeps.append)
    assert [a.status_code for a in attempts] == [401]  # permanent: a 4xx other than 408/425/429
    assert received[0]["valid"] is False and sleeps == []
    assert attempts[0].retry_in_s is None and attempts[0].error == "HTTP 401 Unauthorized"


def test_fails_twice_then_succeeds_with_backoff_and_the_same_id():
    sleeps: list[float] = []
    with receiver(failures=2) as (url, received), httpx.Client(timeout=5) as client:
        attempts = deliver_webhook(
            url,
            SECRET,
            EVENT,
            "pub-7-v1",
            client=client,
            max_attempts=5,
            backoff_base_s=0.5,
            sleep=sleeps.append,
        )
    assert [a.status_code for a in attempts] == [503, 503, 204]
    assert [a.attempt for a in attempts] == [1, 2, 3]
    assert sleeps == [0.5, 1.0] == [a.retry_in_s for a in attempts[:2]]
    assert attempts[-1].retry_in_s is None and attempts[-1].delivered
    assert {r["headers"]["webhook-id"] for r in received} == {"pub-7-v1"}  # type: ignore[index]
    assert all(r["valid"] for r in received)


def test_unreachable_receiver_gives_up_after_max_attempts_with_capped_backoff():
    with receiver() as (url, _):
        pass  # the server is gone: connections are refused
    sleeps: list[float] = []
    with httpx.Client(timeout=2) as client:
        attempts = deliver_webhook(
            url,
            SECRET,
            EVENT,
            "pub-3",
            client=client,
            max_attempts=5,
            backoff_base_s=1,
            backoff_cap=3,
            sleep=sleeps.append,
        )
    assert len(attempts) == 5 and not any(a.delivered for a in attempts)
    assert all(a.status_code is None and a.error and "ConnectError" in a.error for a in attempts)
    assert sleeps == [1, 2, 3, 3]


def test_retry_after_is_respected_within_the_cap():
    for retry_after, expected_sleep in (("7", 7.0), ("120", 10.0), (None, 1.0)):
        sleeps: list[float] = []
        with (
            receiver(failures=1, failure_status=429, retry_after=retry_after) as (url, _),
            httpx.Client(timeout=5) as client,
        ):
            attempts = deliver_webhook(
                url, SECRET, EVENT, "pub-4", client=client, backoff_cap=10, sleep=sleeps.append
            )
        assert [a.status_code for a in attempts] == [429, 204]
        assert sleeps == [expected_sleep], retry_after


def test_verify_rejects_tampering_and_stale_timestamps():
    body = b'{"a":1}'
    headers = {
        "webhook-id": "m1",
        "webhook-timestamp": "1000",
        "webhook-signature": sign_webhook(SECRET, "m1", 1000, body),
    }
    assert verify_webhook(SECRET, headers, body, now=1000)
    assert not verify_webhook(SECRET, headers, b'{"a":2}', now=1000)
    assert not verify_webhook(SECRET, headers, body, now=1000 + 301)
    assert not verify_webhook(SECRET, {**headers, "webhook-id": "m2"}, body, now=1000)


def test_backoff_grows_and_is_capped():
    assert [backoff_delay(n, base_s=2, cap_s=30) for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]


def test_publication_event_links_the_portal_and_is_keyed_per_version():
    from datetime import datetime

    from services.publisher import Retraction, publication_event
    from tests.publisher.factories import portal_report, real_truth

    report = portal_report(real_truth("huaian-hongze-2023"), document_id=11, version=2)
    event, key = publication_event(report, "https://nianbao.example.org/portal/")
    assert key == "report.published:11:v2"
    assert event["page_url"] == f"https://nianbao.example.org/portal/reports/{report.slug}/index.html"
    assert event["data_url"].endswith(f"/reports/{report.slug}/v2/data.json")
    report.retraction = Retraction(datetime(2024, 5, 1), "撤回")
    event, key = publication_event(report, "https://nianbao.example.org/portal")
    assert key == "report.retracted:11:v2" and event["reason"] == "撤回" and "data_url" not in event
