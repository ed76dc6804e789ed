"""Sign-in (token once, or a one-time link), sign-out and the language switch.

The sign-in forms exist before any session, so their CSRF check is a double submit: a
random value in a short-lived SameSite=Strict cookie and the same value in the form.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Cookie, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.ingest.web.deps import CsrfChecked, session_cookie_name
from services.ingest.web.rendering import LANG_COOKIE, LANGUAGES, page
from services.ingest.web.session import (
    LinkRefused,
    csrf_matches,
    end_session,
    redeem_signin_link,
    start_session,
    token_by_secret,
)
from shared.db import session_scope
from shared.settings import get_settings

router = APIRouter(prefix="/desk", include_in_schema=False)
PRESIGN_COOKIE = "nb_presign"


def safe_next(target: str | None) -> str:
    """Only paths of the desk itself: never another host (open redirect)."""
    if target and target.startswith("/desk") and not target.startswith("//") and "\\" not in target:
        return target
    return "/desk"


def _with_presign(response: HTMLResponse, value: str) -> HTMLResponse:
    settings = get_settings()
    response.set_cookie(
        PRESIGN_COOKIE,
        value,
        max_age=1800,
        path="/desk",
        httponly=True,
        secure=settings.web_cookie_secure,
        samesite="strict",
    )
    return response


def _signed_in_response(token_id: int, target: str) -> Response:
    settings = get_settings()
    with session_scope() as session:
        cookie, _ = start_session(session, token_id, settings)
    response = RedirectResponse(safe_next(target), status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        session_cookie_name(settings),
        cookie,
        max_age=int(settings.web_session_hours * 3600),
        path="/",
        httponly=True,
        secure=settings.web_cookie_secure,
        samesite="strict",
    )
    response.delete_cookie(PRESIGN_COOKIE, path="/desk")
    return response


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "/desk") -> HTMLResponse:
    presign = secrets.token_urlsafe(24)
    return _with_presign(
        page(request, "signin.html", presign=presign, next=safe_next(next), error=None), presign
    )


@router.post("/sign-in")
def sign_in(
    request: Request,
    token: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/desk",
    presign: Annotated[str | None, Cookie(alias=PRESIGN_COOKIE)] = None,
) -> Response:
    def again(error: tuple[str, str], code: int) -> HTMLResponse:
        fresh = secrets.token_urlsafe(24)
        return _with_presign(
            page(request, "signin.html", code, presign=fresh, next=safe_next(next), error=error), fresh
        )

    if not csrf_matches(presign or "", csrf_token):
        return again(("表单已过期，请重试。", "The form expired; try again."), status.HTTP_403_FORBIDDEN)
    with session_scope() as session:
        row = token_by_secret(session, token)
        token_id = row.id if row is not None else None
    if token_id is None:
        return again(("令牌无效或已吊销。", "Unknown or revoked token."), status.HTTP_401_UNAUTHORIZED)
    return _signed_in_response(token_id, next)


@router.get("/sign-in/link/{code}")
def link_page(request: Request, code: str) -> HTMLResponse:
    # A GET only shows a button: mail scanners that fetch links must not use up the link.
    presign = secrets.token_urlsafe(24)
    return _with_presign(page(request, "link.html", presign=presign, code=code, error=None), presign)


@router.post("/sign-in/link/{code}")
def use_link(
    request: Request,
    code: str,
    csrf_token: Annotated[str, Form()] = "",
    presign: Annotated[str | None, Cookie(alias=PRESIGN_COOKIE)] = None,
) -> Response:
    if not csrf_matches(presign or "", csrf_token):
        error = ("表单已过期，请重新打开链接。", "The form expired; open the link again.")
        return page(request, "link.html", status.HTTP_403_FORBIDDEN, presign="", code=code, error=error)
    try:
        with session_scope() as session:
            token_id = redeem_signin_link(session, code)
    except LinkRefused as exc:
        refusals = {
            "this sign-in link has already been used": "此登录链接已经使用过，不能再次使用。",
            "this sign-in link has expired": "此登录链接已过期。",
        }
        error = (refusals.get(str(exc), "此登录链接无效。"), str(exc))
        return page(request, "link.html", status.HTTP_400_BAD_REQUEST, presign="", code=code, error=error)
    return _signed_in_response(token_id, "/desk")


@router.post("/sign-out")
def sign_out(request: Request, user: CsrfChecked) -> Response:
    settings = get_settings()
    with session_scope() as session:
        end_session(session, request.cookies.get(session_cookie_name(settings)), settings)
    response = RedirectResponse("/desk/sign-in", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(
        session_cookie_name(settings), path="/", secure=settings.web_cookie_secure, httponly=True
    )
    return response


@router.get("/lang/{lang}")
def switch_language(lang: str, next: str = "/desk") -> Response:
    response = RedirectResponse(safe_next(next), status.HTTP_303_SEE_OTHER)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/", samesite="lax")
    return response
