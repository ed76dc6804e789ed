"""Reports with known defects for the review desk's tests, made by the corpus generator."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlmodel import Session, SQLModel

from services.ingest.auth import Principal, Role
from services.parser import parse_document
from services.validator import ValidationContext, decide, validate
from shared.db import make_engine
from shared.models import Document, Status, Upload
from tests.corpus.generate import render_fast
from tests.corpus.make_samples import with_defect
from tests.corpus.truth import random_truth

REPORT_AS_OF = dt.date(2026, 12, 1)
DEFECT_CELL = "t3_granted__natural"  # with_defect adds one here: T3 sums fail
REVIEWER = Principal(1, Role.reviewer, ())
OTHER_REVIEWER = Principal(2, Role.reviewer, ())
VERDICT = {"approved": Status.approved, "needs_review": Status.needs_review, "rejected": Status.rejected}


def truth(seed: int) -> dict[str, Any]:
    return random_truth(random.Random(seed))


def broken_report(seed: int, style: str = "html_trs_utf8") -> tuple[str, bytes, dict[str, Any]]:
    """(filename, bytes, truth) of a report whose T3 sums fail; truth holds the right value."""
    made = truth(seed)
    right = made["cells"][DEFECT_CELL]
    name, data = render_fast(with_defect(made), style)
    made["cells"][DEFECT_CELL] = right
    return name, data, made


def sqlite_session(folder: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{folder / 'review.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        session.add(Upload(id="u1"))
        session.flush()
        yield session
    engine.dispose()


def add_document(
    session: Session, name: str, data: bytes, *, agency_key: str = "", status: Status | None = None, **fields: Any
) -> Document:
    """A document as the pipeline leaves it: parsed, checked, its verdict as status."""
    report = parse_document(data, name)
    findings = validate(report, ValidationContext(as_of=REPORT_AS_OF, submitted_for=agency_key or None))
    doc = Document(
        upload_id="u1",
        filename=name,
        size=len(data),
        sha256=f"{abs(hash(data)):064d}"[:64],
        storage_key=f"raw/{name}",
        agency_key=agency_key,
        agency=report.agency,
        agency_norm=report.agency,
        year=report.year,
        report_kind=report.report_kind,
        report_format=report.report_format,
        parsed=report.to_json(),
        findings=[f.to_json() for f in findings],
        status=status or VERDICT[decide(findings)],
        **fields,
    )
    session.add(doc)
    session.flush()
    return doc
