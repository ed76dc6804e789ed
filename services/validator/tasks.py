"""Validate stage: check the parsed report against the rule catalogue and decide.

The database supplies the context the rules need (previous year's report, member
reports of a summary, other agencies' texts); the rules themselves are pure
(services.validator).
"""

from __future__ import annotations

from datetime import UTC, date, timedelta

from celery import Task
from sqlalchemy import delete, func, or_, text, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import load_only
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from services.agencies import load_aliases, members_of
from services.validator import (
    PeerTextIndex,
    ValidationContext,
    decide,
    normalise_agency_name,
    text_signature,
    validate,
)
from services.validator.copied_text import band_buckets, copy_check_text
from shared.celery_app import TASK_NAMES, celery_app
from shared.models import CopyBucket, Document, Stage, Status, utcnow
from shared.report import ParsedReport
from shared.settings import get_settings
from shared.stages import DeferStage, PermanentStageError, StageOutcome, run_stage

VERDICT_STATUS = {
    "approved": Status.approved,
    "needs_review": Status.needs_review,
    "rejected": Status.rejected,
}
MAX_COPY_CANDIDATES = 50  # reports a copy check compares in full, the nearest first
MAX_BUCKET_MEMBERS = 200  # reports a copy check counts per LSH bucket, the newest first

# Reports that count as an agency's word for a year (a failed or duplicate upload does not).
STANDING = (
    Status.parsed,
    Status.validating,
    Status.needs_review,
    Status.approved,
    Status.publishing,
    Status.published,
)


@celery_app.task(name=TASK_NAMES[Stage.validate], bind=True, max_retries=5)
def validate_task(self: Task, document_id: int) -> None:
    run_stage(self, Stage.validate, document_id, validate_parsed_document)


def validate_parsed_document(session: Session, doc: Document) -> StageOutcome:
    """The validate stage: bind the document to its series, number it, check it."""
    report = _parsed_report(doc)
    aliases = load_aliases(session)
    bound = doc.agency_key or report.agency
    doc.agency_norm = normalise_agency_name(bound, aliases) if bound else None
    newer = None if doc.version is not None else assign_version(session, doc)
    outcome = check_document(session, doc, report, aliases)
    if newer is not None:
        return StageOutcome(
            Status.superseded,
            detail=f"{outcome.detail}; not a version: a later upload of this report (document {newer}) "
            "was read first, so this older one is kept as superseded",
        )
    return outcome


def recheck_parsed_document(session: Session, doc: Document) -> StageOutcome:
    """The checks again on a new parse (ops reprocess): series and version stay as they are."""
    return check_document(session, doc, _parsed_report(doc), load_aliases(session))


def _parsed_report(doc: Document) -> ParsedReport:
    if doc.parsed is None:
        raise PermanentStageError("no parse result to validate; retry from the parse stage")
    return ParsedReport.from_json(doc.parsed)


def check_document(
    session: Session, doc: Document, report: ParsedReport, aliases: dict[str, str]
) -> StageOutcome:
    """Run the rules with the context the database gives and decide; fills findings."""
    doc.text_signature = text_signature(copy_check_text(report))
    record_copy_buckets(session, doc)
    findings = validate(report, validation_context(session, doc, report, aliases))
    doc.findings = [finding.to_json() for finding in findings]
    verdict = decide(findings)
    counts = {s: sum(f.severity == s for f in findings) for s in ("error", "warning", "notice", "info")}
    detail = (
        f"{verdict}: {counts['error']} errors, {counts['warning']} warnings, {counts['notice']} notices, "
        f"{counts['info']} info"
    )
    next_stage = Stage.publish if verdict == "approved" else None
    return StageOutcome(VERDICT_STATUS[verdict], detail=detail, next_stage=next_stage)


def validation_context(
    session: Session, doc: Document, report: ParsedReport, aliases: dict[str, str]
) -> ValidationContext:
    """What the rules need to know beyond the report itself, read from the database.

    Used by the validate stage and by the review desk's re-check after a correction, so
    both judge a report the same way. Needs `doc.agency_norm` set (the stage sets it).
    """
    return ValidationContext(
        as_of=date.today(),
        previous=_previous_year(session, doc),
        members=_member_reports(session, doc, report),
        expected_members=_expected_members(session, doc, report),
        peers=_peer_index(session, doc),
        severity_overrides=get_settings().severity_overrides,
        submitted_for=doc.agency_key or None,
        aliases=aliases,
    )


def _same_agency(doc: Document, year: int | None, statuses: tuple[Status, ...]) -> SelectOfScalar[Document]:
    return select(Document).where(
        Document.agency_norm == doc.agency_norm,
        Document.year == year,
        col(Document.status).in_(statuses),
        col(Document.duplicate_of).is_(None),
    )


