"""FastAPI dependencies of the desk pages: who is signed in, with which role, and the
CSRF check of every POST made from the pages.

`DeskUser` (a `SignedIn`) and `desk_principal` give the same `Principal` as the API's
bearer tokens, so `Principal.can_see` scopes the pages exactly as it scopes the API.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status

from services.ingest.auth import Principal, Role
from services.ingest.web.session import SignedIn, csrf_matches, load_session
from shared.db import session_scope
from shared.settings import Settings, get_settings

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


def session_cookie_name(settings: Settings) -> str:
    # __Host- binds the cookie to this host and path / and forces Secure (browsers enforce it).
    return "__Host-nb_desk" if settings.web_cookie_secure else "nb_desk"


class SignInRequired(Exception):
    """Raised by the dependencies; pages answer with a redirect to the sign-in page,
    the desk's JSON endpoints with 401."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def signed_in(request: Request) -> SignedIn:
    settings = get_settings()
    with session_scope() as session:
        found = load_session(session, request.cookies.get(session_cookie_name(settings)), settings)
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(quote(target, safe="/?=&"))
    return found


DeskUser = Annotated[SignedIn, Depends(signed_in)]


def desk_principal(user: DeskUser) -> Principal:
    """The signed-in Principal (for reviewer pages: `Depends(desk_principal)`)."""
    return user.principal


def require_desk(*roles: Role):
    """Dependency: a signed-in browser whose token holds one of `roles` (403 otherwise)."""

    def check(user: DeskUser) -> SignedIn:
        if user.principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this page needs the role {allowed}")
        return user

    return check


async def csrf_checked(request: Request, user: DeskUser) -> SignedIn:
    """Every POST from the pages carries the session's CSRF token, in the X-CSRF-Token
    header (scripts) or the csrf_token form field (forms); anything else is refused."""
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        field = form.get(CSRF_FIELD)
        given = field if isinstance(field, str) else None
    if not csrf_matches(user.csrf_token, given):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token; reload the page")
    return user


CsrfChecked = Annotated[SignedIn, Depends(csrf_checked)]
UploaderUser = Annotated[SignedIn, Depends(require_desk(Role.uploader, Role.ops))]
OfficeUser = Annotated[SignedIn, Depends(require_desk(Role.reviewer, Role.ops, Role.publisher))]
