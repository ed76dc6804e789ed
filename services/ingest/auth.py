"""Bearer tokens with roles; only a hash of each token is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session, col, select

from shared.db import session_scope
from shared.models import ApiToken, Document


class Role(StrEnum):
    uploader = "uploader"  # submits reports for one or more agencies, sees only those
    reviewer = "reviewer"  # approves or rejects reports that need a human
    publisher = "publisher"  # pushes and retracts publications
    ops = "ops"  # watches and steers the pipeline


def hash_token(token: str) -> str:
    # Tokens are 32 random bytes, so a plain SHA-256 suffices (no dictionary to attack).
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, role: Role, agencies: list[str] | None = None, label: str | None = None
) -> str:
    if role == Role.uploader and not agencies:
        raise ValueError("an uploader token needs at least one agency")
    token = "nb_" + secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=hash_token(token), role=role.value, agencies=agencies or [], label=label))
    return token


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
        row = session.exec(
            select(ApiToken).where(
                ApiToken.token_hash == hash_token(credentials.credentials), col(ApiToken.revoked_at).is_(None)
            )
        ).first()
    if row is None or row.id is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "unknown or revoked token", {"WWW-Authenticate": "Bearer"}
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
