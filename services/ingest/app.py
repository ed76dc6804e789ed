"""The ingest API: receives files, answers questions about them, serves the portal
in the embedded deployment. It never parses anything itself."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.ingest import web
from services.ingest.routes import documents, ops, publications, review, uploads
from shared.celery_app import celery_app
from shared.db import get_engine
from shared.settings import get_settings
from shared.storage import LocalStore, StorageError, open_store

HEALTH_CHECK_SECONDS = 1.5  # each dependency's answer; /healthz itself answers within 2 s
STORAGE_RETRY_AFTER = "30"  # seconds a client should wait after a 503 for storage
# Probes run here, not on the request's thread: a hung dependency costs a pool thread,
# never the answer's deadline.
_probes = ThreadPoolExecutor(max_workers=6, thread_name_prefix="healthz")


def _check(probe: Any) -> dict[str, Any]:
    try:
        probe()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def health_checks(probes: dict[str, Any], timeout: float = HEALTH_CHECK_SECONDS) -> dict[str, dict[str, Any]]:
    """Run the probes side by side; one that does not answer within `timeout` is down."""
    futures = {name: _probes.submit(_check, probe) for name, probe in probes.items()}
    wait(futures.values(), timeout=timeout)
    return {
        name: future.result() if future.done() else {"ok": False, "error": f"no answer within {timeout} s"}
        for name, future in futures.items()
    }


class SecurityHeaders:
    """API answers are never sniffed into another type nor kept by caches (they carry
    documents' states and tokens' views); the locally served portal keeps its caching."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        # The portal keeps its caching; the desk's pages set their own (services/ingest/web).
        own_caching = path.startswith(("/portal", "/desk"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                if not own_caching:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _probe_database() -> None:
    with get_engine().connect() as connection:
        connection.execute(text("SELECT 1"))


def _probe_broker() -> None:
    with celery_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=3)


def _probe_storage() -> None:
    settings = get_settings()
    open_store(settings, settings.raw_bucket).ping()


DATABASE_RETRY_AFTER = "5"  # seconds: a lost connection is replaced on the next request


def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database connection broke or could not be made (server restarting, connection
    terminated): the request's transaction rolled back, so the client may simply retry
    (with the same Idempotency-Key for an upload). A 503, never a 500."""
    return JSONResponse(
        {"detail": "the database is unavailable; retry later"},
        status_code=503,
        headers={"Retry-After": DATABASE_RETRY_AFTER},
    )


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title="nianbao ingest API",
        description="Upload 政府信息公开工作年度报告, follow each file through parse → validate → publish.",
        version="1",
    )
    # A request larger than this is answered 413 before the rest of it is read.
    app.include_router(uploads.router, max_body_size=settings.max_request_bytes)
    app.include_router(documents.router)
    app.include_router(ops.router)
    app.include_router(publications.router)
    app.include_router(review.router)
    app.include_router(review.sources)
    web.install(app)  # the season desk's pages under /desk
    app.add_exception_handler(sa_exc.OperationalError, database_unavailable)
    app.add_exception_handler(sa_exc.InterfaceError, database_unavailable)

    app.add_middleware(SecurityHeaders)

    @app.exception_handler(StorageError)
    def storage_unavailable(request: Request, exc: StorageError) -> JSONResponse:
        # Nothing was recorded (the transaction rolled back): the client may simply retry.
        return JSONResponse(
            {"detail": f"storage is unavailable, nothing was recorded; retry later ({exc})"[:500]},
            status_code=503,
            headers={"Retry-After": STORAGE_RETRY_AFTER},
        )

    @app.get("/healthz", tags=["ops"], responses={503: {"description": "a dependency is down (see which)"}})
    def healthz() -> JSONResponse:  # in the threadpool: waiting on probes never blocks the loop
        checks = health_checks(
            {"database": _probe_database, "broker": _probe_broker, "storage": _probe_storage}
        )
        healthy = all(c["ok"] for c in checks.values())
        return JSONResponse({"ok": healthy, **checks}, status_code=200 if healthy else 503)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/portal/" if settings.storage_backend == "local" else "/docs")

    portal = open_store(settings, settings.portal_bucket)
    if isinstance(portal, LocalStore):  # production serves the portal bucket from any static server
        app.mount("/portal", StaticFiles(directory=portal.root, html=True), name="portal")
    return app
