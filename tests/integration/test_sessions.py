"""Local-account sessions on the server, on SQLite and PostgreSQL: the handoff is traded once for a
cookie token the database never holds; a session ends once, audited once, whoever ends it; an ended
session stays ended; a deactivated account's session finds no role."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.clock import utcnow
from core.commands import users
from core.commands.sessions import claim_handoff, close_session, open_session, touch_session
from core.domain.errors import PermissionDenied
from core.domain.roles import Actor, Role
from core.domain.sessions import SessionEnd, SessionLimits, token_digest
from core.models import AuditEvent, UserSession
from core.queries.sessions import session_by_id, session_by_token
from tests.conftest import accounts

RITA = Actor("rita@firm.test", Role.REVIEWER)
ADMIN = Actor("admin@firm.test", Role.ADMIN)
LIMITS = SessionLimits.of(idle_minutes=30, max_session_hours=12)
_accounts = accounts(RITA, ADMIN)


def row(app, session_id: str) -> UserSession:
    with app.db.reader() as s:
        return s.get(UserSession, session_id)


def sign_outs(app) -> list[AuditEvent]:
    with app.db.reader() as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.action == "auth.signed_out")).scalars())


def test_a_handoff_buys_one_cookie_whose_token_the_database_never_holds(any_app):
    opened = open_session(any_app.uow(), actor=RITA, method="password", limits=LIMITS)
    cookie = claim_handoff(any_app.uow(), handoff=opened.handoff)
    assert cookie is not None and len(cookie.token) >= 43
    assert claim_handoff(any_app.uow(), handoff=opened.handoff) is None  # once
    stored = row(any_app, opened.id)
    assert stored.token_digest == token_digest(cookie.token) and stored.handoff_digest is None
    with any_app.db.reader() as s:  # neither secret is in any column
        values = [str(v) for r in s.execute(select(UserSession)).all() for v in r[0].model_dump().values()]
    assert cookie.token not in values and opened.handoff not in values
    assert timedelta(hours=11, minutes=59) < cookie.expires_at - utcnow() <= timedelta(hours=12)
    found = session_by_token(any_app.db, cookie.token)
    assert found.id == opened.id and found.email == RITA.id and found.role is Role.REVIEWER
    assert session_by_token(any_app.db, cookie.token + "x") is None


def test_a_late_handoff_or_one_for_an_ended_session_buys_nothing(any_app):
    late = open_session(any_app.uow(), actor=RITA, method="demo", limits=LIMITS)
    with any_app.db.writer() as s:
        s.execute(update(UserSession).where(UserSession.id == late.id)
                  .values(handoff_expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    assert claim_handoff(any_app.uow(), handoff=late.handoff) is None
    assert row(any_app, late.id).handoff_digest is None  # spent, even too late
    ended = open_session(any_app.uow(), actor=RITA, method="password", limits=LIMITS)
    close_session(any_app.uow(), session_id=ended.id, reason=SessionEnd.SIGNED_OUT)
    assert claim_handoff(any_app.uow(), handoff=ended.handoff) is None
    assert claim_handoff(any_app.uow(), handoff="") is None and claim_handoff(any_app.uow(), handoff="x" * 500) is None


def test_a_session_ends_once_and_is_audited_once_whichever_tab_ends_it(any_app):
    opened = open_session(any_app.uow(), actor=RITA, method="password", limits=LIMITS)
    assert close_session(any_app.uow(), session_id=opened.id, reason=SessionEnd.IDLE)
    assert not close_session(any_app.uow(), session_id=opened.id, reason=SessionEnd.SIGNED_OUT)  # the other tab
    [event] = sign_outs(any_app)
    assert event.actor == RITA.id and event.reason == "idle timeout"
    ended = session_by_id(any_app.db, opened.id)
    assert ended.revoked_at is not None and ended.end_reason == "idle timeout"


def test_activity_moves_the_idle_clock_but_never_revives_an_ended_session(any_app):
    opened = open_session(any_app.uow(), actor=RITA, method="password", limits=LIMITS)
    with any_app.db.writer() as s:
        s.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=20)))
        s.commit()
    touch_session(any_app.uow(), session_id=opened.id)
    assert utcnow() - row(any_app, opened.id).last_seen_at < timedelta(minutes=1)
    close_session(any_app.uow(), session_id=opened.id, reason=SessionEnd.SIGNED_OUT)
    seen = row(any_app, opened.id).last_seen_at
    touch_session(any_app.uow(), session_id=opened.id)
    assert row(any_app, opened.id).last_seen_at == seen


def test_a_deactivated_account_gets_no_session_and_its_open_one_finds_no_role(any_app):
    opened = open_session(any_app.uow(), actor=RITA, method="password", limits=LIMITS)
    users.set_active(any_app.uow(), actor=ADMIN, email=RITA.id, active=False, reason="left the firm")
    assert session_by_id(any_app.db, opened.id).role is None  # the dashboard ends it at its next look
    with pytest.raises(PermissionDenied, match="deactivated"):
        open_session(any_app.uow(), actor=RITA, method="password", limits=LIMITS)
    with pytest.raises(PermissionDenied):
        open_session(any_app.uow(), actor=Actor.system(), method="password", limits=LIMITS)
    with pytest.raises(ValueError, match="opened by one of"):
        open_session(any_app.uow(), actor=ADMIN, method="sso", limits=LIMITS)
