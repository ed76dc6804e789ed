"""Database tables (SQLModel). Schema changes go through Alembic (shared/migrations)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlalchemy.orm import defer
from sqlalchemy.sql.base import ExecutableOption
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, the one way times leave the system."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Status(StrEnum):
    """Where a document stands. The order of the pipeline is
    received → parsing → parsed → validating → (approved | needs_review | rejected)
    → publishing → published (→ superseded by a newer published version);
    `failed` means the pipeline could not process the file, with the reason recorded."""

    received = "received"
    parsing = "parsing"
    parsed = "parsed"
    validating = "validating"
    needs_review = "needs_review"
    rejected = "rejected"
    approved = "approved"
    publishing = "publishing"
    published = "published"
    failed = "failed"
    superseded = "superseded"


class Stage(StrEnum):
    parse = "parse"
    validate = "validate"
    publish = "publish"


# The status a stage starts from, the one it holds while running, and which statuses
# mean a stage's work is already done (so a repeated message does nothing).
STAGE_WAITING = {Stage.parse: Status.received, Stage.validate: Status.parsed, Stage.publish: Status.approved}
STAGE_RUNNING = {
    Stage.parse: Status.parsing,
    Stage.validate: Status.validating,
    Stage.publish: Status.publishing,
}
TERMINAL = {Status.rejected, Status.published, Status.failed, Status.superseded}
WAITING_FOR_HUMAN = {Status.needs_review}


class Upload(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("token_id", "idempotency_key", name="uq_upload_idempotency"),)

    id: str = Field(primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    token_id: int | None = Field(default=None, foreign_key="apitoken.id")
    agency_hint: str | None = None
    year_hint: int | None = None
    idempotency_key: str | None = None
    # The exact answer given, so a retried request with the same Idempotency-Key gets it again;
    # and a digest of what was sent, so a different request reusing the key is refused.
    response: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    request_sha256: str | None = None


class Document(SQLModel, table=True):
    __table_args__ = (
        Index("ix_document_status_changed", "status", "status_changed_at"),
        Index("ix_document_sha_agency", "sha256", "agency_key"),
        Index("ix_document_agency_year", "agency_norm", "year"),
        # A summary report's members by the government's place name (LIKE '淮安市洪泽区%'):
        # byte-wise order lets PostgreSQL scan the prefix whatever the database's collation.
        Index("ix_document_agency_prefix", "agency_norm", "year", postgresql_ops={"agency_norm": "text_pattern_ops"}),
        # One number per version of an agency's report for a year, whatever the workers do.
        Index("uq_document_series_version", "agency_norm", "year", "version", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    upload_id: str = Field(foreign_key="upload.id", index=True)
    submission_no: str | None = Field(default=None, unique=True)
    received_at: datetime = Field(default_factory=utcnow)
    filename: str
    size: int
    sha256: str
    storage_key: str
    # Agency the upload was made for (the uploader token's agency or the checked `agency`
    # field): the document is bound to it. It scopes duplicates, access, versions and
    # superseding; "" only for ops uploads that named no agency (then the parsed one counts).
    agency_key: str = ""
    agency_hint: str | None = None
    year_hint: int | None = None

    status: Status = Field(default=Status.received, index=True)
    status_changed_at: datetime = Field(default_factory=utcnow)
    failed_stage: Stage | None = None
    error: str | None = None
    duplicate_of: int | None = Field(default=None, foreign_key="document.id")

    # Claim of the stage now running: who (task id), since when, last sign of life, how
    # many deliveries.
    claim_task_id: str | None = None
    stage_started_at: datetime | None = None
    claim_heartbeat_at: datetime | None = None
    stage_attempts: int = 0
    last_enqueued_at: datetime | None = None

    # What parsing found (the document's own word, not the hints) ...
    agency: str | None = None
    # ... except the series key: the bound agency's normalised name (agency_key, else the
    # parsed agency), under which versions are numbered and published.
    agency_norm: str | None = None
    year: int | None = Field(default=None, index=True)
    report_kind: str | None = None
    report_format: str | None = None
    # Version of the agency's report for the year, in receipt order: assigned once, when
    # the document is first validated (services/validator/tasks.py), unique per series.
    version: int | None = None
    parser_version: str | None = None
    parsed: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    findings: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    text_signature: list[int] | None = Field(default=None, sa_column=Column(JSON))

    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    published_at: datetime | None = None
    # Ops has seen this failure (it leaves the failure list but keeps its status).
    failure_acknowledged_at: datetime | None = None
    # The review desk's claim: which reviewer works on it, until when (services/review/claims.py).
    review_holder: str | None = None
    review_expires_at: datetime | None = None


class DocumentEvent(SQLModel, table=True):
    """Append-only history of a document: one row per status change or notable step."""

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    status: Status
    stage: Stage | None = None
    attempt: int = 0
    detail: str = ""
    actor: str | None = None


class OutboxMessage(SQLModel, table=True):
    """A task to send, written in the same transaction as the status change that calls
    for it, so that a broker outage between commit and send loses nothing."""

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    stage: Stage
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = Field(default=None, index=True)


class ApiToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True)
    role: str
    agencies: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    label: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    expires_at: datetime | None = None  # None: valid until revoked


class Publication(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("document_id", name="uq_publication_document"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id")
    agency_norm: str = Field(index=True)
    year: int
    version: int
    published_at: datetime = Field(default_factory=utcnow)
    published_by: str = "pipeline"
    location: str  # portal path of the report page
    retracted_at: datetime | None = None
    retract_reason: str | None = None
    # The few KB of the parse result the site-wide pages read (its cells and date; see
    # services/publisher/tasks.py `site_part_of`), so a site refresh over the whole archive
    # does not load every report's whole parse result.
    site_part: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class PortalState(SQLModel, table=True):
    """One row: how far the portal's site-wide pages (index, search, coverage, statistics,
    open data) lag behind the reports. Publishing bumps `dirty_seq`; a site refresh
    rebuilds them once for any number of publications and records `built_seq`. On SQLite,
    updating this row is also the portal's write lock; PostgreSQL has a lock per report
    series and one for the site pages (services/publisher/tasks.py)."""

    id: int = Field(default=1, primary_key=True)
    dirty_seq: int = 0
    built_seq: int = 0
    refresh_sent_at: datetime | None = None
    last_build_seconds: float | None = None  # the last rebuild's duration (sets the interval)


class RegisteredAgency(SQLModel, table=True):
    """Who must report to whom: the member agencies of each government (ops maintain it
    with `nianbao agencies import`). Drives coverage ("who has not published") and the
    summary-vs-members checks."""

    name_norm: str = Field(primary_key=True)  # normalised like Document.agency_norm
    name: str
    government: str = Field(index=True)  # the government's normalised name


class AgencyAlias(SQLModel, table=True):
    """Old or variant agency names → the current one (机构改革 renames); edited by ops."""

    alias: str = Field(primary_key=True)
    canonical: str


class WebhookDelivery(SQLModel, table=True):
    """One attempt to push a publication to an external portal (the delivery log)."""

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    target: str  # the configured target's name, never a URL taken from a request
    event: str  # "report.published" | "report.retracted"
    idempotency_key: str
    attempt: int
    at: datetime = Field(default_factory=utcnow)
    status_code: int | None = None
    ok: bool = False
    error: str | None = None


class CellCorrection(SQLModel, table=True):
    """A reviewer's correction of a misread cell: the uploaded file never changes, the
    parsed report carries the corrected value, and every re-parse applies it again."""

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    cell: str  # the spec's cell key, e.g. t3_granted__natural
    old_value: Any = Field(default=None, sa_column=Column(JSON))  # int | float | None
    new_value: Any = Field(default=None, sa_column=Column(JSON))
    reason: str = ""
    actor: str
    at: datetime = Field(default_factory=utcnow)


class FindingDecision(SQLModel, table=True):
    """A reviewer's word on one finding: the source table is wrong (the agency must fix
    it), we misread it (a CellCorrection), or dismissed with a reason."""

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    finding: str  # the finding's key (services/review/findings.py finding_key)
    rule: str
    decision: str  # "source_wrong" | "misread" | "dismissed"
    reason: str = ""
    actor: str
    at: datetime = Field(default_factory=utcnow)


class WebSession(SQLModel, table=True):
    """A browser signed in to the season desk with an API token (services/ingest/web).

    The cookie carries a random id (signed); only its hash is stored, so a database
    dump signs nobody in. Sign-out or revoking the token ends the session at once."""

    id_hash: str = Field(primary_key=True)
    token_id: int = Field(foreign_key="apitoken.id", index=True)
    csrf_token: str  # sent back in every form/POST made from the pages
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    ended_at: datetime | None = None


class SignInLink(SQLModel, table=True):
    """A short-lived, single-use link that signs a browser in (`nianbao token create`)."""

    code_hash: str = Field(primary_key=True)
    token_id: int = Field(foreign_key="apitoken.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None  # set once; a replay finds it and is refused


class CopyBucket(SQLModel, table=True):
    """One LSH band of a document's narrative signature (services/validator/copied_text.py
    `band_buckets`): the documents of a year that share a (band, bucket) are the candidates
    of a copy check, found by the primary key's prefix without reading the others."""

    # Key order (year, bucket, …): a check looks its buckets up by year and bucket.
    year: int = Field(primary_key=True)
    bucket: str = Field(primary_key=True, max_length=16)
    band: int = Field(primary_key=True)
    document_id: int = Field(primary_key=True, foreign_key="document.id", index=True)


def without_bulky_columns() -> list[ExecutableOption]:
    """Query options leaving a document's JSON columns unloaded (its parse result alone is
    about 50 KB): lists and status polls show none of them and are read far more often."""
    return [defer(Document.parsed), defer(Document.findings), defer(Document.text_signature)]  # type: ignore[arg-type]