def assign_version(session: Session, doc: Document) -> int | None:
    """Number the document within its series (bound agency, year) in receipt order, once.

    Receipt order, not processing order: while an earlier upload for the same agency is
    still unread the stage is deferred (a lost message or a slow file must not let a later
    upload take its number), for at most the time the sweeper needs to bring a lost upload
    back. An older upload read after a later one already has its number is not a version:
    its id is returned (the later upload's) and it is kept as superseded.
    The unique index on (agency_norm, year, version) settles two validators racing.
    """
    if doc.agency_norm is None or doc.year is None:
        doc.version = 1  # no series: META-AGENCY / META-YEAR keep it off the portal
        return None
    _wait_for_earlier_uploads(session, doc)
    session.flush()  # the savepoint below must roll back nothing but the number
    for _ in range(5):
        newer, highest = series_numbers(session, doc)
        if newer is not None:
            return newer
        try:
            with session.begin_nested():
                doc.version = highest + 1
                session.flush()
            return None
        except IntegrityError:  # another validator took that number first: take the next
            continue
    raise DeferStage("other validators kept taking the next version number of this series")


def series_numbers(session: Session, doc: Document) -> tuple[int | None, int]:
    """(the first later upload of the series that has a number, if any; the series'
    highest number, 0 if none) in one statement."""
    numbered_later = (col(Document.id) > doc.id) & col(Document.version).is_not(None)
    newer, highest = session.exec(
        select(func.min(Document.id).filter(numbered_later), func.max(Document.version)).where(
            Document.agency_norm == doc.agency_norm, Document.year == doc.year
        )
    ).one()
    return newer, highest or 0


UNREAD = (Status.received, Status.parsing, Status.parsed, Status.validating)
IN_THIS_STAGE = (Status.parsed, Status.validating)


def _wait_for_earlier_uploads(session: Session, doc: Document) -> None:
    """Defer while an earlier upload of the same agency is unread. One not parsed yet may be
    lost or slow: it is waited for only as long as the sweeper needs to bring it back. One
    already parsed waits in this stage's own queue (or is being checked beside this one),
    and a lost message of it is re-sent by the sweeper: it is always waited for, or a
    backlog left by a stopped validator would be numbered in whatever order its workers
    took it."""
    if not doc.agency_key:
        return  # an ops upload naming no agency: its series is known only once read
    settings = get_settings()
    patience = timedelta(seconds=settings.requeue_waiting_after + settings.stage_time_limit)
    received = doc.received_at if doc.received_at.tzinfo else doc.received_at.replace(tzinfo=UTC)
    statuses = UNREAD if utcnow() - received <= patience else IN_THIS_STAGE
    earlier = session.exec(
        select(Document.id)
        .where(
            Document.agency_key == doc.agency_key,
            col(Document.id) < doc.id,
            col(Document.version).is_(None),
            col(Document.duplicate_of).is_(None),
            col(Document.status).in_(statuses),
            or_(col(Document.year).is_(None), col(Document.year) == doc.year),
        )
        .order_by(col(Document.id))
    ).first()
    if earlier is not None:
        raise DeferStage(
            f"waiting for the earlier upload {earlier} of {doc.agency_key} to be read, "
            "so that versions follow the order of receipt"
        )


def _previous_year(session: Session, doc: Document) -> ParsedReport | None:
    if doc.agency_norm is None or doc.year is None:
        return None
    # Only the status and the parse result: the other JSON columns are not read here.
    rows = session.exec(
        _same_agency(doc, doc.year - 1, STANDING)
        .options(load_only(col(Document.status), col(Document.parsed)))  # type: ignore[arg-type]
        .order_by(col(Document.id).desc())
    ).all()
    # The published version is the agency's word for that year; else its latest upload.
    candidates = [r for r in rows if r.status == Status.published] or list(rows)
    best = next((r for r in candidates if r.parsed), None)
    return ParsedReport.from_json(best.parsed) if best is not None and best.parsed else None


