"""Pushing publication events to external portals, signed as Standard Webhooks.

Targets (URL and secret) are configured by operations, never taken from a request, so
the publisher cannot be made to call arbitrary addresses. Every attempt of one event
carries the same `webhook-id` (the idempotency key), so a receiver that saw an earlier
attempt succeed can drop the repeat.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from services.publisher.model import PortalReport, as_utc, version_dir

SIGNATURE_VERSION = "v1"
# Worth another try: the receiver is down, overloaded, or asked us to slow down.
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def sign_webhook(secret: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` (Standard Webhooks)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret, signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def verify_webhook(
    secret: bytes, headers: Mapping[str, str], body: bytes, *, now: int | None = None, tolerance_s: int = 300
) -> bool:
    """What a receiver checks: a matching v1 signature and a timestamp within the tolerance."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id = lowered["webhook-id"]
        timestamp = int(lowered["webhook-timestamp"])
        signatures = lowered["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False  # replayed or badly delayed
    expected = sign_webhook(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


@dataclass(frozen=True)
class DeliveryAttempt:
    """One POST of an event: what happened and what the sender did next (for the delivery log)."""

    attempt: int  # 1-based
    timestamp: int  # the webhook-timestamp sent
    status_code: int | None  # None when no response arrived
    error: str | None  # network error or the non-2xx reason
    duration_s: float
    retry_in_s: float | None  # the backoff before the next attempt; None when there is none

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def backoff_delay(attempt: int, *, base_s: float, cap_s: float) -> float:
    """Exponential backoff after the given (1-based) attempt, capped: base, 2·base, 4·base …"""
    return min(cap_s, base_s * 2 ** (attempt - 1))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date; fall back to our own backoff


def publication_event(report: PortalReport, portal_base_url: str) -> tuple[dict[str, Any], str]:
    """The event announcing a report's publication (or retraction) and its idempotency key.

    The key names the document, version and event type, so re-running the publish task
    re-sends the same message id and receivers deduplicate it.
    """
    event_type = "report.retracted" if report.retracted else "report.published"
    base = portal_base_url.rstrip("/")
    page = f"{base}/reports/{report.slug}/index.html"
    event: dict[str, Any] = {
        "type": event_type,
        "document_id": report.document_id,
        "version": report.version,
        "agency": report.agency,
        "government": report.government,
        "year": report.year,
        "report_kind": report.report_kind,
        "published_at": as_utc(report.published_at).isoformat(),
        "page_url": page,
    }
    if report.retraction is not None:
        event["retracted_at"] = as_utc(report.retraction.retracted_at).isoformat()
        event["reason"] = report.retraction.reason
    else:
        event["data_url"] = f"{base}/{version_dir(report.slug, report.version)}/data.json"
    return event, f"{event_type}:{report.document_id}:v{report.version}"


def encode_event(event: Mapping[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def deliver_webhook(
    url: str,
    secret: bytes,
    event: Mapping[str, Any],
    idempotency_key: str,
    *,
    client: httpx.Client,
    max_attempts: int = 5,
    backoff_base_s: float = 1.0,
    backoff_cap: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> list[DeliveryAttempt]:
    """POST the event until a 2xx, a permanent failure (other 4xx) or `max_attempts`.

    Each attempt is signed afresh (its timestamp changes); waits between attempts grow
    exponentially up to `backoff_cap` seconds and are never shorter than the receiver's
    Retry-After (still capped). Returns every attempt; the last one tells the outcome.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    body = encode_event(event)
    attempts: list[DeliveryAttempt] = []
    for attempt in range(1, max_attempts + 1):
        timestamp = int(clock())
        headers = {
            "content-type": "application/json",
            "webhook-id": idempotency_key,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign_webhook(secret, idempotency_key, timestamp, body),
        }
        started = time.monotonic()
        status_code: int | None = None
        suggested: float | None = None
        try:
            response = client.post(url, content=body, headers=headers)
            status_code = response.status_code
            error = None if response.is_success else f"HTTP {status_code} {response.reason_phrase}"
            retryable = status_code in RETRYABLE_STATUS
            suggested = _retry_after(response)
        except httpx.HTTPError as exc:  # connection refused, timeout, reset …
            error = f"{type(exc).__name__}: {exc}"
            retryable = True
        duration = time.monotonic() - started
        delivered = status_code is not None and 200 <= status_code < 300
        retry_in: float | None = None
        if not delivered and retryable and attempt < max_attempts:
            retry_in = backoff_delay(attempt, base_s=backoff_base_s, cap_s=backoff_cap)
            if suggested is not None:
                retry_in = min(backoff_cap, max(retry_in, suggested))
        attempts.append(DeliveryAttempt(attempt, timestamp, status_code, error, duration, retry_in))
        if retry_in is None:
            break
        sleep(retry_in)
    return attempts
