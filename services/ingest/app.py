"""The ingest API: receives files, answers questions about them, serves the portal
in the embedded deployment. It never parses anything itself."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from services.ingest.routes import documents, ops, publications, uploads
from shared.celery_app import celery_app
from shared.db import get_engine
from shared.settings import get_settings
from shared.storage import LocalStore, open_store


def _check(probe: Any) -> dict[str, Any]:
    try:
        probe()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


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
    app.include_router(uploads.router)
    app.include_router(documents.router)
    app.include_router(ops.router)
    app.include_router(publications.router)
    app.add_exception_handler(sa_exc.OperationalError, database_unavailable)
    app.add_exception_handler(sa_exc.InterfaceError, database_unavailable)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> JSONResponse:
        checks = {
            "database": _check(_probe_database),
            "broker": _check(_probe_broker),
            "storage": _check(_probe_storage),
        }
        healthy = all(c["ok"] for c in checks.values())
        return JSONResponse({"ok": healthy, **checks}, status_code=200 if healthy else 503)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/portal/" if settings.storage_backend == "local" else "/docs")

    portal = open_store(settings, settings.portal_bucket)
    if isinstance(portal, LocalStore):  # production serves the portal bucket from any static server
        app.mount("/portal", StaticFiles(directory=portal.root, html=True), name="portal")
    return app