def government_place(name: str) -> str | None:
    """ "淮安市洪泽区人民政府" → "淮安市洪泽区": the prefix its member agencies share."""
    for suffix in ("人民政府", "政府"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name or None


def _expected_members(session: Session, doc: Document, report: ParsedReport) -> list[str] | None:
    if report.report_kind != "summary" or doc.agency_norm is None:
        return None
    return [entry.name for entry in members_of(session, doc.agency_norm)] or None


def like_prefix(text: str) -> str:
    """A LIKE pattern (escape character "/") matching the strings that start with `text`."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _member_reports(session: Session, doc: Document, report: ParsedReport) -> list[ParsedReport] | None:
    """Member reports of a summary: the registry's members when ops registered them;
    otherwise the agencies whose names start with the government's place name."""
    if report.report_kind != "summary" or doc.agency_norm is None or doc.year is None:
        return None
    query = select(Document).where(
        Document.year == doc.year, Document.report_kind == "agency", col(Document.status).in_(STANDING)
    )
    registered = [entry.name_norm for entry in members_of(session, doc.agency_norm)]
    place = government_place(doc.agency_norm)
    if registered:
        query = query.where(col(Document.agency_norm).in_(registered))
    elif place is not None:
        # The pattern as one value (not `place || '%'`), so the planner sees the prefix and
        # takes ix_document_agency_prefix.
        query = query.where(col(Document.agency_norm).like(like_prefix(place), escape="/"))
    else:
        return None
    rows = session.exec(query).all()
    latest: dict[str, Document] = {}
    for row in rows:  # one report per member: its newest version
        if row.agency_norm and (row.agency_norm not in latest or row.id > latest[row.agency_norm].id):  # type: ignore[operator]
            latest[row.agency_norm] = row
    return [ParsedReport.from_json(r.parsed) for r in latest.values() if r.parsed] or None


def _peer_index(session: Session, doc: Document) -> PeerTextIndex | None:
    """The reports of the year that share an LSH bucket with this one (`CopyBucket`): the
    only ones a copy could be of, so the check costs the same whatever the archive's size."""
    buckets = band_buckets(doc.text_signature or [])
    if doc.year is None or not buckets:
        return None
    bands_shared = bucket_neighbours(session, doc, buckets)
    if not bands_shared:
        return None
    standing = session.exec(
        select(Document.id, Document.agency_norm, Document.text_signature).where(
            col(Document.id).in_(list(bands_shared)),
            Document.year == doc.year,
            col(Document.text_signature).is_not(None),
            col(Document.status).in_(STANDING),
        )
    ).all()
    rows = sorted(standing, key=lambda row: (-bands_shared[row[0]], row[0]))[:MAX_COPY_CANDIDATES]
    if not rows:
        return None
    return PeerTextIndex.from_signatures((str(i), agency or "", sig) for i, agency, sig in rows)


def bucket_neighbours(session: Session, doc: Document, buckets: list[tuple[int, str]]) -> dict[int, int]:
    """The reports sharing the most of the document's buckets → how many they share.

    The nearest are the copy check's candidates: a boilerplate text that shares buckets
    with thousands of reports is compared with the nearest standing ones only (a pool
    twice MAX_COPY_CANDIDATES is counted: some may be superseded or still unread). On
    PostgreSQL each bucket also gives its newest MAX_BUCKET_MEMBERS only, so that
    counting stays bounded when a phrase is in every report of a year (100,000 reports:
    a bucket of thousands cost 20 ms a check); a copy shares most of its source's
    buckets, so a crowded one or two leave the source among the nearest. (SQLite, the
    embedded default, holds one office's archive: every member is counted.)"""
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            _NEWEST_MEMBERS_SHARED,
            {
                "year": doc.year,
                "document_id": doc.id,
                "bands": [band for band, _ in buckets],
                "buckets": [bucket for _, bucket in buckets],
                "per_bucket": MAX_BUCKET_MEMBERS,
                "nearest": 2 * MAX_COPY_CANDIDATES,
            },
        ).all()
        return {int(document_id): int(count) for document_id, count in rows}
    shared = func.count().label("shared")
    nearest = session.exec(
        select(CopyBucket.document_id, shared)
        .where(
            CopyBucket.year == doc.year,
            tuple_(col(CopyBucket.band), col(CopyBucket.bucket)).in_(buckets),
            col(CopyBucket.document_id) != doc.id,
        )
        .group_by(col(CopyBucket.document_id))
        .order_by(shared.desc(), col(CopyBucket.document_id))
        .limit(2 * MAX_COPY_CANDIDATES)
    ).all()
    return dict(nearest)


# Each bucket's newest members by a backward walk of the primary key (year, bucket, band,
# document_id); one statement whatever the number of bands.
_NEWEST_MEMBERS_SHARED = text(
    """
    SELECT member.document_id, count(*) AS shared
    FROM unnest(CAST(:bands AS integer[]), CAST(:buckets AS varchar[])) AS wanted(band, bucket)
    CROSS JOIN LATERAL (
        SELECT c.document_id FROM copybucket AS c
        WHERE c.year = :year AND c.bucket = wanted.bucket AND c.band = wanted.band
          AND c.document_id <> :document_id
        ORDER BY c.document_id DESC
        LIMIT :per_bucket
    ) AS member
    GROUP BY member.document_id
    ORDER BY shared DESC, member.document_id
    LIMIT :nearest
    """
)


def record_copy_buckets(session: Session, doc: Document) -> None:
    """The document's LSH buckets for later copy checks, replacing earlier ones (a new
    parse may change its text or year); idempotent."""
    assert doc.id is not None
    session.execute(delete(CopyBucket).where(col(CopyBucket.document_id) == doc.id))
    if doc.year is None:
        return
    for band, bucket in band_buckets(doc.text_signature or []):
        session.add(CopyBucket(year=doc.year, band=band, bucket=bucket, document_id=doc.id))
