"""The season desk's session pieces: cookie signing, CSRF comparison, sessions and
one-time sign-in links on SQLite (no server)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from services.ingest.auth import Role, create_token
from services.ingest.web.session import (
    LinkRefused,
    create_signin_link,
    csrf_matches,
    end_session,
    load_session,
    redeem_signin_link,
    sign,
    signing_key,
    start_session,
    token_by_secret,
    unsign,
)
from shared.db import get_engine, session_scope, upgrade_schema
from shared.models import ApiToken, SignInLink, WebSession, utcnow
from shared.settings import Settings, get_settings


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("NIANBAO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NIANBAO_API_URL", "http://desk.example:8000/")
    get_settings.cache_clear()
    get_engine.cache_clear()
    upgrade_schema()
    yield get_settings()
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def new_token(role: Role = Role.uploader, agencies: tuple[str, ...] = ("某县民政局",)) -> int:
    with session_scope() as session:
        token = create_token(session, role, list(agencies))
    with session_scope() as session:
        row = token_by_secret(session, token)
        assert row is not None and row.id is not None
        return row.id


def test_signature_round_trip_and_tampering() -> None:
    key = b"k" * 32
    signed = sign("abc", key)
    assert unsign(signed, key) == "abc"
    assert unsign(signed, b"other-key") is None
    assert unsign("abd" + signed[3:], key) is None
    assert unsign(signed[:-1], key) is None
    assert unsign("no-signature", key) is None
    assert unsign("", key) is None


def test_csrf_comparison() -> None:
    assert csrf_matches("token", "token")
    assert not csrf_matches("token", "tokem")
    assert not csrf_matches("token", None)
    assert not csrf_matches("token", "")
    assert not csrf_matches("", "")  # a session without a token never matches


def test_signing_key_is_made_once_and_kept_private(settings: Settings) -> None:
    first = signing_key(settings)
    assert len(first) == 64 and signing_key(settings) == first
    assert (settings.data_dir / "web-secret").stat().st_mode & 0o077 == 0
    assert signing_key(settings.model_copy(update={"web_secret": "configured"})) == b"configured"


def test_session_lives_until_sign_out(settings: Settings) -> None:
    token_id = new_token()
    with session_scope() as session:
        cookie, started = start_session(session, token_id, settings)
    with session_scope() as session:
        found = load_session(session, cookie, settings)
        assert found is not None
        assert found.principal.token_id == token_id and found.principal.role == Role.uploader
        assert found.principal.agencies == ("某县民政局",)
        assert found.csrf_token == started.csrf_token and len(found.csrf_token) >= 32
        # Only the hash of the id is stored: the cookie's id is not in the table.
        assert session.get(WebSession, cookie.split(".")[0]) is None
        assert load_session(session, cookie + "0", settings) is None
        assert load_session(session, None, settings) is None
    with session_scope() as session:
        end_session(session, cookie, settings)
    with session_scope() as session:
        assert load_session(session, cookie, settings) is None


def test_expired_session_and_revoked_token_sign_nobody_in(settings: Settings) -> None:
    token_id = new_token()
    with session_scope() as session:
        expired, _ = start_session(session, token_id, settings.model_copy(update={"web_session_hours": -1}))
        live, _ = start_session(session, token_id, settings)
    with session_scope() as session:
        assert load_session(session, expired, settings) is None
        assert load_session(session, live, settings) is not None
        assert len(session.exec(select(WebSession)).all()) == 2
    with session_scope() as session:  # a day past its expiry, the row goes at the next sign-in
        start_session(session, token_id, settings.model_copy(update={"web_session_hours": -25}))
    with session_scope() as session:
        start_session(session, token_id, settings)
    with session_scope() as session:
        assert len(session.exec(select(WebSession)).all()) == 3
        token = session.get(ApiToken, token_id)
        assert token is not None
        token.revoked_at = utcnow()
    with session_scope() as session:
        assert load_session(session, live, settings) is None


def test_signin_link_works_once(settings: Settings) -> None:
    token_id = new_token(Role.reviewer, ())
    with session_scope() as session:
        link = create_signin_link(session, token_id, settings)
    assert link.startswith("http://desk.example:8000/desk/sign-in/link/")
    code = link.rsplit("/", 1)[1]
    with session_scope() as session:
        assert redeem_signin_link(session, code) == token_id
    with session_scope() as session, pytest.raises(LinkRefused, match="already been used"):
        redeem_signin_link(session, code)
    with session_scope() as session, pytest.raises(LinkRefused, match="unknown"):
        redeem_signin_link(session, code[:-2])


def test_expired_link_and_revoked_token_are_refused(settings: Settings) -> None:
    token_id = new_token()
    with session_scope() as session:
        code = create_signin_link(session, token_id, settings).rsplit("/", 1)[1]
        other = create_signin_link(session, token_id, settings).rsplit("/", 1)[1]
    with session_scope() as session:
        link = session.exec(select(SignInLink)).first()  # one of the two, whichever
        assert link is not None
        link.expires_at = utcnow() - timedelta(seconds=1)
        session.add(link)
    with session_scope() as session:
        outcomes = []
        for candidate in (code, other):
            try:
                redeem_signin_link(session, candidate)
                outcomes.append("ok")
            except LinkRefused as exc:
                outcomes.append(str(exc))
        assert sorted(outcomes) == ["ok", "this sign-in link has expired"]
    with session_scope() as session:
        fresh = create_signin_link(session, token_id, settings).rsplit("/", 1)[1]
        token = session.get(ApiToken, token_id)
        assert token is not None
        token.revoked_at = utcnow()
    with session_scope() as session, pytest.raises(LinkRefused, match="revoked"):
        redeem_signin_link(session, fresh)
