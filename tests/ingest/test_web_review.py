"""The reviewers' pages in the embedded deployment (SQLite, local storage) through FastAPI's
test client: the queue with its filters and counts, claims on opening, decisions that
open the next report (one POST, one page load), corrections re-checked, bulk approval,
the findings export and the scoping of cell sources. The browser flow on the real
services is in tests/integration/test_desk_browser.py."""

from __future__ import annotations

import io
import random
import re
from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from services.ingest.auth import Role
from services.ingest.web.review_pages import filter_from_query, filter_query
from services.parser import parse_document
from services.review.queue import QueueFilter
from services.validator import ValidationContext, validate
from shared.db import session_scope
from shared.models import Document, Status
from shared.report import Finding
from tests.corpus import render_html
from tests.corpus.truth import random_truth
from tests.ingest.test_web_pages import (
    AGENCY_A,
    AGENCY_B,
    app_client,
    broken_report,
    sign_in,
    token_for,
    upload,
)

__all__ = ["app_client"]  # the fixture, shared with the agency pages' tests

MARKER = Finding(
    rule="NUM-MARKER",
    severity="warning",
    message_zh="表三“其他”列填有“—”，按 0 读取",
    message_en="a dash in 表三 read as 0",
    cells=["t3_new_apps__other"],
    culprit="t3_new_apps__other",
)


def store(doc_id: int, data: bytes, name: str, *, extra: list[Finding] = (), status: Status) -> None:  # type: ignore[assignment]
    parsed = parse_document(data, name)
    findings = [*validate(parsed, ValidationContext(as_of=date(2026, 12, 1))), *extra]
    with session_scope() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None
        doc.parsed, doc.findings = parsed.to_json(), [f.to_json() for f in findings]
        doc.agency, doc.year, doc.status = parsed.agency, parsed.year, status
        doc.agency_norm = parsed.agency


@pytest.fixture
def two_held(app_client: TestClient) -> tuple[int, int]:
    """An uploader's two reports under review: one the checks rejected (表三's natural
    total 7 too high), then one held only by a marker notice raised to a warning."""
    csrf = sign_in(app_client, token_for(Role.uploader, AGENCY_A))
    broken_name, broken = broken_report()
    good_name, good = render_html.render(random_truth(random.Random(5)), "html_trs_utf8")
    broken_id = upload(app_client, csrf, broken_name, broken).json()["documents"][0]["id"]
    good_id = upload(app_client, csrf, good_name, good).json()["documents"][0]["id"]
    store(broken_id, broken, broken_name, status=Status.rejected)
    store(good_id, good, good_name, extra=[MARKER], status=Status.needs_review)
    app_client.cookies.clear()
    return broken_id, good_id


def status_of(doc_id: int) -> Status:
    with session_scope() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None
        return doc.status


