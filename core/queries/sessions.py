"""A local-account session as the dashboard checks it on every run: its clocks, whether it has
ended, and its person's role now (None when the account is gone or deactivated)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core.adapters.db import Database
from core.domain.roles import Role
from core.domain.sessions import token_digest
from core.models import User, UserSession


@dataclass(frozen=True)
class SessionRecord:
    id: str
    email: str
    method: str
    role: Role | None  # None: no active account any more
    started_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None
    end_reason: str | None


def _find(db: Database, condition) -> SessionRecord | None:
    with db.reader() as s:
        row = s.execute(select(UserSession, User.role, User.active).outerjoin(User, User.email == UserSession.email)
                        .where(condition)).first()
        if row is None:
            return None
        session, role, active = row
        return SessionRecord(id=session.id, email=session.email, method=session.method,
                             role=Role(role) if role and active else None, started_at=session.started_at,
                             last_seen_at=session.last_seen_at, revoked_at=session.revoked_at,
                             end_reason=session.end_reason)


def session_by_id(db: Database, session_id: str) -> SessionRecord | None:
    return _find(db, UserSession.id == session_id)


def session_by_token(db: Database, token: str) -> SessionRecord | None:
    """The session a browser's cookie names, or None (a token is never stored, only its digest)."""
    return _find(db, UserSession.token_digest == token_digest(token))
