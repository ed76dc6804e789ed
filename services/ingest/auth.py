"""Bearer tokens with roles; only a hash of each token is stored."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session, col, select

from shared.db import session_scope
from shared.models import ApiToken, Document, utcnow


class Role(StrEnum):
    uploader = "uploader"  # submits reports for one or more agencies, sees only those
    reviewer = "reviewer"  # approves or rejects reports that need a human
    publisher = "publisher"  # pushes and retracts publications
    ops = "ops"  # watches and steers the pipeline


def hash_token(token: str) -> str:
    # Tokens are 32 random bytes, so a plain SHA-256 suffices (no dictionary to attack).
    return hashlib.sha256(token.encode()).hexdigest()


_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """ "90d", "12h", "30m", "45s" or plain seconds → a positive duration."""
    match = _DURATION.match(text.lower())
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(f"not a duration: {text!r} (e.g. 90d, 12h, 30m)")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def create_token(
    session: Session,
    role: Role,
    agencies: list[str] | None = None,
    label: str | None = None,
    expires_in: timedelta | None = None,
) -> str:
    if role == Role.uploader and not agencies:
        raise ValueError("an uploader token needs at least one agency")
    token = "nb_" + secrets.token_urlsafe(32)
    expires_at = utcnow() + expires_in if expires_in is not None else None
    session.add(
        ApiToken(
            token_hash=hash_token(token),
            role=role.value,
            agencies=agencies or [],
            label=label,
            expires_at=expires_at,
        )
    )
    return token


def revoke_token(session: Session, token: str) -> bool:
    """Revoke a token (given as printed); False when no such live token exists."""
    row = session.exec(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip()), col(ApiToken.revoked_at).is_(None))
    ).first()
    if row is None:
        return False
    row.revoked_at = utcnow()
    session.add(row)
    return True


def is_live(row: ApiToken | None) -> bool:
    """Neither revoked nor expired: the one test of a token, for the API and the desk."""
    if row is None or row.revoked_at is not None:
        return False
    expires_at = row.expires_at
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    return expires_at is None or expires_at > utcnow()


def live_token(session: Session, token: str) -> ApiToken | None:
    """The live token row for a token as printed, or None."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip()))).first()
    return row if is_live(row) else None


@dataclass(frozen=True)
class Principal:
    token_id: int
    role: Role
    agencies: tuple[str, ...]

    @property
    def actor(self) -> str:
        return f"{self.role.value}#{self.token_id}"

    def can_see(self, doc: Document) -> bool:
        return self.role != Role.uploader or doc.agency_key in self.agencies


_bearer = HTTPBearer(auto_error=False)


def current_principal(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing bearer token", {"WWW-Authenticate": "Bearer"}
        )
    with session_scope() as session:
        row = live_token(session, credentials.credentials)
    if row is None or row.id is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "unknown, expired or revoked token", {"WWW-Authenticate": "Bearer"}
        )
    return Principal(row.id, Role(row.role), tuple(row.agencies))


def require(*roles: Role):
    """Dependency: the caller must hold one of `roles` (ops may do everything an uploader may)."""

    def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this action needs the role {allowed}")
        return principal

    return check


AnyRole = Annotated[Principal, Depends(current_principal)]
