"""Browser sessions of the season desk: signed session cookies, CSRF tokens and
one-time sign-in links. Pure functions over a database Session; no FastAPI here.

A session is a row (`WebSession`) keyed by the hash of a random id; the cookie holds
`<id>.<HMAC of id>`. The signature lets the server refuse forged or truncated cookies
without a database read, and the row makes sign-out and token revocation immediate.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col

from services.ingest.auth import Principal, Role, is_live, live_token
from shared.models import ApiToken, SignInLink, WebSession, utcnow
from shared.settings import Settings

SIGNIN_PATH = "/desk/sign-in/link/"


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def signing_key(settings: Settings) -> bytes:
    """The configured key, or one made once and kept (0600) in the data dir."""
    if settings.web_secret:
        return settings.web_secret.encode()
    path = Path(settings.data_dir) / "web-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def sign(value: str, key: bytes) -> str:
    mac = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
    return f"{value}.{mac}"


def unsign(signed: str, key: bytes) -> str | None:
    """The value of a `sign`ed string, or None when the signature does not match."""
    value, _, mac = signed.rpartition(".")
    if not value:
        return None
    expected = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
    return value if hmac.compare_digest(mac, expected) else None


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(expected, given or "")


@dataclass(frozen=True)
class SignedIn:
    """A live browser session: who, and the CSRF token its pages must send back."""

    principal: Principal
    csrf_token: str
    expires_at: datetime


def _live_token(session: Session, token_id: int) -> ApiToken | None:
    row = session.get(ApiToken, token_id)
    return row if is_live(row) else None


def token_by_secret(session: Session, token: str) -> ApiToken | None:
    return live_token(session, token)


def start_session(session: Session, token_id: int, settings: Settings) -> tuple[str, SignedIn]:
    """A new session for the token; returns the cookie value and the session. Sessions
    that ended or expired a day ago are removed on the way (the table stays small)."""
    session.execute(
        delete(WebSession).where(
            or_(
                col(WebSession.expires_at) < utcnow() - timedelta(days=1),
                col(WebSession.ended_at) < utcnow() - timedelta(days=1),
            )
        )
    )
    raw_id = secrets.token_urlsafe(32)
    row = WebSession(
        id_hash=_digest(raw_id),
        token_id=token_id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + timedelta(hours=settings.web_session_hours),
    )
    session.add(row)
    token = _live_token(session, token_id)
    if token is None:
        raise ValueError("unknown or revoked token")
    signed_in = SignedIn(
        Principal(token_id, Role(token.role), tuple(token.agencies)), row.csrf_token, row.expires_at
    )
    return sign(raw_id, signing_key(settings)), signed_in


def load_session(session: Session, cookie: str | None, settings: Settings) -> SignedIn | None:
    """The session a cookie stands for, if it is genuine, unexpired, not ended, and its
    token is not revoked."""
    raw_id = unsign(cookie, signing_key(settings)) if cookie else None
    if raw_id is None:
        return None
    row = session.get(WebSession, _digest(raw_id))
    if row is None or row.ended_at is not None or _as_utc(row.expires_at) <= utcnow():
        return None
    token = _live_token(session, row.token_id)
    if token is None:
        return None
    principal = Principal(row.token_id, Role(token.role), tuple(token.agencies))
    return SignedIn(principal, row.csrf_token, _as_utc(row.expires_at))


def end_session(session: Session, cookie: str | None, settings: Settings) -> None:
    raw_id = unsign(cookie, signing_key(settings)) if cookie else None
    row = session.get(WebSession, _digest(raw_id)) if raw_id else None
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        session.add(row)


def create_signin_link(session: Session, token_id: int, settings: Settings) -> str:
    """A URL that signs one browser in once, within `web_signin_link_minutes`."""
    code = secrets.token_urlsafe(32)
    session.add(
        SignInLink(
            code_hash=_digest(code),
            token_id=token_id,
            expires_at=utcnow() + timedelta(minutes=settings.web_signin_link_minutes),
        )
    )
    return settings.api_url.rstrip("/") + SIGNIN_PATH + code


class LinkRefused(Exception):
    """Why a sign-in link does not sign anyone in (unknown, used or expired)."""


def redeem_signin_link(session: Session, code: str) -> int:
    """Mark the link used and return its token id. One conditional UPDATE does both, so
    two concurrent redemptions of the same link yield one session, never two."""
    code_hash, now = _digest(code), utcnow()
    row = session.get(SignInLink, code_hash)
    if row is None:
        raise LinkRefused("unknown sign-in link")
    if _live_token(session, row.token_id) is None:
        raise LinkRefused("the token of this link has been revoked")
    claimed = session.execute(
        update(SignInLink)
        .where(col(SignInLink.code_hash) == code_hash, col(SignInLink.used_at).is_(None))
        .where(col(SignInLink.expires_at) > now)
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(row)
        raise LinkRefused(
            "this sign-in link has already been used" if row.used_at else "this sign-in link has expired"
        )
    return row.token_id
