"""Every setting of every service, in one place.

Each variable is read from the environment with the prefix ``NIANBAO_`` (e.g.
``NIANBAO_DATABASE_URL``); the README lists them. The defaults are the embedded
deployment: SQLite, a local storage directory and kombu's filesystem broker under
``NIANBAO_DATA_DIR`` — no server to install.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebhookTarget(BaseModel):
    """An external portal that receives signed publication events (configured by ops)."""

    name: str
    url: str
    secret: str


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NIANBAO_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")

    # Database: PostgreSQL in production, SQLite (file under data_dir) by default.
    database_url: str = ""

    # Broker: "redis://host:6379/0" in production; "filesystem://" (embedded) by default.
    broker_url: str = "filesystem://"
    # Redis re-delivers an unacknowledged task after this many seconds (worker lost);
    # it must exceed the longest task run plus the longest retry countdown.
    broker_visibility_timeout: int = 600
    # Prefix of every Redis key the broker uses, so several deployments (or test runs)
    # can share one Redis without taking each other's tasks.
    broker_key_prefix: str = ""

    # Object storage: "s3" (MinIO or any S3 server) or "local" (a directory).
    storage_backend: Literal["local", "s3"] = "local"
    s3_endpoint: str = "127.0.0.1:9000"
    s3_access_key: str = "minioadmin"
    s3_secret_key: str = "minioadmin"
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    # Seconds before a storage call gives up (then retried by the stage, or a 503 from the
    # API): shorter than an upload client waits, so a stalled server gets a clear answer.
    s3_connect_timeout: float = 3.0
    s3_read_timeout: float = 10.0
    raw_bucket: str = "nianbao-raw"
    portal_bucket: str = "nianbao-portal"

    # Public address of the portal and the API, printed to users.
    portal_url: str = "http://127.0.0.1:8000/portal/"
    api_url: str = "http://127.0.0.1:8000"

    # Upload limits (per request, per file and per zip member).
    max_request_bytes: int = 200 * 1024 * 1024  # whole request; above it 413 before reading on
    max_upload_bytes: int = 50 * 1024 * 1024
    max_zip_members: int = 500
    max_member_bytes: int = 50 * 1024 * 1024
    max_zip_total_bytes: int = 500 * 1024 * 1024
    max_zip_ratio: int = 100  # uncompressed/compressed; above it a member is a zip bomb

    # Scanned reports (OCR): bounds of the work one document may cost.
    ocr_max_pages: int = 30  # more scanned pages than this: failed, too_many_pages
    ocr_dpi: int = 200  # resolution image-only PDF pages are rendered at
    ocr_time_limit: int = 240  # seconds of OCR per document; beyond: failed, ocr_time_limit

    # Pipeline robustness.
    max_stage_attempts: int = 6  # deliveries of one stage before the document is `failed`
    retry_backoff_max: int = 60  # seconds; cap of the exponential retry countdown
    stage_time_limit: int = 300  # seconds a stage may run before the sweeper re-queues it
    # A running stage renews its claim every `claim_heartbeat_interval` seconds; a claim not
    # renewed for `claim_heartbeat_timeout` belongs to a dead worker and is taken over.
    claim_heartbeat_interval: float = 5.0
    claim_heartbeat_timeout: int = 20
    requeue_waiting_after: int = 600  # seconds a waiting document may sit before re-sending
    sweep_interval: float = 5.0
    # Niceness of the pipeline workers (0–19): uploads and the desk's pages, where a person
    # waits, get the CPU first when both share a machine; the queue absorbs the difference.
    worker_nice: int = Field(default=10, ge=0, le=19)
    # Celery task events (sent, received, started, succeeded: four Redis messages a task)
    # from the start. Off: Flower turns the workers' on while it runs (its enable_events),
    # and nothing of ours reads them (the ops summary reads the history and the broker).
    task_events: bool = False

    # External portals to push publications to, as JSON:
    # [{"name": "province", "url": "https://…/hook", "secret": "…"}]
    webhook_targets: list[WebhookTarget] = Field(default_factory=list)
    webhook_max_attempts: int = 5  # per push task; the sweeper sends a new task later
    webhook_backoff_cap: float = 60.0
    webhook_resend_after: int = 600  # seconds before the sweeper re-sends an undelivered push

    # Season desk (the web pages under /desk): browser sessions and one-time sign-in links.
    # The session cookie is Secure by default; plain-http local use (the demo) sets
    # web_cookie_secure=false, as not every browser keeps Secure cookies from http://127.0.0.1.
    web_cookie_secure: bool = True
    web_session_hours: float = 12.0
    web_signin_link_minutes: float = 15.0
    # Key that signs the session cookie; empty = a random key kept in data_dir/web-secret
    # (set it when several API processes do not share one data dir).
    web_secret: str = ""

    # Validation: rule ID (or family prefix) -> severity, e.g. {"NARR-APPS": "warning"}.
    severity_overrides: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _embedded_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'nianbao.db').resolve()}"
        return self

    @property
    def stage_soft_time_limit(self) -> int:
        """When a stage task is told to stop (SoftTimeLimitExceeded): early enough to
        record why before `stage_time_limit` kills it."""
        return max(1, self.stage_time_limit - max(2, self.stage_time_limit // 10))

    @property
    def local_storage_dir(self) -> Path:
        return (self.data_dir / "storage").resolve()

    @property
    def filesystem_broker_dir(self) -> Path:
        return (self.data_dir / "broker").resolve()


@lru_cache
def get_settings() -> Settings:
    return Settings()
