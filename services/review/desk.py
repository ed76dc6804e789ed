"""Reviewers' decisions: per finding, per cell (corrections, re-checked at once), per report.

A document is *under review* while the checks' verdict stands and no person has decided:
`needs_review`, or `rejected` by the validate stage itself (a misread cell can make a
good report fail a sum). Decisions on it:

* per finding: "source_wrong" (the agency must fix its table), "dismissed" with a
  reason, or "misread" — a cell correction (`correct_cell`);
* per cell: a `CellCorrection` (old → new, who, when, why; the file is never changed),
  after which the report is checked again with the validate stage's own context;
* per report: approve or reject (services/ingest/decisions.py, as the documents API does),
  a rejection with a reason code from `REJECT_REASONS`.

After a correction or a dismissal the status follows the open findings (the system's
step, actor "system:review"): errors left → `rejected`, none → `needs_review`, where a
person approves. Corrections survive reprocessing: the parse stage applies them again
to every new parse (services/parser/tasks.py). Every decision is a `DocumentEvent`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from services.agencies import load_aliases
from services.ingest.auth import Principal, Role
from services.ingest.decisions import DecisionRefused, approve, reject
from services.review import Conflict, Invalid, NotFound
from services.review.claims import ClaimHolder, claim, ensure_free_for, holder_of, release
from services.review.findings import (
    Correction,
    apply_corrections,
    cell_value,
    finding_key,
    holds,
    open_findings,
    verdict_without,
)
from services.validator import validate
from services.validator.tasks import validation_context
from shared.models import CellCorrection, Document, DocumentEvent, FindingDecision, Status, iso
from shared.report import CellValue, ParsedReport
from shared.tracking import record_event, set_status, system_actor

REVIEW_STEP = system_actor("review")
FINDING_DECISIONS = ("source_wrong", "dismissed")  # "misread" is recorded by correct_cell
# Why a report is sent back; the text of the code is stored with the reviewer's own words.
REJECT_REASONS: dict[str, tuple[str, str]] = {
    "source_table_wrong": ("报表数据有误，请核对后更正", "figures in the tables are wrong; correct and resubmit"),
    "arithmetic": ("表格数据不符合勾稽关系", "the tables' sums do not agree"),
    "missing_content": ("缺少规定的章节或表格", "required sections or tables are missing"),
    "wrong_template": ("未按规定格式编制", "not in the prescribed format"),
    "wrong_agency_or_year": ("机构名称或年度有误", "wrong agency name or year"),
    "not_a_report": ("不是政府信息公开工作年度报告", "not an annual report on government information disclosure"),
    "duplicate": ("重复提交", "submitted twice"),
    "other": ("其他", "other"),
}


def is_under_review(doc: Document) -> bool:
    return doc.status == Status.needs_review or (doc.status == Status.rejected and doc.decided_by is None)


def load_for_review(session: Session, document_id: int, principal: Principal) -> Document:
    """The document if the caller may see it; NotFound otherwise (never confirms others' ids)."""
    doc = session.get(Document, document_id)
    if doc is None or not principal.can_see(doc):
        raise NotFound("no such document")
    return doc


def dismissed_keys(session: Session, document_id: int) -> set[str]:
    return set(
        session.exec(
            select(FindingDecision.finding).where(
                FindingDecision.document_id == document_id, FindingDecision.decision == "dismissed"
            )
        )
    )


def corrections_of(session: Session, document_id: int) -> list[CellCorrection]:
    return list(
        session.exec(
            select(CellCorrection)
            .where(CellCorrection.document_id == document_id)
            .order_by(col(CellCorrection.id))
        )
    )


def stored_corrections(session: Session, document_id: int) -> list[Correction]:
    """The document's corrections in order, for `apply_corrections` (the parse stage)."""
    return [Correction(c.cell, c.new_value, c.actor) for c in corrections_of(session, document_id)]


# --- claims ------------------------------------------------------------------------


def claim_document(session: Session, doc: Document, principal: Principal) -> ClaimHolder:
    """Take the document for the caller (renew when held already); ClaimConflict names
    the reviewer who holds it."""
    if not is_under_review(doc):
        raise Conflict(f"the document is {doc.status.value}: not under review")
    assert doc.id is not None
    return claim(session, doc.id, principal.actor)


def release_document(session: Session, doc: Document, principal: Principal) -> bool:
    """Give the document back; ops may release anyone's claim."""
    assert doc.id is not None
    return release(session, doc.id, principal.actor, anyone=principal.role == Role.ops)


# --- per finding -------------------------------------------------------------------


def decide_finding(
    session: Session, doc: Document, principal: Principal, key: str, decision: str, reason: str = ""
) -> FindingDecision:
    """Record "source_wrong" or "dismissed" (reason required) on one finding."""
    if decision not in FINDING_DECISIONS:
        raise Invalid(f"decision must be one of {', '.join(FINDING_DECISIONS)} (correct a cell for 'misread')")
    reason = reason.strip()
    if decision == "dismissed" and not reason:
        raise Invalid("a dismissal needs a reason")
    _ensure_reviewable(session, doc, principal)
    finding = _finding(doc, key)
    row = _record_decision(session, doc, principal, finding, decision, reason)
    if decision == "dismissed":
        _follow_open_findings(session, doc)
    return row


def _finding(doc: Document, key: str) -> dict[str, Any]:
    for finding in doc.findings or []:
        if finding_key(finding) == key:
            return finding
    raise NotFound(f"no finding {key} on this document")


def _record_decision(
    session: Session, doc: Document, principal: Principal, finding: dict[str, Any], decision: str, reason: str
) -> FindingDecision:
    assert doc.id is not None
    row = FindingDecision(
        document_id=doc.id,
        finding=finding_key(finding),
        rule=str(finding.get("rule")),
        decision=decision,
        reason=reason,
        actor=principal.actor,
    )
    session.add(row)
    words = {"source_wrong": "the source table is wrong", "dismissed": "dismissed", "misread": "misread"}
    detail = f"finding {finding.get('rule')} ({', '.join(finding.get('cells') or [])}): {words[decision]}"
    record_event(session, doc.id, doc.status, detail=detail + (f" — {reason}" if reason else ""), actor=principal.actor)
    return row


# --- per cell ----------------------------------------------------------------------


def correct_cell(
    session: Session,
    doc: Document,
    principal: Principal,
    cell: str,
    value: Any,
    reason: str = "",
    finding: str | None = None,
) -> dict[str, Any]:
    """Correct a misread cell and check the report again at once.

    `finding` (a finding key) records the "misread" decision on the finding that led the
    reviewer to the cell. The same value is accepted for a doubtful cell: the reviewer
    confirms what the parser read. Returns the re-check's outcome.
    """
    _ensure_reviewable(session, doc, principal)
    report = ParsedReport.from_json(doc.parsed or {})
    if cell not in report.cells:
        raise NotFound(f"the report has no cell {cell}")
    new_value: CellValue = cell_value(value)
    old_value = report.cells[cell]
    if new_value == old_value and type(new_value) is type(old_value) and not _doubtful(report, cell):
        raise Invalid(f"{cell} already reads {old_value!r}")
    assert doc.id is not None
    if finding is not None:
        _record_decision(session, doc, principal, _finding(doc, finding), "misread", reason.strip())
    session.add(
        CellCorrection(
            document_id=doc.id,
            cell=cell,
            old_value=old_value,
            new_value=new_value,
            reason=reason.strip(),
            actor=principal.actor,
        )
    )
    apply_corrections(report, [Correction(cell, new_value, principal.actor)])
    detail = f"cell {cell} corrected: {old_value!r} → {new_value!r}" + (f" — {reason.strip()}" if reason.strip() else "")
    record_event(session, doc.id, doc.status, detail=detail, actor=principal.actor)
    return recheck(session, doc, report)


def _doubtful(report: ParsedReport, cell: str) -> bool:
    """A reading the parser was not sure of: the reviewer may confirm it as it stands
    (a correction to the same value makes it certain and clears its parse findings)."""
    detail = report.cell_details.get(cell)
    uncertain = detail is not None and detail.confidence < 1.0
    return uncertain or any(cell in f.cells for f in report.parse_findings)


def recheck(session: Session, doc: Document, report: ParsedReport) -> dict[str, Any]:
    """Validate the (corrected) report as the validate stage would, store the result, and
    let the status follow the open findings."""
    findings = validate(report, validation_context(session, doc, report, load_aliases(session)))
    doc.parsed = report.to_json()
    doc.findings = [f.to_json() for f in findings]
    session.add(doc)
    counts = {s: sum(f.severity == s for f in findings) for s in ("error", "warning", "info")}
    assert doc.id is not None
    detail = (
        f"checks re-run after a correction: {counts['error']} errors, "
        f"{counts['warning']} warnings, {counts['info']} info"
    )
    record_event(session, doc.id, doc.status, detail=detail, actor=REVIEW_STEP)
    _follow_open_findings(session, doc)
    return {"findings": doc.findings, "counts": counts, "status": doc.status.value}


def _follow_open_findings(session: Session, doc: Document) -> None:
    assert doc.id is not None
    verdict = verdict_without(doc.findings or [], dismissed_keys(session, doc.id))
    target = Status.rejected if verdict == "rejected" else Status.needs_review
    if target == doc.status:
        return
    detail = (
        "errors remain after the reviewer's decisions"
        if target == Status.rejected
        else "no errors left open: awaiting a reviewer's approval"
    )
    set_status(session, doc, target, detail=detail, actor=REVIEW_STEP)


def _ensure_reviewable(session: Session, doc: Document, principal: Principal) -> None:
    if not is_under_review(doc):
        decided = f" by {doc.decided_by}" if doc.decided_by else ""
        raise Conflict(f"the document is {doc.status.value}{decided}: not under review")
    if doc.parsed is None:
        raise Conflict("the document has no parse result")
    ensure_free_for(session, doc, principal.actor)


# --- per report ---------------------------------------------------------------------


def approve_report(session: Session, doc: Document, principal: Principal, reason: str | None = None) -> None:
    """Approve (then publish once committed: call shared.tracking.dispatch_pending)."""
    ensure_free_for(session, doc, principal.actor)
    try:
        approve(session, doc, principal, (reason or "").strip() or None)
    except DecisionRefused as exc:
        raise Conflict(str(exc)) from None
    assert doc.id is not None
    release(session, doc.id, principal.actor)


def reject_report(
    session: Session, doc: Document, principal: Principal, code: str, text: str = ""
) -> str:
    """Reject with a reason code (required) and the reviewer's words; returns the reason stored."""
    if code not in REJECT_REASONS:
        raise Invalid(f"reason code must be one of {', '.join(REJECT_REASONS)}")
    text = text.strip()
    if code == "other" and not text:
        raise Invalid("say why when the reason is 'other'")
    ensure_free_for(session, doc, principal.actor)
    reason = f"{code}: {REJECT_REASONS[code][0]}" + (f" — {text}" if text else "")
    try:
        reject(session, doc, principal, reason)
    except DecisionRefused as exc:
        raise Conflict(str(exc)) from None
    assert doc.id is not None
    release(session, doc.id, principal.actor)
    return reason


# --- what the desk shows ----------------------------------------------------------------


def event_actor(event: DocumentEvent) -> str:
    """People by token ("reviewer#3"); the system's own steps as "system:<stage>"
    (older rows recorded them without an actor)."""
    if event.actor:
        return event.actor
    return system_actor(event.stage.value if event.stage else "receive")


def review_view(session: Session, doc: Document, now: datetime | None = None) -> dict[str, Any]:
    """Everything the document page of the desk shows, beyond the report's tables."""
    assert doc.id is not None
    decisions = list(
        session.exec(
            select(FindingDecision)
            .where(FindingDecision.document_id == doc.id)
            .order_by(col(FindingDecision.id))
        )
    )
    dismissed = {d.finding for d in decisions if d.decision == "dismissed"}
    open_keys = {finding_key(f) for f in open_findings(doc.findings or [], dismissed)}
    findings = [
        {
            **f,
            "key": finding_key(f),
            "holds": holds(f),
            "open": finding_key(f) in open_keys,
            "decisions": [_decision_json(d) for d in decisions if d.finding == finding_key(f)],
        }
        for f in doc.findings or []
    ]
    events = session.exec(
        select(DocumentEvent).where(DocumentEvent.document_id == doc.id).order_by(col(DocumentEvent.id))
    ).all()
    held = holder_of(doc, now)
    return {
        "id": doc.id,
        "status": doc.status.value,
        "under_review": is_under_review(doc),
        "claim": held.to_json() if held else None,
        "findings": findings,
        "corrections": [_correction_json(c) for c in corrections_of(session, doc.id)],
        "history": [
            {
                "at": iso(e.at),
                "status": e.status.value,
                "stage": e.stage.value if e.stage else None,
                "detail": e.detail,
                "actor": event_actor(e),
            }
            for e in events
        ],
    }


def _decision_json(row: FindingDecision) -> dict[str, Any]:
    return {"decision": row.decision, "reason": row.reason, "by": row.actor, "at": iso(row.at)}


def _correction_json(row: CellCorrection) -> dict[str, Any]:
    return {
        "cell": row.cell,
        "old": row.old_value,
        "new": row.new_value,
        "reason": row.reason,
        "by": row.actor,
        "at": iso(row.at),
    }


def reject_reason_list() -> Sequence[dict[str, str]]:
    return [{"code": code, "zh": zh, "en": en} for code, (zh, en) in REJECT_REASONS.items()]
