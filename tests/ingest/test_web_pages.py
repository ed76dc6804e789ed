"""The season desk's pages in the embedded deployment (SQLite, local storage), through
FastAPI's test client: headers, sign-in, CSRF, scoping and escaping. The browser tests
on the real services are in tests/integration/test_desk_browser.py."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from markupsafe import Markup
from sqlmodel import select

from services.agencies import import_registry
from services.ingest.auth import Role, create_token
from services.ingest.web.agency_pages import DOCUMENT_PANELS, add_document_panel
from services.ingest.web.progress import agency_note, progress_of
from services.ingest.web.rendering import CONTENT_SECURITY_POLICY
from services.ingest.web.session import create_signin_link, token_by_secret
from services.parser import parse_document
from services.validator import ValidationContext, decide, validate
from shared.db import get_engine, session_scope, upgrade_schema
from shared.models import Document, Stage, Status
from shared.settings import get_settings
from tests.corpus import render_html
from tests.corpus.truth import random_truth

AGENCY_A, AGENCY_B = "某县民政局", "某县财政局"
HOSTILE_NAME = '<img src=x onerror="alert(1)">报告.txt'


@pytest.fixture
def app_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("NIANBAO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NIANBAO_BROKER_URL", f"filesystem://{tmp_path}/broker")  # never sent: no worker
    get_settings.cache_clear()
    get_engine.cache_clear()
    upgrade_schema()
    from services.ingest.app import create_app

    # https: the session cookie is Secure, and the test client honours that.
    with TestClient(create_app(), base_url="https://testserver", follow_redirects=False) as client:
        yield client
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def token_for(role: Role, *agencies: str) -> str:
    with session_scope() as session:
        return create_token(session, role, list(agencies))


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


def sign_in(client: TestClient, token: str, landing: str = "/desk/submit") -> str:
    """Sign in through the form; returns the session's CSRF token."""
    form = client.get("/desk/sign-in")
    answer = client.post(
        "/desk/sign-in", data={"token": token, "csrf_token": hidden(form.text, "csrf_token"), "next": landing}
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == landing
    cookie = answer.headers["set-cookie"]
    assert "__Host-nb_desk=" in cookie and "HttpOnly" in cookie and "Secure" in cookie
    assert "SameSite=strict" in cookie and "Max-Age=" in cookie and "Path=/" in cookie
    page = client.get(landing)
    assert page.status_code == 200
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert match
    return match.group(1)


def upload(client: TestClient, csrf: str, name: str, data: bytes) -> httpx.Response:
    return client.post(
        "/desk/api/uploads", files=[("files", (name, data, "text/plain"))], headers={"X-CSRF-Token": csrf}
    )


def test_pages_send_the_security_headers(app_client: TestClient) -> None:
    for path in ("/desk/sign-in", "/desk/static/desk.css", "/desk/static/submit.js", "/desk/nothing-here"):
        response = app_client.get(path)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert response.headers["x-content-type-options"] == "nosniff", path
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY and "script-src 'self'" in CONTENT_SECURITY_POLICY
    html = app_client.get("/desk/sign-in").text
    assert "<script>" not in html and " on" not in re.sub(
        r"\s+", " ", "".join(re.findall(r"<[^>]+>", html))
    ).replace(" one", "")
    assert "http://" not in html and "https://" not in html  # nothing from elsewhere


def test_pages_need_a_session(app_client: TestClient) -> None:
    answer = app_client.get("/desk/documents?year=2024")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/desk/sign-in?next=/desk/documents?year=2024"
    assert app_client.get("/desk/api/documents/status?ids=1").status_code == 401
    # The API keeps bearer tokens: a desk cookie is not a way into /api/v1.
    assert app_client.get("/api/v1/documents").status_code == 401


def test_wrong_token_and_forged_form_are_refused(app_client: TestClient) -> None:
    form = app_client.get("/desk/sign-in")
    wrong = app_client.post(
        "/desk/sign-in", data={"token": "nb_nope", "csrf_token": hidden(form.text, "csrf_token")}
    )
    assert wrong.status_code == 401 and "__Host-nb_desk" not in wrong.headers.get("set-cookie", "")
    forged = app_client.post("/desk/sign-in", data={"token": token_for(Role.ops), "csrf_token": "guess"})
    assert forged.status_code == 403 and "__Host-nb_desk" not in forged.headers.get("set-cookie", "")


def test_next_never_leaves_the_desk(app_client: TestClient) -> None:
    form = app_client.get("/desk/sign-in")
    answer = app_client.post(
        "/desk/sign-in",
        data={
            "token": token_for(Role.ops),
            "csrf_token": hidden(form.text, "csrf_token"),
            "next": "//evil.example/",
        },
    )
    assert answer.headers["location"] == "/desk"


def test_post_without_csrf_token_is_refused(app_client: TestClient) -> None:
    csrf = sign_in(app_client, token_for(Role.uploader, AGENCY_A))
    refused = app_client.post("/desk/api/uploads", files=[("files", ("a.txt", b"x", "text/plain"))])
    assert refused.status_code == 403 and "CSRF" in refused.text
    wrong = upload(app_client, csrf[:-1] + ("A" if csrf[-1] != "A" else "B"), "a.txt", b"x")
    assert wrong.status_code == 403
    assert app_client.post("/desk/sign-out").status_code == 403
    with session_scope() as session:
        assert session.exec(select(Document)).first() is None
    assert upload(app_client, csrf, "a.txt", b"x").status_code == 200


def test_sign_out_ends_the_session(app_client: TestClient) -> None:
    csrf = sign_in(app_client, token_for(Role.uploader, AGENCY_A))
    cookie = app_client.cookies.get("__Host-nb_desk")
    out = app_client.post("/desk/sign-out", data={"csrf_token": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/desk/sign-in"
    app_client.cookies.set("__Host-nb_desk", cookie or "")  # a copy of the old cookie
    assert app_client.get("/desk/submit").status_code == 303


def test_signin_link_signs_in_once(app_client: TestClient) -> None:
    token = token_for(Role.uploader, AGENCY_A)
    with session_scope() as session:
        row = token_by_secret(session, token)
        assert row is not None and row.id is not None
        link = create_signin_link(session, row.id, get_settings())
    path = httpx.URL(link).path
    shown = app_client.get(path)
    assert shown.status_code == 200 and "__Host-nb_desk" not in shown.headers.get("set-cookie", "")
    used = app_client.post(path, data={"csrf_token": hidden(shown.text, "csrf_token")})
    assert used.status_code == 303 and "__Host-nb_desk=" in used.headers["set-cookie"]
    assert app_client.get("/desk/submit").status_code == 200
    app_client.cookies.clear()
    again = app_client.get(path)
    replay = app_client.post(path, data={"csrf_token": hidden(again.text, "csrf_token")})
    assert replay.status_code == 400 and "已经使用过" in replay.text
    assert "__Host-nb_desk" not in replay.headers.get("set-cookie", "")


def test_uploader_sees_only_its_agencies(app_client: TestClient) -> None:
    csrf = sign_in(app_client, token_for(Role.uploader, AGENCY_A))
    receipt = upload(app_client, csrf, HOSTILE_NAME, "二〇二四年度报告".encode()).json()
    [doc] = receipt["documents"]
    assert (
        doc["status"] == "received"
        and doc["settled"] is False
        and doc["url"] == f"/desk/documents/{doc['id']}"
    )
    page = app_client.get(f"/desk/documents/{doc['id']}")
    assert page.status_code == 200
    assert HOSTILE_NAME not in page.text and "&lt;img src=x onerror=" in page.text  # escaped
    listing = app_client.get("/desk/documents", params={"q": "报告"})
    assert "&lt;img src=x" in listing.text and f'data-document-id="{doc["id"]}"' in listing.text
    receipt_page = app_client.get(f"/desk/receipt?ids={doc['id']}")
    assert doc["sha256"] in receipt_page.text and doc["submission_no"] in receipt_page.text
    assert app_client.get(f"/desk/documents/{doc['id']}/original").content == "二〇二四年度报告".encode()

    app_client.cookies.clear()
    sign_in(app_client, token_for(Role.uploader, AGENCY_B))
    assert app_client.get(f"/desk/documents/{doc['id']}").status_code == 404
    assert app_client.get(f"/desk/documents/{doc['id']}/original").status_code == 404
    assert app_client.get(f"/desk/receipt?ids={doc['id']}").status_code == 404
    assert app_client.get(f"/desk/api/documents/status?ids={doc['id']}").json() == {"documents": []}
    assert f'data-document-id="{doc["id"]}"' not in app_client.get("/desk/documents").text
    # and may not upload for another agency
    other = sign_in(app_client, token_for(Role.uploader, AGENCY_B))
    refused = app_client.post(
        "/desk/api/uploads",
        files=[("files", ("a.txt", b"x", "text/plain"))],
        data={"agency": AGENCY_A},
        headers={"X-CSRF-Token": other},
    )
    assert refused.status_code == 403


def test_correction_is_a_new_version_of_the_same_report(app_client: TestClient) -> None:
    csrf = sign_in(app_client, token_for(Role.uploader, AGENCY_A))
    first = app_client.post(
        "/desk/api/uploads",
        files=[("files", ("v1.txt", b"first", "text/plain"))],
        data={"year": "2024"},
        headers={"X-CSRF-Token": csrf},
    ).json()["documents"][0]
    with session_scope() as session:
        doc = session.get(Document, first["id"])
        assert doc is not None
        doc.status, doc.decision_reason = Status.rejected, "表三合计不符，请核对"
    page = app_client.get(f"/desk/documents/{first['id']}")
    assert "表三合计不符，请核对" in page.text and 'id="correction"' in page.text
    without = app_client.post(
        f"/desk/documents/{first['id']}/correction", files={"file": ("v2.txt", b"second", "text/plain")}
    )
    assert without.status_code == 403
    answer = app_client.post(
        f"/desk/documents/{first['id']}/correction",
        files={"file": ("v2.txt", b"second", "text/plain")},
        data={"csrf_token": csrf},
    )
    assert answer.status_code == 303
    new_id = int(answer.headers["location"].split("/")[-1].split("?")[0])
    with session_scope() as session:
        new = session.get(Document, new_id)
        assert new is not None
        assert (new.agency_key, new.year_hint, new.filename) == (AGENCY_A, 2024, "v2.txt")
    listing = app_client.get("/desk/documents", params={"status": "rejected", "year": "2024"})
    assert "v1.txt" in listing.text and "v2.txt" not in listing.text and "表三合计不符" in listing.text


def test_roles_of_the_pages(app_client: TestClient) -> None:
    sign_in(app_client, token_for(Role.reviewer), landing="/desk/coverage")
    assert app_client.get("/desk/submit").status_code == 403
    assert app_client.get("/desk").headers["location"] == "/desk/review"  # a reviewer starts at the queue
    app_client.cookies.clear()
    sign_in(app_client, token_for(Role.uploader, AGENCY_A))
    assert app_client.get("/desk/coverage").status_code == 403
    assert app_client.get("/desk/review").status_code == 403


def test_english_switch(app_client: TestClient) -> None:
    assert "登录年报申报台" in app_client.get("/desk/sign-in").text
    switched = app_client.get("/desk/lang/en", params={"next": "/desk/sign-in"})
    assert switched.headers["location"] == "/desk/sign-in"
    assert "Sign in to the season desk" in app_client.get("/desk/sign-in").text
    assert (
        app_client.get("/desk/lang/en", params={"next": "https://evil.example"}).headers["location"]
        == "/desk"
    )


def broken_report() -> tuple[str, bytes]:
    """A generated report whose 表三 total of natural persons is 7 too high (an HTML table:
    its cells are read for certain, so the checks reject it)."""
    truth = random_truth(random.Random(3))
    truth["cells"]["t3_total_processed__natural"] = (truth["cells"]["t3_total_processed__natural"] or 0) + 7
    return render_html.render(truth, "html_trs_utf8")


def test_document_page_shows_tables_findings_and_confidence(app_client: TestClient) -> None:
    name, data = broken_report()
    parsed = parse_document(data, name)
    findings = validate(parsed, ValidationContext(as_of=date(2026, 12, 1)))
    assert decide(findings) == "rejected"
    csrf = sign_in(app_client, token_for(Role.uploader, AGENCY_A))
    doc_id = upload(app_client, csrf, name, data).json()["documents"][0]["id"]
    with session_scope() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None
        doc.parsed, doc.findings = parsed.to_json(), [f.to_json() for f in findings]
        doc.agency, doc.year, doc.status = parsed.agency, parsed.year, Status.rejected
    seen: list[int] = []
    add_document_panel(
        lambda state: seen.append(state.doc.id or 0) or Markup('<section id="test-panel"></section>')
    )
    try:
        page = app_client.get(f"/desk/documents/{doc_id}").text
    finally:
        DOCUMENT_PANELS.pop()
    assert seen == [doc_id] and '<section id="test-panel"></section>' in page
    assert (
        'data-rule="T3-ROWSUM-total_processed"' in page
        and 'data-culprit="t3_total_processed__natural"' in page
    )
    culprit = re.search(r'<td id="cell-t3_total_processed__natural"[^>]*>', page)
    assert culprit and "cell-culprit" in culprit.group(0) and "data-confidence=" in culprit.group(0)
    assert page.count("data-confidence=") >= 100  # every cell the parser read
    value = parsed.cells["t3_total_processed__natural"]
    assert '<tr class="culprit"><th scope="row"><a href="#cell-t3_total_processed__natural">' in page
    assert f'<td class="n">{value}</td>' in page
    assert 'id="correction"' in page  # rejected: the agency can send a corrected version
    assert page.count('class="step done"') == 3 and 'class="step stopped"' in page


def test_progress_of_each_status() -> None:
    assert [s.state for s in progress_of(Status.parsing).steps] == ["done", "current", "todo", "todo", "todo"]
    review = progress_of(Status.needs_review)
    assert [s.state for s in review.steps] == [
        "done",
        "done",
        "done",
        "current",
        "todo",
    ] and review.tone == "wait"
    assert {s.state for s in progress_of(Status.published).steps} == {"done"}
    rejected = progress_of(Status.rejected)
    assert rejected.tone == "act" and rejected.fix and "更正版本" in rejected.next_zh
    unreadable = progress_of(Status.failed, Stage.parse)
    assert [s.state for s in unreadable.steps][:2] == ["done", "stopped"] and unreadable.tone == "act"
    assert progress_of(Status.failed, Stage.publish).tone == "wait"  # ops' problem, not the agency's
    assert "12" in progress_of(Status.superseded, duplicate_of=12).next_en
    assert all(progress_of(s).next_zh and progress_of(s).next_en for s in Status)


def test_coverage_page_is_live_from_the_database(app_client: TestClient) -> None:
    with session_scope() as session:
        import_registry(session, [("某县人民政府", AGENCY_A), ("某县人民政府", AGENCY_B)])
    csrf = sign_in(app_client, token_for(Role.uploader, AGENCY_A))
    app_client.post(
        "/desk/api/uploads",
        files=[("files", ("a.txt", b"report", "text/plain"))],
        data={"year": "2025"},
        headers={"X-CSRF-Token": csrf},
    )
    app_client.cookies.clear()
    sign_in(app_client, token_for(Role.ops), landing="/desk/coverage?year=2025")
    page = app_client.get("/desk/coverage", params={"year": 2025}).text
    rows = re.findall(r'<tr data-state="(\w+)"[^>]*>\s*<td>(?:<a href="[^"]+">)?([^<]+)<', page)
    assert {agency: state for state, agency in rows} == {
        "某县人民政府": "not_due" if date.today() <= date(2026, 3, 31) else "missing",
        AGENCY_A: "in_progress",
        AGENCY_B: "not_due" if date.today() <= date(2026, 1, 31) else "missing",
    }


def test_agency_is_told_why_a_report_stopped() -> None:
    assert agency_note(Status.rejected, "附表缺页", None, None) == ("附表缺页", "附表缺页")
    findings = [
        {"rule": "T3-ROWSUM-total_processed", "severity": "error"},
        {"rule": "T3-BALANCE-natural", "severity": "error"},
        {"rule": "NUM-MARKER", "severity": "warning"},
    ]
    note = agency_note(Status.rejected, None, None, findings)
    assert note is not None and "T3-BALANCE-natural、T3-ROWSUM-total_processed" in note[0]
    assert "NUM-MARKER" not in note[0]
    assert agency_note(Status.failed, None, "no_report_found: …", None) == ("no_report_found: …",) * 2
    assert agency_note(Status.needs_review, None, None, findings) is None
