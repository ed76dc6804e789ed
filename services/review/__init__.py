"""The review desk's domain: what reviewers see and decide, over a Session.

    source.py    a cell's source: PDF crop (PNG) or the text line / table row, marked (pure)
    findings.py  finding keys, open findings, corrections applied to a report (pure)
    claims.py    who works on which document, enforced by conditional UPDATEs
    desk.py      decisions per finding and per report, cell corrections with re-check
    queue.py     the queue with its filters and counts, bulk approval
    export.py    findings as XLSX (pure)
    coverage.py  live coverage per government and year

Every decision takes the caller's `Principal` (services/ingest/auth.py), so the API
routes (services/ingest/routes/review.py) and the web pages call the same code inside
one `session_scope()`; send the tasks a commit asked for afterwards
(`shared.tracking.dispatch_pending(doc.id)` after an approval). Errors are `ReviewError`s
carrying the HTTP status they map to (NotFound 404, Conflict 409, Invalid 422).

    doc = desk.load_for_review(session, id, principal)      # 404 unless the caller may see it
    desk.review_view(session, doc)                           # findings (keys, decisions), corrections, claim, history
    desk.claim_document / release_document(session, doc, principal)
    desk.decide_finding(session, doc, principal, key, "source_wrong" | "dismissed", reason)
    desk.correct_cell(session, doc, principal, cell, value, reason, finding=key)   # re-checks at once
    desk.approve_report(session, doc, principal, reason) / reject_report(…, code, text)
    queue.queue_page(session, QueueFilter(...)) / bulk_approve(session, principal, filter, rules, dry_run=)
    source.cell_source(doc, cell, raw_store)                 # PNG or JSON bytes, cached
    export.findings_workbook(export.finding_rows(...))       # XLSX bytes
    coverage.live_coverage(session, government, year, as_of)
"""

from __future__ import annotations


class ReviewError(Exception):
    """A request the desk refuses; `status_code` is what an HTTP answer should carry."""

    status_code = 409

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ReviewError):
    status_code = 404


class Conflict(ReviewError):
    status_code = 409


class Invalid(ReviewError):
    status_code = 422
