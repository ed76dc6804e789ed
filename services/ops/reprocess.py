"""Re-run parse and validate on a stored report without ever losing the old result.

The new parse and findings are computed on a detached copy of the row; only when both
succeed are ``parsed``, ``findings``, ``parser_version`` and ``text_signature`` swapped
in, with one conditional UPDATE that holds only if the document's status has not moved
meanwhile. Status is never changed: a published report stays published, and a verdict
that would now differ is written in the history for a reviewer to act on. A failure
leaves the old result in place and says why in the history.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from services.ops.actions import REPROCESSABLE
from services.parser.tasks import parse_stored_document
from services.validator.tasks import recheck_parsed_document
from shared.db import session_scope
from shared.models import Document, Status
from shared.report import UnreadableDocument
from shared.stages import TRANSIENT_ERRORS, PermanentStageError
from shared.tracking import record_event

log = logging.getLogger("nianbao.ops.reprocess")
SWAPPED = ("parsed", "findings", "parser_version", "text_signature")


def _rules(findings: list[dict[str, Any]] | None) -> set[str]:
    return {f"{f.get('rule')}/{f.get('severity')}" for f in findings or []}


def describe_changes(old: Document, new: Document, verdict: Status) -> str:
    """One line for the history: what the new parse and findings change."""
    old_cells = (old.parsed or {}).get("cells", {})
    new_cells = (new.parsed or {}).get("cells", {})
    changed = sorted(k for k in old_cells.keys() | new_cells.keys() if old_cells.get(k) != new_cells.get(k))
    added = sorted(_rules(new.findings) - _rules(old.findings))
    removed = sorted(_rules(old.findings) - _rules(new.findings))
    parts = [
        f"reprocessed: parser {old.parser_version or '?'} → {new.parser_version}",
        f"{len(changed)} cells changed"
        + (f" ({', '.join(changed[:5])}{' …' if len(changed) > 5 else ''})" if changed else ""),
        f"findings {len(old.findings or [])} → {len(new.findings or [])}",
    ]
    if added:
        parts.append("new: " + ", ".join(added[:8]))
    if removed:
        parts.append("gone: " + ", ".join(removed[:8]))
    if verdict != old.status:
        parts.append(f"the verdict would now be {verdict.value}; status kept at {old.status.value}")
    for name in ("agency", "year"):
        if getattr(new, name) != getattr(old, name):
            parts.append(f"the new parse reads {name} {getattr(new, name)!r} (kept {getattr(old, name)!r})")
    return "; ".join(parts)


def _candidate(session: Session, doc: Document) -> tuple[Document, Status]:
    """The row as parse and validate would leave it, without touching the stored row."""
    copy = Document.model_validate(doc.model_dump())
    parse_stored_document(session, copy)
    outcome = recheck_parsed_document(session, copy)
    return copy, outcome.status


def reprocess_document(document_id: int, actor: str | None = None) -> str:
    """Reprocess one document; returns the history line it wrote.

    Transient faults (storage, database) propagate for the task to retry.
    """
    with session_scope() as session:
        doc = session.get(Document, document_id)
        if doc is None:
            return "no such document"
        if doc.status not in REPROCESSABLE:
            detail = f"reprocess skipped: the document is now {doc.status.value}"
            record_event(session, document_id, doc.status, detail=detail, actor=actor)
            return detail
        status_then = doc.status
        failure: str | None = None
        try:
            new, verdict = _candidate(session, doc)
        except TRANSIENT_ERRORS:
            raise
        except UnreadableDocument as exc:
            failure = f"{exc.code}: {exc.message}"
        except PermanentStageError as exc:
            failure = str(exc)
        except Exception as exc:  # a bug in our code must not cost the old result
            log.exception("document %s: reprocess crashed", document_id)
            failure = f"internal error: {type(exc).__name__}: {exc}"
        if failure is not None:
            detail = f"reprocess failed, previous result kept: {failure}"[:2000]
            record_event(session, document_id, status_then, detail=detail, actor=actor)
            return detail
        detail = describe_changes(doc, new, verdict)[:2000]
        # Nothing may have moved the document while we worked (a review, a publish).
        swapped = session.execute(
            update(Document)
            .where(col(Document.id) == document_id, col(Document.status) == status_then)
            .values(**{name: getattr(new, name) for name in SWAPPED})
        )
        if swapped.rowcount != 1:  # type: ignore[attr-defined]
            detail = "reprocess discarded: the document's status changed while it ran"
        record_event(session, document_id, status_then, detail=detail, actor=actor)
        return detail