def csrf_of(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match
    return match.group(1)


def test_queue_lists_held_reports_with_counts_filters_and_roles(app_client: TestClient, two_held: tuple[int, int]) -> None:
    broken_id, good_id = two_held
    sign_in(app_client, token_for(Role.reviewer), landing="/desk/review")
    page = app_client.get("/desk/review").text
    rows = re.findall(r'<tr data-document-id="(\d+)" data-status="(\w+)"', page)
    assert rows == [(str(good_id), "needs_review"), (str(broken_id), "rejected")]  # needs_review first
    assert "NUM-MARKER</code></a> 1" in page and "T3-ROWSUM-total_processed</code></a> 1" in page
    only_marker = app_client.get("/desk/review", params={"rule": "NUM-MARKER"}).text
    assert re.findall(r'<tr data-document-id="(\d+)"', only_marker) == [str(good_id)]
    assert 'href="/desk/review/findings.xlsx?rule=NUM-MARKER"' in only_marker
    app_client.cookies.clear()
    sign_in(app_client, token_for(Role.ops), landing="/desk/submit")
    assert app_client.get("/desk/review").status_code == 200  # ops look, reviewers decide
    assert 'id="bulk"' not in app_client.get("/desk/review").text


def test_opening_claims_and_another_reviewer_cannot_decide(app_client: TestClient, two_held: tuple[int, int]) -> None:
    broken_id, _ = two_held
    sign_in(app_client, token_for(Role.reviewer), landing="/desk/review")
    first = app_client.get(f"/desk/documents/{broken_id}").text
    assert 'id="approve-form"' in first and 'id="claim-mine"' in first
    assert app_client.get("/desk/review").text.count("being reviewed by") + app_client.get(
        "/desk/review"
    ).text.count("正在由") >= 1
    app_client.cookies.clear()
    csrf = sign_in(app_client, token_for(Role.reviewer), landing="/desk/review")
    second = app_client.get(f"/desk/documents/{broken_id}").text
    assert 'id="claim-held"' in second and 'id="approve-form"' not in second
    refused = app_client.post(f"/desk/review/{broken_id}/approve", data={"csrf_token": csrf})
    assert refused.status_code == 409 and "being reviewed by" in refused.text
    assert status_of(broken_id) == Status.rejected


def test_reject_needs_a_reason_and_opens_the_next_report(app_client: TestClient, two_held: tuple[int, int]) -> None:
    broken_id, good_id = two_held
    csrf = sign_in(app_client, token_for(Role.reviewer), landing="/desk/review")
    queue = "rule=NUM-MARKER&rule=T3-ROWSUM-total_processed"
    app_client.get(f"/desk/documents/{good_id}", params={"queue": queue})
    assert app_client.post(f"/desk/review/{good_id}/reject", data={"queue": queue}).status_code == 403  # no CSRF
    assert app_client.post(f"/desk/review/{good_id}/reject", data={"csrf_token": csrf}).status_code == 422
    answer = app_client.post(
        f"/desk/review/{good_id}/reject",
        data={"csrf_token": csrf, "queue": queue, "code": "source_table_wrong", "text": "表三其他列"},
    )
    assert answer.status_code == 303  # one POST …
    target = urlparse(answer.headers["location"])
    assert target.path == f"/desk/documents/{broken_id}" and parse_qs(target.query)["queue"] == [queue]
    following = app_client.get(answer.headers["location"])  # … and one page load: the next report, claimed
    assert following.status_code == 200 and 'id="approve-form"' in following.text
    assert f'name="queue" value="{queue.replace("&", "&amp;")}"' in following.text
    assert status_of(good_id) == Status.rejected
    with session_scope() as session:
        doc = session.get(Document, good_id)
        assert doc is not None and doc.decision_reason and "表三其他列" in doc.decision_reason


def test_correcting_a_cell_rechecks_and_the_last_approval_returns_to_the_queue(
    app_client: TestClient, two_held: tuple[int, int]
) -> None:
    broken_id, good_id = two_held
    csrf = sign_in(app_client, token_for(Role.reviewer), landing="/desk/review")
    page = app_client.get(f"/desk/documents/{broken_id}").text
    value = int(re.search(r'id="cell-t3_total_processed__natural" data-key="[^"]+" data-value="(\d+)"', page).group(1))  # type: ignore[union-attr]
    key = re.search(r'data-finding="([^"]+)" data-rule="T3-ROWSUM-total_processed"', page)
    assert key
    corrected = app_client.post(
        f"/desk/review/{broken_id}/correct",
        data={
            "csrf_token": csrf,
            "cell": "t3_total_processed__natural",
            "value": str(value - 7),
            "reason": "原表为正确数字",
            "finding": key.group(1).replace("&#34;", '"').replace("&quot;", '"'),
        },
    )
    assert corrected.status_code == 303 and corrected.headers["location"].endswith("#findings")
    assert status_of(broken_id) == Status.needs_review  # no error left: a person approves
    again = app_client.get(f"/desk/documents/{broken_id}").text
    assert f"{value} → {value - 7}" in again and 'data-rule="T3-ROWSUM-total_processed"' not in again
    approved = app_client.post(f"/desk/review/{broken_id}/approve", data={"csrf_token": csrf})
    assert approved.status_code == 303 and approved.headers["location"].startswith(f"/desk/documents/{good_id}")
    app_client.get(approved.headers["location"])
    last = app_client.post(f"/desk/review/{good_id}/approve", data={"csrf_token": csrf})
    assert last.headers["location"] == f"/desk/review?cleared={good_id}"
    assert status_of(broken_id) == status_of(good_id) == Status.approved
    assert 'id="queue-cleared"' in app_client.get(last.headers["location"]).text


def test_dismissing_needs_a_reason_and_keys_the_finding(app_client: TestClient, two_held: tuple[int, int]) -> None:
    _, good_id = two_held
    csrf = sign_in(app_client, token_for(Role.reviewer), landing="/desk/review")
    page = app_client.get(f"/desk/documents/{good_id}").text
    key = re.search(r'data-finding="([^"]+)" data-rule="NUM-MARKER"', page)
    assert key
    finding = key.group(1).replace("&#34;", '"').replace("&quot;", '"')
    form = {"csrf_token": csrf, "finding": finding, "decision": "dismissed"}
    assert app_client.post(f"/desk/review/{good_id}/finding", data=form).status_code == 422
    done = app_client.post(f"/desk/review/{good_id}/finding", data=form | {"reason": "横线即零"})
    assert done.status_code == 303 and done.headers["location"].startswith(f"/desk/documents/{good_id}")
    assert "dismissed" in app_client.get(done.headers["location"]).text


def test_bulk_approval_shows_the_count_then_answers_per_report(
    app_client: TestClient, two_held: tuple[int, int]
) -> None:
    broken_id, good_id = two_held
    csrf = sign_in(app_client, token_for(Role.reviewer), landing="/desk/review")
    preview = app_client.post("/desk/review/bulk", data={"csrf_token": csrf, "rule_ids": ["NUM-MARKER"]})
    assert preview.status_code == 200 and 'id="bulk-count"' in preview.text and 'id="bulk-confirm"' in preview.text
    assert status_of(good_id) == Status.needs_review  # a preview changes nothing
    done = app_client.post(
        "/desk/review/bulk", data={"csrf_token": csrf, "rule_ids": ["NUM-MARKER"], "confirm": "true"}
    )
    assert 'id="bulk-done"' in done.text
    assert f'<tr data-document-id="{broken_id}" class="skipped">' in done.text
    assert status_of(good_id) == Status.approved and status_of(broken_id) == Status.rejected


def test_export_and_sources_follow_the_roles(app_client: TestClient, two_held: tuple[int, int]) -> None:
    broken_id, _ = two_held
    sign_in(app_client, token_for(Role.reviewer), landing="/desk/review")
    export = app_client.get("/desk/review/findings.xlsx", params={"rule": "T3-ROWSUM-total_processed"})
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None
    rules = {row[5] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert "T3-ROWSUM-total_processed" in rules and "NUM-MARKER" not in rules
    source = app_client.get(f"/desk/review/{broken_id}/cells/t3_total_processed__natural/source")
    assert source.status_code == 200 and source.json()["kind"] == "table_row"
    app_client.cookies.clear()
    sign_in(app_client, token_for(Role.uploader, AGENCY_B))
    assert app_client.get(f"/desk/review/{broken_id}/cells/t3_total_processed__natural/source").status_code == 404
    assert app_client.get(f"/desk/documents/{broken_id}").status_code == 404
    assert app_client.get("/desk/review/findings.xlsx").status_code == 403
    app_client.cookies.clear()
    sign_in(app_client, token_for(Role.uploader, AGENCY_A))
    own = app_client.get(f"/desk/review/{broken_id}/cells/t3_total_processed__natural/source")
    assert own.status_code == 200  # an agency sees the sources of its own reports
    assert 'id="review"' not in app_client.get(f"/desk/documents/{broken_id}").text


def test_queue_filter_travels_as_a_query_string() -> None:
    flt = QueueFilter(government="某县人民政府", agency=None, year=2025, rule_ids=("NUM-MARKER", "T3-BALANCE"), min_age_hours=2.0)
    assert filter_from_query(filter_query(flt)) == flt
    assert filter_from_query("year=abc&rule=A") == QueueFilter(rule_ids=("A",))  # a hand-edited link
