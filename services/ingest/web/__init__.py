"""The season desk: web pages of the ingest service (sign-in, agency pages, coverage,
the reviewers' queue and review panel).

`install(app)` adds the routes, the static files and, on every /desk response, the
Content-Security-Policy and nosniff headers. Reviewer pages reuse `deps.desk_principal`
/ `deps.require_desk` for who is signed in and `deps.CsrfChecked` for their POSTs, and
add panels to the document page with `agency_pages.add_document_panel`.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.ingest.web import agency_pages, auth_pages, office_pages, review_pages
from services.ingest.web.deps import SignInRequired
from services.ingest.web.rendering import HERE, SECURITY_HEADERS, page

PORTAL_CSS = HERE.parent.parent / "publisher" / "templates" / "portal.css"


def _is_desk(request: Request) -> bool:
    return request.url.path == "/desk" or request.url.path.startswith("/desk/")


def install(app: FastAPI) -> None:
    app.include_router(auth_pages.router)
    app.include_router(agency_pages.router)
    app.include_router(office_pages.router)
    app.include_router(review_pages.router)

    @app.get("/desk/static/portal.css", include_in_schema=False)
    def portal_css() -> FileResponse:
        # The portal's own table styles: the desk shows reports as the portal does.
        return FileResponse(PORTAL_CSS, media_type="text/css")

    app.mount("/desk/static", StaticFiles(directory=HERE / "static"), name="desk-static")

    @app.exception_handler(SignInRequired)
    def to_sign_in(request: Request, exc: SignInRequired) -> Response:
        if request.url.path.startswith("/desk/api/") or request.method != "GET":
            return JSONResponse({"detail": "sign in first"}, status_code=401)
        return RedirectResponse(f"/desk/sign-in?next={exc.next_path}", status_code=303)

    async def desk_errors(request: Request, exc: Exception) -> Response:
        # Pages answer errors with a page; the desk's JSON endpoints and the API with JSON.
        assert isinstance(exc, HTTPException)
        if _is_desk(request) and not request.url.path.startswith("/desk/api/"):
            return page(request, "error.html", exc.status_code, code=exc.status_code, detail=exc.detail)
        return await http_exception_handler(request, exc)

    app.add_exception_handler(HTTPException, desk_errors)

    app.add_middleware(DeskSecurityHeaders)


class DeskSecurityHeaders:
    """ASGI middleware: the CSP, nosniff and friends on every /desk response (pages,
    static files, errors, redirects); other paths pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/desk" or path.startswith("/desk/")):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
