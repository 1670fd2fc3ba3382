"""Local-account sessions held on the server: opened at sign-in, traded once for the browser's
HTTP-only cookie, kept alive by activity, and ended (revoked, with its auth.signed_out event, once)
by a sign-out, idleness, the lifetime or a deactivated account, whichever tab or browser notices.

The cookie carries a random token and the server keeps only its SHA-256; the tab keeps the session's
id. Nothing here is secret for long: the one-time handoff lasts a minute, and a stolen cookie dies
with the session it names (its idle limit, its lifetime, a sign-out anywhere)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from core.adapters import people
from core.adapters.uow import UnitOfWork
from core.clock import utcnow
from core.domain.audit_actions import AuditAction
from core.domain.errors import PermissionDenied
from core.domain.roles import Actor
from core.domain.sessions import SessionEnd, SessionLimits, token_digest
from core.models import UserSession

SESSION_METHODS = ("password", "demo")  # single sign-on sessions ride on Streamlit's identity cookie
HANDOFF_LIFETIME = timedelta(minutes=1)
MAX_HANDOFF_LENGTH = 64  # what token_urlsafe(32) makes; anything longer is not ours


@dataclass(frozen=True)
class OpenedSession:
    id: str
    handoff: str  # one use, for HANDOFF_LIFETIME: the browser trades it for the session cookie


@dataclass(frozen=True)
class SessionCookie:
    token: str
    expires_at: datetime


def open_session(uow: UnitOfWork, *, actor: Actor, method: str, limits: SessionLimits) -> OpenedSession:
    """A session for a person who has just signed in (the sign-in recorded auth.signed_in)."""
    if method not in SESSION_METHODS:
        raise ValueError(f"a session is opened by one of {SESSION_METHODS}, not {method!r}")
    if not actor.is_person:
        raise PermissionDenied(f"{actor.id} is one of our processes: it has no session")
    handoff, session_id = secrets.token_urlsafe(32), secrets.token_hex(16)
    with uow:
        people.current(uow.session, actor)  # a missing or deactivated account gets no session
        now = utcnow()
        uow.session.add(UserSession(
            id=session_id, email=actor.id, method=method, handoff_digest=token_digest(handoff),
            handoff_expires_at=now + HANDOFF_LIFETIME, started_at=now, last_seen_at=now,
            expires_at=now + limits.lifetime))
        uow.commit()
    return OpenedSession(session_id, handoff)


def claim_handoff(uow: UnitOfWork, *, handoff: str) -> SessionCookie | None:
    """The cookie for a session whose handoff this is, once; None for an unknown, used or late
    handoff, or a session that has ended. The handoff is spent even when it comes too late."""
    if not handoff or len(handoff) > MAX_HANDOFF_LENGTH:
        return None
    with uow:
        now = utcnow()
        row = uow.session.execute(select(UserSession).where(UserSession.handoff_digest == token_digest(handoff))
                                  .with_for_update()).scalar_one_or_none()
        if row is None:
            return None
        usable = row.revoked_at is None and row.handoff_expires_at is not None and row.handoff_expires_at > now
        row.handoff_digest, row.handoff_expires_at = None, None
        token = secrets.token_urlsafe(32) if usable else None
        if token is not None:
            row.token_digest = token_digest(token)
        expires_at = row.expires_at
        uow.session.add(row)
        uow.commit()
    return SessionCookie(token, expires_at) if token is not None else None


def touch_session(uow: UnitOfWork, *, session_id: str) -> None:
    """The person acted: the idle clock starts again (an ended session stays ended)."""
    with uow:
        uow.session.execute(update(UserSession).where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
                            .values(last_seen_at=utcnow()))
        uow.commit()


def close_session(uow: UnitOfWork, *, session_id: str, reason: SessionEnd) -> bool:
    """End the session everywhere and audit the end as its person's. False when it had already
    ended (another tab got there first): then nothing is recorded twice."""
    with uow:
        row = uow.session.execute(select(UserSession).where(UserSession.id == session_id)
                                  .with_for_update()).scalar_one_or_none()
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at, row.end_reason = utcnow(), SessionEnd(reason).value
        uow.session.add(row)
        uow.record_claim(row.email, AuditAction.AUTH_SIGNED_OUT, "user", row.email, reason=row.end_reason,
                         after={"method": row.method})
        uow.commit()
    return True
