"""The review desk's domain: what reviewers see and decide, over a Session.

    source.py    a cell's source: PDF crop (PNG) or the text line / table row, marked (pure)
    findings.py  finding keys, open findings, corrections applied to a report (pure)
    claims.py    who works on which document, enforced by conditional UPDATEs
    desk.py      decisions per finding and per report, cell corrections with re-check
    queue.py     the queue with its filters and counts, bulk approval
    export.py    findings as XLSX (pure)
    coverage.py  live coverage per government and year

Every function takes the caller's `Principal` (services/ingest/auth.py), so the API
routes (services/ingest/routes/review.py) and the web pages call the same code.
Errors are `ReviewError`s carrying the HTTP status they map to.
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
