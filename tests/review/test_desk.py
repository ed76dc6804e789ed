"""The desk over a real database session (SQLite): claims, decisions, re-checks, queue,
bulk approval, export and coverage."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from services.agencies import import_registry
from services.ingest.auth import Principal, Role
from services.parser import parse_document
from services.parser.tasks import parse_stored_document
from services.review import Conflict, Invalid, NotFound
from services.review.claims import CLAIM_TTL, ClaimConflict, claim, holder_of, release
from services.review.coverage import live_coverage
from services.review.desk import (
    approve_report,
    claim_document,
    correct_cell,
    decide_finding,
    load_for_review,
    reject_report,
    release_document,
    review_view,
)
from services.review.export import finding_rows, findings_workbook
from services.review.findings import (
    Correction,
    apply_corrections,
    cell_value,
    finding_key,
    holding_rules,
    verdict_without,
)
from services.review.queue import QueueFilter, bulk_approve, next_in_queue, queue_page
from shared.models import CellCorrection, Document, DocumentEvent, OutboxMessage, Status, utcnow
from shared.report import ParsedReport, ParseFinding
from shared.settings import Settings
from shared.storage import LocalStore
from tests.corpus.generate import render_fast
from tests.review.helpers import (
    DEFECT_CELL,
    OTHER_REVIEWER,
    REVIEWER,
    add_document,
    broken_report,
    sqlite_session,
    truth,
)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    yield from sqlite_session(tmp_path)


def _broken(session: Session, seed: int = 5, **fields: object) -> tuple[Document, int]:
    name, data, made = broken_report(seed)
    doc = add_document(session, name, data, **fields)
    return doc, made["cells"][DEFECT_CELL]


def _history(session: Session, doc: Document) -> list[DocumentEvent]:
    return list(session.exec(select(DocumentEvent).where(DocumentEvent.document_id == doc.id).order_by(col(DocumentEvent.id))))


# --- pure parts ---------------------------------------------------------------------


def test_finding_keys_open_findings_and_verdict() -> None:
    error = {"rule": "T3-ROWSUM-granted", "severity": "error", "cells": ["b", "a"], "message_zh": "", "message_en": ""}
    warning = {"rule": "META-PUBDATE-LATE", "severity": "warning", "cells": [], "message_zh": "", "message_en": ""}
    info = {"rule": "T4-CORRECTED-RATE", "severity": "info", "cells": [], "message_zh": "", "message_en": ""}
    assert finding_key(error) == "T3-ROWSUM-granted:a,b"
    findings = [error, warning, info]
    assert holding_rules(findings, set()) == {"T3-ROWSUM-granted", "META-PUBDATE-LATE"}
    assert holding_rules(findings, {finding_key(error)}) == {"META-PUBDATE-LATE"}
    assert verdict_without(findings, set()) == "rejected"
    assert verdict_without(findings, {finding_key(error)}) == "needs_review"
    assert verdict_without(findings, {finding_key(error), finding_key(warning)}) == "approved"


def test_cell_values_a_reviewer_may_give() -> None:
    assert cell_value(12) == 12 and cell_value("1,203") == 1203 and cell_value("2.5") == 2.5
    assert cell_value(None) is None and cell_value("") is None
    for bad in (-1, "abc", True, float("nan")):
        with pytest.raises(Invalid):
            cell_value(bad)


def test_corrections_replace_values_and_parse_findings_about_them() -> None:
    name, data, _ = broken_report(5)
    report = parse_document(data, name)
    report.parse_findings.append(ParseFinding("NUM-UNPARSEABLE", "x", [DEFECT_CELL]))
    applied = apply_corrections(report, [Correction(DEFECT_CELL, 1, "a"), Correction(DEFECT_CELL, 2, "b"), Correction("t9_nope", 1, "a")])
    assert applied == [DEFECT_CELL]
    assert report.cells[DEFECT_CELL] == 2  # the last word wins
    detail = report.cell_details[DEFECT_CELL]
    assert detail.corrected_by == "b" and detail.confidence == 1.0 and detail.raw  # the source's text stays
    assert not any(DEFECT_CELL in pf.cells for pf in report.parse_findings)
    assert not any(pf.rule == "NUM-UNPARSEABLE" and not pf.cells for pf in report.parse_findings)


# --- claims -------------------------------------------------------------------------


def test_claims_are_exclusive_renewable_and_expire(session: Session) -> None:
    doc, _ = _broken(session)
    assert doc.id is not None
    now = utcnow()
    held = claim(session, doc.id, REVIEWER.actor, now)
    assert held.holder == REVIEWER.actor and held.expires_at == now + CLAIM_TTL
    with pytest.raises(ClaimConflict, match=f"being reviewed by {REVIEWER.actor}"):
        claim(session, doc.id, OTHER_REVIEWER.actor, now + timedelta(minutes=14))
    claim(session, doc.id, REVIEWER.actor, now + timedelta(minutes=10))  # renewal
    with pytest.raises(ClaimConflict):
        claim(session, doc.id, OTHER_REVIEWER.actor, now + timedelta(minutes=24))
    # Expired: the other reviewer may take it.
    assert claim(session, doc.id, OTHER_REVIEWER.actor, now + timedelta(minutes=26)).holder == OTHER_REVIEWER.actor
    assert not release(session, doc.id, REVIEWER.actor)  # not the holder
    assert release(session, doc.id, OTHER_REVIEWER.actor)
    assert holder_of(session.get(Document, doc.id)) is None  # type: ignore[arg-type]


def test_only_documents_under_review_are_claimed_and_ops_may_release_any(session: Session) -> None:
    doc, _ = _broken(session)
    assert claim_document(session, doc, REVIEWER).holder == REVIEWER.actor
    assert not release_document(session, doc, OTHER_REVIEWER)
    assert release_document(session, doc, Principal(9, Role.ops, ()))
    doc.status = Status.approved
    with pytest.raises(Conflict, match="not under review"):
        claim_document(session, doc, REVIEWER)


def test_a_claim_keeps_other_reviewers_decisions_out(session: Session) -> None:
    doc, right = _broken(session)
    assert doc.id is not None
    claim(session, doc.id, REVIEWER.actor)
    with pytest.raises(ClaimConflict):
        correct_cell(session, doc, OTHER_REVIEWER, DEFECT_CELL, right)
    with pytest.raises(ClaimConflict):
        reject_report(session, doc, OTHER_REVIEWER, "arithmetic")


# --- decisions ------------------------------------------------------------------------


def test_correcting_the_misread_cell_rechecks_and_the_reviewer_approves(session: Session) -> None:
    doc, right = _broken(session)
    assert doc.id is not None and doc.status == Status.rejected
    culprit = next(f for f in doc.findings or [] if f["culprit"] == DEFECT_CELL)
    claim(session, doc.id, REVIEWER.actor)
    outcome = correct_cell(session, doc, REVIEWER, DEFECT_CELL, right, "源表为102", finding=finding_key(culprit))
    assert outcome["counts"]["error"] == 0
    assert doc.status == Status.needs_review  # no errors left: a person approves
    assert ParsedReport.from_json(doc.parsed or {}).cells[DEFECT_CELL] == right
    correction = session.exec(select(CellCorrection)).one()
    assert (correction.cell, correction.old_value, correction.new_value, correction.actor) == (
        DEFECT_CELL, right + 1, right, REVIEWER.actor
    )
    approve_report(session, doc, REVIEWER, "checked against the crop")
    assert doc.status == Status.approved and doc.decided_by == REVIEWER.actor
    assert session.exec(select(OutboxMessage).where(OutboxMessage.document_id == doc.id)).one().stage == "publish"
    assert holder_of(doc) is None  # the decision gave the claim back
    events = [(e.actor, e.status, e.detail) for e in _history(session, doc)]
    assert (REVIEWER.actor, Status.rejected, f"finding {culprit['rule']} ({', '.join(culprit['cells'])}): misread — 源表为102") in events
    assert any(a == REVIEWER.actor and d.startswith(f"cell {DEFECT_CELL} corrected: {right + 1} → {right}") for a, _, d in events)
    assert any(a == "system:review" and d.startswith("checks re-run after a correction: 0 errors") for a, _, d in events)
    assert ("system:review", Status.needs_review, "no errors left open: awaiting a reviewer's approval") in events
    assert events[-1][:2] == (REVIEWER.actor, Status.approved)
    view = review_view(session, doc)
    assert view["corrections"][0]["new"] == right and view["findings"][0]["key"]


def test_dismissing_the_last_error_lets_the_report_be_approved(session: Session) -> None:
    doc, _ = _broken(session)
    errors = [f for f in doc.findings or [] if f["severity"] == "error"]
    with pytest.raises(Invalid, match="reason"):
        decide_finding(session, doc, REVIEWER, finding_key(errors[0]), "dismissed", "  ")
    with pytest.raises(NotFound):
        decide_finding(session, doc, REVIEWER, "NOPE:", "dismissed", "x")
    decide_finding(session, doc, REVIEWER, finding_key(errors[0]), "source_wrong")
    assert doc.status == Status.rejected
    for finding in errors:
        decide_finding(session, doc, REVIEWER, finding_key(finding), "dismissed", "known typo in the source")
    assert doc.status == Status.needs_review
    view = review_view(session, doc)
    assert all(not f["open"] for f in view["findings"] if f["severity"] == "error")
    assert [d["decision"] for d in view["findings"][[f["key"] for f in view["findings"]].index(finding_key(errors[0]))]["decisions"]] == ["source_wrong", "dismissed"]


def test_reject_needs_a_listed_reason_and_ends_the_review(session: Session) -> None:
    doc, right = _broken(session)
    with pytest.raises(Invalid):
        reject_report(session, doc, REVIEWER, "because")
    with pytest.raises(Invalid):
        reject_report(session, doc, REVIEWER, "other", " ")
    reason = reject_report(session, doc, REVIEWER, "source_table_wrong", "表三第3行")
    assert reason == "source_table_wrong: 报表数据有误，请核对后更正 — 表三第3行"
    assert doc.status == Status.rejected and doc.decided_by == REVIEWER.actor
    with pytest.raises(Conflict, match="not under review"):
        correct_cell(session, doc, REVIEWER, DEFECT_CELL, right)


def test_uploaders_see_only_their_agencies(session: Session) -> None:
    doc, _ = _broken(session, agency_key="甲局")
    assert doc.id is not None
    assert load_for_review(session, doc.id, Principal(7, Role.uploader, ("甲局",))) is doc
    with pytest.raises(NotFound):
        load_for_review(session, doc.id, Principal(8, Role.uploader, ("乙局",)))


def test_corrections_are_applied_again_by_every_parse(session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name, data, made = broken_report(5)
    store = LocalStore(tmp_path / "raw")
    store.put(f"raw/{name}", data)
    settings = Settings(data_dir=tmp_path, storage_backend="local")
    monkeypatch.setattr("services.parser.tasks.get_settings", lambda: settings)
    monkeypatch.setattr("services.parser.tasks.open_store", lambda _s, _b: store)
    doc = add_document(session, name, data)
    correct_cell(session, doc, REVIEWER, DEFECT_CELL, made["cells"][DEFECT_CELL])
    outcome = parse_stored_document(session, doc)
    assert ParsedReport.from_json(doc.parsed or {}).cells[DEFECT_CELL] == made["cells"][DEFECT_CELL]
    assert f"1 reviewer corrections applied again ({DEFECT_CELL})" in outcome.detail


# --- queue, bulk, export, coverage ------------------------------------------------------


def _queue_of_three(session: Session) -> tuple[Document, Document, Document]:
    """A: needs_review held only by META-AGENCY-MISMATCH (oldest); B: rejected by the checks;
    C: needs_review (as if a reviewer had dismissed nothing yet), newer, also held by T3 errors."""
    now = utcnow()
    good_name, good = render_fast(truth(23), "html_trs_utf8")
    a = add_document(session, good_name, good, agency_key="某县民政局", status_changed_at=now - timedelta(hours=30))
    b, _ = _broken(session, 6, status_changed_at=now - timedelta(hours=40))
    c_name, c_data, _ = broken_report(7)
    c = add_document(session, c_name, c_data, status=Status.needs_review, status_changed_at=now - timedelta(hours=2))
    return a, b, c


def test_queue_order_filters_counts_and_claims(session: Session) -> None:
    a, b, c = _queue_of_three(session)
    assert a.status == Status.needs_review and holding_rules(a.findings or [], set()) == {"META-AGENCY-MISMATCH"}
    assert c.id is not None
    claim(session, c.id, OTHER_REVIEWER.actor)
    page = queue_page(session, QueueFilter())
    assert [row["id"] for row in page["items"]] == [a.id, c.id, b.id]  # needs_review first, oldest first
    assert page["items"][1]["claim"]["holder"] == OTHER_REVIEWER.actor
    everywhere = holding_rules(a.findings or [], set()) & holding_rules(b.findings or [], set())
    assert all(page["rule_counts"][rule] >= 2 for rule in everywhere)
    assert page["rule_counts"]["T3-ROWSUM-granted"] == 2
    only_t3 = queue_page(session, QueueFilter(rule_ids=("T3-ROWSUM-granted",)))
    assert [row["id"] for row in only_t3["items"]] == [c.id, b.id]
    assert only_t3["rule_counts"] == page["rule_counts"]  # counts are over the filter without its rules
    assert [r["id"] for r in queue_page(session, QueueFilter(min_age_hours=24))["items"]] == [a.id, b.id]
    assert [r["id"] for r in queue_page(session, QueueFilter(max_age_hours=24))["items"]] == [c.id]
    assert queue_page(session, QueueFilter(year=1999))["total"] == 0
    assert [r["id"] for r in queue_page(session, QueueFilter(agency=a.agency))["items"]] == [a.id]
    assert next_in_queue(session, QueueFilter(), REVIEWER) == a.id
    assert next_in_queue(session, QueueFilter(), REVIEWER, after=a.id) == b.id  # c is held by another
    assert next_in_queue(session, QueueFilter(), OTHER_REVIEWER, after=a.id) == c.id
    import_registry(session, [("某某市人民政府", a.agency or "")])
    assert [r["id"] for r in queue_page(session, QueueFilter(government="某某市人民政府"))["items"]] == [a.id]


def test_bulk_approve_only_reports_held_by_the_chosen_rules(session: Session) -> None:
    a, b, c = _queue_of_three(session)
    dry = bulk_approve(session, REVIEWER, QueueFilter(), ["META-AGENCY-MISMATCH"], dry_run=True)
    assert dry["count"] == 1 and dry["done"] == [a.id] and a.status == Status.needs_review
    skipped = {s["id"]: s["reason"] for s in dry["skipped"]}
    assert skipped[b.id].startswith("rejected by the checks")
    assert skipped[c.id].startswith("also held by ") and "T3-ROWSUM-granted" in skipped[c.id]
    assert c.id is not None
    claim(session, c.id, OTHER_REVIEWER.actor)
    chosen = sorted(holding_rules(c.findings or [], set()) | {"META-AGENCY-MISMATCH"})
    wider = bulk_approve(session, REVIEWER, QueueFilter(), chosen)
    assert wider["done"] == [a.id] and a.status == Status.approved
    assert {s["id"]: s["reason"] for s in wider["skipped"]}[c.id] == f"being reviewed by {OTHER_REVIEWER.actor}"
    with pytest.raises(Invalid):
        bulk_approve(session, REVIEWER, QueueFilter(), [" "])


def test_findings_export_one_row_per_finding() -> None:
    doc = {
        "id": 3,
        "submission_no": "N-1",
        "agency": "=HYPERLINK(\"http://x\")局",
        "year": 2025,
        "status": "rejected",
        "findings": [
            {"rule": "T3-ROWSUM-granted", "severity": "error", "cells": ["a", "b"], "message_zh": "和不符", "message_en": "sum", "culprit": "a"},
            {"rule": "META-PUBDATE-LATE", "severity": "warning", "cells": [], "message_zh": "晚", "message_en": "late", "culprit": None},
        ],
    }
    body = findings_workbook(finding_rows([(doc, {"META-PUBDATE-LATE:"})]))
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3
    assert rows[1][:9] == (3, "N-1", doc["agency"], 2025, "rejected", "T3-ROWSUM-granted", "error", "a, b", "和不符")
    assert rows[1][9:] == ("sum", "a", None)
    assert rows[2][5] == "META-PUBDATE-LATE" and rows[2][11] == "dismissed"
    assert sheet["C2"].data_type == "s"  # an agency name is never a formula


def test_live_coverage_per_registered_agency(session: Session) -> None:
    a, b, c = _queue_of_three(session)
    government = "某某县人民政府"
    import_registry(session, [(government, a.agency or ""), (government, b.agency or ""), (government, "某某县审计局")])
    a.status = Status.published
    session.add(a)
    session.flush()
    year = a.year or 0
    after_deadline = dt.date(year + 1, 2, 15)
    result = live_coverage(session, government, year, after_deadline)
    rows = {r["agency"]: r for r in result["agencies"]}
    assert rows[a.agency]["state"] == "published" and rows[a.agency]["published"]
    assert rows["某某县审计局"]["missing"] and rows["某某县审计局"]["late"] and rows["某某县审计局"]["state"] == "missing"
    assert rows[government]["report_kind"] == "summary" and rows[government]["state"] == "not_due"
    if b.year == year:
        assert rows[b.agency]["submitted"] and not rows[b.agency]["approved"]
    assert result["totals"]["published"] == 1 and result["totals"]["missing"] >= 2
    before = live_coverage(session, government, year, dt.date(year + 1, 1, 10))
    assert {r["agency"]: r for r in before["agencies"]}["某某县审计局"]["state"] == "not_due"


def _garbled(seed: int = 21) -> tuple[str, bytes, str, int]:
    """A generated HTML report with one 表二 cell printed with a look-alike letter
    ("3l" for 31): read as 31, but not for certain (表二 has no sums to confirm it)."""
    made = truth(seed)
    name, data = render_fast(made, "html_trs_utf8")
    key, value = next((k, v) for k, v in made["cells"].items() if k.startswith("t2_") and isinstance(v, int) and v >= 10 and str(v)[-1] == "1")
    text = data.decode("utf-8").replace(f">{value}<", f">{str(value)[:-1]}l<", 1)
    return name, text.encode("utf-8"), key, value


def test_a_reviewer_confirms_a_doubtful_reading_as_it_stands(session: Session) -> None:
    name, data, key, value = _garbled()
    doc = add_document(session, name, data)
    assert doc.id is not None and doc.status == Status.needs_review
    held = {f["rule"] for f in doc.findings or [] if key in f["cells"] and f["severity"] == "warning"}
    assert "PARSE-LOW-CONFIDENCE" in held
    claim(session, doc.id, REVIEWER.actor)
    outcome = correct_cell(session, doc, REVIEWER, key, value, "原文为31，字母l是1")
    assert not [f for f in outcome["findings"] if key in f["cells"] and f["rule"] == "PARSE-LOW-CONFIDENCE"]
    assert ParsedReport.from_json(doc.parsed or {}).cell_details[key].confidence == 1.0
    with pytest.raises(Invalid, match="already reads"):  # now certain: nothing left to confirm
        correct_cell(session, doc, REVIEWER, key, value)
