"""The office's coverage page: live from the database, unpublished states included."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import or_
from sqlmodel import col, select

from services.agencies import expected_by_government
from services.ingest.web.coverage import (
    STATE_LABELS,
    SubmissionFact,
    coverage_counts,
    coverage_for_year,
)
from services.ingest.web.deps import OfficeUser
from services.ingest.web.rendering import page
from services.publisher.model import BEIJING
from shared.db import session_scope
from shared.models import Document, Status, utcnow

router = APIRouter(prefix="/desk", include_in_schema=False)


def _fact(doc: Document, year: int) -> SubmissionFact:
    parsed = doc.parsed or {}
    kind = doc.report_kind if doc.report_kind in ("agency", "summary") else "agency"
    return SubmissionFact(
        document_id=doc.id or 0,
        agency=doc.agency or doc.agency_key,
        year=year,
        report_kind=kind,  # type: ignore[arg-type]
        status=doc.status,
        received_at=doc.received_at,
        published_on=parsed.get("published_on"),
    )


@router.get("/coverage")
def coverage_page(
    request: Request,
    user: OfficeUser,
    year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
    government: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    today = utcnow().astimezone(BEIJING).date()
    chosen_year = year or today.year - 1  # in January the office chases last year's reports
    with session_scope() as session:
        expected = expected_by_government(session)
        docs = session.exec(
            select(Document)
            .where(
                or_(
                    col(Document.year) == chosen_year,
                    (col(Document.year).is_(None)) & (col(Document.year_hint) == chosen_year),
                )
            )
            .where(col(Document.duplicate_of).is_(None), Document.status != Status.superseded)
        ).all()
        facts = [_fact(d, chosen_year) for d in docs]
    table = coverage_for_year(expected, facts, chosen_year, today)
    shown = {g: rows for g, rows in table.items() if not government or g == government}
    return page(
        request,
        "coverage.html",
        user=user,
        year=chosen_year,
        years=list(range(today.year, today.year - 6, -1)),
        government=government,
        governments=list(table),
        table=shown,
        counts=coverage_counts(row for rows in shown.values() for row in rows),
        labels=STATE_LABELS,
        today=date.isoformat(today),
    )
